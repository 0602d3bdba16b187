/**
 * Q2 "Performance": each variant's validation numbers through the MC → QA pipeline with their 95%
 * bootstrap intervals, the paired comparisons on the same questions, the `prediction.csv` line,
 * and the same numbers as the section's headline metrics and intervals.
 * @module
 */
import type { PipelineEvaluation } from "../pipeline/mod.ts";
import type { BaselineSystem } from "./baselines.ts";
import { round2, round4 } from "./format.ts";
import type { Cell, ReportBlock } from "./metrics.ts";
import {
  BOOTSTRAP,
  compare,
  type Comparison,
  COMPARISON_COLUMNS,
  comparisonRows,
  intervalsOf,
  type QuestionScores,
} from "./scores.ts";
import { bootstrapMean, formatInterval, type Interval } from "./stats.ts";
import type { VariantRuns } from "./study_runs.ts";
import type { TestPrediction } from "./prediction_csv.ts";

/** One variant's validation evaluation, for {@link performanceBlocks}. */
export interface VariantEvaluation {
  runs: VariantRuns;
  evaluation: PipelineEvaluation;
  /** Per-question scores (percent) of the same evaluation (lib/report/scores.ts). */
  scores: QuestionScores;
}

const PERF_KEYS = [
  "mc_accuracy",
  "qa_exact_match",
  "qa_f1",
  "end_to_end_exact_match",
  "end_to_end_f1",
] as const;

/** The metrics `prediction.csv` is scored on. */
const TEST_KEYS = ["exact_match", "f1"] as const;

/** Intervals of the test CSV's end-to-end scores (undefined when the data have no answers). */
function testIntervals(
  test?: TestPrediction,
): Record<(typeof TEST_KEYS)[number], Interval> | undefined {
  if (!test?.scores) return undefined;
  const scores = test.scores.scores;
  return {
    exact_match: bootstrapMean(scores.exact_match, BOOTSTRAP),
    f1: bootstrapMean(scores.f1, BOOTSTRAP),
  };
}

/** What the baseline rows of the validation table are. */
const BASELINE_NOTE = "The character-overlap rows need no training: MC picks the candidate " +
  "sharing the most question characters, each weighted by its inverse paragraph frequency " +
  "(ln N/df over `context.json`), over the whole paragraph or only the part the MC model reads " +
  "at its max_seq_length; QA takes the run of non-question characters whose surrounding window " +
  "(the question's length on each side) overlaps the question most (a sliding-window baseline). " +
  "Same questions, same intervals as the models.";

/** A variant's short name: its label up to the first colon. */
const shortName = (runs: VariantRuns) => runs.label.split(":")[0];

/** Q2's paired comparisons: A vs B on every metric, then gold paragraph vs end to end. */
export function q2Comparisons(evals: readonly VariantEvaluation[]): Comparison[] {
  const out: Comparison[] = [];
  if (evals.length >= 2) {
    const [a, b] = evals;
    const na = shortName(a.runs), nb = shortName(b.runs);
    for (const k of PERF_KEYS) {
      out.push(
        compare("A vs B", k, { name: na, scores: a.scores }, { name: nb, scores: b.scores }),
      );
    }
  }
  for (const e of evals) {
    const n = shortName(e.runs);
    for (const m of ["exact_match", "f1"]) {
      out.push(compare(`${n}: gold paragraph vs end to end`, m, {
        name: "end to end",
        scores: e.scores,
        key: `end_to_end_${m}`,
      }, { name: "gold paragraph", scores: e.scores, key: `qa_${m}` }));
    }
  }
  return out;
}

/** The sentence about `prediction.csv`: which variant answered, and its test score if any. */
function testPredictionText(test: TestPrediction): string {
  const iv = testIntervals(test);
  const score = iv
    ? ` Scored against the held-out test answers (\`test_gold.json\`): EM ${
      formatInterval(iv.exact_match)
    }, F1 ${formatInterval(iv.f1)} (compare with the end-to-end validation numbers above).`
    : " The data have no test answers, so the file is not scored.";
  return `\`prediction.csv\`: ${test.ids.length} rows, one per test id in the test file's ` +
    `order, answered by ${test.variant} (best end-to-end validation EM).${score}`;
}

/**
 * Q2 "Performance": MC accuracy, QA EM/F1/loss (gold paragraph) and end to end, per variant,
 * each with its 95% bootstrap interval over questions; then the paired comparisons.
 */
export function performanceBlocks(
  evals: readonly VariantEvaluation[],
  test?: TestPrediction,
  baselines: readonly BaselineSystem[] = [],
): ReportBlock[] {
  const rows: Cell[][] = evals.map(({ runs, evaluation: e, scores }) => {
    const iv = intervalsOf(scores);
    return [
      runs.label,
      ...PERF_KEYS.map((k) => formatInterval(iv[k])),
      round4(e.mc.loss),
      round4(e.qaGoldParagraph.loss),
      runs.mc.trainSeconds + runs.qa.trainSeconds > 0
        ? Math.round(runs.mc.trainSeconds + runs.qa.trainSeconds)
        : null,
    ];
  });
  for (const b of baselines) {
    const iv = intervalsOf(b.scores);
    rows.push([b.label, ...PERF_KEYS.map((k) => formatInterval(iv[k])), null, null, null]);
  }
  const n = evals[0]?.evaluation.n ?? 0;
  const blocks: ReportBlock[] = [
    {
      kind: "table",
      title: `Validation (${n} questions), through the MC → QA pipeline; percent, with 95% ` +
        `bootstrap intervals over questions`,
      columns: [
        "variant",
        "MC accuracy",
        "QA EM (gold paragraph)",
        "QA F1 (gold paragraph)",
        "end-to-end EM",
        "end-to-end F1",
        "MC loss",
        "QA loss",
        "training s (MC+QA)",
      ],
      rows,
    },
    {
      kind: "markdown",
      text:
        "QA columns use the gold paragraph (the QA model alone); end to end uses the paragraph " +
        "the MC model chose, as `prediction.csv` does. Intervals: percentile bootstrap, " +
        `${BOOTSTRAP.samples} resamples of the ${n} questions. Inconsistent rows (MC right but ` +
        `an answer different from the gold-paragraph answer): ${
          evals.map((e) => `${e.runs.label} ${e.evaluation.inconsistent}`).join(", ")
        }.` + (baselines.length > 0 ? " " + BASELINE_NOTE : ""),
    },
    {
      kind: "table",
      title: "Paired comparisons on the same questions (paired bootstrap of the difference)",
      columns: COMPARISON_COLUMNS,
      rows: comparisonRows(q2Comparisons(evals)),
    },
  ];
  if (test) blocks.push({ kind: "markdown", text: testPredictionText(test) });
  return blocks;
}

/**
 * Q2 headline numbers for the report (percent, 2 decimals): per variant, validation side by side;
 * the test CSV and its score. Their intervals are in {@link q2Intervals}.
 */
export function q2Metrics(
  evals: readonly VariantEvaluation[],
  test?: TestPrediction,
): Record<string, number | string> {
  // Every number below is on these questions.
  const out: Record<string, number | string> = {
    validation_questions: evals[0]?.evaluation.n ?? 0,
  };
  for (const { runs, evaluation: e, scores } of evals) {
    const p = runs.variant;
    const iv = intervalsOf(scores);
    for (const k of PERF_KEYS) out[`${p}_${k}`] = round2(iv[k].value);
    out[`${p}_mc_loss`] = round4(e.mc.loss);
    out[`${p}_qa_loss`] = round4(e.qaGoldParagraph.loss);
  }
  if (test) {
    out.prediction_csv_rows = test.ids.length;
    out.prediction_csv_variant = test.variant;
    const iv = testIntervals(test);
    if (iv) { for (const k of TEST_KEYS) out[`test_end_to_end_${k}`] = round2(iv[k].value); }
  }
  return out;
}

/**
 * Intervals of every Q2 metric by `<variant>_<metric>` (and `test_end_to_end_*`, and
 * `<baseline id>_<metric>` of the baselines).
 */
export function q2Intervals(
  evals: readonly VariantEvaluation[],
  test?: TestPrediction,
  baselines: readonly BaselineSystem[] = [],
): Record<string, Interval> {
  const out: Record<string, Interval> = {};
  const systems = [
    ...evals.map((e) => ({ id: e.runs.variant, scores: e.scores })),
    ...baselines,
  ];
  for (const { id, scores } of systems) {
    for (const [k, iv] of Object.entries(intervalsOf(scores))) out[`${id}_${k}`] = iv;
  }
  const iv = testIntervals(test);
  if (iv) { for (const k of TEST_KEYS) out[`test_end_to_end_${k}`] = iv[k]; }
  return out;
}
