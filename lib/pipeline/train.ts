/**
 * Task runners: `trainMultipleChoice` and `trainQuestionAnswering` wire data → features → model →
 * the generic training loop, with the arguments (names and defaults) of Hugging Face's
 * `run_swag_no_trainer.py` and `run_qa_no_trainer.py`. Differences: `seed` defaults to 42
 * (every run is reproducible) and evaluation runs after every epoch for both tasks.
 *
 * `output_dir` receives the final model and tokenizer (Hugging Face layout), `training_args.json`,
 * `all_results.json` (`eval_*` metrics, as the scripts write), the logs and checkpoints of the
 * loop, and `best/` (best validation metric).
 * @module
 */
import { type AdlExample, loadContexts, loadExamples } from "../data/mod.ts";
import {
  collateMc,
  collateQa,
  examplesToQaInputs,
  type McBatch,
  type McFeature,
  prepareMcFeatures,
  prepareQaFeatures,
  type QaBatch,
  type QaFeature,
  type QaInput,
} from "../features/mod.ts";
import type { BertModel, ModelOutput } from "../models/mod.ts";
import type { BertTokenizer } from "../tokenization/mod.ts";
import * as tf from "@tensorflow/tfjs";
import {
  backendMemoryLimit,
  checkTrainingArgs,
  countCorrect,
  describePlan,
  doesNotFitError,
  formatBytes,
  type LossResult,
  mcLoss,
  memoryAdvice,
  type MemoryPlan,
  planMemory,
  type ProgressMode,
  qaExactPositions,
  qaLoss,
  type SchedulerType,
  train,
  type TrainingArgs,
  type TrainResult,
} from "../training/mod.ts";
import { writeJsonAtomic } from "../util/atomic.ts";
import { type CollatedInputs, forwardCollated, toTensor } from "./inference.ts";
import { mcMetrics, predictParagraphs } from "./mc.ts";
import { predictAnswers, qaMetrics } from "./qa.ts";
import {
  loadModelAndTokenizer,
  loadWeightsInto,
  type ModelSourceArgs,
  saveModelAndTokenizer,
} from "./setup.ts";
import { plural } from "../util/text.ts";

/** Optimisation, schedule and checkpoint arguments of every training run (HF flag names). */
export interface OptimizationArgs {
  per_device_train_batch_size?: number;
  per_device_eval_batch_size?: number;
  learning_rate?: number;
  weight_decay?: number;
  num_train_epochs?: number;
  max_train_steps?: number;
  gradient_accumulation_steps?: number;
  lr_scheduler_type?: SchedulerType;
  num_warmup_steps?: number;
  max_grad_norm?: number;
  output_dir?: string;
  /** "epoch" or a number of updates (a numeric string is accepted, as on the command line). */
  checkpointing_steps?: string | number;
  /** Also evaluate every N updates inside an epoch (HF TrainingArguments `eval_steps`). */
  eval_steps?: number;
  resume_from_checkpoint?: string;
  /** Recompute each encoder layer's activations in the backward pass (HF TrainingArguments). */
  gradient_checkpointing?: boolean;
}

/** Arguments shared by both tasks (Hugging Face flag names). */
export interface TaskTrainArgs extends ModelSourceArgs, OptimizationArgs {
  train_file: string;
  validation_file?: string;
  context_file: string;
  max_seq_length?: number;
  pad_to_max_length?: boolean;
  /** Truncate the training / validation sets (HF debugging flags). */
  max_train_samples?: number;
  max_eval_samples?: number;
}

/** Extra arguments of question answering. */
export interface QaTrainArgs extends TaskTrainArgs {
  doc_stride?: number;
  n_best_size?: number;
  max_answer_length?: number;
}

/** The defaults every training runner has (task, MLM): sequence length, batches, optimiser. */
export type RunDefaults = {
  max_seq_length: number;
  pad_to_max_length: boolean;
  per_device_train_batch_size: number;
  per_device_eval_batch_size: number;
  learning_rate: number;
  weight_decay: number;
  num_train_epochs: number;
  gradient_accumulation_steps: number;
  lr_scheduler_type: SchedulerType;
  num_warmup_steps: number;
  seed: number;
};

/** Defaults of `run_swag_no_trainer.py` (seed: 42 here, None there). */
export const MC_DEFAULTS: RunDefaults = {
  max_seq_length: 128,
  pad_to_max_length: false,
  per_device_train_batch_size: 8,
  per_device_eval_batch_size: 8,
  learning_rate: 5e-5,
  weight_decay: 0,
  num_train_epochs: 3,
  gradient_accumulation_steps: 1,
  lr_scheduler_type: "linear",
  num_warmup_steps: 0,
  seed: 42,
};

/** Defaults of `run_qa_no_trainer.py` (seed: 42 here, None there). */
export const QA_DEFAULTS: typeof MC_DEFAULTS & {
  doc_stride: number;
  n_best_size: number;
  max_answer_length: number;
} = {
  ...MC_DEFAULTS,
  max_seq_length: 384,
  doc_stride: 128,
  n_best_size: 20,
  max_answer_length: 30,
};

/** Options that are not training arguments. */
export interface RunnerOptions {
  /** Messages (default console.log). */
  log?: (message: string) => void;
  /** Progress display (default "auto"). */
  progress?: ProgressMode;
  /** Called after each optimizer update with its log record. */
  onStep?: (record: Record<string, unknown>) => void | Promise<void>;
}

/** What a task runner returns. */
export interface TaskTrainResult {
  /** The trained model (the caller disposes it). */
  model: BertModel;
  tokenizer: BertTokenizer;
  /** The arguments with defaults filled in. */
  args: TaskTrainArgs;
  train: TrainResult;
  /** Evaluation after the last epoch (empty without a validation file). */
  eval: Record<string, number>;
  /** Seconds spent in `train` (features excluded). */
  trainSeconds: number;
}

/**
 * The arguments a runner uses: `defaults` with every key of `args` that is not undefined laid
 * over them (the one defaults-filler of the runners and of the report's reuse rule).
 */
export function withDefaults<T extends object, D extends object>(args: T, defaults: D): T & D {
  const out: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [k, v] of Object.entries(args)) if (v !== undefined) out[k] = v;
  return out as T & D;
}

/** The rule that checkpoints need a folder, as the runners' checks word it. */
export const NEEDS_OUTPUT_DIR =
  "checkpointing (--checkpointing_steps, --resume_from_checkpoint) needs --output_dir";

/** Parses `--checkpointing_steps` ("epoch", a positive integer, or nothing). */
export function checkpointing(v: string | number | undefined): "epoch" | number | undefined {
  if (v === undefined || v === "") return undefined;
  if (v === "epoch") return "epoch";
  const n = typeof v === "number" ? v : /^\d+$/.test(v) ? Number(v) : NaN;
  if (!(Number.isInteger(n) && n > 0)) {
    throw new Error(
      `checkpointing_steps must be 'epoch' or a positive integer, got ${JSON.stringify(v)}`,
    );
  }
  return n;
}

/**
 * Checks a runner's arguments (defaults filled) before any work: the loop's hyper-parameters by
 * their owner (`checkTrainingArgs`), then the rules of the task runners, which they own; QA's
 * window arguments for `train-qa`. The training commands run it too, to refuse bad flags early.
 */
export function checkTaskArgs(args: object, task: "train-mc" | "train-qa"): void {
  const a = args as Record<string, unknown>;
  checkTrainingArgs(toLoopArgs(args as OptimizationArgs));
  checkRunnerArgs(a, task);
  if (!a.train_file) throw new Error(`${task}: train_file is required`);
  if (task !== "train-qa") return;
  for (const k of ["doc_stride", "n_best_size", "max_answer_length"]) {
    const v = a[k];
    if (!(Number.isInteger(v) && (v as number) >= (k === "doc_stride" ? 0 : 1))) {
      throw new Error(`train-qa: ${k} has an invalid value ${JSON.stringify(v)}`);
    }
  }
  if ((a.doc_stride as number) >= (a.max_seq_length as number)) {
    throw new Error(
      `train-qa: doc_stride ${a.doc_stride} must be smaller than max_seq_length ${a.max_seq_length}`,
    );
  }
}

/**
 * The rules every runner (fine-tuning and pretraining) has beyond the loop's: sequence length,
 * evaluation batch, sample limits, the optimiser's other values, checkpoints need a folder.
 */
export function checkRunnerArgs(a: Record<string, unknown>, task: string): void {
  for (const k of ["max_seq_length", "per_device_eval_batch_size"]) {
    const v = a[k];
    if (!(Number.isInteger(v) && (v as number) > 0)) {
      throw new Error(`${task}: ${k} must be a positive integer, got ${JSON.stringify(v)}`);
    }
  }
  for (const k of ["max_train_samples", "max_eval_samples"]) {
    const v = a[k];
    if (v !== undefined && !(Number.isInteger(v) && (v as number) > 0)) {
      throw new Error(`${task}: ${k} must be a positive integer, got ${JSON.stringify(v)}`);
    }
  }
  for (const k of ["weight_decay", "num_warmup_steps"]) {
    const v = a[k] as number;
    if (!(typeof v === "number" && v >= 0)) {
      throw new Error(`${task}: ${k} must be >= 0, got ${JSON.stringify(v)}`);
    }
  }
  if (!a.context_file) throw new Error(`${task}: context_file is required`);
  if ((a.checkpointing_steps !== undefined || a.resume_from_checkpoint) && !a.output_dir) {
    throw new Error(`${task}: ${NEEDS_OUTPUT_DIR}`);
  }
}

/** Maps Hugging Face flag names to the training loop's arguments. */
export function toLoopArgs(a: OptimizationArgs & { seed?: number }): TrainingArgs {
  return {
    numTrainEpochs: a.num_train_epochs,
    maxTrainSteps: a.max_train_steps,
    perDeviceTrainBatchSize: a.per_device_train_batch_size,
    gradientAccumulationSteps: a.gradient_accumulation_steps,
    learningRate: a.learning_rate,
    weightDecay: a.weight_decay,
    lrSchedulerType: a.lr_scheduler_type,
    numWarmupSteps: a.num_warmup_steps,
    maxGradNorm: a.max_grad_norm,
    seed: a.seed,
    checkpointingSteps: checkpointing(a.checkpointing_steps),
    evalSteps: a.eval_steps,
    resumeFromCheckpoint: a.resume_from_checkpoint,
    outputDir: a.output_dir,
  };
}

async function loadSplit(
  path: string,
  contexts: string[],
  split: "train" | "valid",
  max?: number,
): Promise<AdlExample[]> {
  const ex = await loadExamples(path, contexts, { split });
  return max !== undefined ? ex.slice(0, max) : ex;
}

function checkLength(model: BertModel, tokenizer: BertTokenizer, maxSeqLength: number) {
  const limit = Math.min(model.config.max_position_embeddings, tokenizer.modelMaxLength);
  if (maxSeqLength > limit) {
    throw new Error(
      `max_seq_length ${maxSeqLength} is larger than the model can take (${limit}: ` +
        `max_position_embeddings ${model.config.max_position_embeddings}, tokenizer ` +
        `model_max_length ${tokenizer.modelMaxLength})`,
    );
  }
}

async function prepareModel<T extends FineTuneTask>(
  a: TaskTrainArgs & { seed: number },
  task: T,
  log: (m: string) => void,
) {
  const loaded = await loadModelAndTokenizer(a, task, log);
  log(
    `${loaded.fromScratch ? "new" : "pretrained"} ${loaded.model.architecture}: ` +
      `${loaded.model.numParameters().toLocaleString("en-US")} parameters, ` +
      `${loaded.config.num_hidden_layers} layers, hidden ${loaded.config.hidden_size}`,
  );
  return loaded;
}

/** The head each fine-tuning command trains. */
const FINE_TUNE_TASK = { "train-mc": "mc", "train-qa": "qa" } as const;
type FineTuneTask = (typeof FINE_TUNE_TASK)[keyof typeof FINE_TUNE_TASK];

/** What a task's training run is made of, once its data and model (head `T`) are loaded. */
interface TaskRecipe<F, B, T extends FineTuneTask> {
  /** Training features: row `i` of the loop is `features[i]`. */
  features: readonly F[];
  collate(features: F[], padId: number, opts: { padToLength?: number }): B;
  /** The loss (with correct / count of the running metric) from the model's outputs. */
  loss(out: ModelOutput<T>, batch: B): LossResult;
  metricName: "accuracy" | "exact_match";
  evaluate?: () => Promise<Record<string, number>>;
  /** Keys of the last validation record that go to all_results.json and the result. */
  resultKeys: string[];
  /** For the memory plan: the longest training sequence and sequences per example. */
  seqLength: number;
  sequencesPerExample: number;
}

/** The loaded data and model a task builds its {@link TaskRecipe} from. */
interface TaskInputs<T extends FineTuneTask> {
  model: BertModel<T>;
  tokenizer: BertTokenizer;
  contexts: string[];
  trainEx: AdlExample[];
  validEx: AdlExample[];
  /** The length every batch is padded to (`pad_to_max_length`), else undefined. */
  pad: number | undefined;
  log: (m: string) => void;
}

/**
 * The fine-tuning both tasks share: arguments checked, data and model loaded, the task's features
 * and loss built by `recipe`, then the training loop with validation after each epoch, `best/` by
 * the task's metric, checkpoints in Hugging Face layout, and all_results.json.
 */
async function fineTune<
  A extends TaskTrainArgs & RunDefaults,
  F,
  B extends CollatedInputs,
  L extends keyof typeof FINE_TUNE_TASK,
>(
  label: L,
  a: A,
  opts: RunnerOptions,
  recipe: (
    a: A,
    inputs: TaskInputs<(typeof FINE_TUNE_TASK)[L]>,
  ) => TaskRecipe<F, B, (typeof FINE_TUNE_TASK)[L]>,
): Promise<TaskTrainResult> {
  checkTaskArgs(a, label);
  const log = opts.log ?? ((m: string) => console.log(m));
  const contexts = await loadContexts(a.context_file);
  const trainEx = await loadSplit(a.train_file, contexts, "train", a.max_train_samples);
  const validEx = a.validation_file
    ? await loadSplit(a.validation_file, contexts, "valid", a.max_eval_samples)
    : [];
  const { model, tokenizer } = await prepareModel(a, FINE_TUNE_TASK[label], log);
  try {
    checkLength(model, tokenizer, a.max_seq_length);
    const pad = a.pad_to_max_length ? a.max_seq_length : undefined;
    const inputs = { model, tokenizer, contexts, trainEx, validEx, pad, log };
    return await trainModel(label, a, opts, inputs, recipe(a, inputs));
  } catch (e) {
    disposeQuietly(model);
    throw e;
  }
}

/** Multiple choice: a feature per question (all its paragraphs), cross-entropy over choices. */
function mcRecipe(
  a: TaskTrainArgs & RunDefaults,
  { model, tokenizer, contexts, trainEx, validEx, pad, log }: TaskInputs<"mc">,
): TaskRecipe<McFeature, McBatch, "mc"> {
  const featOpts = { maxSeqLength: a.max_seq_length };
  const trainFeatures: McFeature[] = prepareMcFeatures(trainEx, contexts, tokenizer, featOpts);
  const validFeatures = prepareMcFeatures(validEx, contexts, tokenizer, featOpts);
  log(
    `train-mc: ${plural(trainEx.length, "training question")}, ${
      plural(validEx.length, "validation question")
    }`,
  );
  const evaluate = async () => {
    const preds = await predictParagraphs(model, tokenizer, validEx, contexts, {
      maxSeqLength: a.max_seq_length,
      batchSize: a.per_device_eval_batch_size,
      padToLength: pad,
    }, validFeatures);
    const { accuracy, loss } = mcMetrics(validEx, preds);
    return { accuracy, eval_loss: loss }; // accuracy in percent, as every metric in the logs
  };
  return {
    features: trainFeatures,
    collate: collateMc,
    loss: (out, b) => {
      const labels = toTensor(b.labels!);
      const { correct, count } = countCorrect(out.logits, labels);
      return { loss: mcLoss(out.logits, labels), correct, count };
    },
    metricName: "accuracy",
    evaluate: validEx.length ? evaluate : undefined,
    resultKeys: ["accuracy", "eval_loss"],
    seqLength: longest(trainFeatures.flatMap((f) => f.inputIds)),
    sequencesPerExample: trainFeatures[0]?.inputIds.length ?? 1,
  };
}

/** Extractive QA: a feature per window of the gold paragraph, start/end cross-entropy. */
function qaRecipe(
  a: QaTrainArgs & typeof QA_DEFAULTS,
  { model, tokenizer, contexts, trainEx, validEx, pad, log }: TaskInputs<"qa">,
): TaskRecipe<QaFeature, QaBatch, "qa"> {
  const featOpts = { maxSeqLength: a.max_seq_length, docStride: a.doc_stride, training: true };
  const trainInputs: QaInput[] = examplesToQaInputs(trainEx, contexts);
  const trainFeatures: QaFeature[] = prepareQaFeatures(trainInputs, tokenizer, featOpts);
  const validInputs = examplesToQaInputs(validEx, contexts);
  const validFeatures = prepareQaFeatures(validInputs, tokenizer, featOpts);
  log(
    `train-qa: ${plural(trainEx.length, "training question")} -> ${
      plural(trainFeatures.length, "window")
    }, ` +
      `${plural(validEx.length, "validation question")} -> ${
        plural(validFeatures.length, "window")
      }`,
  );
  const evaluate = async () => {
    const res = await predictAnswers(model, tokenizer, validInputs, {
      maxSeqLength: a.max_seq_length,
      docStride: a.doc_stride,
      batchSize: a.per_device_eval_batch_size,
      nBestSize: a.n_best_size,
      maxAnswerLength: a.max_answer_length,
      padToLength: pad,
    }, validFeatures);
    const { exact_match, f1, loss } = qaMetrics(validInputs, res);
    return { exact_match, f1, eval_loss: loss };
  };
  return {
    features: trainFeatures,
    collate: collateQa,
    loss: (out, b) => {
      const sp = toTensor(b.startPositions!);
      const ep = toTensor(b.endPositions!);
      const { correct, count } = qaExactPositions(out.startLogits, out.endLogits, sp, ep);
      return { loss: qaLoss(out.startLogits, out.endLogits, sp, ep), correct, count };
    },
    metricName: "exact_match",
    evaluate: validEx.length ? evaluate : undefined,
    resultKeys: ["exact_match", "f1", "eval_loss"],
    seqLength: longest(trainFeatures.map((f) => f.inputIds)),
    sequencesPerExample: 1,
  };
}

/** The memory plan, the training loop and the result files of {@link fineTune}. */
async function trainModel<F, B extends CollatedInputs, T extends FineTuneTask>(
  label: "train-mc" | "train-qa",
  a: TaskTrainArgs & RunDefaults,
  opts: RunnerOptions,
  { model, tokenizer, pad, log }: TaskInputs<T>,
  r: TaskRecipe<F, B, T>,
): Promise<TaskTrainResult> {
  model.gradientCheckpointing = a.gradient_checkpointing ?? false;
  const limit = backendMemoryLimit(tf.getBackend());
  const plan = planMemory({
    config: model.config,
    task: model.task,
    numParameters: model.numParameters(),
    seqLength: r.seqLength,
    sequencesPerExample: r.sequencesPerExample,
    batchSize: a.per_device_train_batch_size,
    gradientCheckpointing: model.gradientCheckpointing,
    training: true,
    backend: tf.getBackend(),
    limitBytes: limit.bytes,
    limitName: limit.name,
    // The training loop keeps AdamW's moments outside the wasm heap.
    optimizerOnHost: tf.getBackend() === "wasm",
  });
  log(describePlan(plan));
  if (plan.microBatch === 0) throw doesNotFitError(plan);
  const t0 = performance.now();
  const result = await train({
    variables: model.variables,
    numExamples: r.features.length,
    makeBatch: (idx) =>
      r.collate(idx.map((i) => r.features[i]), tokenizer.padTokenId, { padToLength: pad }),
    disposeBatch: () => {},
    lossFn: (b, ctx) =>
      r.loss(forwardCollated(model, b, { training: ctx.training, seed: ctx.seed }), b),
    args: { ...toLoopArgs(a), microBatchSize: plan.microBatch },
    splitReason: limit.name,
    memoryPlan: describePlan(plan),
    memoryAdvice: `To fit: ${memoryAdvice(plan)}.`,
    metricName: r.metricName,
    evaluate: r.evaluate,
    bestMetric: r.evaluate && a.output_dir ? r.metricName : undefined,
    saveModel: (dir) => saveRunModel(model, tokenizer, dir, a),
    loadModel: (dir) => loadWeightsInto(model, dir),
    progress: opts.progress,
    label,
    onStep: opts.onStep,
    // While the bar runs, messages go through it (a redrawn terminal line stays intact).
    log: opts.log,
  });
  const trainSeconds = (performance.now() - t0) / 1000;
  const heap = wasmHeapBytes();
  if (heap !== null) {
    log(
      `wasm heap after training: ${formatBytes(heap)} (plan: peak ≈ ${
        formatBytes(plan.peakBytes)
      })`,
    );
  }
  const last = result.evalLog.at(-1);
  const evalMetrics: Record<string, number> = last
    ? Object.fromEntries(r.resultKeys.map((k) => [k, last[k] as number]))
    : {};
  await writeResults(a.output_dir, evalMetrics, { ...plan, wasmHeapBytes: heap });
  return { model, tokenizer, args: a, train: result, eval: evalMetrics, trainSeconds };
}

/** Model + tokenizer in HF layout, plus the run's arguments (read back by `predict`). */
async function saveRunModel(
  model: BertModel,
  tokenizer: BertTokenizer,
  dir: string,
  args: object,
): Promise<void> {
  await saveModelAndTokenizer(model, tokenizer, dir);
  await Deno.writeTextFile(`${dir}/training_args.json`, JSON.stringify(args, null, 2) + "\n");
}

/**
 * `all_results.json` with `eval_*` metrics, as the HF scripts write it, plus the memory plan's
 * numbers (`memory_plan_peak_bytes`, `memory_plan_micro_batch`, and `wasm_heap_bytes` measured
 * after training on wasm; numbers only, as readers of the file expect); the whole plan with its
 * one-line summary goes to `memory_plan.json`.
 */
async function writeResults(
  outputDir: string | undefined,
  evalMetrics: Record<string, number>,
  plan: MemoryPlan & { wasmHeapBytes: number | null },
) {
  if (!outputDir) return;
  const results: Record<string, number> = {};
  for (const [k, v] of Object.entries(evalMetrics)) {
    results[k.startsWith("eval_") ? k : `eval_${k}`] = v;
  }
  results.memory_plan_peak_bytes = plan.peakBytes;
  results.memory_plan_micro_batch = plan.microBatch;
  if (plan.wasmHeapBytes !== null) results.wasm_heap_bytes = plan.wasmHeapBytes;
  await writeJsonAtomic(`${outputDir}/all_results.json`, results);
  await writeJsonAtomic(`${outputDir}/memory_plan.json`, { ...plan, summary: describePlan(plan) });
}

/**
 * Trains a multiple-choice model (pick the relevant paragraph among the candidates) like
 * `run_swag_no_trainer.py`; evaluates accuracy and loss on `validation_file` after each epoch.
 */
export function trainMultipleChoice(
  args: TaskTrainArgs,
  opts: RunnerOptions = {},
): Promise<TaskTrainResult> {
  return fineTune("train-mc", withDefaults(args, MC_DEFAULTS), opts, mcRecipe);
}

/**
 * Trains an extractive QA model on the gold paragraphs like `run_qa_no_trainer.py`; evaluates
 * EM, F1 and loss on `validation_file` (gold paragraphs) after each epoch.
 *
 * @example A tiny model from scratch on four questions of the embedded sample, two updates
 * ```ts
 * import { trainQuestionAnswering } from "./mod.ts";
 * import { initBackend } from "../backend/mod.ts";
 * import assert from "node:assert/strict";
 *
 * await initBackend(); // the fastest backend that loads here (wasm + BLAS on a CPU)
 * const data = new URL("../../data/sample/", import.meta.url).pathname;
 * const out = await Deno.makeTempDir();
 * const r = await trainQuestionAnswering({
 *   train_file: `${data}train.json`,
 *   validation_file: `${data}valid.json`,
 *   context_file: `${data}context.json`,
 *   tokenizer_name: data, // vocab.txt of the sample
 *   config_overrides: "num_hidden_layers=1,hidden_size=16,num_attention_heads=2,intermediate_size=32",
 *   max_seq_length: 64,
 *   doc_stride: 32,
 *   per_device_train_batch_size: 4,
 *   max_train_samples: 8,
 *   max_eval_samples: 4,
 *   max_train_steps: 2,
 *   output_dir: out,
 * }, { progress: "none", log: () => {} });
 * assert.equal(r.train.completedSteps, 2);
 * assert.ok(r.eval.exact_match >= 0 && r.eval.exact_match <= 100); // percent
 * r.model.dispose();
 * await Deno.remove(out, { recursive: true });
 * ```
 */
export function trainQuestionAnswering(
  args: QaTrainArgs,
  opts: RunnerOptions = {},
): Promise<TaskTrainResult> {
  return fineTune("train-qa", withDefaults(args, QA_DEFAULTS), opts, qaRecipe);
}

/** Size of the wasm backend's heap (it only grows, so this is its peak), or null elsewhere. */
export function wasmHeapBytes(): number | null {
  const b = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
  return tf.getBackend() === "wasm" && b.wasm?.HEAPU8 ? b.wasm.HEAPU8.buffer.byteLength : null;
}

/** The longest of some token sequences. */
function longest(seqs: readonly number[][]): number {
  let n = 1;
  for (const s of seqs) n = Math.max(n, s.length);
  return n;
}

/** Releases a model after an error without hiding it (after a wasm abort the heap is gone). */
function disposeQuietly(model: BertModel): void {
  try {
    model.dispose();
  } catch { /* the backend is unusable; the process is about to report and exit */ }
}

/** Reads `training_args.json` of a model folder written by a runner (null when absent). */
export async function readTrainingArgs(dir: string): Promise<Record<string, unknown> | null> {
  try {
    return JSON.parse(await Deno.readTextFile(`${dir}/training_args.json`));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw new Error(`${dir}/training_args.json: ${(e as Error).message}`);
  }
}
