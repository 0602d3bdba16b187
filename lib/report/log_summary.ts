/**
 * A training log's final and best numbers (updates, average loss, last running accuracy / EM,
 * last validation metrics), for Q3's table and Q4's conclusion.
 * @module
 */
import type { TrainingLog } from "../plotting/mod.ts";

/** Final and best numbers of a training log, for tables. */
export function logSummary(log: TrainingLog): Record<string, number> {
  const out: Record<string, number> = {};
  const last = log.steps.at(-1);
  if (last) {
    out.steps = last.step;
    out.final_loss_avg = log.steps.reduce((s, x) => s + x.loss, 0) / log.steps.length;
    if (last.running_accuracy !== undefined) out.final_running_accuracy = last.running_accuracy;
    if (last.running_exact_match !== undefined) {
      out.final_running_exact_match = last.running_exact_match;
    }
  }
  const ev = log.evals.at(-1);
  if (ev) {
    for (const k of ["accuracy", "exact_match", "f1", "eval_loss"] as const) {
      if (ev[k] !== undefined) out[`valid_${k}`] = ev[k]!;
    }
  }
  return out;
}
