import assert from "node:assert/strict";
import {
  postprocessQaPredictions,
  prepareQaFeatures,
  type QaFeature,
  type QaInput,
  spanCandidates,
  topKIndices,
} from "../lib/features/mod.ts";
import { charContext, makeTokenizer } from "./features_util.ts";

const tok = makeTokenizer();

/** Logit rows of zeros, one per feature, with the given [feature, index, value] entries set. */
function logits(
  features: readonly QaFeature[],
  entries: [number, number, number][],
  extra = 0,
  base = 0,
): Float32Array[] {
  const rows = features.map((f) => new Float32Array(f.inputIds.length + extra).fill(base));
  for (const [fi, i, v] of entries) rows[fi][i] = v;
  return rows;
}

const context = "甲乙丙丁戊己庚辛壬癸";
const input: QaInput = { id: "d", question: "誰是", context };
// [CLS] 誰 是 [SEP] 甲(4) 乙(5) 丙(6) 丁(7) 戊(8) 己(9) 庚(10) 辛(11) 壬(12) 癸(13) [SEP](14)
const feats = prepareQaFeatures([input], tok);

Deno.test("topKIndices: largest first, ties towards the lower index", () => {
  assert.deepEqual(topKIndices([1, 5, 3, 5, 2], 3), [1, 3, 2]);
  assert.deepEqual(topKIndices([1, 2], 5), [1, 0]);
  assert.deepEqual(topKIndices([0, 0, 0], 2), [0, 1]);
  assert.deepEqual(topKIndices(new Float32Array([-1, -3, -2]), 3), [0, 2, 1]);
});

Deno.test("decodes the best span to the original context substring", () => {
  const s = logits(feats, [[0, 6, 5]]);
  const e = logits(feats, [[0, 8, 4]]);
  const [p] = postprocessQaPredictions([input], feats, s, e);
  assert.deepEqual(p, { id: "d", text: "丙丁戊", score: 9, start: 2 });
});

Deno.test("spans outside the context ([CLS], question, [SEP], padding) are skipped", () => {
  // Highest logits on [CLS], question tokens and [SEP], and on padding positions (rows longer
  // than the feature, as after padded collation); the best valid span is 乙..丙.
  const s = logits(feats, [[0, 0, 50], [0, 1, 40], [0, 14, 30], [0, 16, 60], [0, 5, 3]], 4);
  const e = logits(feats, [[0, 0, 50], [0, 2, 40], [0, 14, 30], [0, 17, 60], [0, 6, 3]], 4);
  const [p] = postprocessQaPredictions([input], feats, s, e);
  assert.equal(p.text, "乙丙");
  assert.equal(p.score, 6);
});

Deno.test("end before start is skipped", () => {
  const s = logits(feats, [[0, 9, 10], [0, 5, 1]], 0, -100);
  const e = logits(feats, [[0, 6, 10], [0, 12, 2]], 0, -100);
  const [p] = postprocessQaPredictions([input], feats, s, e);
  // (9, 6) would score 20 but ends before it starts; (9, 12) scores 12, (5, 6) 11.
  assert.equal(p.text, "己庚辛壬");
  assert.equal(p.score, 12);
});

Deno.test("maxAnswerLength: a longer span is skipped for the best one that fits", () => {
  const s = logits(feats, [[0, 4, 10], [0, 8, 2]], 0, -100);
  const e = logits(feats, [[0, 13, 10], [0, 9, 1]], 0, -100);
  const long = postprocessQaPredictions([input], feats, s, e);
  assert.equal(long[0].text, context); // 10 tokens, allowed by the default 30
  const [p] = postprocessQaPredictions([input], feats, s, e, { maxAnswerLength: 5 });
  // (4,13) has 10 tokens; (4,9) has 6; (8,13) has 6; (8,9) has 2 tokens → score 3.
  assert.equal(p.text, "戊己");
  assert.equal(p.score, 3);
  const [q] = postprocessQaPredictions([input], feats, s, e, { maxAnswerLength: 6 });
  // Both 6-token spans fit: (8,13) scores 12 and beats (4,9) with 11.
  assert.equal(q.text, "戊己庚辛壬癸");
  assert.equal(q.score, 12);
});

Deno.test("n-best: only the nBestSize highest start and end logits are paired", () => {
  // The best valid span's start is the 3rd highest start logit; with nBestSize 2 it is not
  // considered, and the question tokens that rank higher are invalid → nothing valid.
  const s = logits(feats, [[0, 1, 9], [0, 2, 8], [0, 6, 7]]);
  const e = logits(feats, [[0, 7, 7]]);
  assert.equal(postprocessQaPredictions([input], feats, s, e, { nBestSize: 3 })[0].text, "丙丁");
  const [p] = postprocessQaPredictions([input], feats, s, e, { nBestSize: 2 });
  assert.deepEqual(p, { id: "d", text: "", score: 0, start: -1 });
});

Deno.test("nothing valid gives the empty answer", () => {
  const s = logits(feats, [[0, 0, 9]]);
  const e = logits(feats, [[0, 0, 9]]);
  // All other logits tie at 0; with nBestSize 1 only [CLS] is paired.
  const [p] = postprocessQaPredictions([input], feats, s, e, { nBestSize: 1 });
  assert.deepEqual(p, { id: "d", text: "", score: 0, start: -1 });
});

Deno.test("multiple windows: the best score over all windows wins, offsets map to the context", () => {
  const long = charContext(80);
  const inputs: QaInput[] = [{ id: "w", question: "誰", context: long }];
  const fs = prepareQaFeatures(inputs, tok, { maxSeqLength: 24, docStride: 5 });
  assert.ok(fs.length >= 4);
  const entries = (v: number, fi: number, at: number): [number, number, number] => [fi, at, v];
  // window 0: span at tokens 5..6 score 4; window 2: tokens 8..10 score 7; window 3: 4..4 score 6.
  const s = logits(fs, [entries(2, 0, 5), entries(3, 2, 8), entries(3, 3, 4)]);
  const e = logits(fs, [entries(2, 0, 6), entries(4, 2, 10), entries(3, 3, 4)]);
  const [p] = postprocessQaPredictions(inputs, fs, s, e);
  const o = fs[2].offsetMapping;
  assert.equal(p.score, 7);
  assert.equal(p.start, o[8]![0]);
  assert.equal(p.text, long.slice(o[8]![0], o[10]![1]));
  const cands = spanCandidates(long, fs, s, e);
  assert.equal(cands[0].featureIndex, 2);
  assert.ok(cands.some((c) => c.featureIndex === 3 && c.score === 6));
  for (let i = 1; i < cands.length; i++) assert.ok(cands[i - 1].score >= cands[i].score);
});

Deno.test("one prediction per input, in input order, features matched by example id", () => {
  const inputs: QaInput[] = [
    { id: "x", question: "誰", context: "甲乙丙" },
    { id: "y", question: "誰", context: "丁戊己" },
  ];
  const fs = prepareQaFeatures(inputs, tok);
  // Features given in reverse order with their logit rows: decoding must follow the ids.
  const rev = [fs[1], fs[0]];
  const s = logits(rev, [[0, 4, 1], [1, 3, 1]]);
  const e = logits(rev, [[0, 4, 1], [1, 4, 1]]);
  const ps = postprocessQaPredictions(inputs, rev, s, e);
  assert.deepEqual(ps.map((p) => [p.id, p.text]), [["x", "甲乙"], ["y", "戊"]]);
  assert.throws(
    () => postprocessQaPredictions(inputs.slice(0, 1), fs, logits(fs, []), logits(fs, [])),
    /example id "y", which is not among the inputs/,
  );
  assert.throws(() => postprocessQaPredictions(inputs, fs, logits(fs, []), []), /logit rows/);
  assert.throws(
    () => postprocessQaPredictions([inputs[0], inputs[0]], [], [], []),
    /duplicate input id "x"/,
  );
});
