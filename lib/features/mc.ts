/**
 * Multiple-choice features (pick the relevant paragraph among the candidates), as Hugging Face's
 * `run_swag.py` builds them for `AutoModelForMultipleChoice`: for each candidate,
 * `[CLS] question [SEP] paragraph [SEP]`, truncating only the paragraph (`only_second`).
 *
 * Features are unpadded (collation pads). A question too long to leave room for at least one
 * paragraph token is truncated to `maxQueryLength` tokens (the tokenizer would fail there);
 * if that is still not enough the call throws, naming the example.
 * @module
 */
import { INFERENCE_ARGS } from "../args/mod.ts";
import type { FeatureTokenizer, McFeature, TokenizedText } from "./types.ts";

/** The fields of an ADL example that MC features need (structurally `AdlExample`). */
export interface McExampleLike {
  id: string;
  question: string;
  paragraphs: readonly number[];
  relevant?: number;
}

/** Options of {@link prepareMcFeatures}. */
export interface McFeatureOptions {
  /** Tokens per candidate, specials included (default 512, bert-base-chinese's limit). */
  maxSeqLength?: number;
  /** Question length (tokens) to truncate to when it leaves no room; default 64. */
  maxQueryLength?: number;
}

/**
 * Builds one MC feature per example, in order. `label` is the index of `relevant` in
 * `paragraphs` (absent when the example has no `relevant`, e.g. the test split).
 */
export function prepareMcFeatures(
  examples: readonly McExampleLike[],
  contexts: readonly string[],
  tokenizer: FeatureTokenizer,
  opts: McFeatureOptions = {},
): McFeature[] {
  const maxSeqLength = opts.maxSeqLength ?? INFERENCE_ARGS.args.mc_max_seq_length.default;
  const maxQueryLength = opts.maxQueryLength ?? 64;
  const min = INFERENCE_ARGS.args.mc_max_seq_length.min; // the schema's bound
  if (!Number.isInteger(maxSeqLength) || maxSeqLength < min) {
    throw new RangeError(`maxSeqLength must be an integer >= ${min}, got ${maxSeqLength}`);
  }
  const cache = new Map<number, TokenizedText>();
  const out: McFeature[] = [];
  const cls = tokenizer.clsTokenId;
  const sep = tokenizer.sepTokenId;
  examples.forEach((ex, index) => {
    const where = `MC example ${index} (0-based, id ${JSON.stringify(ex.id)})`;
    let label: number | undefined;
    if (ex.relevant !== undefined) {
      label = ex.paragraphs.indexOf(ex.relevant);
      if (label < 0) {
        throw new RangeError(
          `${where}: relevant paragraph ${ex.relevant} is not among paragraphs [${ex.paragraphs}]`,
        );
      }
    }
    const qAll = tokenizer.tokenizeWithOffsets(ex.question.trimStart()).ids;
    const feature: McFeature = {
      exampleId: ex.id,
      inputIds: [],
      tokenTypeIds: [],
      attentionMask: [],
    };
    for (const p of ex.paragraphs) {
      if (!Number.isInteger(p) || p < 0 || p >= contexts.length) {
        throw new RangeError(
          `${where}: paragraph index ${p} is out of range (there are ${contexts.length} contexts)`,
        );
      }
      let para = cache.get(p);
      if (!para) {
        para = tokenizer.tokenizeWithOffsets(contexts[p]);
        cache.set(p, para);
      }
      let q = qAll;
      let budget = maxSeqLength - q.length - 3;
      if (para.ids.length > budget && budget < 1) {
        q = q.slice(0, maxQueryLength);
        budget = maxSeqLength - q.length - 3;
        if (budget < 1) {
          throw new RangeError(
            `${where}: the question has ${qAll.length} tokens; even truncated to ${q.length} it ` +
              `leaves no room for the paragraph within max_seq_length ${maxSeqLength}`,
          );
        }
      }
      const pIds = para.ids.length > budget ? para.ids.slice(0, budget) : para.ids;
      const ids = [cls, ...q, sep, ...pIds, sep];
      const firstLen = q.length + 2;
      feature.inputIds.push(ids);
      feature.tokenTypeIds.push(
        new Array<number>(ids.length).fill(0, 0, firstLen).fill(1, firstLen),
      );
      feature.attentionMask.push(new Array<number>(ids.length).fill(1));
    }
    if (label !== undefined) feature.label = label;
    out.push(feature);
  });
  return out;
}
