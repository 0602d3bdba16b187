/**
 * Flags shared by `train-mc` and `train-qa`, with the names of Hugging Face's
 * `run_swag_no_trainer.py` / `run_qa_no_trainer.py`, and the checks done before any work.
 * @module
 */
import { checkPath, type FlagSpec, type ParsedFlags, UsageError } from "./args.ts";
import { SCHEDULER_TYPES } from "../training/mod.ts";
import {
  checkModelSource,
  checkpointing,
  checkTaskArgs,
  type MC_DEFAULTS,
  type QA_DEFAULTS,
  type TaskTrainArgs,
  withDefaults,
} from "../pipeline/mod.ts";

/** Bounds and help of the flags only `train-qa` has (window overlap, answer decoding). */
const QA_FLAGS = {
  doc_stride: { min: 0, help: "Overlap of consecutive windows" },
  n_best_size: { min: 1, help: "Start/end candidates per window when decoding" },
  max_answer_length: { min: 1, help: "Longest answer in tokens" },
};

/** The flag table for a training command, with `defaults` from the task runner. */
export function trainingFlags(
  defaults: typeof MC_DEFAULTS & Partial<typeof QA_DEFAULTS>,
  task: "mc" | "qa",
): Record<string, FlagSpec> {
  const f: Record<string, FlagSpec> = {
    train_file: {
      type: "string",
      required: true,
      help: "Training questions (ADL layout: id, question, paragraphs, relevant, answer)",
    },
    validation_file: {
      type: "string",
      help: "Validation questions, evaluated after every epoch",
    },
    context_file: { type: "string", required: true, help: "context.json: the list of paragraphs" },
    model_name_or_path: {
      type: "string",
      help: "Folder of a pretrained model (config.json + weights); omit to train from scratch",
    },
    config_name: {
      type: "string",
      help: "Config folder or .json file when not the same as model_name_or_path",
    },
    tokenizer_name: {
      type: "string",
      help: "Tokenizer folder (vocab.txt / tokenizer.json) when not the same as model_name_or_path",
    },
    config_overrides: {
      type: "string",
      help: "From scratch only: config changes, e.g. num_hidden_layers=2,hidden_size=128," +
        "num_attention_heads=2,intermediate_size=512",
    },
    max_seq_length: {
      type: "int",
      min: 4,
      default: defaults.max_seq_length,
      help: task === "mc"
        ? "Tokens per (question, paragraph) pair, specials included; longer paragraphs are cut"
        : "Tokens per window, specials included; longer contexts are split into windows",
    },
  };
  // QA's own int flags, with the runner's defaults.
  const qaFlag = (name: keyof typeof QA_FLAGS): FlagSpec => ({
    type: "int",
    ...QA_FLAGS[name],
    default: defaults[name],
  });
  if (task === "qa") f.doc_stride = qaFlag("doc_stride");
  Object.assign(
    f,
    {
      pad_to_max_length: {
        type: "boolean",
        default: false,
        help: "Pad every batch to max_seq_length (else to the longest in the batch)",
      },
      per_device_train_batch_size: {
        type: "int",
        min: 1,
        default: defaults.per_device_train_batch_size,
        help: "Training micro-batch size",
      },
      per_device_eval_batch_size: {
        type: "int",
        min: 1,
        default: defaults.per_device_eval_batch_size,
        help: "Evaluation batch size",
      },
      learning_rate: {
        type: "float",
        min: 0,
        default: defaults.learning_rate,
        help: "Peak learning rate of AdamW",
      },
      weight_decay: {
        type: "float",
        min: 0,
        default: defaults.weight_decay,
        help: "Decoupled weight decay (not applied to biases and LayerNorm weights)",
      },
      num_train_epochs: {
        type: "int",
        min: 1,
        default: defaults.num_train_epochs,
        help: "Epochs (ignored when max_train_steps is set)",
      },
      max_train_steps: {
        type: "int",
        min: 1,
        help: "Total optimizer updates; overrides num_train_epochs",
      },
      gradient_accumulation_steps: {
        type: "int",
        min: 1,
        default: defaults.gradient_accumulation_steps,
        help: "Micro-batches per optimizer update",
      },
      lr_scheduler_type: {
        type: "string",
        choices: SCHEDULER_TYPES,
        default: defaults.lr_scheduler_type,
        help: "Learning-rate schedule",
      },
      num_warmup_steps: {
        type: "int",
        min: 0,
        default: defaults.num_warmup_steps,
        help: "Linear warm-up updates",
      },
      max_grad_norm: {
        type: "float",
        min: 0,
        help:
          "Clip gradients to this global norm (default: no clipping, as the no_trainer scripts)",
      },
      gradient_checkpointing: {
        type: "boolean",
        default: false,
        help: "Recompute each layer's activations in the backward pass: far less memory, " +
          "~30% more time per step (batches that still do not fit are split automatically)",
      },
      seed: {
        type: "int",
        default: defaults.seed,
        help: "Seed for initialisation, shuffling, dropout",
      },
      output_dir: {
        type: "string",
        help: "Where the final model, logs, checkpoints and best/ go",
      },
      checkpointing_steps: {
        type: "string",
        help: "'epoch' or a number N: save a resumable checkpoint every epoch / every N updates",
      },
      resume_from_checkpoint: {
        type: "string",
        help: "Checkpoint folder to continue from ('latest': the newest under output_dir)",
      },
      eval_steps: {
        type: "int",
        min: 1,
        help: "Also evaluate every N updates inside an epoch (default: at epoch ends only)",
      },
      max_train_samples: { type: "int", min: 1, help: "Use only the first N training questions" },
      max_eval_samples: { type: "int", min: 1, help: "Use only the first N validation questions" },
      bf16: {
        type: "boolean",
        help: "bf16 mixed precision: matMuls in bf16 with fp32 accumulation on CPUs with bf16 " +
          "matrix units (AMX, AVX512-BF16; through oneDNN); fp32 weights, optimizer and loss",
      },
    } satisfies Record<string, FlagSpec>,
  );
  if (task === "qa") {
    f.n_best_size = qaFlag("n_best_size");
    f.max_answer_length = qaFlag("max_answer_length");
  }
  f.progress = {
    type: "string",
    choices: ["auto", "tty", "lines", "none"],
    default: "auto",
    help: "Progress display (auto: a redrawn line on a terminal, periodic lines otherwise)",
  };
  return f;
}

function mustExist(path: string, flag: string, kind: "file" | "dir") {
  return checkPath(path, flag, kind);
}

/** Runs a check of the pipeline (the owner of the rule) with its error as a usage error. */
export function asUsage(check: () => void): void {
  try {
    check();
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/**
 * Converts parsed flags to runner arguments: paths checked here, the rules of the arguments by
 * their owners in the pipeline (`checkModelSource`, `checkTaskArgs`), before any work.
 */
export async function toTaskArgs(
  flags: ParsedFlags,
  defaults: typeof MC_DEFAULTS,
  task: "train-mc" | "train-qa",
): Promise<TaskTrainArgs> {
  const args: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(flags)) if (v !== undefined && k !== "progress") args[k] = v;
  const a = args as unknown as TaskTrainArgs;
  await mustExist(a.train_file, "train_file", "file");
  await mustExist(a.context_file, "context_file", "file");
  if (a.validation_file) await mustExist(a.validation_file, "validation_file", "file");
  if (a.model_name_or_path) await mustExist(a.model_name_or_path, "model_name_or_path", "dir");
  if (a.tokenizer_name) await mustExist(a.tokenizer_name, "tokenizer_name", "dir");
  if (a.config_name) {
    await mustExist(a.config_name, "config_name", a.config_name.endsWith(".json") ? "file" : "dir");
  }
  if (a.resume_from_checkpoint && a.resume_from_checkpoint !== "latest") {
    await mustExist(a.resume_from_checkpoint, "resume_from_checkpoint", "dir");
  }
  asUsage(() => {
    checkModelSource(a);
    checkTaskArgs(withDefaults(a, defaults), task);
  });
  // Saved in training_args.json as the number the run uses.
  if (a.checkpointing_steps !== undefined) {
    a.checkpointing_steps = checkpointing(a.checkpointing_steps);
  }
  return a;
}

/** Prints a short summary after training. */
export function summary(
  task: string,
  r: { eval: Record<string, number>; trainSeconds: number; train: { completedSteps: number } },
  outputDir?: string,
): string {
  // Percents (accuracy, exact_match, f1) with 2 decimals; losses and the like with 4.
  const ev = Object.entries(r.eval).map(([k, v]) =>
    `${k}=${/accuracy|exact_match|(^|_)f1$/.test(k) ? v.toFixed(2) : Number(v.toFixed(4))}`
  ).join(" ");
  return `${task}: ${r.train.completedSteps} updates in ${r.trainSeconds.toFixed(1)} s` +
    (ev ? `; validation ${ev}` : "") + (outputDir ? `; model saved to ${outputDir}` : "");
}
