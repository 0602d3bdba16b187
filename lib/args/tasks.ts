/**
 * The run arguments of every task, one entry each, with the names and defaults of Hugging Face's
 * `run_swag_no_trainer.py` (MC), `run_qa_no_trainer.py` (QA) and `run_mlm_no_trainer.py` (MLM,
 * plus `--masking`), and the inference arguments `predict` / `evaluate` (and every command that
 * answers questions) share. The one place each default and each bound is written; the command
 * line's flag tables and `--help`, the checks, the loop's camelCase arguments,
 * `training_args.json`, the report's reuse rule and its argument tables come from here.
 *
 * Deviations from the scripts: `seed` defaults to 42 (None there: every run here is
 * reproducible); `gradient_checkpointing` is TrainingArguments' flag.
 * @module
 */
import {
  type ArgRule,
  type ArgSchema,
  type ArgSpec,
  ArgumentError,
  resolveArgs,
  type ResolvedArgs,
} from "./schema.ts";

/** Schedule names (Hugging Face `SchedulerType` values). */
export const SCHEDULER_TYPES = [
  "linear",
  "cosine",
  "constant",
  "constant_with_warmup",
] as const;

/** A schedule name. */
export type SchedulerType = typeof SCHEDULER_TYPES[number];

/** Masking schemes of pretraining: whole words (jieba) or single tokens. */
export const MASKING_KINDS = ["wwm", "char"] as const;

/** A masking scheme. */
export type MaskingKind = typeof MASKING_KINDS[number];

type Entry<V> = Omit<ArgSpec<V>, "type">;
const int = <const E extends Entry<number>>(e: E) => ({ type: "int", ...e }) as E & ArgSpec<number>;
const float = <const E extends Entry<number>>(e: E) =>
  ({ type: "float", ...e }) as E & ArgSpec<number>;
const bool = <const E extends Entry<boolean>>(e: E) =>
  ({ type: "boolean", ...e }) as E & ArgSpec<boolean>;
const str = <V extends string | number = string>() => <const E extends Entry<V>>(e: E) =>
  ({ type: "string", ...e }) as E & ArgSpec<V>;

/** Parses `--checkpointing_steps`: "epoch" or a positive integer (a numeric string is read). */
function parseCheckpointing(v: unknown): "epoch" | number {
  if (v === "epoch") return "epoch";
  const n = typeof v === "number" ? v : typeof v === "string" && /^\d+$/.test(v) ? Number(v) : NaN;
  if (!(Number.isInteger(n) && n > 0)) {
    throw new Error(`must be 'epoch' or a positive integer, got ${JSON.stringify(v)}`);
  }
  return n;
}

/** The seed argument (its default is every seeded default's: weights, shuffling, dropout). */
export const SEED = int({
  default: 42,
  help: "Seed for initialisation, shuffling, dropout",
  identity: true,
  loop: true,
});

/** Where the model and tokenizer come from (run_*_no_trainer.py). */
const MODEL_SOURCE = {
  model_name_or_path: str()({
    path: "dir",
    identity: true,
    help: "Folder of a pretrained model (config.json + weights); omit to train from scratch",
  }),
  config_name: str()({
    path: "config",
    identity: true,
    help: "Config folder or .json file when not the same as model_name_or_path",
  }),
  tokenizer_name: str()({
    path: "dir",
    identity: true,
    help: "Tokenizer folder (vocab.txt / tokenizer.json) when not the same as model_name_or_path",
  }),
};

const CONFIG_OVERRIDES = {
  config_overrides: str()({
    identity: true,
    help: "From scratch only: config changes, e.g. num_hidden_layers=2,hidden_size=128," +
      "num_attention_heads=2,intermediate_size=512",
  }),
};

const PAD = {
  pad_to_max_length: bool({
    default: false,
    identity: true,
    help: "Pad every batch to max_seq_length (else to the longest in the batch)",
  }),
};

/** Batching, length of training and the optimiser: the arguments the training loop takes. */
const OPTIMIZATION = {
  per_device_train_batch_size: int({
    default: 8,
    min: 1,
    identity: true,
    loop: true,
    help: "Training micro-batch size",
  }),
  gradient_accumulation_steps: int({
    default: 1,
    min: 1,
    identity: true,
    loop: true,
    help: "Micro-batches per optimizer update",
  }),
  num_train_epochs: int({
    default: 3,
    min: 1,
    identity: true,
    loop: true,
    help: "Epochs (ignored when max_train_steps is set)",
  }),
  max_train_steps: int({
    min: 1,
    identity: true,
    loop: true,
    help: "Total optimizer updates; overrides num_train_epochs",
  }),
  learning_rate: float({
    default: 5e-5,
    min: 0,
    identity: true,
    loop: true,
    help: "Peak learning rate of AdamW",
  }),
  weight_decay: float({
    default: 0,
    min: 0,
    identity: true,
    loop: true,
    help: "Decoupled weight decay (not applied to biases and LayerNorm weights)",
  }),
  lr_scheduler_type: str<SchedulerType>()({
    default: "linear",
    choices: SCHEDULER_TYPES,
    identity: true,
    loop: true,
    help: "Learning-rate schedule",
  }),
  num_warmup_steps: int({
    default: 0,
    min: 0,
    identity: true,
    loop: true,
    help: "Linear warm-up updates",
  }),
};

/** `--bf16` (TrainingArguments' flag): matMuls in bf16 with fp32 accumulation (lib/backend/bf16.ts);
 *  no default, so runs without it save no key and older runs stay reusable. */
const PRECISION = {
  bf16: bool({
    identity: true,
    help: "bf16 mixed precision: matMuls in bf16 with fp32 accumulation (oneDNN, on CPUs with " +
      "AMX or AVX512-BF16); weights, optimizer state, loss, softmax and LayerNorm stay fp32",
    defaultText: "off: fp32",
  }),
};

const CLIP_AND_MEMORY = {
  max_grad_norm: float({
    min: 0,
    identity: true,
    loop: true,
    help: "Clip gradients to this global norm",
    defaultText: "no clipping, as the no_trainer scripts",
  }),
  gradient_checkpointing: bool({
    default: false,
    identity: true,
    help: "Recompute each layer's activations in the backward pass: far less memory, " +
      "~30% more time per step (batches that still do not fit are split automatically)",
  }),
  ...PRECISION,
};

const EVAL_BATCH = {
  per_device_eval_batch_size: int({
    default: 8,
    min: 1,
    identity: true,
    help: "Evaluation batch size",
  }),
};

/** Output, checkpoints, resume and intermediate evaluation. */
const RUN_CONTROL = {
  output_dir: str()({
    identity: false,
    loop: true,
    help: "Where the final model, logs, checkpoints and best/ go",
  }),
  checkpointing_steps: str<"epoch" | number>()({
    identity: false,
    loop: true,
    parse: parseCheckpointing,
    help: "'epoch' or a number N: save a resumable checkpoint every epoch / every N updates",
  }),
  resume_from_checkpoint: str()({
    path: "checkpoint",
    identity: false,
    loop: true,
    help: "Checkpoint folder to continue from ('latest': the newest under output_dir)",
  }),
  eval_steps: int({
    min: 1,
    identity: true,
    loop: true,
    help: "Also evaluate every N updates inside an epoch",
    defaultText: "at epoch ends only",
  }),
};

/** The rule that checkpoints need a folder. */
const checkpointsNeedOutputDir: ArgRule = (a) =>
  (a.checkpointing_steps !== undefined || a.resume_from_checkpoint) && !a.output_dir
    ? "checkpointing (--checkpointing_steps, --resume_from_checkpoint) needs --output_dir"
    : undefined;

/**
 * The model source rules: a tokenizer must come from somewhere, and `config_overrides` only
 * shapes a model trained from scratch.
 */
export const modelSourceRule: ArgRule = (a) => {
  if (!a.tokenizer_name && !a.model_name_or_path) {
    return "training from scratch needs --tokenizer_name (a folder with vocab.txt / " +
      "tokenizer.json); or pass --model_name_or_path (training a new tokenizer is not " +
      "supported, as in the HF scripts)";
  }
  if (a.model_name_or_path && a.config_overrides) {
    return "--config_overrides only applies when training from scratch (it shapes a new model), " +
      "not with --model_name_or_path";
  }
  return undefined;
};

const FINE_TUNING_DATA = {
  train_file: str()({
    required: true,
    path: "file",
    identity: true,
    help: "Training questions (ADL layout: id, question, paragraphs, relevant, answer)",
  }),
  validation_file: str()({
    path: "file",
    identity: true,
    help: "Validation questions, evaluated after every epoch",
  }),
  context_file: str()({
    required: true,
    path: "file",
    identity: true,
    help: "context.json: the list of paragraphs",
  }),
};

const SAMPLES = {
  max_train_samples: int({
    min: 1,
    identity: true,
    help: "Use only the first N training questions",
  }),
  max_eval_samples: int({
    min: 1,
    identity: true,
    help: "Use only the first N validation questions",
  }),
};

/** The optimisation rows of the report's tables (every task). */
const OPTIMIZATION_ROWS = Object.keys(OPTIMIZATION) as (keyof typeof OPTIMIZATION)[];

const MC_ENTRIES = {
  ...FINE_TUNING_DATA,
  ...MODEL_SOURCE,
  ...CONFIG_OVERRIDES,
  max_seq_length: int({
    default: 128,
    min: 4,
    identity: true,
    help: "Tokens per (question, paragraph) pair, specials included; longer paragraphs are cut",
  }),
  ...PAD,
  ...OPTIMIZATION,
  ...CLIP_AND_MEMORY,
  ...EVAL_BATCH,
  ...SAMPLES,
  seed: SEED,
  ...RUN_CONTROL,
};

/** `train-mc`: multiple choice (`run_swag_no_trainer.py`). */
export const MC_ARGS: ArgSchema<typeof MC_ENTRIES> = {
  command: "train-mc",
  args: MC_ENTRIES,
  rules: [modelSourceRule, checkpointsNeedOutputDir],
  reportKeys: [
    "max_seq_length",
    ...OPTIMIZATION_ROWS,
    "max_grad_norm",
    "per_device_eval_batch_size",
    "max_train_samples",
    "max_eval_samples",
    "seed",
  ],
};

/** QA's window and decoding arguments (training and inference). */
const QA_WINDOW = {
  max_seq_length: int({
    default: 384,
    min: 4,
    identity: true,
    help: "Tokens per window, specials included; longer contexts are split into windows",
  }),
  doc_stride: int({
    default: 128,
    min: 0,
    identity: true,
    help: "Overlap of consecutive windows",
  }),
};
const QA_DECODING = {
  n_best_size: int({
    default: 20,
    min: 1,
    identity: true,
    help: "Start/end candidates per window when decoding",
  }),
  max_answer_length: int({
    default: 30,
    min: 1,
    identity: true,
    help: "Longest answer in tokens",
  }),
};

const QA_ENTRIES = {
  ...FINE_TUNING_DATA,
  ...MODEL_SOURCE,
  ...CONFIG_OVERRIDES,
  ...QA_WINDOW,
  ...PAD,
  ...OPTIMIZATION,
  ...CLIP_AND_MEMORY,
  ...EVAL_BATCH,
  ...QA_DECODING,
  ...SAMPLES,
  seed: SEED,
  ...RUN_CONTROL,
};

/** `doc_stride` must be smaller than the window (`max_length` of the tokenizer call). */
function strideRule(lengthFlag: string): ArgRule {
  return (a) =>
    (a.doc_stride as number) >= (a[lengthFlag] as number)
      ? `--doc_stride ${a.doc_stride} must be smaller than --${lengthFlag} ${a[lengthFlag]}`
      : undefined;
}

/** The QA window rule (`--doc_stride` below `--max_seq_length`), also for `check-data`. */
export const QA_WINDOW_RULE: ArgRule = strideRule("max_seq_length");

/** `train-qa`: extractive QA (`run_qa_no_trainer.py`). */
export const QA_ARGS: ArgSchema<typeof QA_ENTRIES> = {
  command: "train-qa",
  args: QA_ENTRIES,
  rules: [modelSourceRule, checkpointsNeedOutputDir, QA_WINDOW_RULE],
  reportKeys: [
    "max_seq_length",
    "doc_stride",
    ...OPTIMIZATION_ROWS,
    "max_grad_norm",
    "per_device_eval_batch_size",
    "n_best_size",
    "max_answer_length",
    "max_train_samples",
    "max_eval_samples",
    "seed",
  ],
};

const MLM_ENTRIES = {
  context_file: str()({
    required: true,
    path: "file",
    identity: true,
    help: "context.json: every paragraph is corpus text (unlabelled)",
  }),
  train_file: str()({
    path: "file",
    identity: true,
    help: "ADL questions file whose question strings are added to the corpus (answers and " +
      "labels are not used)",
  }),
  ...MODEL_SOURCE,
  ...CONFIG_OVERRIDES,
  model_type: str()({
    default: "bert",
    choices: ["bert"],
    identity: true,
    help: "Architecture when training from scratch",
  }),
  masking: str<MaskingKind>()({
    default: "wwm",
    choices: MASKING_KINDS,
    identity: true,
    help: "wwm: whole-word masking over jieba words (chinese-roberta-wwm-ext); char: each " +
      "token alone (bert-base-chinese)",
  }),
  max_seq_length: int({
    ...MC_ENTRIES.max_seq_length,
    help: "Tokens per sequence, specials included; longer texts are cut into several sequences",
  }),
  mlm_probability: float({
    default: 0.15,
    min: 0,
    minExclusive: true,
    max: 1,
    maxExclusive: true,
    identity: true,
    help: "Fraction of tokens to mask",
  }),
  validation_split_percentage: int({
    default: 5,
    min: 0,
    max: 100,
    maxExclusive: true,
    identity: true,
    help: "Percent of the sequences held out to score the masked-LM after each epoch",
  }),
  line_by_line: bool({
    default: false,
    identity: true,
    help: "One sequence per text (default: texts concatenated and cut into max_seq_length " +
      "blocks, as HF group_texts)",
  }),
  ...PAD,
  ...OPTIMIZATION,
  ...CLIP_AND_MEMORY,
  ...EVAL_BATCH,
  max_train_samples: int({
    min: 1,
    identity: true,
    help: "Use only the first N training sequences",
  }),
  seed: SEED,
  ...RUN_CONTROL,
};

/** `pretrain-mlm`: masked-LM pretraining (`run_mlm_no_trainer.py` + `--masking`). */
export const MLM_ARGS: ArgSchema<typeof MLM_ENTRIES> = {
  command: "pretrain-mlm",
  args: MLM_ENTRIES,
  rules: [modelSourceRule, checkpointsNeedOutputDir],
  reportKeys: [
    "masking",
    "max_seq_length",
    "mlm_probability",
    ...OPTIMIZATION_ROWS,
    "config_overrides",
    "seed",
  ],
};

/** The MC window when the mc_model saved none (bert-base-chinese's model_max_length). */
const MC_INFERENCE_LENGTH = 512;

const INFERENCE_ENTRIES = {
  mc_max_seq_length: int({
    ...MC_ENTRIES.max_seq_length,
    // As Hugging Face's run_swag.py without --max_seq_length: the tokenizer's model_max_length
    // (bert-base-chinese: 512), not run_swag_no_trainer.py's training default (128); the
    // mc_model's own length is used when it saved one.
    default: MC_INFERENCE_LENGTH,
    help: "MC tokens per pair",
    defaultText: `the mc_model's training max_seq_length, else ${MC_INFERENCE_LENGTH}`,
  }),
  qa_max_seq_length: int({
    ...QA_WINDOW.max_seq_length,
    help: "QA tokens per window",
    defaultText: `the qa_model's training max_seq_length, else ${QA_WINDOW.max_seq_length.default}`,
  }),
  doc_stride: int({
    ...QA_WINDOW.doc_stride,
    help: "QA window overlap",
    defaultText: `the qa_model's training doc_stride, else ${QA_WINDOW.doc_stride.default}`,
  }),
  n_best_size: int({
    ...QA_DECODING.n_best_size,
    help: "Start/end candidates per window",
    defaultText: `from the qa_model, else ${QA_DECODING.n_best_size.default}`,
  }),
  max_answer_length: int({
    ...QA_DECODING.max_answer_length,
    help: "Longest answer in tokens",
    defaultText: `from the qa_model, else ${QA_DECODING.max_answer_length.default}`,
  }),
  per_device_eval_batch_size: int({
    ...EVAL_BATCH.per_device_eval_batch_size,
    default: 16,
    help: "Inference batch size",
  }),
  ...PRECISION,
};

/**
 * The inference arguments of the two-stage pipeline (`predict`, `evaluate`, and the commands
 * that answer questions): window, decoding and batch. The sequence settings take, in this order,
 * the flag, the model folder's `training_args.json`, the default here ({@link inferenceSettings}).
 */
export const INFERENCE_ARGS: ArgSchema<typeof INFERENCE_ENTRIES> = {
  command: "predict",
  args: INFERENCE_ENTRIES,
  rules: [strideRule("qa_max_seq_length")],
  reportKeys: [],
};

const ANSWER_ENTRIES = {
  max_seq_length: INFERENCE_ENTRIES.qa_max_seq_length,
  doc_stride: INFERENCE_ENTRIES.doc_stride,
  n_best_size: INFERENCE_ENTRIES.n_best_size,
  max_answer_length: INFERENCE_ENTRIES.max_answer_length,
  top_k: int({
    // Hugging Face's QuestionAnsweringPipeline answers once unless asked for more.
    default: 1,
    min: 1,
    identity: false,
    help: 'Answers per question; above 1 they are listed under "top_k"',
  }),
  mc_max_seq_length: INFERENCE_ENTRIES.mc_max_seq_length,
  batch_size: int({
    min: 1,
    identity: false,
    help: "Rows per inference batch",
    defaultText: "the inference default",
  }),
};

/**
 * The settings of the commands that answer questions (`ask`, `serve`, and `Answerer` in
 * lib/pipeline): the QA window (`max_seq_length` here is the QA model's, as in
 * `QuestionAnsweringPipeline`), decoding, `top_k`, the MC model's `mc_max_seq_length`; the same
 * entries (defaults, bounds, help) as {@link INFERENCE_ARGS}. Resolved by {@link resolveSettings}:
 * flag, else the model's `training_args.json`, else the default. `batch_size` is the library's
 * only (no flag).
 */
export const ANSWER_ARGS: ArgSchema<typeof ANSWER_ENTRIES> = {
  command: "ask",
  args: ANSWER_ENTRIES,
  rules: [strideRule("max_seq_length")],
  reportKeys: [],
};

/** Where each resolved setting came from. */
export type SettingSource = "given" | "training_args.json" | "default";

/**
 * What a setting of {@link INFERENCE_ARGS} / {@link ANSWER_ARGS} takes from the saved training
 * arguments of the runs: the MC run's `max_seq_length` for `mc_max_seq_length`, the QA run's
 * for the QA window and decoding.
 */
function trainedSettings(
  mcTrained: Record<string, unknown>,
  qaTrained: Record<string, unknown>,
): Record<string, unknown> {
  return {
    mc_max_seq_length: mcTrained.max_seq_length,
    qa_max_seq_length: qaTrained.max_seq_length,
    max_seq_length: qaTrained.max_seq_length,
    doc_stride: qaTrained.doc_stride,
    n_best_size: qaTrained.n_best_size,
    max_answer_length: qaTrained.max_answer_length,
  };
}

/**
 * The settings of an inference schema ({@link INFERENCE_ARGS}, {@link ANSWER_ARGS}): each from
 * `given` (flags; other keys are ignored), else from the runs' saved training arguments
 * (`training_args.json` of the MC and QA models), else the schema's default; checked once, an
 * error from a saved value saying so. `sources` tells where each came from.
 *
 * @example
 * ```ts
 * import { ANSWER_ARGS, resolveSettings } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const { args, sources } = resolveSettings(ANSWER_ARGS, { top_k: 3 }, {}, { max_seq_length: 256 });
 * assert.deepEqual([args.max_seq_length, args.top_k], [256, 3]);
 * assert.equal(sources.max_seq_length, "training_args.json");
 * assert.equal(args.doc_stride, ANSWER_ARGS.args.doc_stride.default);
 * ```
 */
export function resolveSettings<A extends Record<string, ArgSpec>>(
  schema: ArgSchema<A>,
  given: Record<string, unknown>,
  mcTrained: Record<string, unknown>,
  qaTrained: Record<string, unknown>,
): { args: ResolvedArgs<A>; sources: Record<keyof A, SettingSource> } {
  const trained = trainedSettings(mcTrained, qaTrained);
  const input: Record<string, unknown> = {};
  const sources: Record<string, SettingSource> = {};
  for (const k of Object.keys(schema.args)) {
    if (given[k] !== undefined) [input[k], sources[k]] = [given[k], "given"];
    else if (trained[k] !== undefined) [input[k], sources[k]] = [trained[k], "training_args.json"];
    else sources[k] = "default";
  }
  try {
    return { args: resolveArgs(schema, input), sources: sources as Record<keyof A, SettingSource> };
  } catch (e) {
    const flag = e instanceof ArgumentError ? /^--(\w+)/.exec(e.message)?.[1] : undefined;
    if (flag && sources[flag] === "training_args.json") {
      throw new ArgumentError(`${(e as Error).message} (from training_args.json)`);
    }
    throw e;
  }
}

/** The settings of the two-stage inference, resolved (camelCase, as `PipelineOptions`). */
export interface InferenceSettings {
  mcMaxSeqLength: number;
  qaMaxSeqLength: number;
  docStride: number;
  nBestSize: number;
  maxAnswerLength: number;
  batchSize: number;
}

/**
 * The inference settings of `predict` / `evaluate` ({@link resolveSettings} over
 * {@link INFERENCE_ARGS}): each from `given` (flags), else from the model's saved training
 * arguments (`mcTrained` / `qaTrained`, `training_args.json`), else the schema's default; checked
 * once (bounds, `doc_stride` < `qa_max_seq_length`). Throws an `ArgumentError` in flag names.
 *
 * @example
 * ```ts
 * import { inferenceSettings } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const s = inferenceSettings({ n_best_size: 5 }, {}, { max_seq_length: 256, doc_stride: 64 });
 * assert.deepEqual([s.nBestSize, s.qaMaxSeqLength, s.docStride], [5, 256, 64]);
 * ```
 */
export function inferenceSettings(
  given: Record<string, unknown>,
  mcTrained: Record<string, unknown>,
  qaTrained: Record<string, unknown>,
): InferenceSettings {
  const { args: a } = resolveSettings(INFERENCE_ARGS, given, mcTrained, qaTrained);
  return {
    mcMaxSeqLength: a.mc_max_seq_length,
    qaMaxSeqLength: a.qa_max_seq_length,
    docStride: a.doc_stride,
    nBestSize: a.n_best_size,
    maxAnswerLength: a.max_answer_length,
    batchSize: a.per_device_eval_batch_size,
  };
}
