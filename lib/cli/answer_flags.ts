/**
 * Flags and model loading shared by `ask` and `serve`: the QA model folder, the optional MC
 * model folder, and the window / decoding settings under Hugging Face's names (lib/args
 * `ANSWER_ARGS`). Settings not given come from the runs' `training_args.json`, as `predict` does.
 * @module
 */
import { checkPath, type FlagSpec, type ParsedFlags, UsageError, userPath } from "./args.ts";
import { announceBackend } from "./backend_line.ts";
import { checkAnswerModels } from "./answer_models.ts";
import { flagTable } from "./train_flags.ts";
import { ANSWER_ARGS, ArgumentError } from "../args/mod.ts";
import { Answerer, type AnswerOptions, answerSettingsOf } from "../pipeline/mod.ts";

/** The settings of the schema that are flags (`batch_size` is the library's only). */
const { batch_size: _, ...settingFlags } = flagTable(ANSWER_ARGS);

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
  ...settingFlags,
};

/** The settings given on the command line. */
function givenSettings(flags: ParsedFlags): AnswerOptions {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(settingFlags)) if (flags[k] !== undefined) out[k] = flags[k];
  return out as AnswerOptions;
}

/**
 * Checks the model folders (paths, then each holds a model of its task) and the settings (usage
 * errors, before any loading), prints the backend line, then loads the answerer; loading messages
 * go to `log`.
 */
export async function loadAnswerer(
  flags: ParsedFlags,
  log: (m: string) => void,
): Promise<Answerer> {
  const qaModel = userPath(String(flags.qa_model));
  const mcModel = flags.mc_model === undefined ? undefined : userPath(String(flags.mc_model));
  await checkPath(qaModel, "qa_model", "dir", String(flags.qa_model));
  if (mcModel !== undefined) await checkPath(mcModel, "mc_model", "dir", String(flags.mc_model));
  // The folders must hold the right heads before anything reads their training arguments.
  await checkAnswerModels([
    ...(mcModel === undefined ? [] : [{ dir: mcModel, task: "mc" as const, flag: "mc_model" }]),
    { dir: qaModel, task: "qa", flag: "qa_model" },
  ]);
  let settings;
  try {
    settings = await answerSettingsOf(givenSettings(flags), qaModel, mcModel);
  } catch (e) {
    throw e instanceof ArgumentError ? new UsageError(e.message) : e;
  }
  await announceBackend();
  let answerer: Answerer;
  try {
    answerer = await Answerer.load({ qaModel, mcModel, settings, log });
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
