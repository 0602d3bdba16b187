/**
 * A study run's trained model loaded back for inference (Hugging Face layout: the run's final
 * model, not its `best/` checkpoint), and the inference settings each run was trained with.
 * @module
 */
import type { BertModel } from "../models/mod.ts";
import { loadModelAndTokenizer, type PipelineOptions, type Stage } from "../pipeline/mod.ts";
import type { BertTokenizer } from "../tokenization/mod.ts";
import { RUN_MODEL_TASK, runNumber, type StudyRun } from "./run_record.ts";
import type { VariantRuns } from "./study_runs.ts";

/** A trained model with head `T` loaded for inference, with its tokenizer. */
export interface LoadedStage<T extends "mc" | "qa"> extends Stage<T> {
  model: BertModel<T>;
  tokenizer: BertTokenizer;
  dispose(): void;
}

/**
 * Loads a run's final model and tokenizer (Hugging Face layout) for the pipeline, as the head
 * `task` (which must be the run's).
 */
export async function loadRunModel<T extends "mc" | "qa">(
  run: StudyRun,
  task: T,
): Promise<LoadedStage<T>> {
  if (run.task === "pretrain") throw new Error(`${run.dir}: a pretraining run has no task head`);
  if (RUN_MODEL_TASK[run.task] !== task) {
    throw new Error(`${run.dir}: the ${task} stage needs a ${task} run, not a ${run.task} run`);
  }
  const { model, tokenizer } = await loadModelAndTokenizer(
    { model_name_or_path: run.dir },
    task,
    () => {},
  );
  return { model, tokenizer, dispose: () => model.dispose() };
}

/** A QA run's window and answer settings, as it was trained (`run_qa_no_trainer.py` flags). */
export function qaRunSettings(
  run: StudyRun,
): { maxSeqLength: number; docStride: number; nBestSize: number; maxAnswerLength: number } {
  return {
    maxSeqLength: runNumber(run, "max_seq_length"),
    docStride: runNumber(run, "doc_stride"),
    nBestSize: runNumber(run, "n_best_size"),
    maxAnswerLength: runNumber(run, "max_answer_length"),
  };
}

/** Pipeline settings of a variant: each stage with the lengths it was trained with. */
export function pipelineOptions(runs: VariantRuns, batchSize: number): PipelineOptions {
  const { maxSeqLength, docStride, nBestSize, maxAnswerLength } = qaRunSettings(runs.qa);
  return {
    mcMaxSeqLength: runNumber(runs.mc, "max_seq_length"),
    qaMaxSeqLength: maxSeqLength,
    docStride,
    nBestSize,
    maxAnswerLength,
    batchSize,
  };
}

/** Runs `fn` with a variant's MC and QA models loaded, disposing both afterwards. */
export async function withStages<T>(
  runs: VariantRuns,
  fn: (mc: LoadedStage<"mc">, qa: LoadedStage<"qa">) => Promise<T>,
): Promise<T> {
  const mc = await loadRunModel(runs.mc, "mc");
  try {
    const qa = await loadRunModel(runs.qa, "qa");
    try {
      return await fn(mc, qa);
    } finally {
      qa.dispose();
    }
  } finally {
    mc.dispose();
  }
}
