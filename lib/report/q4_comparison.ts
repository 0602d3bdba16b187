/**
 * Q4, pretrained vs from scratch: the two runs' table, the paired comparison of their QA answers
 * on the same validation questions, the check that only the weights' source differs, and the
 * conclusion, every number from this run's results and logs.
 * @module
 */
import { diffConfigs } from "../models/mod.ts";
import type { TrainingLog } from "../plotting/mod.ts";
import { round2, round4 } from "./format.ts";
import { logSummary } from "./log_summary.ts";
import type { Cell, ReportBlock } from "./metrics.ts";
import {
  compare,
  type Comparison,
  COMPARISON_COLUMNS,
  comparisonRows,
  METRIC_NAMES,
  type QuestionScores,
} from "./scores.ts";
import type { ScratchComparison } from "./study_runs.ts";

/** The result key and name of a task's headline validation metric (percent). */
function mainMetric(task: "mc" | "qa"): { key: string; name: string } {
  return task === "mc"
    ? { key: "eval_accuracy", name: "validation accuracy" }
    : { key: "eval_exact_match", name: "validation EM" };
}

/**
 * Q4's paired comparisons (scratch = A, pretrained = B) of QA on the same validation questions,
 * from {@link scoreQaRun}'s per-question scores.
 */
export function q4Comparisons(
  scores: { pretrained: QuestionScores; scratch: QuestionScores },
): Comparison[] {
  return ["exact_match", "f1"].map((m) =>
    compare("pretrained vs scratch", m, { name: "scratch", scores: scores.scratch }, {
      name: "pretrained",
      scores: scores.pretrained,
    })
  );
}

/** Q4 table of the paired comparisons. */
export function q4PairedBlocks(paired: readonly Comparison[]): ReportBlock[] {
  if (paired.length === 0) return [];
  return [{
    kind: "table",
    title: `QA with the gold paragraph on the same ${
      paired[0].diff.n
    } validation questions: percent, 95% bootstrap intervals, paired difference`,
    // Q4's own names instead of A / B.
    columns: COMPARISON_COLUMNS.map((c) =>
      c.replace("B − A", `${paired[0].b} − ${paired[0].a}`).replace(/^A /, `${paired[0].a} `)
        .replace(/^B /, `${paired[0].b} `)
    ),
    rows: comparisonRows(paired),
  }];
}

/** Validation questions of the runs' training-time evaluation (`max_eval_samples`), if known. */
function trainingEvalQuestions(c: ScratchComparison): number | undefined {
  const n = c.pretrained.args.max_eval_samples;
  return typeof n === "number" ? n : undefined;
}

/** Q4 table: pretrained vs from scratch, same config and arguments. */
export function comparisonBlocks(c: ScratchComparison): ReportBlock[] {
  const rows: Cell[][] = [c.pretrained, c.scratch].map((r) => {
    const res = r.results;
    const scores = c.task === "mc"
      ? [round2(res.eval_accuracy)]
      : [round2(res.eval_exact_match), round2(res.eval_f1)];
    return [
      r.label,
      r.pretrained ? "pretrained" : "random init",
      ...scores,
      round4(res.eval_loss),
      r.steps,
      Math.round(r.trainSeconds),
    ];
  });
  const scoreColumns = c.task === "mc"
    ? ["validation accuracy %"]
    : ["validation EM", "validation F1"];
  const n = trainingEvalQuestions(c);
  return [{
    kind: "table",
    title: `${c.task === "mc" ? "Multiple choice" : "Question answering"}: pretrained vs scratch ` +
      `(all_results.json: the evaluation at the end of training, on ${
        n !== undefined ? `the first ${n}` : "the"
      } validation questions)`,
    columns: ["run", "weights", ...scoreColumns, "validation loss", "updates", "training s"],
    rows,
  }];
}

/** The same config and arguments? Lists what differs (should be only the model source). */
export function comparisonArgsDiff(c: ScratchComparison): string[] {
  const skip = new Set(["model_name_or_path", "config_name", "tokenizer_name", "output_dir"]);
  const keys = new Set([...Object.keys(c.pretrained.args), ...Object.keys(c.scratch.args)]);
  const out: string[] = [];
  for (const k of [...keys].sort()) {
    if (skip.has(k)) continue;
    if (JSON.stringify(c.pretrained.args[k]) !== JSON.stringify(c.scratch.args[k])) out.push(k);
  }
  for (const d of diffConfigs(c.pretrained.config, c.scratch.config)) out.push(`config.${d.key}`);
  return out;
}

/** Q4 conclusion, every number from this run's results and logs. */
export function conclusionBlock(
  c: ScratchComparison,
  logs: { pretrained: TrainingLog; scratch: TrainingLog },
  paired: readonly Comparison[] = [],
): ReportBlock {
  const m = mainMetric(c.task);
  const p = c.pretrained.results[m.key];
  const s = c.scratch.results[m.key];
  const d = p - s;
  const n = trainingEvalQuestions(c);
  const lp = logSummary(logs.pretrained), ls = logSummary(logs.scratch);
  const cfg = c.pretrained.config;
  const differs = comparisonArgsDiff(c);
  const verdict = Math.abs(d) < 0.005
    ? "the same"
    : d > 0
    ? `${round2(d)} points higher`
    : `${round2(-d)} points lower`;
  const lossWord = lp.final_loss_avg < ls.final_loss_avg ? "lower" : "higher";
  const lines = [
    `With the same config (${cfg.num_hidden_layers} layers, hidden ${cfg.hidden_size}, ` +
    `${c.pretrained.numParameters.toLocaleString("en-US")} parameters) and the same arguments ` +
    `(${c.pretrained.steps} updates, learning rate ${c.pretrained.args.learning_rate}, seed ${c.pretrained.args.seed}), ` +
    (paired.length > 0
      ? `scored on the same ${paired[0].diff.n} validation questions (gold paragraph), the ` +
        `pretrained model against the one from scratch: ` +
        paired.map((p) => `${METRIC_NAMES[p.metric] ?? p.metric} ${p.sentence}`).join("; ") + "."
      : `the pretrained model's ${m.name} (end of training, ${
        n !== undefined ? `first ${n}` : "all"
      } validation questions) is ${round2(p)} against ${round2(s)} from scratch: ${verdict}.`),
    `Its average training loss over the run is ${lossWord} (${round4(lp.final_loss_avg)} vs ${
      round4(ls.final_loss_avg)
    }).`,
  ];
  const rm = c.task === "mc" ? "final_running_accuracy" : "final_running_exact_match";
  if (lp[rm] !== undefined && ls[rm] !== undefined) {
    lines.push(
      `The running training ${
        c.task === "mc" ? "accuracy" : "EM (token positions, windows holding the answer)"
      } ends at ${round2(lp[rm])} vs ${round2(ls[rm])} (%).`,
    );
  }
  lines.push(
    differs.length === 0
      ? "The two runs' saved arguments and configs differ only in where the weights come from."
      : `Note: the runs also differ in ${differs.join(", ")}.`,
  );
  return { kind: "markdown", text: lines.join(" ") };
}
