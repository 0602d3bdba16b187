/**
 * lib/report/examples.ts: the report's Chinese examples mark the model's answer and the gold
 * answer in the chosen paragraph, pick the first question of each kind (exact, partly right,
 * wrong span, wrong paragraph), and say which kinds did not occur.
 */
import assert from "node:assert/strict";
import type { AdlExample } from "../lib/data/mod.ts";
import type { PipelineEvaluation } from "../lib/pipeline/mod.ts";
import { answerScores, exampleBlocks, markedExcerpt } from "../lib/report/mod.ts";

Deno.test("markedExcerpt: both answers marked, overlapping spans nest, long text cut with …", () => {
  const text = "他於1943年出生於海昌港。";
  const s = markedExcerpt(text, [
    { start: 10, end: 13, open: "**", close: "**" },
    { start: 10, end: 13, open: "【", close: "】" },
  ]);
  assert.equal(s, "他於1943年出生於**【海昌港】**。");
  const long = "甲".repeat(100) + "乙丙" + "丁".repeat(100);
  const cut = markedExcerpt(long, [{ start: 100, end: 102, open: "【", close: "】" }]);
  assert.ok(cut.startsWith("…") && cut.endsWith("…"));
  assert.ok(cut.includes("甲【乙丙】丁"));
  assert.equal([...cut].length, 1 + 40 + 1 + 2 + 1 + 40 + 1);
  // Markdown characters in the text stay text.
  assert.equal(
    markedExcerpt("a*b_c", [{ start: 0, end: 1, open: "【", close: "】" }]),
    "【a】＊b＿c",
  );
});

Deno.test("exampleBlocks: the first question of each kind, per variant", () => {
  const contexts = ["北京是中國的首都。", "上海是一座城市。", "長江很長。"];
  const ex = (id: string, relevant: number, text: string): AdlExample => ({
    id,
    question: `${id}在哪裡？`,
    paragraphs: [0, 1, 2],
    relevant,
    answer: { text, start: contexts[relevant].indexOf(text) },
  });
  const examples = [
    ex("q0", 0, "北京"),
    ex("q1", 0, "中國的首都"),
    ex("q2", 1, "上海"),
    ex("q3", 2, "長江"),
  ];
  // q0 exact; q1 partly right ("首都"); q2 wrong span ("城市"); q3 wrong paragraph.
  const rows = [
    { id: "q0", paragraph: 0, answer: "北京", mcProb: 1, qaScore: 1 },
    { id: "q1", paragraph: 0, answer: "首都", mcProb: 1, qaScore: 1 },
    { id: "q2", paragraph: 1, answer: "城市", mcProb: 1, qaScore: 1 },
    { id: "q3", paragraph: 1, answer: "上海", mcProb: 1, qaScore: 1 },
  ];
  const s = answerScores(examples, rows.map((r) => r.answer));
  const evaluation = { rows } as unknown as PipelineEvaluation;
  const scores = {
    ids: examples.map((e) => e.id),
    scores: { end_to_end_exact_match: s.exact_match, end_to_end_f1: s.f1 },
  };
  const [intro, a] = exampleBlocks(examples, contexts, [{ label: "A", evaluation, scores }]);
  assert.equal(intro.kind, "markdown");
  const text = (a as { text: string }).text;
  assert.match(text, /^\*\*A\*\*\n/);
  assert.match(text, /\*\*exact answer\*\* \(F1 100\.0\) — 問題：q0在哪裡？/);
  assert.ok(text.includes("**【北京】**是中國的首都。"), text);
  assert.ok(
    text.includes("北京是中國的【**首都**】。") || text.includes("【中國的**首都**】"),
    text,
  );
  assert.match(text, /right paragraph, wrong span/);
  assert.ok(text.includes("**城市**"));
  assert.match(text, /wrong paragraph[\s\S]*gold paragraph 2: 【長江】很長。/);
  assert.doesNotMatch(text, /No question/);
  // A variant that got everything exact says which kinds did not occur.
  const all = answerScores(examples, examples.map((e) => e.answer!.text));
  const exact = exampleBlocks(examples, contexts, [{
    label: "B",
    evaluation: {
      rows: examples.map((e) => ({ id: e.id, paragraph: e.relevant!, answer: e.answer!.text })),
    } as unknown as PipelineEvaluation,
    scores: { ids: [], scores: { end_to_end_exact_match: all.exact_match, end_to_end_f1: all.f1 } },
  }])[1] as { text: string };
  assert.match(
    exact.text,
    /No question of the 4 was a case of: right paragraph, partly right span/,
  );
});
