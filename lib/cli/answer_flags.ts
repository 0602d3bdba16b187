/**
 * Flags and model loading shared by `ask` and `serve`: the QA model folder, the optional MC
 * model folder, and the window / decoding settings under Hugging Face's names. Settings not given
 * come from the runs' `training_args.json`, as `predict` does (`resolveAnswerSettings`).
 * @module
 */
import { checkPath, type FlagSpec, type ParsedFlags, UsageError } from "./args.ts";
import { announceBackend } from "./backend_line.ts";
import {
  ANSWER_DEFAULTS,
  ANSWER_SETTING_MIN,
  Answerer,
  type AnswerOptions,
  MC_DEFAULTS,
  QA_DEFAULTS,
  readTrainingArgs,
  resolveAnswerSettings,
} from "../pipeline/mod.ts";

/** The flags of the models and settings. */
export const answererFlags: Record<string, FlagSpec> = {
  qa_model: {
    type: "string",
    required: true,
    help:
      "Question-answering model folder (from train-qa: config.json, model.safetensors, vocab.txt)",
  },
  mc_model: {
    type: "string",
    help: "Multiple-choice model folder (from train-mc), to pick one of several paragraphs " +
      "(default: none; every paragraph is then searched)",
  },
  max_seq_length: {
    type: "int",
    min: ANSWER_SETTING_MIN.max_seq_length,
    help: `QA tokens per window (default: the qa_model's training max_seq_length, else ` +
      `${QA_DEFAULTS.max_seq_length})`,
  },
  doc_stride: {
    type: "int",
    min: ANSWER_SETTING_MIN.doc_stride,
    help: `QA window overlap in tokens (default: the qa_model's training doc_stride, else ` +
      `${QA_DEFAULTS.doc_stride})`,
  },
  n_best_size: {
    type: "int",
    min: ANSWER_SETTING_MIN.n_best_size,
    help: `Start/end candidates per window (default: from the qa_model, else ` +
      `${QA_DEFAULTS.n_best_size})`,
  },
  max_answer_length: {
    type: "int",
    min: ANSWER_SETTING_MIN.max_answer_length,
    help: `Longest answer in tokens (default: from the qa_model, else ` +
      `${QA_DEFAULTS.max_answer_length})`,
  },
  top_k: {
    type: "int",
    min: ANSWER_SETTING_MIN.top_k,
    help: `Answers per question; above 1 they are listed under "top_k" (default: ` +
      `${ANSWER_DEFAULTS.top_k})`,
  },
  mc_max_seq_length: {
    type: "int",
    min: ANSWER_SETTING_MIN.mc_max_seq_length,
    help: `MC tokens per (question, paragraph) pair (default: the mc_model's training ` +
      `max_seq_length, else ${MC_DEFAULTS.max_seq_length})`,
  },
};

/** The settings given on the command line. */
function givenSettings(flags: ParsedFlags): AnswerOptions {
  const out: AnswerOptions = {};
  for (
    const k of [
      "max_seq_length",
      "doc_stride",
      "n_best_size",
      "max_answer_length",
      "top_k",
      "mc_max_seq_length",
    ] as const
  ) {
    if (flags[k] !== undefined) out[k] = flags[k] as number;
  }
  return out;
}

/**
 * Checks the model folders and the settings (usage errors, before any loading), prints the
 * backend line, then loads the answerer; loading messages go to `log`.
 */
export async function loadAnswerer(
  flags: ParsedFlags,
  log: (m: string) => void,
): Promise<Answerer> {
  const qaModel = String(flags.qa_model);
  const mcModel = flags.mc_model === undefined ? undefined : String(flags.mc_model);
  await checkPath(qaModel, "qa_model", "dir");
  if (mcModel !== undefined) await checkPath(mcModel, "mc_model", "dir");
  const given = givenSettings(flags);
  try {
    resolveAnswerSettings(
      given,
      (await readTrainingArgs(qaModel)) ?? {},
      mcModel ? (await readTrainingArgs(mcModel)) ?? {} : {},
    );
  } catch (e) {
    if (e instanceof RangeError) throw new UsageError(e.message);
    throw e;
  }
  await announceBackend();
  let answerer: Answerer;
  try {
    answerer = await Answerer.load({ qaModel, mcModel, ...given, log });
  } catch (e) {
    // A window longer than the model's positions is a command-line problem.
    if (e instanceof RangeError && /max_position_embeddings/.test(e.message)) {
      throw new UsageError(e.message);
    }
    throw e;
  }
  const s = answerer.settings;
  log(
    `settings: max_seq_length ${s.max_seq_length}, doc_stride ${s.doc_stride}, n_best_size ` +
      `${s.n_best_size}, max_answer_length ${s.max_answer_length}, top_k ${s.top_k}` +
      (mcModel ? `, mc_max_seq_length ${s.mc_max_seq_length}` : ""),
  );
  return answerer;
}
