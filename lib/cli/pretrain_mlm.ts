/**
 * `deno task cli pretrain-mlm`: masked-LM pretraining on the project's own text with the flags of
 * Hugging Face's `run_mlm_no_trainer.py`, plus `--masking wwm|char` (whole-word masking over
 * jieba words, as `chinese-roberta-wwm-ext`; or per-token masking, as `bert-base-chinese`).
 * @module
 */
import { checkPath, type CommandSpec, type FlagSpec, type ParsedFlags } from "./args.ts";
import { asUsage, summary, trainingFlags } from "./train_flags.ts";
import { announceBackend } from "./backend_line.ts";
import {
  checkModelSource,
  checkpointing,
  checkPretrainArgs,
  MC_DEFAULTS,
  MLM_DEFAULTS,
  type PretrainArgs,
  pretrainMaskedLm,
  withDefaults,
} from "../pipeline/mod.ts";
import type { ProgressMode } from "../training/mod.ts";

function pretrainFlags(): Record<string, FlagSpec> {
  const base = trainingFlags({ ...MC_DEFAULTS, ...MLM_DEFAULTS }, "mc");
  const out: Record<string, FlagSpec> = {
    context_file: {
      type: "string",
      required: true,
      help: "context.json: every paragraph is corpus text (unlabelled)",
    },
    train_file: {
      type: "string",
      help: "ADL questions file whose question strings are added to the corpus (answers and " +
        "labels are not used)",
    },
    model_type: {
      type: "string",
      choices: ["bert"],
      default: MLM_DEFAULTS.model_type,
      help: "Architecture when training from scratch",
    },
    masking: {
      type: "string",
      choices: ["wwm", "char"],
      default: MLM_DEFAULTS.masking,
      help: "wwm: whole-word masking over jieba words (chinese-roberta-wwm-ext); char: each " +
        "token alone (bert-base-chinese)",
    },
    mlm_probability: {
      type: "float",
      min: 0,
      default: MLM_DEFAULTS.mlm_probability,
      help: "Fraction of tokens to mask",
    },
    validation_split_percentage: {
      type: "int",
      min: 0,
      default: MLM_DEFAULTS.validation_split_percentage,
      help: "Percent of the sequences held out to score the masked-LM after each epoch",
    },
    line_by_line: {
      type: "boolean",
      default: false,
      help: "One sequence per text (default: texts concatenated and cut into max_seq_length " +
        "blocks, as HF group_texts)",
    },
  };
  for (const [k, v] of Object.entries(base)) {
    if (k in out || k === "validation_file" || k === "max_eval_samples") continue;
    out[k] = v;
  }
  out.max_seq_length = {
    ...base.max_seq_length,
    help: "Tokens per sequence, specials included; longer texts are cut into several sequences",
  };
  out.max_train_samples = {
    type: "int",
    min: 1,
    help: "Use only the first N training sequences (default: none)",
  };
  return out;
}

/** Flags of `pretrain-mlm`. */
export const spec: CommandSpec = {
  name: "pretrain-mlm",
  summary: "Pretrain a BERT masked language model on the paragraphs (and training questions) " +
    "of the data set (run_mlm_no_trainer.py flags, plus --masking).",
  flags: pretrainFlags(),
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

function exists(path: string, flag: string): Promise<void> {
  return checkPath(path, flag, "any");
}

/** Runs `pretrain-mlm`. */
export async function run(flags: ParsedFlags): Promise<void> {
  const args: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(flags)) if (v !== undefined && k !== "progress") args[k] = v;
  const a = args as unknown as PretrainArgs;
  await exists(a.context_file, "context_file");
  if (a.train_file) await exists(a.train_file, "train_file");
  if (a.model_name_or_path) await exists(a.model_name_or_path, "model_name_or_path");
  if (a.tokenizer_name) await exists(a.tokenizer_name, "tokenizer_name");
  asUsage(() => {
    checkModelSource(a);
    checkPretrainArgs(withDefaults(a, MLM_DEFAULTS));
  });
  // Saved in training_args.json as the number the run uses.
  if (a.checkpointing_steps !== undefined) {
    a.checkpointing_steps = checkpointing(a.checkpointing_steps);
  }
  await announceBackend();
  const r = await pretrainMaskedLm(a, { progress: flags.progress as ProgressMode });
  r.model.dispose();
  console.log(summary("pretrain-mlm", r, a.output_dir));
}
