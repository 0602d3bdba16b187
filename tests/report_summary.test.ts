/**
 * lib/report/summary.ts and scores.ts: the summary and README block follow the intervals;
 * per-question scores agree with the pipeline's aggregates; scripts/readme_numbers.ts replaces
 * only its block.
 */
import assert from "node:assert/strict";
import {
  compare,
  getProfile,
  type Q2Facts,
  type QuestionScores,
  readQ2Facts,
  type SectionMetrics,
} from "../lib/report/mod.ts";
import { findings, readmeNumbers, summaryBlocks } from "../lib/report/summary.ts";
import { answerScores } from "../lib/report/scores.ts";
import { replaceBlock } from "../scripts/readme_numbers.ts";

const iv = (value: number, low: number, high: number, n = 300) => ({ value, low, high, n });

const FACTS: Q2Facts = {
  backend: "wasm",
  train_questions_in_file: 5766,
  mc_train_questions: 2000,
  qa_train_questions: 2000,
  validation_questions: 300,
  validation_questions_in_file: 637,
  test_questions: 614,
  layers: 2,
  hidden_size: 64,
  attention_heads: 4,
  vocab_size: 21128,
  parameters_qa: 1_500_000,
  parameters_mc: 1_500_000,
  mc_max_seq_length: 128,
  qa_max_seq_length: 384,
  qa_doc_stride: 128,
  mc_updates: 100,
  qa_updates: 100,
  best_variant: "A",
  mc_choices: 4,
  runs_trained: 6,
  runs_reused: 0,
  pretrain_updates: 300,
  pretrain_batch: 32,
  pretrain_seq_length: 128,
  pretrain_epochs_run: 0.43,
};

function q2(better: boolean): SectionMetrics {
  const ids = Array.from({ length: 300 }, (_, i) => `q${i}`);
  const a: QuestionScores = {
    ids,
    scores: { end_to_end_exact_match: ids.map((_, i) => (i % 3 === 0 ? 100 : 0)) },
  };
  const b: QuestionScores = {
    ids,
    scores: {
      end_to_end_exact_match: ids.map((_, i) => (i % 3 === 0 || (better && i % 3 === 1) ? 100 : 0)),
    },
  };
  const c = compare("A vs B", "end_to_end_exact_match", { name: "A", scores: a }, {
    name: "B",
    scores: b,
  });
  return {
    section: "q2",
    metrics: { prediction_csv_variant: "bert-char" },
    facts: FACTS,
    intervals: {
      "bert-char_mc_accuracy": iv(61.3, 57.5, 65.1),
      "bert-char_qa_exact_match": iv(12.0, 8.4, 15.9),
      "bert-wwm_mc_accuracy": iv(25.3, 20.7, 30.7),
      "bert-wwm_qa_exact_match": iv(1.7, 0.3, 3.3),
      "bert-char_qa_f1": iv(20.0, 17.0, 23.0),
      "bert-wwm_qa_f1": iv(9.2, 7.1, 11.5),
      overlap_mc_accuracy: iv(99.0, 97.7, 100),
      overlap_visible_mc_accuracy: iv(89.0, 85.3, 92.3),
      overlap_qa_exact_match: iv(3.0, 1.3, 5.0),
      overlap_qa_f1: iv(16.9, 14.0, 19.8),
      "bert-char_end_to_end_exact_match": iv(33.3, 28.0, 38.7),
      "bert-wwm_end_to_end_exact_match": iv(better ? 66.7 : 33.3, 60, 72),
      test_end_to_end_exact_match: iv(10.1, 7.2, 13.0, 614),
      test_end_to_end_f1: iv(20.2, 17.0, 23.5, 614),
    },
    comparisons: [c],
  };
}

Deno.test("findings follow the paired interval: a winner only when it excludes 0", () => {
  const p = getProfile("default");
  const yes = findings(p, q2(true), undefined).join(" ");
  assert.match(yes, /B better by 33\.3 \[/);
  assert.match(yes, /61\.3 \[57\.5, 65\.1\]/);
  assert.match(yes, /held-out test answers: EM 10\.1 \[7\.2, 13\.0\]/);
  assert.match(yes, /These scores are low/);
  assert.match(
    yes,
    /Against chance \(25\.0% with 4 candidates\), MC accuracy is above chance for A and not distinguishable from chance for B\./,
  );
  const no = findings(p, q2(false), undefined).join(" ");
  assert.match(no, /no difference at this scale/);
  assert.doesNotMatch(no, /better by/);
});

Deno.test("summary: data, models, machine, scale; README block with intervals", () => {
  const p = getProfile("default");
  const m = { cpu: "Test CPU", cores: 2, os: "linux", loadStart: 1.5, loadEnd: 2.5 };
  const blocks = summaryBlocks(p, { q2: q2(true) }, m, { seconds: 812, cpuSeconds: 1500 });
  const text = blocks.map((b) => (b.kind === "markdown" ? b.text : "")).join("\n");
  for (
    const want of [
      "## Summary",
      "DRCD",
      "CC BY-SA 3.0",
      "real `bert-base-chinese` tokenizer",
      "Test CPU, 2 cores",
      "812 s wall",
      "Scale vs the study",
      "**Findings.**",
      "the first 300 of the 637 validation questions are scored",
      "300 updates (0.43 epochs)",
      "MC accuracy A 61.3 [57.5, 65.1], B 25.3 [20.7, 30.7] vs 99.0 [97.7, 100.0] for " +
      "character overlap",
      "89.0 [85.3, 92.3] when it reads only the first 128 tokens",
    ]
  ) assert.ok(text.includes(want), `summary lacks ${want}`);
  const md = readmeNumbers(p, q2(true), undefined, m, { seconds: 812 }, "2026-12-01T11:00:00Z");
  assert.match(md, /\| A: char-masking BERT \| 61\.3 \[57\.5, 65\.1\] \|/);
  assert.match(md, /Another CPU/);
  assert.match(md, /within these intervals/);
});

Deno.test("answerScores: per-question EM/F1 in percent", () => {
  const ex = [
    { id: "a", question: "?", paragraphs: [0], relevant: 0, answer: { text: "北京", start: 0 } },
    { id: "b", question: "?", paragraphs: [0], relevant: 0, answer: { text: "1990年", start: 0 } },
  ];
  const s = answerScores(ex, ["北京", "1990"]);
  assert.deepEqual(s.exact_match, [100, 0]);
  assert.equal(s.f1[0], 100);
  assert.ok(s.f1[1] > 80 && s.f1[1] < 100);
});

Deno.test("readme-numbers replaces only the marked block", () => {
  const readme = "intro\n<!-- report-numbers:start -->\nold\n<!-- report-numbers:end -->\nrest\n";
  assert.equal(
    replaceBlock(readme, "new numbers\n"),
    "intro\n<!-- report-numbers:start -->\nnew numbers\n<!-- report-numbers:end -->\nrest\n",
  );
  assert.throws(() => replaceBlock("no markers", "x"), /markers/);
});

Deno.test("Q2 facts: a typed hand-over, every key's type checked when read back", () => {
  const m: SectionMetrics = { section: "q2", facts: FACTS };
  assert.deepEqual(readQ2Facts(JSON.parse(JSON.stringify(m))), FACTS);
  const { layers: _, ...noLayers } = FACTS;
  assert.throws(
    () => readQ2Facts({ section: "q2", facts: noLayers }),
    /facts\.layers must be a number/,
  );
  assert.throws(
    () => readQ2Facts({ section: "q2", facts: { ...FACTS, backend: 3 } }),
    /facts\.backend must be a string/,
  );
  // The pretraining keys are optional (checkpoint variants), but typed when present.
  const { pretrain_updates: _p, ...noPretrain } = FACTS;
  assert.equal(readQ2Facts({ section: "q2", facts: noPretrain })?.pretrain_updates, undefined);
  assert.equal(readQ2Facts({ section: "q2" }), undefined, "a section without facts");
});
