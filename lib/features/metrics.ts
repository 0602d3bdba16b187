/**
 * Exact match and character-level F1 for Chinese extractive QA, reported 0..100 like Hugging
 * Face's `squad` metric.
 *
 * Normalisation (applied to prediction and gold before both metrics), following the DRCD/CMRC
 * evaluation convention for Chinese:
 * 1. lower-case (`toLowerCase`, so latin letters, full-width latin included);
 * 2. remove punctuation: every Unicode punctuation character (`\p{P}`, which covers Chinese
 *    full-width marks such as ，。、！？：；「」『』（）《》…—), the ASCII symbols of Python's
 *    `string.punctuation` that Unicode counts as symbols (`$+<=>^`|~`), their full-width forms
 *    (＄＋＜＝＞＾｀｜～) and the CJK symbols `〜`, `￥`, `・`;
 * 3. remove all whitespace (Chinese text has no word separators, so spaces carry no content).
 *
 * F1 treats each remaining character (code point) as a token and counts the multiset overlap
 * (SQuAD's bag-of-tokens F1 with characters instead of words; the ADL/DRCD character-level F1).
 * The CMRC 2018 script instead uses the longest common substring; the bag overlap is the
 * SQuAD-style convention and is never lower. When prediction or gold is empty after
 * normalisation, F1 is 1 if both are empty else 0 (SQuAD v2's rule). Several gold answers per id
 * are allowed: each score is the maximum over them.
 * @module
 */

const PUNCT = /[\p{P}$+<=>^`|~＄＋＜＝＞＾｀｜～〜￥・\s]/gu;

/** Normalises an answer for EM/F1 (see module docs). */
export function normalizeAnswer(text: string): string {
  return text.toLowerCase().replace(PUNCT, "");
}

/** Exact match (0 or 1) after normalisation. */
export function exactMatchScore(prediction: string, gold: string): number {
  return normalizeAnswer(prediction) === normalizeAnswer(gold) ? 1 : 0;
}

/**
 * Character-level F1 (0..1) after normalisation.
 *
 * @example
 * ```ts
 * import { f1Score } from "./metrics.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(f1Score("國立臺灣大學", "臺灣大學"), 0.8); // precision 4/6, recall 4/4
 * ```
 */
export function f1Score(prediction: string, gold: string): number {
  const p = Array.from(normalizeAnswer(prediction));
  const g = Array.from(normalizeAnswer(gold));
  if (p.length === 0 || g.length === 0) return p.length === g.length ? 1 : 0;
  const counts = new Map<string, number>();
  for (const c of g) counts.set(c, (counts.get(c) ?? 0) + 1);
  let same = 0;
  for (const c of p) {
    const n = counts.get(c) ?? 0;
    if (n > 0) {
      same++;
      counts.set(c, n - 1);
    }
  }
  if (same === 0) return 0;
  const precision = same / p.length;
  const recall = same / g.length;
  return (2 * precision * recall) / (precision + recall);
}

/** Metric values, 0..100. */
export interface QaMetrics {
  exact_match: number;
  f1: number;
}

/**
 * EM and F1 (0..100) of `predictions` against `golds`, averaged over the golds. A gold without a
 * prediction scores 0 (as in the SQuAD script); predictions for unknown ids and duplicate ids
 * are errors.
 *
 * @example Two questions, one exact and one partly right
 * ```ts
 * import { computeQaMetrics } from "./metrics.ts";
 * import assert from "node:assert/strict";
 *
 * const m = computeQaMetrics(
 *   [{ id: "q1", text: "臺北" }, { id: "q2", text: "一八九五年" }],
 *   [{ id: "q1", text: "臺北。" }, { id: "q2", text: "1895年" }],
 * );
 * assert.equal(m.exact_match, 50); // punctuation is ignored, digits are not converted
 * assert.equal(m.f1, 60); // (1 + 0.2) / 2: only 年 is shared, precision = recall = 1/5
 * ```
 */
export function computeQaMetrics(
  predictions: readonly { id: string; text: string }[],
  golds: readonly { id: string; text: string | readonly string[] }[],
): QaMetrics {
  const pred = new Map<string, string>();
  for (const p of predictions) {
    if (pred.has(p.id)) {
      throw new Error(`computeQaMetrics: duplicate prediction id ${JSON.stringify(p.id)}`);
    }
    pred.set(p.id, p.text);
  }
  const goldIds = new Set<string>();
  for (const g of golds) {
    if (goldIds.has(g.id)) {
      throw new Error(`computeQaMetrics: duplicate gold id ${JSON.stringify(g.id)}`);
    }
    goldIds.add(g.id);
  }
  for (const id of pred.keys()) {
    if (!goldIds.has(id)) {
      throw new Error(`computeQaMetrics: prediction id ${JSON.stringify(id)} has no gold answer`);
    }
  }
  if (golds.length === 0) return { exact_match: 0, f1: 0 };
  let em = 0;
  let f1 = 0;
  for (const g of golds) {
    const p = pred.get(g.id);
    if (p === undefined) continue;
    const texts = typeof g.text === "string" ? [g.text] : g.text;
    em += Math.max(0, ...texts.map((t) => exactMatchScore(p, t)));
    f1 += Math.max(0, ...texts.map((t) => f1Score(p, t)));
  }
  return { exact_match: (100 * em) / golds.length, f1: (100 * f1) / golds.length };
}
