/**
 * `deno task cli train-mc`: trains the multiple-choice model (which paragraph answers the
 * question) with the flags of Hugging Face's `run_swag_no_trainer.py`.
 * @module
 */
import type { CommandSpec, ParsedFlags } from "./args.ts";
import { resolveFlags, summary, trainingFlags } from "./train_flags.ts";
import { announceBackend } from "./backend_line.ts";
import { MC_ARGS } from "../args/mod.ts";
import { trainMultipleChoice } from "../pipeline/mod.ts";
import type { ProgressMode } from "../training/mod.ts";

/** Flags of `train-mc`. */
export const spec: CommandSpec = {
  name: "train-mc",
  summary: "Train a BERT multiple-choice model to pick the relevant paragraph of each question " +
    "(run_swag_no_trainer.py flags).",
  flags: trainingFlags(MC_ARGS),
  epilog: [
    "Writes to --output_dir: the final model and tokenizer (Hugging Face layout), training_args.json,",
    "all_results.json, train_log.{jsonl,csv} (per update), eval_log.{jsonl,csv} (per epoch),",
    "epoch_N/ or step_N/ checkpoints, and best/ (best validation accuracy).",
    "Example (from scratch on the sample data):",
    "  deno task cli train-mc --train_file data/sample/train.json --validation_file " +
    "data/sample/valid.json \\",
    "    --context_file data/sample/context.json --tokenizer_name data/sample \\",
    "    --config_overrides num_hidden_layers=2,hidden_size=128,num_attention_heads=2," +
    "intermediate_size=512 --output_dir outputs/mc",
  ].join("\n"),
};

/** Runs `train-mc`. */
export async function run(flags: ParsedFlags): Promise<void> {
  const args = await resolveFlags(flags, MC_ARGS);
  await announceBackend();
  const r = await trainMultipleChoice(args, { progress: flags.progress as ProgressMode });
  r.model.dispose();
  console.log(summary("train-mc", r, args.output_dir));
}
