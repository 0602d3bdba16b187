/**
 * Per-question scores (percent: 0 or 100 for accuracy and EM, 0..100 for F1) of the report's
 * evaluations, and their intervals and paired comparisons (lib/report/stats.ts). The notebooks
 * keep the per-question scores in their metrics files (`scores`), so every interval and every
 * comparison in the report can be recomputed from the files.
 * @module
 */
import type { AdlExample } from "../data/mod.ts";
import { exactMatchScore, f1Score } from "../features/mod.ts";
import type { PipelineEvaluation } from "../pipeline/mod.ts";
import {
  bootstrapMean,
  compareSentence,
  formatInterval,
  type Interval,
  pairedBootstrap,
  verdict,
} from "./stats.ts";

/** Scores of one system on a list of questions, by metric key (each array follows `ids`). */
export interface QuestionScores {
  ids: string[];
  scores: Record<string, number[]>;
}

/** Resamples of every interval in the report (fixed, so intervals are reproducible). */
export const BOOTSTRAP = { samples: 2000, seed: 20240501 } as const;

function goldText(ex: AdlExample, i: number): string {
  if (!ex.answer) throw new Error(`question ${i} (id ${JSON.stringify(ex.id)}) has no gold answer`);
  return ex.answer.text;
}

/** EM and F1 (percent) of each answer against its question's gold answer. */
export function answerScores(
  examples: readonly AdlExample[],
  answers: readonly string[],
): { exact_match: number[]; f1: number[] } {
  if (answers.length !== examples.length) {
    throw new Error(`${answers.length} answers for ${examples.length} questions`);
  }
  const golds = examples.map(goldText);
  return {
    exact_match: answers.map((a, i) => 100 * exactMatchScore(a, golds[i])),
    f1: answers.map((a, i) => 100 * f1Score(a, golds[i])),
  };
}

const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

/**
 * Per-question scores of a two-stage evaluation: `mc_accuracy` (100 when the MC model chose the
 * relevant paragraph), `qa_exact_match` / `qa_f1` (QA given the gold paragraph) and
 * `end_to_end_exact_match` / `end_to_end_f1` (QA on the chosen paragraph). Their means are
 * checked against the evaluation's own aggregates.
 */
export function pipelineScores(
  examples: readonly AdlExample[],
  e: PipelineEvaluation,
): QuestionScores {
  if (e.rows.length !== examples.length || e.qaGoldAnswers.length !== examples.length) {
    throw new Error(
      `evaluation of ${e.rows.length} questions does not match ${examples.length} examples`,
    );
  }
  const qa = answerScores(examples, e.qaGoldAnswers);
  const e2e = answerScores(examples, e.rows.map((r) => r.answer));
  const out: QuestionScores = {
    ids: examples.map((x) => x.id),
    scores: {
      mc_accuracy: e.rows.map((r, i) => (r.paragraph === examples[i].relevant ? 100 : 0)),
      qa_exact_match: qa.exact_match,
      qa_f1: qa.f1,
      end_to_end_exact_match: e2e.exact_match,
      end_to_end_f1: e2e.f1,
    },
  };
  const checks: [string, number][] = [
    ["mc_accuracy", e.mc.accuracy], // percent, as the pipeline reports it
    ["qa_exact_match", e.qaGoldParagraph.exact_match],
    ["end_to_end_exact_match", e.endToEnd.exact_match],
  ];
  for (const [k, want] of checks) {
    const got = mean(out.scores[k]);
    if (Math.abs(got - want) > 1e-6) {
      throw new Error(`per-question ${k} averages ${got}, the evaluation says ${want}`);
    }
  }
  return out;
}

/** The mean of every metric of `s` with its 95% bootstrap interval. */
export function intervalsOf(s: QuestionScores): Record<string, Interval> {
  return Object.fromEntries(
    Object.entries(s.scores).map(([k, v]) => [k, bootstrapMean(v, BOOTSTRAP)]),
  );
}

/** A paired comparison of two systems on one metric, with the report's sentence. */
export interface Comparison {
  /** What is compared, e.g. "A vs B" or "pretrained vs scratch". */
  what: string;
  metric: string;
  a: string;
  b: string;
  /** A's and B's means with intervals. */
  aValue: Interval;
  bValue: Interval;
  /** B − A with its paired interval. */
  diff: Interval;
  /** "b", "a" or "none": which is better, by the interval. */
  better: "a" | "b" | "none";
  sentence: string;
}

/** Paired comparison of `metric` between A and B (scored on the same questions, same order). */
export function compare(
  what: string,
  metric: string,
  a: { name: string; scores: QuestionScores; key?: string },
  b: { name: string; scores: QuestionScores; key?: string },
): Comparison {
  const ka = a.key ?? metric, kb = b.key ?? metric;
  if (
    a.scores.ids.length !== b.scores.ids.length ||
    a.scores.ids.some((id, i) => id !== b.scores.ids[i])
  ) {
    throw new Error(`${what}: ${a.name} and ${b.name} were not scored on the same questions`);
  }
  const xa = a.scores.scores[ka], xb = b.scores.scores[kb];
  if (!xa || !xb) throw new Error(`${what}: no per-question ${ka} / ${kb}`);
  const diff = pairedBootstrap(xa, xb, BOOTSTRAP);
  return {
    what,
    metric,
    a: a.name,
    b: b.name,
    aValue: bootstrapMean(xa, BOOTSTRAP),
    bValue: bootstrapMean(xb, BOOTSTRAP),
    diff,
    better: verdict(diff),
    sentence: compareSentence(a.name, b.name, diff),
  };
}

/** Human names of the metric keys. */
export const METRIC_NAMES: Record<string, string> = {
  mc_accuracy: "MC accuracy",
  qa_exact_match: "QA EM (gold paragraph)",
  qa_f1: "QA F1 (gold paragraph)",
  end_to_end_exact_match: "end-to-end EM",
  end_to_end_f1: "end-to-end F1",
  exact_match: "EM",
  f1: "F1",
};

/** Table rows of comparisons: what, metric, A, B, B − A [interval], short verdict. */
export function comparisonRows(cs: readonly Comparison[]): (string | number)[][] {
  return cs.map((c) => [
    c.what,
    METRIC_NAMES[c.metric] ?? c.metric,
    `${c.a}: ${formatInterval(c.aValue)}`,
    `${c.b}: ${formatInterval(c.bValue)}`,
    formatInterval(c.diff),
    c.better === "b"
      ? `${c.b} better`
      : c.better === "a"
      ? `${c.a} better`
      : "no difference at this scale",
  ]);
}

/** Columns of {@link comparisonRows}. */
export const COMPARISON_COLUMNS = [
  "comparison",
  "metric",
  "A [95% CI]",
  "B [95% CI]",
  "B − A [paired 95% CI]",
  "verdict",
];
