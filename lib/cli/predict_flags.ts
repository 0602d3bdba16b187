/**
 * Flags and model loading shared by `predict` and `evaluate` (the two-stage pipeline).
 * Sequence settings default to what the models were trained with (`training_args.json` in each
 * model folder), else to the Hugging Face script defaults.
 * @module
 */
import { checkPath, type FlagSpec, type ParsedFlags, UsageError } from "./args.ts";
import { announceBackend } from "./backend_line.ts";
import { type AdlExample, loadContexts, loadExamples } from "../data/mod.ts";
import { BertTokenizer } from "../tokenization/mod.ts";
import { type BertModel, loadPretrained } from "../models/mod.ts";
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

/** Flags common to `predict` and `evaluate`. */
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
  mc_max_seq_length: {
    type: "int",
    min: 4,
    help: "MC tokens per pair (default: the mc_model's training max_seq_length, else 512)",
  },
  qa_max_seq_length: {
    type: "int",
    min: 4,
    help: "QA tokens per window (default: the qa_model's training max_seq_length, else 384)",
  },
  doc_stride: {
    type: "int",
    min: 0,
    help: "QA window overlap (default: the qa_model's training doc_stride, else 128)",
  },
  per_device_eval_batch_size: { type: "int", min: 1, default: 16, help: "Inference batch size" },
  n_best_size: {
    type: "int",
    min: 1,
    help: "Start/end candidates per window (default: from the qa_model, else 20)",
  },
  max_answer_length: {
    type: "int",
    min: 1,
    help: "Longest answer in tokens (default: from the qa_model, else 30)",
  },
  bf16: {
    type: "boolean",
    help: "bf16 mixed precision: matMuls in bf16 with fp32 accumulation on CPUs with bf16 " +
      "matrix units (AMX, AVX512-BF16; through oneDNN)",
  },
};

function mustExist(path: string, flag: string, dir: boolean) {
  return checkPath(path, flag, dir ? "dir" : "file");
}

/** Checks the paths given on the command line (before any loading). */
async function checkPaths(flags: ParsedFlags, files: string[]): Promise<void> {
  for (const f of files) {
    if (flags[f] !== undefined) await mustExist(String(flags[f]), f, false);
  }
  for (const d of ["mc_model", "qa_model"]) await mustExist(String(flags[d]), d, true);
}

/** Loaded models plus the pipeline settings. */
export interface LoadedPipeline {
  mc: { model: BertModel; tokenizer: BertTokenizer };
  qa: { model: BertModel; tokenizer: BertTokenizer };
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
  await announceBackend();
  const p = await loadPipeline(flags, log);
  try {
    await use({ ...p, examples, contexts });
  } finally {
    p.mc.model.dispose();
    p.qa.model.dispose();
  }
}

/** Loads both models and resolves the sequence settings. */
async function loadPipeline(
  flags: ParsedFlags,
  log: (m: string) => void,
): Promise<LoadedPipeline> {
  const mcDir = String(flags.mc_model);
  const qaDir = String(flags.qa_model);
  const mcArgs = (await readTrainingArgs(mcDir)) ?? {};
  const qaArgs = (await readTrainingArgs(qaDir)) ?? {};
  const pick = (flag: string, from: Record<string, unknown>, key: string, dflt: number) =>
    (flags[flag] as number | undefined) ?? (from[key] as number | undefined) ?? dflt;
  const options: PipelineOptions = {
    mcMaxSeqLength: pick("mc_max_seq_length", mcArgs, "max_seq_length", 512),
    qaMaxSeqLength: pick("qa_max_seq_length", qaArgs, "max_seq_length", 384),
    docStride: pick("doc_stride", qaArgs, "doc_stride", 128),
    nBestSize: pick("n_best_size", qaArgs, "n_best_size", 20),
    maxAnswerLength: pick("max_answer_length", qaArgs, "max_answer_length", 30),
    batchSize: flags.per_device_eval_batch_size as number,
    log,
  };
  if (options.docStride >= options.qaMaxSeqLength) {
    throw new UsageError(
      `doc_stride ${options.docStride} must be smaller than qa_max_seq_length ${options.qaMaxSeqLength}`,
    );
  }
  const mcTok = await BertTokenizer.fromPretrained(mcDir);
  const qaTok = await BertTokenizer.fromPretrained(qaDir);
  const mcModel = await loadPretrained(mcDir, "mc", { log });
  let qaModel: BertModel;
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
