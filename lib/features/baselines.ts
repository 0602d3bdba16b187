/**
 * Baselines that need no training, to say what the report's numbers mean: how far a model is
 * from what a rule on the same questions reaches.
 *
 * - Multiple choice by **character overlap**: each candidate paragraph scores the sum, over the
 *   distinct characters of the question it contains, of their inverse paragraph frequency
 *   `ln(N / df)` (N paragraphs in `context.json`, df of them containing the character); the
 *   highest score wins (ties: the first candidate). {@link mcVisibleEnds} limits each candidate to
 *   the part the MC model reads at its `max_seq_length` (the project's own MC features).
 * - Extractive QA by a **sliding window** (the classic SQuAD baseline idea, after Richardson et
 *   al.'s MCTest window): the candidate answers are the runs of characters of the paragraph that
 *   are not in the question (cut at whitespace and punctuation, at most `maxAnswerLength`
 *   characters); each scores the same overlap as above over a window of the question's length on
 *   each side, so the answer is taken from the part of the paragraph that looks most like the
 *   question (ties: the first run).
 *
 * Characters are Unicode code points; positions returned are JavaScript (UTF-16) indices, like
 * every in-memory position of the library.
 * @module
 */
import { isBertPunctuation, isBertWhitespace } from "../data/mod.ts";
import { prepareMcFeatures } from "./mc.ts";
import type { McExampleLike } from "./mc.ts";
import type { FeatureTokenizer } from "./types.ts";

/** Inverse paragraph frequency of each character: `ln(N / df)`. */
export type CharWeights = Map<string, number>;

const countable = (ch: string) => !isBertWhitespace(ch);

/**
 * `ln(N / df)` of every non-whitespace character of `paragraphs`, where df counts the paragraphs
 * that contain it.
 * @example
 * ```ts
 * import { inverseParagraphFrequency } from "./baselines.ts";
 * const w = inverseParagraphFrequency(["甲乙", "甲丙"]);
 * console.assert(w.get("甲") === 0 && w.get("乙") === Math.log(2));
 * ```
 */
export function inverseParagraphFrequency(paragraphs: readonly string[]): CharWeights {
  const df = new Map<string, number>();
  for (const p of paragraphs) {
    for (const ch of new Set(p)) if (countable(ch)) df.set(ch, (df.get(ch) ?? 0) + 1);
  }
  const n = paragraphs.length;
  return new Map([...df].map(([ch, d]) => [ch, Math.log(n / d)]));
}

/** Weight of a character absent from every paragraph: as rare as a character can be. */
function weightOf(weights: CharWeights, ch: string): number {
  return weights.get(ch) ?? 0;
}

/** The distinct countable characters of `text`. */
function charSet(text: string): Set<string> {
  return new Set([...text].filter(countable));
}

/** Sum of the weights of the distinct question characters that occur in `text`. */
export function overlapScore(question: string, text: string, weights: CharWeights): number {
  const inText = new Set(text);
  let s = 0;
  for (const ch of charSet(question)) if (inText.has(ch)) s += weightOf(weights, ch);
  return s;
}

/**
 * The candidate (index into `paragraphs`) whose text overlaps the question most; `ends[k]`
 * limits candidate k to its first `ends[k]` UTF-16 units when given.
 */
export function chooseByOverlap(
  question: string,
  paragraphs: readonly string[],
  weights: CharWeights,
  ends?: readonly number[],
): number {
  let best = 0, bestScore = -Infinity;
  paragraphs.forEach((p, k) => {
    const s = overlapScore(question, ends ? p.slice(0, ends[k]) : p, weights);
    if (s > bestScore) [best, bestScore] = [k, s];
  });
  return best;
}

/**
 * For each example and candidate, the UTF-16 end of the paragraph text the MC model reads at
 * `maxSeqLength`: the project's MC features (lib/features/mc.ts, the question and the truncated
 * paragraph) mapped back through the paragraph's token offsets.
 */
export function mcVisibleEnds(
  examples: readonly McExampleLike[],
  contexts: readonly string[],
  tokenizer: FeatureTokenizer,
  maxSeqLength: number,
): number[][] {
  const features = prepareMcFeatures(examples, contexts, tokenizer, { maxSeqLength });
  const offsets = new Map<number, [number, number][]>();
  return features.map((f, i) =>
    examples[i].paragraphs.map((p, k) => {
      // Second-segment tokens: the paragraph's kept tokens and the closing [SEP].
      const kept = f.tokenTypeIds[k].reduce((n, t) => n + t, 0) - 1;
      let o = offsets.get(p);
      if (!o) {
        o = tokenizer.tokenizeWithOffsets(contexts[p]).offsets;
        offsets.set(p, o);
      }
      return kept >= o.length ? contexts[p].length : kept > 0 ? o[kept - 1][1] : 0;
    })
  );
}

/** A baseline answer: its text and UTF-16 start in the paragraph. */
export interface BaselineAnswer {
  text: string;
  start: number;
}

/**
 * The sliding-window answer to `question` in `context` (see the module notes): the run of
 * non-question characters, at most `maxAnswerLength` code points, whose surrounding window
 * overlaps the question most. Empty when the paragraph has no such run.
 */
export function slidingWindowAnswer(
  question: string,
  context: string,
  weights: CharWeights,
  opts: { maxAnswerLength: number },
): BaselineAnswer {
  const q = charSet(question);
  const chars = [...context];
  const starts: number[] = []; // UTF-16 start of each code point
  let u = 0;
  for (const ch of chars) {
    starts.push(u);
    u += ch.length;
  }
  starts.push(u);
  const breaks = (ch: string) => q.has(ch) || isBertWhitespace(ch) || isBertPunctuation(ch);
  const window = Math.max(1, q.size);
  let best: BaselineAnswer = { text: "", start: 0 };
  let bestScore = -Infinity;
  for (let s = 0; s < chars.length;) {
    if (breaks(chars[s])) {
      s++;
      continue;
    }
    let e = s;
    while (e < chars.length && !breaks(chars[e])) e++;
    if (e - s <= opts.maxAnswerLength) {
      const lo = starts[Math.max(0, s - window)], hi = starts[Math.min(chars.length, e + window)];
      const score = overlapScore(question, context.slice(lo, hi), weights);
      if (score > bestScore) {
        bestScore = score;
        best = { text: context.slice(starts[s], starts[e]), start: starts[s] };
      }
    }
    s = e;
  }
  return best;
}
