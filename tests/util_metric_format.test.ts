// One rule for which metric is a percent and how a metric is shown (lib/util/metric_format.ts),
// checked on the keys and column titles the loop, the progress bar, the command summaries, the
// report and the figures show.
import assert from "node:assert/strict";
import {
  formatMetric,
  formatNumber,
  formatPercent,
  isPercentColumn,
  isPercentMetric,
} from "../lib/util/metric_format.ts";
import { summary } from "../lib/cli/train_flags.ts";

Deno.test("metric format: percent keys, bare or prefixed, and *_pct", () => {
  const percent = [
    "accuracy",
    "exact_match",
    "f1",
    "em",
    "eval_accuracy",
    "eval_exact_match",
    "eval_f1",
    "running_accuracy",
    "running_exact_match",
    "bert-char_mc_accuracy",
    "bert-char_qa_f1",
    "bert-wwm_end_to_end_exact_match",
    "pretrained_eval_f1",
    "bert-char_pretrain_final_running_accuracy",
    "multi_window_pct",
    "answer_roundtrip_pct",
  ];
  const other = [
    "loss",
    "eval_loss",
    "learning_rate",
    "grad_norm",
    "bert-char_mc_loss",
    "bert-char_qa_steps",
    "scratch_memory_plan_peak_bytes",
    "validation_split_percentage",
    "f1_loss",
    "item",
    "paragraphs",
  ];
  for (const k of percent) assert.ok(isPercentMetric(k), k);
  for (const k of other) assert.ok(!isPercentMetric(k), k);
});

Deno.test("metric format: percent column titles", () => {
  const percent = [
    "MC accuracy",
    "QA EM (gold paragraph)",
    "end-to-end F1",
    "validation EM",
    "exact match",
    "validation accuracy %",
    "score (percent)",
  ];
  const other = [
    "MC loss",
    "training s (MC+QA)",
    "updates",
    "parameters (QA)",
    "members",
    "paragraph tokens, 95th percentile",
  ];
  for (const t of percent) assert.ok(isPercentColumn(t), t);
  for (const t of other) assert.ok(!isPercentColumn(t), t);
});

Deno.test("metric format: percents with 2 decimals, other numbers to 4 significant digits", () => {
  assert.equal(formatMetric("accuracy", 54), "54.00");
  assert.equal(formatMetric("eval_f1", 23.5322), "23.53");
  assert.equal(formatMetric("running_exact_match", 0), "0.00");
  assert.equal(formatMetric("eval_loss", 1.38629), "1.386");
  assert.equal(formatMetric("eval_loss", 3.86152), "3.862");
  assert.equal(formatMetric("learning_rate", 3e-5), "3.00e-5");
  assert.equal(formatMetric("grad_norm", 0.51234), "0.5123");
  assert.equal(formatMetric("updates", 12), "12");
  assert.equal(formatMetric("accuracy", NaN), "NaN");
  assert.equal(formatPercent(Infinity), "Infinity");
  assert.deepEqual(
    [0, -2, 0.0012346, 0.000123, 12.345, 999.94, 1234.5, 98765.4, -7.0481].map(formatNumber),
    ["0", "-2", "0.001235", "1.23e-4", "12.35", "999.9", "1235", "98765", "-7.048"],
  );
});

Deno.test("metric format: the command summary shows its validation metrics by the rule", () => {
  const line = summary("train-qa", {
    eval: { exact_match: 12.5, f1: 23.53219, eval_loss: 3.86152 },
    trainSeconds: 2.04,
    train: { completedSteps: 12 },
  });
  assert.equal(
    line,
    "train-qa: 12 updates in 2.0 s; validation exact_match=12.50 f1=23.53 eval_loss=3.862",
  );
});

Deno.test("metric format: no other module in lib/ decides what is a percent or formats a metric", async () => {
  const root = new URL("../lib/", import.meta.url);
  const offenders: string[] = [];
  const walk = async (dir: URL, rel: string) => {
    for await (const e of Deno.readDir(dir)) {
      if (e.isDirectory) await walk(new URL(`${e.name}/`, dir), `${rel}${e.name}/`);
      else if (e.name.endsWith(".ts") && `${rel}${e.name}` !== "util/metric_format.ts") {
        const text = await Deno.readTextFile(new URL(e.name, dir));
        const rules = [
          // A regex alternation over metric names (the old PERCENT_KEY / PERCENT_HEADER copies).
          /\/[^/\n]*\b(accuracy|exact_match|f1)\b[^/\n]*\|[^/\n]*\//,
          // A set of metric names (the old PERCENT_METRICS / PERCENT_KEYS copies).
          /new Set\(\[[^\]]*"(accuracy|exact_match|running_accuracy)"/,
          // A second formatter by the same names.
          /function (formatMetric|formatNumber|formatPercent)\b/,
        ];
        for (const r of rules) if (r.test(text)) offenders.push(`lib/${rel}${e.name}: ${r}`);
      }
    }
  };
  await walk(root, "");
  assert.deepEqual(offenders, []);
});
