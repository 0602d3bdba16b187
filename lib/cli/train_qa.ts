/**
 * `deno task cli train-qa`: trains the extractive QA model (answer span in the relevant paragraph)
 * with the flags of Hugging Face's `run_qa_no_trainer.py`.
 * @module
 */
import type { CommandSpec, ParsedFlags } from "./args.ts";
import { resolveFlags, summary, trainingFlags } from "./train_flags.ts";
import { announceBackend } from "./backend_line.ts";
import { QA_ARGS } from "../args/mod.ts";
import { trainQuestionAnswering } from "../pipeline/mod.ts";
import type { ProgressMode } from "../training/mod.ts";

/** Flags of `train-qa`. */
export const spec: CommandSpec = {
  name: "train-qa",
  summary: "Train a BERT extractive question-answering model on the relevant paragraphs " +
    "(run_qa_no_trainer.py flags).",
  flags: trainingFlags(QA_ARGS),
  epilog: [
    "Writes to --output_dir: the final model and tokenizer (Hugging Face layout), training_args.json,",
    "all_results.json, train_log.{jsonl,csv} (per update), eval_log.{jsonl,csv} (per epoch: EM,",
    "F1, loss), epoch_N/ or step_N/ checkpoints, and best/ (best validation EM).",
  ].join("\n"),
};

/** Runs `train-qa`. */
export async function run(flags: ParsedFlags): Promise<void> {
  const args = await resolveFlags(flags, QA_ARGS);
  await announceBackend();
  const r = await trainQuestionAnswering(args, { progress: flags.progress as ProgressMode });
  r.model.dispose();
  console.log(summary("train-qa", r, args.output_dir));
}
