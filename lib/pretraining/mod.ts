/**
 * Masked-LM pretraining data: word segmentation (jieba, with a character-level fallback) and the
 * whole-word-masking data collator, as Hugging Face's `DataCollatorForWholeWordMask`.
 * @module
 */
export {
  charSegmenter,
  type JiebaLike,
  jiebaSegmenter,
  loadSegmenter,
  piecesToSpans,
  type WordSegmenter,
} from "./segment.ts";
export {
  collateMlmBatch,
  type CollateMlmOptions,
  IGNORE_INDEX,
  type MaskedSequence,
  type MlmBatch,
  type MlmFeature,
  type MlmTokenizer,
  NO_WORD,
  prepareMlmFeatures,
  tokenWordIds,
  wholeWordMask,
  type WholeWordMaskOptions,
} from "./wwm.ts";
