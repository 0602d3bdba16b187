/**
 * Flags and model loading shared by `predict` and `evaluate` (the two-stage pipeline).
 * Sequence settings default to what the models were trained with (`training_args.json` in each
 * model folder), else to the schema's defaults (lib/args `INFERENCE_ARGS`).
 * @module
 */
import { checkPath, type FlagSpec, type ParsedFlags, UsageError, userPath } from "./args.ts";
import { asUsage, flagTable } from "./train_flags.ts";
import { INFERENCE_ARGS, inferenceSettings } from "../args/mod.ts";
import { announceBackend } from "./backend_line.ts";
import { checkAnswerModels } from "./answer_models.ts";
import { type AdlExample, loadContexts, loadExamples } from "../data/mod.ts";
import { BertTokenizer } from "../tokenization/mod.ts";
import { type BertModel, checkWindowFits, loadPretrained, readConfig } from "../models/mod.ts";
import { type PipelineOptions, readTrainingArgs } from "../pipeline/mod.ts";

/** The pipeline commands. */
export type PipelineCommand = "predict" | "evaluate";

/** The questions file each pipeline command reads: its flag, the split it holds, its help. */
const QUESTIONS: Record<
  PipelineCommand,
  { flag: "test_file" | "validation_file"; split: "test" | "valid"; help: string }
> = {
  predict: { flag: "test_file", split: "test", help: "Questions (id, question, paragraphs)" },
  evaluate: {
    flag: "validation_file",
    split: "valid",
    help: "Questions with relevant and answer (valid.json, or test_gold.json of the sample)",
  },
};

/** The flags of a pipeline command: its questions file, the shared ones, then `extra`. */
export function pipelineCommandFlags(
  command: PipelineCommand,
  extra: Record<string, FlagSpec>,
): Record<string, FlagSpec> {
  const q = QUESTIONS[command];
  return { [q.flag]: { type: "string", required: true, help: q.help }, ...pipelineFlags, ...extra };
}

/** Flags common to `predict` and `evaluate`: the paths, then the inference arguments of the
 *  schema (lib/args `INFERENCE_ARGS`). */
const pipelineFlags: Record<string, FlagSpec> = {
  context_file: { type: "string", required: true, help: "context.json: the list of paragraphs" },
  mc_model: {
    type: "string",
    required: true,
    help: "Multiple-choice model folder (from train-mc: config.json, model.safetensors, vocab.txt)",
  },
  qa_model: {
    type: "string",
    required: true,
    help: "Question-answering model folder (from train-qa)",
  },
  ...flagTable(INFERENCE_ARGS),
};

/** Resolves the paths given on the command line against the user's folder (`INIT_CWD` under
 *  `deno task`) and checks them (before any loading). */
async function checkPaths(flags: ParsedFlags, files: string[]): Promise<void> {
  for (const f of [...files, "mc_model", "qa_model", "prediction_csv"]) {
    if (typeof flags[f] === "string") flags[f] = userPath(flags[f] as string);
  }
  for (const f of files) {
    if (flags[f] !== undefined) await checkPath(String(flags[f]), f, "file");
  }
  for (const d of ["mc_model", "qa_model"]) await checkPath(String(flags[d]), d, "dir");
}

/** Loaded models plus the pipeline settings. */
export interface LoadedPipeline {
  mc: { model: BertModel<"mc">; tokenizer: BertTokenizer };
  qa: { model: BertModel<"qa">; tokenizer: BertTokenizer };
  options: PipelineOptions;
}

/** What a pipeline command works on: its questions, the paragraphs and both models. */
export interface PipelineRun extends LoadedPipeline {
  examples: AdlExample[];
  contexts: string[];
}

/**
 * Checks the paths, loads the questions file and both models (after the backend line), runs
 * `use` on them and disposes the models, also when `use` fails.
 */
export async function withPipeline(
  flags: ParsedFlags,
  command: PipelineCommand,
  use: (run: PipelineRun) => Promise<void>,
): Promise<void> {
  const questions = QUESTIONS[command];
  await checkPaths(flags, [questions.flag, "context_file"]);
  const log = (m: string) => console.error(m);
  const contexts = await loadContexts(String(flags.context_file));
  const examples = await loadExamples(String(flags[questions.flag]), contexts, {
    split: questions.split,
  });
  // The folders must hold the right heads before anything reads their training arguments.
  await checkAnswerModels([
    { dir: String(flags.mc_model), task: "mc", flag: "mc_model" },
    { dir: String(flags.qa_model), task: "qa", flag: "qa_model" },
  ]);
  // The settings (flags over the models' training_args.json) are checked before any model loads.
  const options = await pipelineSettings(flags, log);
  // A window longer than a model's positions is refused before anything loads or runs.
  for (
    const [flag, dir, length] of [
      ["mc_max_seq_length", String(flags.mc_model), options.mcMaxSeqLength],
      ["qa_max_seq_length", String(flags.qa_model), options.qaMaxSeqLength],
    ] as const
  ) {
    const config = await readConfig(dir);
    try {
      checkWindowFits(config, length, flag, dir);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  await announceBackend();
  const p = await loadPipeline(flags, options, log);
  try {
    await use({ ...p, examples, contexts });
  } finally {
    p.mc.model.dispose();
    p.qa.model.dispose();
  }
}

/** The sequence settings: each flag, else the model's `training_args.json`, else the default. */
async function pipelineSettings(
  flags: ParsedFlags,
  log: (m: string) => void,
): Promise<PipelineOptions> {
  const mcArgs = (await readTrainingArgs(String(flags.mc_model))) ?? {};
  const qaArgs = (await readTrainingArgs(String(flags.qa_model))) ?? {};
  return { ...asUsage(() => inferenceSettings(flags, mcArgs, qaArgs)), log };
}

/** Loads both models (with their tokenizers). */
async function loadPipeline(
  flags: ParsedFlags,
  options: PipelineOptions,
  log: (m: string) => void,
): Promise<LoadedPipeline> {
  const mcDir = String(flags.mc_model);
  const qaDir = String(flags.qa_model);
  const mcTok = await BertTokenizer.fromPretrained(mcDir);
  const qaTok = await BertTokenizer.fromPretrained(qaDir);
  const mcModel = await loadPretrained(mcDir, "mc", { log });
  let qaModel: BertModel<"qa">;
  try {
    qaModel = await loadPretrained(qaDir, "qa", { log });
  } catch (e) {
    mcModel.dispose();
    throw e;
  }
  log(
    `settings: mc_max_seq_length ${options.mcMaxSeqLength}, qa_max_seq_length ` +
      `${options.qaMaxSeqLength}, doc_stride ${options.docStride}, n_best_size ` +
      `${options.nBestSize}, max_answer_length ${options.maxAnswerLength}`,
  );
  return {
    mc: { model: mcModel, tokenizer: mcTok },
    qa: { model: qaModel, tokenizer: qaTok },
    options,
  };
}
