/**
 * BERT WordPiece tokenization with Hugging Face `BertTokenizerFast` semantics, including
 * `offset_mapping` into the original text, pair encoding, truncation with overflowing windows,
 * and padding. Built on `@huggingface/tokenizers` for WordPiece.
 * @module
 */
export { BertTokenizer, type DecodeOptions, type FromVocabOptions } from "./bert_tokenizer.ts";
export {
  assembleEncoding,
  assembleSeqs,
  type EncodeOptions,
  type Encoding,
  type PaddingStrategy,
  type SpecialIds,
  type Tokenized,
  type TokenSeq,
  toTokenSeq,
  type TruncationStrategy,
  windowRanges,
} from "./encoding.ts";
export {
  type BertTokenizerSettings,
  DEFAULT_SETTINGS,
  parseVocabText,
  readTokenizerFiles,
} from "./hf_files.ts";
export { type NormalizerOptions, OffsetPreTokenizer, type PreTokenized } from "./pretokenize.ts";
export { isChineseChar, isControl, isPunctuation, isWhitespace } from "./chars.ts";
