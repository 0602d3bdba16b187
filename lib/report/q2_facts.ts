/**
 * What the Q2 notebook hands to the report's summary besides its numbers: data counts, the
 * models' size and lengths, pretraining, the backend, how many runs were trained or reused. One
 * typed object, built by {@link q2Facts} in the notebook, written into `metrics/q2.json`
 * (`facts`), and read back with its types checked by {@link readQ2Facts}; Q4 hands over its run
 * counts the same way ({@link RunCounts}, {@link readRunCounts}).
 * @module
 */
import type { AdlExample } from "../data/mod.ts";
import type { SectionMetrics } from "./metrics.ts";
import type { VariantEvaluation } from "./q2_performance.ts";
import { runNumber, type StudyRun } from "./run_record.ts";
import type { VariantRuns } from "./study_runs.ts";
import type { TestPrediction } from "./prediction_csv.ts";

/** Runs trained in this report and runs reused from an earlier identical run. */
export type RunCounts = {
  runs_trained: number;
  runs_reused: number;
};

/** In-project masked-LM pretraining of the first variant (absent for checkpoint variants). */
export type PretrainFacts = {
  pretrain_updates: number;
  pretrain_batch: number;
  pretrain_seq_length: number;
  /** Epochs the pretraining ran (fractional when `max_train_steps` stopped it first). */
  pretrain_epochs_run: number;
};

/** Q2's facts for the summary (snake_case: they are JSON keys of `metrics/q2.json`). */
export type Q2Facts =
  & RunCounts
  & Partial<PretrainFacts>
  & {
    backend: string;
    /** Questions in the profile's training file, and the first ones each task trained on. */
    train_questions_in_file: number;
    mc_train_questions: number;
    qa_train_questions: number;
    /** Validation questions scored (the profile's first `evalSamples`). */
    validation_questions: number;
    /** Validation questions in the file. */
    validation_questions_in_file: number;
    test_questions: number;
    layers: number;
    hidden_size: number;
    attention_heads: number;
    vocab_size: number;
    parameters_qa: number;
    parameters_mc: number;
    mc_max_seq_length: number;
    qa_max_seq_length: number;
    qa_doc_stride: number;
    mc_updates: number;
    qa_updates: number;
    best_variant: string;
    mc_choices: number;
  };

/** What {@link q2Facts} is computed from: the notebook's own values. */
export interface Q2FactsInput {
  backend: string;
  variants: readonly VariantRuns[];
  evaluations: readonly VariantEvaluation[];
  best: VariantEvaluation;
  test: TestPrediction;
  /** Questions in the training and validation files. */
  trainQuestionsInFile: number;
  validationQuestionsInFile: number;
  /** One validation question (for the number of candidates). */
  example: AdlExample;
}

/** Runs trained and reused among `runs`. */
export function runCounts(runs: readonly (StudyRun | undefined)[]): RunCounts {
  const present = runs.filter((r) => r !== undefined);
  return {
    runs_trained: present.filter((r) => !r.reused).length,
    runs_reused: present.filter((r) => r.reused).length,
  };
}

/** Q2's facts, from the notebook's runs and evaluations (the first variant's sizes). */
export function q2Facts(x: Q2FactsInput): Q2Facts {
  const v = x.variants[0];
  const upTo = (run: StudyRun) =>
    typeof run.args.max_train_samples === "number"
      ? Math.min(x.trainQuestionsInFile, run.args.max_train_samples)
      : x.trainQuestionsInFile;
  const pre: Partial<PretrainFacts> = v.pretrain
    ? {
      pretrain_updates: v.pretrain.steps,
      pretrain_batch: runNumber(v.pretrain, "per_device_train_batch_size"),
      pretrain_seq_length: runNumber(v.pretrain, "max_seq_length"),
      pretrain_epochs_run: v.pretrain.epochsRun,
    }
    : {};
  return {
    backend: x.backend,
    train_questions_in_file: x.trainQuestionsInFile,
    mc_train_questions: upTo(v.mc),
    qa_train_questions: upTo(v.qa),
    validation_questions: x.evaluations[0].evaluation.n,
    validation_questions_in_file: x.validationQuestionsInFile,
    test_questions: x.test.ids.length,
    layers: v.qa.config.num_hidden_layers,
    hidden_size: v.qa.config.hidden_size,
    attention_heads: v.qa.config.num_attention_heads,
    vocab_size: v.qa.config.vocab_size,
    parameters_qa: v.qa.numParameters,
    parameters_mc: v.mc.numParameters,
    mc_max_seq_length: runNumber(v.mc, "max_seq_length"),
    qa_max_seq_length: runNumber(v.qa, "max_seq_length"),
    qa_doc_stride: runNumber(v.qa, "doc_stride"),
    mc_updates: v.mc.steps,
    qa_updates: v.qa.steps,
    best_variant: x.best.runs.label,
    mc_choices: x.example.paragraphs.length,
    ...runCounts(x.variants.flatMap((r) => [r.pretrain, r.mc, r.qa])),
    ...pre,
  };
}

type Kind = "number" | "string";
const RUN_COUNT_KEYS: Record<keyof RunCounts, Kind> = {
  runs_trained: "number",
  runs_reused: "number",
};
const PRETRAIN_KEYS: Record<keyof PretrainFacts, Kind> = {
  pretrain_updates: "number",
  pretrain_batch: "number",
  pretrain_seq_length: "number",
  pretrain_epochs_run: "number",
};
const Q2_KEYS: Record<Exclude<keyof Q2Facts, keyof RunCounts | keyof PretrainFacts>, Kind> = {
  backend: "string",
  train_questions_in_file: "number",
  mc_train_questions: "number",
  qa_train_questions: "number",
  validation_questions: "number",
  validation_questions_in_file: "number",
  test_questions: "number",
  layers: "number",
  hidden_size: "number",
  attention_heads: "number",
  vocab_size: "number",
  parameters_qa: "number",
  parameters_mc: "number",
  mc_max_seq_length: "number",
  qa_max_seq_length: "number",
  qa_doc_stride: "number",
  mc_updates: "number",
  qa_updates: "number",
  best_variant: "string",
  mc_choices: "number",
};

function checked(
  facts: Record<string, unknown> | undefined,
  section: string,
  required: Record<string, Kind>,
  optional: Record<string, Kind> = {},
): Record<string, number | string> {
  if (!facts) throw new Error(`metrics/${section}.json: no 'facts'`);
  const kinds = { ...required, ...optional };
  for (const [k, kind] of Object.entries(kinds)) {
    const v = facts[k];
    if (v === undefined && !(k in required)) continue;
    if (typeof v !== kind || (kind === "number" && !Number.isFinite(v))) {
      throw new Error(`metrics/${section}.json: facts.${k} must be a ${kind} (got ${String(v)})`);
    }
  }
  return facts as Record<string, number | string>;
}

/**
 * Q2's facts read back from its metrics file, every key's type checked; undefined when the
 * section wrote none (the summary then leaves those lines out).
 */
export function readQ2Facts(q2: SectionMetrics): Q2Facts | undefined {
  if (q2.facts === undefined) return undefined;
  return checked(q2.facts, "q2", { ...Q2_KEYS, ...RUN_COUNT_KEYS }, PRETRAIN_KEYS) as Q2Facts;
}

/** A section's run counts (Q2 and Q4 write them among their facts); zeros when it wrote none. */
export function readRunCounts(m: SectionMetrics): RunCounts {
  if (m.facts === undefined) return { runs_trained: 0, runs_reused: 0 };
  return checked(m.facts, m.section, RUN_COUNT_KEYS) as RunCounts;
}
