import assert from "node:assert/strict";
import {
  computeQaMetrics,
  exactMatchScore,
  f1Score,
  normalizeAnswer,
} from "../lib/features/mod.ts";

Deno.test("normalizeAnswer: lower-case, no punctuation (ASCII and full-width), no whitespace", () => {
  assert.equal(normalizeAnswer("「台北市」。"), "台北市");
  assert.equal(normalizeAnswer(" Hello, World! "), "helloworld");
  assert.equal(normalizeAnswer("１９４９年（民國３８年）"), "１９４９年民國３８年");
  assert.equal(normalizeAnswer("《紅樓夢》、『水滸傳』…——？！：；"), "紅樓夢水滸傳");
  assert.equal(normalizeAnswer("a\u3000b\tc\nd"), "abcd");
  assert.equal(normalizeAnswer("$5 + 3 = 8 ~ ＄５＋３＝８～"), "538５３８");
  assert.equal(normalizeAnswer("ＡＢＣ"), "ａｂｃ");
});

Deno.test("exact match and character-level F1", () => {
  assert.equal(exactMatchScore("台北市。", "「台北市」"), 1);
  assert.equal(exactMatchScore("台北", "台北市"), 0);
  // 台北 vs 台北市: precision 1, recall 2/3 → F1 0.8.
  assert.ok(Math.abs(f1Score("台北", "台北市") - 0.8) < 1e-12);
  // Bag-of-characters overlap: order does not matter, repeats count once each.
  assert.equal(f1Score("北台", "台北"), 1);
  assert.ok(Math.abs(f1Score("哈哈哈", "哈") - 0.5) < 1e-12);
  assert.equal(f1Score("東京", "台北"), 0);
  assert.equal(f1Score("", "台北"), 0);
  assert.equal(f1Score("。", "，"), 1); // both empty after normalisation
});

Deno.test("computeQaMetrics: 0..100 averaged over golds, max over several golds", () => {
  const golds = [
    { id: "a", text: "台北市" },
    { id: "b", text: ["梵語", "梵文"] },
    { id: "c", text: "1949年" },
    { id: "d", text: "玉山" },
  ];
  const preds = [
    { id: "a", text: "台北" }, // EM 0, F1 0.8
    { id: "b", text: "梵文。" }, // EM 1 (second gold), F1 1
    { id: "c", text: "1949年" }, // EM 1, F1 1
    // d missing: scores 0 (as the SQuAD script)
  ];
  const m = computeQaMetrics(preds, golds);
  assert.equal(m.exact_match, 50);
  assert.ok(Math.abs(m.f1 - (100 * (0.8 + 1 + 1 + 0)) / 4) < 1e-9);
  assert.deepEqual(
    computeQaMetrics(golds.map((g) => ({ id: g.id, text: [g.text].flat()[0] })), golds),
    {
      exact_match: 100,
      f1: 100,
    },
  );
});

Deno.test("computeQaMetrics refuses unknown and duplicate ids", () => {
  assert.throws(
    () => computeQaMetrics([{ id: "z", text: "x" }], [{ id: "a", text: "x" }]),
    /prediction id "z" has no gold/,
  );
  assert.throws(
    () =>
      computeQaMetrics([{ id: "a", text: "x" }, { id: "a", text: "y" }], [{ id: "a", text: "x" }]),
    /duplicate prediction id "a"/,
  );
  assert.throws(
    () => computeQaMetrics([], [{ id: "a", text: "x" }, { id: "a", text: "y" }]),
    /duplicate gold id "a"/,
  );
});
