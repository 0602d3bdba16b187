/**
 * `deno task cli pretrain-mlm`: masked-LM pretraining on the project's own text with the flags of
 * Hugging Face's `run_mlm_no_trainer.py`, plus `--masking wwm|char` (whole-word masking over
 * jieba words, as `chinese-roberta-wwm-ext`; or per-token masking, as `bert-base-chinese`).
 * @module
 */
import type { CommandSpec, ParsedFlags } from "./args.ts";
import { resolveFlags, summary, trainingFlags } from "./train_flags.ts";
import { announceBackend } from "./backend_line.ts";
import { MLM_ARGS } from "../args/mod.ts";
import { pretrainMaskedLm } from "../pipeline/mod.ts";
import type { ProgressMode } from "../training/mod.ts";

/** Flags of `pretrain-mlm`. */
export const spec: CommandSpec = {
  name: "pretrain-mlm",
  summary: "Pretrain a BERT masked language model on the paragraphs (and training questions) " +
    "of the data set (run_mlm_no_trainer.py flags, plus --masking).",
  flags: trainingFlags(MLM_ARGS),
  epilog: [
    "Writes to --output_dir: the model (BertForMaskedLM) and tokenizer in Hugging Face layout,",
    "loadable by train-mc / train-qa --model_name_or_path; training_args.json, corpus.json,",
    "all_results.json, train_log / eval_log (masked-LM loss, perplexity, accuracy), checkpoints.",
    "Example:",
    "  deno task cli pretrain-mlm --context_file data/sample/context.json --train_file " +
    "data/sample/train.json \\",
    "    --tokenizer_name data/sample --config_overrides num_hidden_layers=2,hidden_size=128," +
    "num_attention_heads=2,intermediate_size=512 \\",
    "    --masking wwm --learning_rate 1e-3 --output_dir outputs/mlm",
  ].join("\n"),
};

/** Runs `pretrain-mlm`. */
export async function run(flags: ParsedFlags): Promise<void> {
  const a = await resolveFlags(flags, MLM_ARGS);
  await announceBackend();
  const r = await pretrainMaskedLm(a, { progress: flags.progress as ProgressMode });
  r.model.dispose();
  console.log(summary("pretrain-mlm", r, a.output_dir));
}
