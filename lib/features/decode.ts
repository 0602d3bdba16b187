/**
 * Span decoding with the semantics of Hugging Face's `utils_qa.postprocess_qa_predictions`
 * (SQuAD v1 setting, no null answer).
 *
 * For each example, over all of its windows: take the `nBestSize` highest start logits and the
 * `nBestSize` highest end logits (over the whole logit row, padding included, as HF does), pair
 * them, skip pairs whose start or end is outside the context (`null` offset or past the
 * feature's length), whose end is before the start, or which are longer than `maxAnswerLength`
 * tokens; score = start logit + end logit; the answer is the original context substring from the
 * start token's first character to the end token's last character.
 *
 * Deviations: when no candidate is valid HF answers the literal string "empty"; here the text is
 * the empty string with `score` 0 and `start` −1. Ties between equal logits are broken towards
 * the lower token index (NumPy's `argsort` leaves that order unspecified).
 * @module
 */
import { QA_ARGS } from "../args/mod.ts";
import type { QaFeature, QaInput } from "./types.ts";

/** Options of {@link postprocessQaPredictions}. */
export interface DecodeOptions {
  /** How many top start and end logits to pair (HF `n_best_size`, default 20). */
  nBestSize?: number;
  /** Longest answer in tokens (HF `max_answer_length`, default 30). */
  maxAnswerLength?: number;
}

/** The decoded answer of one input. */
export interface QaPrediction {
  id: string;
  text: string;
  /** Start logit + end logit of the chosen span (0 when there is none). */
  score: number;
  /** Index of the answer's first character in the context (−1 when there is none). */
  start: number;
}

/** One valid candidate span. */
export interface SpanCandidate {
  /** Index of the feature (window) in the `features` array. */
  featureIndex: number;
  startIndex: number;
  endIndex: number;
  startChar: number;
  endChar: number;
  text: string;
  startLogit: number;
  endLogit: number;
  score: number;
}

/** Indices of the `k` largest values, largest first; ties by lower index. */
export function topKIndices(values: ArrayLike<number>, k: number): number[] {
  const n = values.length;
  const idx: number[] = [];
  // Insertion into a small sorted list: O(n·k) worst case, fast for k = 20 and n ≤ 512.
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (idx.length === k && !(v > values[idx[k - 1]])) continue;
    let j = idx.length < k ? idx.length : k - 1;
    if (idx.length < k) idx.push(i);
    while (j > 0 && v > values[idx[j - 1]]) {
      idx[j] = idx[j - 1];
      j--;
    }
    idx[j] = i;
  }
  return idx;
}

function groupFeatures(
  inputs: readonly QaInput[],
  features: readonly QaFeature[],
  startLogits: readonly ArrayLike<number>[],
  endLogits: readonly ArrayLike<number>[],
): number[][] {
  if (startLogits.length !== features.length || endLogits.length !== features.length) {
    throw new RangeError(
      `postprocess: ${features.length} features but ${startLogits.length} start and ` +
        `${endLogits.length} end logit rows`,
    );
  }
  const indexOfId = new Map<string, number>();
  inputs.forEach((inp, i) => {
    if (indexOfId.has(inp.id)) {
      throw new Error(`postprocess: duplicate input id ${JSON.stringify(inp.id)} (index ${i})`);
    }
    indexOfId.set(inp.id, i);
  });
  const groups: number[][] = inputs.map(() => []);
  features.forEach((f, fi) => {
    const i = indexOfId.get(f.exampleId);
    if (i === undefined) {
      throw new Error(
        `postprocess: feature ${fi} belongs to example id ${JSON.stringify(f.exampleId)}, ` +
          `which is not among the inputs`,
      );
    }
    groups[i].push(fi);
  });
  return groups;
}

/**
 * All valid candidate spans of one example over its windows, best first: every feature, or the
 * ones at `featureIndices` when given (the windows of one example among many). Exposed for
 * inspection; {@link postprocessQaPredictions} keeps the first.
 */
export function spanCandidates(
  context: string,
  features: readonly QaFeature[],
  startLogits: readonly ArrayLike<number>[],
  endLogits: readonly ArrayLike<number>[],
  opts: DecodeOptions = {},
  featureIndices: readonly number[] = features.map((_, i) => i),
): SpanCandidate[] {
  const nBest = opts.nBestSize ?? QA_ARGS.args.n_best_size.default;
  const maxLen = opts.maxAnswerLength ?? QA_ARGS.args.max_answer_length.default;
  const out: SpanCandidate[] = [];
  for (const fi of featureIndices) {
    const offsets = features[fi].offsetMapping;
    const sl = startLogits[fi];
    const el = endLogits[fi];
    const starts = topKIndices(sl, nBest);
    const ends = topKIndices(el, nBest);
    for (const s of starts) {
      const so = s < offsets.length ? offsets[s] : null;
      if (!so) continue;
      for (const e of ends) {
        const eo = e < offsets.length ? offsets[e] : null;
        if (!eo || e < s || e - s + 1 > maxLen) continue;
        out.push({
          featureIndex: fi,
          startIndex: s,
          endIndex: e,
          startChar: so[0],
          endChar: eo[1],
          text: context.slice(so[0], eo[1]),
          startLogit: sl[s],
          endLogit: el[e],
          score: sl[s] + el[e],
        });
      }
    }
  }
  // Stable sort: equal scores keep window order, then start/end index order.
  out.sort((a, b) => b.score - a.score);
  return out;
}

/**
 * Decodes one answer per input, in input order, from the start/end logits of every feature
 * (`startLogits[i]` belongs to `features[i]`; rows may be longer than the feature, e.g. padded).
 *
 * @example Logits that point at 魯迅 give the answer text and its character start
 * ```ts
 * import { postprocessQaPredictions } from "./decode.ts";
 * import { prepareQaFeatures } from "./qa.ts";
 * import { BertTokenizer } from "../tokenization/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "誰", "寫", "的", "？", "魯", "迅", "了", "書"];
 * const tokenizer = BertTokenizer.fromVocab(vocab);
 * const inputs = [{ id: "q1", question: "誰寫的？", context: "書是魯迅寫的" }];
 * const features = prepareQaFeatures(inputs, tokenizer, { maxSeqLength: 32, docStride: 8 });
 * // [CLS] 誰 寫 的 ？ [SEP] 書 是 魯 迅 寫 的 [SEP]: 是 is not in the vocabulary, so [UNK]
 * const start = features[0].inputIds.map((_, i) => (i === 8 ? 5 : 0));
 * const end = features[0].inputIds.map((_, i) => (i === 9 ? 5 : 0));
 * const [prediction] = postprocessQaPredictions(inputs, features, [start], [end]);
 * assert.equal(prediction.text, "魯迅");
 * assert.equal(prediction.start, 2);
 * ```
 */
export function postprocessQaPredictions(
  inputs: readonly QaInput[],
  features: readonly QaFeature[],
  startLogits: readonly ArrayLike<number>[],
  endLogits: readonly ArrayLike<number>[],
  opts: DecodeOptions = {},
): QaPrediction[] {
  const groups = groupFeatures(inputs, features, startLogits, endLogits);
  return inputs.map((inp, i) => {
    const best = spanCandidates(inp.context, features, startLogits, endLogits, opts, groups[i])[0];
    if (!best) return { id: inp.id, text: "", score: 0, start: -1 };
    return { id: inp.id, text: best.text, score: best.score, start: best.startChar };
  });
}
