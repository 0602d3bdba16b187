/**
 * Report: the study's runs (trained or reused), their evaluations and the blocks the Q1–Q4
 * notebooks show and write to their metrics files, notebook execution on the Deno Jupyter kernel,
 * and report assembly (Markdown + HTML). This module only re-exports:
 *
 * - profiles.ts — the study profiles (data, variants, arguments);
 * - run_record.ts, reuse.ts, study_runs.ts — a finished run, the reuse rule, the runs of Q2–Q4;
 * - run_models.ts, validation.ts, prediction_csv.ts — loading a run's models, the validation
 *   evaluations, `prediction.csv`; baselines.ts — the no-training baselines on the same questions;
 *   examples.ts — Chinese examples of right and wrong answers;
 * - scores.ts, stats.ts — per-question scores, bootstrap intervals, paired comparisons;
 * - format.ts, display.ts — how values are shown, showing blocks in a notebook;
 * - q2_model.ts, q2_performance.ts, q2_facts.ts (Q2's typed hand-over to the summary),
 *   q2_args.ts, q2_optimizer.ts, log_summary.ts, q4_comparison.ts — the blocks of each question;
 *   q2_ask.ts — Q2's last cell (ask both variants);
 * - metrics.ts, jupyter_kernel.ts, runner.ts, assemble.ts, study.ts — the metrics-file
 *   convention, the Deno Jupyter kernelspec, notebook execution, report assembly and the whole
 *   study run.
 *
 * Not re-exported: plan.ts (`--plan`) and summary.ts (the report's summary), imported directly.
 * @module
 */
export * from "./profiles.ts";
export * from "./run_record.ts";
export * from "./reuse.ts";
export * from "./study_runs.ts";
export * from "./run_models.ts";
export * from "./validation.ts";
export * from "./baselines.ts";
export * from "./examples.ts";
export * from "./prediction_csv.ts";
export * from "./scores.ts";
export * from "./stats.ts";
export * from "./format.ts";
export * from "./display.ts";
export * from "./q2_model.ts";
export * from "./q2_performance.ts";
export * from "./q2_facts.ts";
export * from "./q2_args.ts";
export * from "./q2_optimizer.ts";
export * from "./log_summary.ts";
export * from "./q4_comparison.ts";
export * from "./q2_ask.ts";
export * from "./metrics.ts";
export * from "./jupyter_kernel.ts";
export * from "./runner.ts";
export * from "./assemble.ts";
export * from "./study.ts";
