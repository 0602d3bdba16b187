/**
 * Task runners: `trainMultipleChoice` and `trainQuestionAnswering` wire data → features → model →
 * the generic training loop, with the arguments (names and defaults) of Hugging Face's
 * `run_swag_no_trainer.py` and `run_qa_no_trainer.py` (the schema of lib/args: `MC_ARGS`,
 * `QA_ARGS`). Differences: `seed` has a default (every run is reproducible) and evaluation runs
 * after every epoch for both tasks. Pretraining (pretrain.ts) takes the same path, `runTask`.
 *
 * `output_dir` receives the final model and tokenizer (Hugging Face layout), `training_args.json`,
 * `all_results.json` (`eval_*` metrics, as the scripts write), the logs and checkpoints of the
 * loop, and `best/` (best validation metric).
 * @module
 */
import {
  type ArgsInput,
  type DefaultsOf,
  defaultsOf,
  loopArgs,
  markResolved,
  MC_ARGS,
  type MLM_ARGS,
  QA_ARGS,
  resolveArgs,
  type ResolvedArgs,
} from "../args/mod.ts";
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
import type { BertModel, Task as ModelTask } from "../models/mod.ts";
import type { BertTokenizer } from "../tokenization/mod.ts";
import * as tf from "@tensorflow/tfjs";
import {
  backendMemoryLimit,
  countCorrect,
  describePlan,
  doesNotFitError,
  formatBytes,
  type LossContext,
  type LossResult,
  mcLoss,
  type MemoryPlan,
  planMemory,
  type ProgressMode,
  qaExactPositions,
  qaLoss,
  train,
  type TrainResult,
} from "../training/mod.ts";
import { writeJsonAtomic } from "../util/atomic.ts";
import { forwardCollated, toTensor } from "./inference.ts";
import { mcMetrics, predictParagraphs } from "./mc.ts";
import { predictAnswers, qaMetrics } from "./qa.ts";
import { loadModelAndTokenizer, loadWeightsInto, saveModelAndTokenizer } from "./setup.ts";
import { plural } from "../util/text.ts";

/** Arguments of `train-mc` (Hugging Face flag names; the schema is `MC_ARGS` of lib/args). */
export type TaskTrainArgs = ArgsInput<typeof MC_ARGS.args>;

/** Arguments of `train-qa` (the schema is `QA_ARGS` of lib/args). */
export type QaTrainArgs = ArgsInput<typeof QA_ARGS.args>;

/** Resolved arguments of `train-mc` (defaults filled, checked). */
export type McRunArgs = ResolvedArgs<typeof MC_ARGS.args>;

/** Resolved arguments of `train-qa`. */
export type QaRunArgs = ResolvedArgs<typeof QA_ARGS.args>;

/** The defaults of `train-mc` (`run_swag_no_trainer.py`'s, seed 42), from the schema. */
export const MC_DEFAULTS: DefaultsOf<typeof MC_ARGS.args> = defaultsOf(MC_ARGS);

/** The defaults of `train-qa` (`run_qa_no_trainer.py`'s, seed 42), from the schema. */
export const QA_DEFAULTS: DefaultsOf<typeof QA_ARGS.args> = defaultsOf(QA_ARGS);

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
  /** The arguments with defaults filled in (as saved in training_args.json). */
  args: Record<string, unknown>;
  train: TrainResult;
  /** Evaluation after the last epoch (empty without a validation file). */
  eval: Record<string, number>;
  /** Seconds spent in `train` (features excluded). */
  trainSeconds: number;
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
      `--max_seq_length ${maxSeqLength} is larger than the model can take (${limit}: ` +
        `max_position_embeddings ${model.config.max_position_embeddings}, tokenizer ` +
        `model_max_length ${tokenizer.modelMaxLength})`,
    );
  }
}

/** The arguments every recipe reads (those of all three tasks). */
export type SharedRunArgs = McRunArgs | QaRunArgs | ResolvedArgs<typeof MLM_ARGS.args>;

/** What a task's training run is made of, once its data and model are loaded. */
export interface TaskRecipe<B> {
  /** Training rows (features). */
  numExamples: number;
  /** The micro-batch of some rows (in the loop's shuffled order). */
  makeBatch(indices: number[]): B;
  /** Forward pass and loss (with correct / count of the running metric) of a batch. */
  loss(batch: B, ctx: LossContext): LossResult;
  /** Name of the running metric (percent). */
  metricName: string;
  evaluate?: () => Promise<Record<string, number>>;
  /** The evaluation metric that selects `best/`, and whether higher is better. */
  bestMetric: string;
  greaterIsBetter: boolean;
  /** Keys of the last validation record that go to all_results.json and the result. */
  resultKeys: string[];
  /** For the memory plan: the longest training sequence and sequences per example. */
  seqLength: number;
  sequencesPerExample: number;
  /** More numbers for all_results.json, after training. */
  extraResults?(r: { trainSeconds: number; completedSteps: number }): Record<string, number>;
  /** More files in output_dir, after training. */
  writeExtra?(outputDir: string): Promise<void>;
}

/** The loaded model (head `H`) a recipe builds on. */
export interface RecipeModel<H extends ModelTask = ModelTask> {
  model: BertModel<H>;
  tokenizer: BertTokenizer;
  /** The length every batch is padded to (`pad_to_max_length`), else undefined. */
  pad: number | undefined;
  log: (m: string) => void;
}

/** A task on the shared training path: its data (loaded before the model) and its recipe. */
export interface Task<A extends SharedRunArgs, D, H extends ModelTask = ModelTask> {
  label: "train-mc" | "train-qa" | "pretrain-mlm";
  /** The model's head. */
  head: H;
  /** Loads and checks the task's data (before any model is loaded). */
  load(a: A, log: (m: string) => void): Promise<D>;
  /** Builds the features, batches, loss and evaluation. */
  recipe(a: A, data: D, m: RecipeModel<H>): TaskRecipe<unknown>;
}

/**
 * The path all three tasks share (arguments already resolved by the caller): data loaded, the
 * model + tokenizer loaded or created, the task's recipe built, then {@link trainModel}: memory
 * plan, training loop (evaluation after each epoch, `best/`, checkpoints in Hugging Face layout),
 * `all_results.json` and `memory_plan.json`.
 */
export async function runTask<A extends SharedRunArgs, D, H extends ModelTask>(
  task: Task<A, D, H>,
  a: A,
  opts: RunnerOptions,
): Promise<TaskTrainResult> {
  const log = opts.log ?? ((m: string) => console.log(m));
  const data = await task.load(a, log);
  // A resumed run's weights come from its checkpoint: how a new model would start is not said.
  const resuming = a.resume_from_checkpoint !== undefined;
  const loaded = await loadModelAndTokenizer(a, task.head, resuming ? () => {} : log);
  const { model, tokenizer } = loaded;
  log(
    `${resuming ? "resumed" : loaded.fromScratch ? "new" : "pretrained"} ${model.architecture}: ` +
      `${model.numParameters().toLocaleString("en-US")} parameters, ` +
      `${loaded.config.num_hidden_layers} layers, hidden ${loaded.config.hidden_size}` +
      (resuming ? " (weights from --resume_from_checkpoint)" : ""),
  );
  try {
    checkLength(model, tokenizer, a.max_seq_length);
    const pad = a.pad_to_max_length ? a.max_seq_length : undefined;
    const recipe = task.recipe(a, data, { model, tokenizer, pad, log });
    return await trainModel(task.label, a, opts, { model, tokenizer, pad, log }, recipe);
  } catch (e) {
    disposeQuietly(model);
    throw e;
  }
}

/** The data of a fine-tuning task. */
interface FineTuneData {
  contexts: string[];
  trainEx: AdlExample[];
  validEx: AdlExample[];
}

async function loadFineTuneData(a: McRunArgs): Promise<FineTuneData> {
  const contexts = await loadContexts(a.context_file);
  const trainEx = await loadSplit(a.train_file, contexts, "train", a.max_train_samples);
  const validEx = a.validation_file
    ? await loadSplit(a.validation_file, contexts, "valid", a.max_eval_samples)
    : [];
  return { contexts, trainEx, validEx };
}

/** Multiple choice: a feature per question (all its paragraphs), cross-entropy over choices. */
const MC_TASK: Task<McRunArgs, FineTuneData, "mc"> = {
  label: "train-mc",
  head: "mc",
  load: loadFineTuneData,
  recipe(a, { contexts, trainEx, validEx }, { model, tokenizer, pad, log }) {
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
      numExamples: trainFeatures.length,
      makeBatch: (idx) =>
        collateMc(idx.map((i) => trainFeatures[i]), tokenizer.padTokenId, { padToLength: pad }),
      loss: (b: McBatch, ctx) => {
        const out = forwardCollated(model, b, ctx);
        const labels = toTensor(b.labels!);
        const { correct, count } = countCorrect(out.logits, labels);
        return { loss: mcLoss(out.logits, labels), correct, count };
      },
      metricName: "accuracy",
      evaluate: validEx.length ? evaluate : undefined,
      bestMetric: "accuracy",
      greaterIsBetter: true,
      resultKeys: ["accuracy", "eval_loss"],
      seqLength: longest(trainFeatures.flatMap((f) => f.inputIds)),
      sequencesPerExample: trainFeatures[0]?.inputIds.length ?? 1,
    };
  },
};

/** Extractive QA: a feature per window of the gold paragraph, start/end cross-entropy. */
const QA_TASK: Task<QaRunArgs, FineTuneData, "qa"> = {
  label: "train-qa",
  head: "qa",
  load: loadFineTuneData,
  recipe(a, { contexts, trainEx, validEx }, { model, tokenizer, pad, log }) {
    const featOpts = { maxSeqLength: a.max_seq_length, docStride: a.doc_stride, training: true };
    const trainInputs: QaInput[] = examplesToQaInputs(trainEx, contexts);
    const trainFeatures: QaFeature[] = prepareQaFeatures(trainInputs, tokenizer, featOpts);
    const validInputs = examplesToQaInputs(validEx, contexts);
    const validFeatures = prepareQaFeatures(validInputs, tokenizer, featOpts);
    log(
      `train-qa: ${plural(trainEx.length, "training question")} -> ${
        plural(trainFeatures.length, "window")
      }, ${plural(validEx.length, "validation question")} -> ${
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
      numExamples: trainFeatures.length,
      makeBatch: (idx) =>
        collateQa(idx.map((i) => trainFeatures[i]), tokenizer.padTokenId, { padToLength: pad }),
      loss: (b: QaBatch, ctx) => {
        const out = forwardCollated(model, b, ctx);
        const sp = toTensor(b.startPositions!);
        const ep = toTensor(b.endPositions!);
        const { correct, count } = qaExactPositions(out.startLogits, out.endLogits, sp, ep);
        return { loss: qaLoss(out.startLogits, out.endLogits, sp, ep), correct, count };
      },
      metricName: "exact_match",
      evaluate: validEx.length ? evaluate : undefined,
      bestMetric: "exact_match",
      greaterIsBetter: true,
      resultKeys: ["exact_match", "f1", "eval_loss"],
      seqLength: longest(trainFeatures.map((f) => f.inputIds)),
      sequencesPerExample: 1,
    };
  },
};

/** The memory plan of a run (its summary is logged; `microBatch` 0 means it cannot run). */
function memoryPlanOf(a: SharedRunArgs, model: BertModel, r: TaskRecipe<unknown>): MemoryPlan {
  model.gradientCheckpointing = a.gradient_checkpointing;
  const limit = backendMemoryLimit(tf.getBackend());
  return planMemory({
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
}

/** The memory plan, the training loop and the result files of {@link runTask}. */
async function trainModel(
  label: string,
  a: SharedRunArgs,
  opts: RunnerOptions,
  { model, tokenizer, log }: RecipeModel,
  r: TaskRecipe<unknown>,
): Promise<TaskTrainResult> {
  const plan = memoryPlanOf(a, model, r);
  log(describePlan(plan));
  if (plan.microBatch === 0) throw doesNotFitError(plan);
  const t0 = performance.now();
  const result = await train({
    variables: model.variables,
    numExamples: r.numExamples,
    makeBatch: r.makeBatch,
    disposeBatch: () => {},
    lossFn: r.loss,
    // Resolved here: the loop takes them as they are (no second check).
    args: markResolved({ ...loopArgs(a), microBatchSize: plan.microBatch }),
    memoryPlan: plan,
    metricName: r.metricName,
    evaluate: r.evaluate,
    bestMetric: r.evaluate && a.output_dir ? r.bestMetric : undefined,
    greaterIsBetter: r.greaterIsBetter,
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
  if (a.output_dir) {
    const extra = r.extraResults?.({ trainSeconds, completedSteps: result.completedSteps }) ?? {};
    await writeResults(a.output_dir, evalMetrics, extra, { ...plan, wasmHeapBytes: heap });
    await r.writeExtra?.(a.output_dir);
  }
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
 * `all_results.json` with `eval_*` metrics, as the HF scripts write it, then the task's `extra`
 * numbers and the memory plan's (`memory_plan_peak_bytes`, `memory_plan_micro_batch`, and
 * `wasm_heap_bytes` measured after training on wasm; numbers only, as readers of the file
 * expect); the whole plan with its one-line summary goes to `memory_plan.json`.
 */
async function writeResults(
  outputDir: string,
  evalMetrics: Record<string, number>,
  extra: Record<string, number>,
  plan: MemoryPlan & { wasmHeapBytes: number | null },
) {
  const results: Record<string, number> = {};
  for (const [k, v] of Object.entries(evalMetrics)) {
    results[k.startsWith("eval_") ? k : `eval_${k}`] = v;
  }
  Object.assign(results, extra);
  results.memory_plan_peak_bytes = plan.peakBytes;
  results.memory_plan_micro_batch = plan.microBatch;
  if (plan.wasmHeapBytes !== null) results.wasm_heap_bytes = plan.wasmHeapBytes;
  await writeJsonAtomic(`${outputDir}/all_results.json`, results);
  await writeJsonAtomic(`${outputDir}/memory_plan.json`, { ...plan, summary: describePlan(plan) });
}

/**
 * Trains a multiple-choice model (pick the relevant paragraph among the candidates) like
 * `run_swag_no_trainer.py`; evaluates accuracy and loss on `validation_file` after each epoch.
 * The arguments are checked first (`MC_ARGS`), unless they are already resolved.
 */
export async function trainMultipleChoice(
  args: TaskTrainArgs | McRunArgs,
  opts: RunnerOptions = {},
): Promise<TaskTrainResult> {
  return await runTask(MC_TASK, resolveArgs(MC_ARGS, args), opts);
}

/**
 * Trains an extractive QA model on the gold paragraphs like `run_qa_no_trainer.py`; evaluates
 * EM, F1 and loss on `validation_file` (gold paragraphs) after each epoch. The arguments are
 * checked first (`QA_ARGS`), unless they are already resolved.
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
export async function trainQuestionAnswering(
  args: QaTrainArgs | QaRunArgs,
  opts: RunnerOptions = {},
): Promise<TaskTrainResult> {
  return await runTask(QA_TASK, resolveArgs(QA_ARGS, args), opts);
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
