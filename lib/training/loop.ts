/**
 * The generic training loop shared by multiple choice, question answering and masked-LM, with
 * the semantics of Hugging Face's `run_*_no_trainer.py` scripts (accelerate):
 *
 * - Data: each epoch visits the examples in an order shuffled by `deriveSeed(seed, "shuffle",
 *   epoch)`, in micro-batches of `per_device_train_batch_size` (last one smaller, no drop).
 * - Gradient accumulation: every micro-batch loss is divided by `gradient_accumulation_steps`
 *   (as `accelerator.backward` does) and gradients are summed; the optimizer updates after
 *   every `gradient_accumulation_steps` micro-batches and after the last micro-batch of an
 *   epoch. The last, partial group of an epoch therefore also updates, with its gradient still
 *   divided by the full `gradient_accumulation_steps` (accelerate's behaviour: the partial group
 *   counts less, in proportion to its size, instead of being re-normalised).
 * - Steps: `updates_per_epoch = ceil(batches / accumulation)`; `max_train_steps` overrides
 *   `num_train_epochs` (then `num_train_epochs = ceil(max_train_steps / updates_per_epoch)`),
 *   else `max_train_steps = num_train_epochs * updates_per_epoch`. The schedule spans
 *   `max_train_steps` updates.
 * - Micro-batch splitting (`microBatchSize`, chosen by the memory plan when a requested
 *   micro-batch does not fit): each micro-batch runs as parts of at most `microBatchSize` rows,
 *   each part's loss weighted by its share of the rows, so the summed gradient is the unsplit one
 *   (part p draws its dropout masks from `deriveSeed(batchSeed, "part", p)`). Logs, checkpoints
 *   and resume count the requested micro-batch.
 * - Optional global-norm gradient clipping (`max_grad_norm`, as `clip_grad_norm_`).
 * - Dropout: the loss function is called with `training: true` and a per-micro-batch seed
 *   `deriveSeed(seed, "dropout", epoch, batch)`; evaluation is the caller's `evaluate`, in eval
 *   mode.
 * - Logs (JSON lines + CSV under `output_dir`), one key per value: per update `step`, `epoch`
 *   (1-based), `epoch_float` (epochs done), `loss` (the update's), `running_loss`,
 *   `learning_rate`, `grad_norm`, the running task metric under its own name (`accuracy` /
 *   `exact_match`, percent; QA's counts only the windows that hold the answer, see
 *   `qaExactPositions`), `examples`, `elapsed_s`; per epoch `epoch` (1-based), `step` and
 *   what `evaluate` returns (`eval_loss` for the validation loss); with `eval_steps` N also
 *   every N updates inside an epoch (each eval record has `epoch_float`, epochs done).
 * - Checkpoints (`checkpointing_steps` "epoch" or N) in `output_dir/epoch_E` (E 1-based) /
 *   `step_N`, atomic,
 *   with optimizer, scheduler and data position; `resume_from_checkpoint` continues exactly.
 *   The best evaluation so far is kept in `output_dir/best`.
 * - A NaN or infinite loss (or gradient norm) stops training before the update is applied, with
 *   a message naming the step and the last good checkpoint, which is left untouched. So does a
 *   backend running out of memory (wasm `Aborted()`, out-of-bounds access, RangeError), reported
 *   as an `OutOfMemoryError` with the memory plan.
 * - AdamW's moments live in JavaScript arrays on wasm (outside its 4 GiB heap).
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { createRng, deriveSeed } from "../util/random.ts";
import { writeDirAtomic } from "../util/atomic.ts";
import { formatMetric } from "../util/metric_format.ts";
import { AdamW } from "./adamw.ts";
import { createScheduler, type SchedulerType } from "./schedules.ts";
import {
  latestCheckpoint,
  loadOptimizerState,
  readCheckpointMeta,
  readSafetensorsF32,
  saveCheckpoint,
  type TrainerState,
  writeSafetensorsF32,
} from "./checkpoint.ts";
import { EVAL_LOG, JsonlCsvLog, type LogRecord, STEP_LOG } from "./logging.ts";
import { ProgressBar, type ProgressMode } from "./progress.ts";
import { isOutOfMemory, OutOfMemoryError } from "./memory.ts";

/** Training hyper-parameters, named after the Hugging Face script flags (camelCase). */
export interface TrainingArgs {
  /** Default 3, as the scripts. */
  numTrainEpochs?: number;
  /** Total optimizer updates; overrides `numTrainEpochs` when set. */
  maxTrainSteps?: number;
  /** Micro-batch size (default 8). */
  perDeviceTrainBatchSize?: number;
  /** Default 1. */
  gradientAccumulationSteps?: number;
  /** Default 5e-5. */
  learningRate?: number;
  /** Default 0. */
  weightDecay?: number;
  /** Default "linear". */
  lrSchedulerType?: SchedulerType;
  /** Default 0. */
  numWarmupSteps?: number;
  /** Global-norm clipping threshold; undefined or 0 disables (the no_trainer scripts don't clip). */
  maxGradNorm?: number;
  /** Default 42. */
  seed?: number;
  /** "epoch", a number of updates, or undefined (no intermediate checkpoints). */
  checkpointingSteps?: "epoch" | number;
  /** Also evaluate every N updates inside an epoch (HF `--eval_steps`); the evaluation at
   *  the end of each epoch stays. Undefined: at epoch ends only. */
  evalSteps?: number;
  /** A checkpoint directory, or "latest" for the newest under `outputDir`. */
  resumeFromCheckpoint?: string;
  /** Where logs, checkpoints, `best/` and the final model go; undefined keeps logs in memory. */
  outputDir?: string;
  /** Rows per forward/backward pass (default: the whole micro-batch). Smaller values split each
   *  micro-batch into parts whose loss-weighted gradients sum to the unsplit one; logs,
   *  checkpoints and resume still count `perDeviceTrainBatchSize`. */
  microBatchSize?: number;
  /** Keep AdamW's moments in JavaScript arrays, outside the backend's memory (default: on
   *  wasm, where they would take 8 bytes per parameter of the 4 GiB heap). */
  optimizerMomentsOnHost?: boolean;
}

/** What a loss function returns: the loss, optionally with a count of correct predictions. */
export interface LossResult {
  loss: tf.Scalar;
  /** Correct predictions in this micro-batch (for the running accuracy / EM). */
  correct?: tf.Scalar | number;
  /** Predictions counted in this micro-batch. */
  count?: tf.Scalar | number;
}

/** Context passed to the loss function. */
export interface LossContext {
  training: boolean;
  /** Seed for dropout in this micro-batch. */
  seed: number;
}

/** Everything `train` needs. */
export interface TrainOptions<B> {
  /** Trainable parameters by Hugging Face name. */
  variables: Map<string, tf.Variable>;
  /** Number of training rows (features); batches are built from their indices. */
  numExamples: number;
  /** Builds a micro-batch from row indices (in the shuffled order). */
  makeBatch(indices: number[]): B;
  /** Releases a batch (default: `tf.dispose` on it, which frees any tensors inside). */
  disposeBatch?(batch: B): void;
  /** Forward pass and loss of a micro-batch. Called inside a gradient tape. */
  lossFn(batch: B, ctx: LossContext): tf.Scalar | LossResult;
  args: TrainingArgs;
  /** Name of the running metric computed from `correct / count` (e.g. "accuracy"). */
  metricName?: string;
  /** Evaluation at the end of every epoch (eval mode); returns named metrics. */
  evaluate?(ctx: { epoch: number; step: number }): Promise<Record<string, number>>;
  /** Metric from `evaluate` that selects `output_dir/best`. */
  bestMetric?: string;
  /** Default true. */
  greaterIsBetter?: boolean;
  /** Writes the model in Hugging Face layout (default: variables as `model.safetensors`). */
  saveModel?(dir: string): Promise<void>;
  /** Restores weights from a checkpoint directory into `variables` (default: reads
   *  `model.safetensors` by name). */
  loadModel?(dir: string): Promise<void>;
  /** Save the final model into `output_dir` at the end (default true when it is set). */
  saveFinalModel?: boolean;
  /** Progress display (default "auto"). */
  progress?: ProgressMode;
  /** Label shown on the progress bar. */
  label?: string;
  /** Called after every update (and its checkpoint). Throwing aborts the run (tests use this
   *  to simulate a kill). */
  onStep?(record: LogRecord): void | Promise<void>;
  /** Receives human-readable messages (default: through the progress bar; console.log when the
   *  bar is off). */
  log?(message: string): void;
  /** What a split micro-batch fits in (e.g. "the wasm heap"), for the message. */
  splitReason?: string;
  /** The memory plan's summary, repeated when the backend runs out of memory. */
  memoryPlan?: string;
  /** What to do when the backend runs out of memory. */
  memoryAdvice?: string;
}

/** What `train` returns. */
export interface TrainResult {
  completedSteps: number;
  maxTrainSteps: number;
  numTrainEpochs: number;
  stepLog: LogRecord[];
  evalLog: LogRecord[];
  best: TrainerState["best"];
  lastCheckpoint: string | null;
}

/** Raised when the loss or the gradient norm is not finite. */
export class NonFiniteLossError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NonFiniteLossError";
  }
}

/** Counts derived from the arguments, as the Hugging Face scripts compute them. */
export function planSteps(
  numExamples: number,
  args: TrainingArgs,
): {
  batchSize: number;
  numBatches: number;
  gradientAccumulationSteps: number;
  updatesPerEpoch: number;
  maxTrainSteps: number;
  numTrainEpochs: number;
} {
  if (!(Number.isInteger(numExamples) && numExamples > 0)) {
    throw new Error(`training needs at least one example, got ${numExamples}`);
  }
  checkTrainingArgs(args);
  const batchSize = args.perDeviceTrainBatchSize ?? 8;
  const gas = args.gradientAccumulationSteps ?? 1;
  const numBatches = Math.ceil(numExamples / batchSize);
  const updatesPerEpoch = Math.ceil(numBatches / gas);
  let maxTrainSteps: number;
  let numTrainEpochs: number;
  if (args.maxTrainSteps !== undefined && args.maxTrainSteps !== null) {
    maxTrainSteps = args.maxTrainSteps;
    numTrainEpochs = Math.ceil(maxTrainSteps / updatesPerEpoch);
  } else {
    numTrainEpochs = args.numTrainEpochs ?? 3;
    maxTrainSteps = numTrainEpochs * updatesPerEpoch;
  }
  return {
    batchSize,
    numBatches,
    gradientAccumulationSteps: gas,
    updatesPerEpoch,
    maxTrainSteps,
    numTrainEpochs,
  };
}

/** The row order of an epoch: a seeded shuffle of `0..n-1`. */
export function epochOrder(seed: number, epoch: number, n: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  return createRng(deriveSeed(seed, "shuffle", epoch)).shuffle(order);
}

/** Saves variables as float32 safetensors (`model.safetensors`) under their names. */
export async function saveVariables(
  dir: string,
  variables: Map<string, tf.Variable>,
): Promise<void> {
  const tensors = [];
  for (const [name, v] of variables) {
    tensors.push({ name, shape: v.shape.slice(), data: (await v.data()) as Float32Array });
  }
  await writeSafetensorsF32(`${dir}/model.safetensors`, tensors, { format: "pt" });
}

/** Loads `model.safetensors` (float32) into variables by name; every variable must be there. */
export async function loadVariables(
  dir: string,
  variables: Map<string, tf.Variable>,
): Promise<void> {
  const path = `${dir}/model.safetensors`;
  const { tensors } = await readSafetensorsF32(path);
  for (const [name, v] of variables) {
    const t = tensors.get(name);
    if (!t) throw new Error(`${path}: no tensor '${name}'`);
    if (t.shape.length !== v.shape.length || t.shape.some((d, i) => d !== v.shape[i])) {
      throw new Error(`${path}: '${name}' has shape [${t.shape}], expected [${v.shape}]`);
    }
    tf.tidy(() => v.assign(tf.tensor(t.data, t.shape, "float32")));
  }
}

function toNumber(x: tf.Scalar | number | undefined): Promise<number> | number {
  if (x === undefined) return 0;
  if (typeof x === "number") return x;
  return x.data().then((d) => d[0]);
}

/** Everything about the run that a checkpoint must match to resume at the same data position. */
function runInfoOf(seed: number, numExamples: number, batchSize: number, gas: number) {
  return { seed, numExamples, batchSize, gradientAccumulationSteps: gas };
}

/**
 * Checks the loop's hyper-parameters (the one owner of these rules; the runners call it before
 * loading anything, {@link planSteps} and so `train` before starting). Errors name the Hugging
 * Face flags.
 */
export function checkTrainingArgs(args: TrainingArgs): void {
  const positive: [string, number | undefined][] = [
    ["per_device_train_batch_size", args.perDeviceTrainBatchSize ?? 8],
    ["gradient_accumulation_steps", args.gradientAccumulationSteps ?? 1],
    ["max_train_steps", args.maxTrainSteps ?? undefined],
    ["num_train_epochs", args.numTrainEpochs ?? undefined],
    ["eval_steps", args.evalSteps],
  ];
  for (const [name, v] of positive) {
    if (v !== undefined && !(Number.isInteger(v) && v > 0)) {
      throw new Error(`${name} must be a positive integer, got ${v}`);
    }
  }
  const ckptEvery = args.checkpointingSteps;
  if (ckptEvery !== undefined && ckptEvery !== "epoch") {
    if (!(Number.isInteger(ckptEvery) && ckptEvery > 0)) {
      throw new Error(
        `checkpointing_steps must be "epoch" or a positive integer, got ${ckptEvery}`,
      );
    }
  }
  const maxGradNorm = args.maxGradNorm ?? 0;
  if (!(maxGradNorm >= 0)) throw new Error(`max_grad_norm must be >= 0, got ${maxGradNorm}`);
  const lr = args.learningRate ?? 5e-5;
  if (!(lr >= 0)) throw new Error(`learning_rate must be >= 0, got ${lr}`);
}

/** Checks what depends on the run itself (best-model tracking, the split), before any write. */
function validateRun(args: TrainingArgs, batchSize: number, hasBest: boolean): void {
  if ((args.checkpointingSteps !== undefined || hasBest) && !args.outputDir) {
    throw new Error("checkpointing and best-model tracking need output_dir");
  }
  const micro = args.microBatchSize ?? batchSize;
  if (!(Number.isInteger(micro) && micro >= 1 && micro <= batchSize)) {
    throw new Error(`micro-batch size must be an integer in 1..${batchSize}, got ${micro}`);
  }
}

/** Splits `rows` into consecutive parts of at most `size`. */
function parts(rows: number[], size: number): number[][] {
  const out = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

/** A loss function's result as {@link LossResult}. */
function asResult(out: tf.Scalar | LossResult): LossResult {
  return out instanceof tf.Tensor ? { loss: out } : out;
}

/**
 * Trains `variables` with AdamW and the chosen schedule. See the module documentation for the
 * exact semantics. Returns the logs and the final position.
 */
export async function train<B>(opts: TrainOptions<B>): Promise<TrainResult> {
  const args = opts.args;
  const plan = planSteps(opts.numExamples, args);
  const { batchSize, numBatches, maxTrainSteps, numTrainEpochs } = plan;
  const gas = plan.gradientAccumulationSteps;
  validateRun(args, batchSize, opts.bestMetric !== undefined);
  const seed = args.seed ?? 42;
  const outputDir = args.outputDir;
  const ckptEvery = args.checkpointingSteps;
  const evalSteps = args.evalSteps;
  const maxGradNorm = args.maxGradNorm ?? 0;
  const microBatch = args.microBatchSize ?? batchSize;
  const metricName = opts.metricName;
  const greater = opts.greaterIsBetter ?? true;
  const saveModel = opts.saveModel ?? ((dir: string) => saveVariables(dir, opts.variables));
  const loadModel = opts.loadModel ?? ((dir: string) => loadVariables(dir, opts.variables));
  const disposeBatch = opts.disposeBatch ??
    ((b: B) => tf.dispose(b as unknown as tf.TensorContainer));

  const runInfo = runInfoOf(seed, opts.numExamples, batchSize, gas);
  const state: TrainerState = {
    version: 1,
    completedSteps: 0,
    epoch: 0,
    batchInEpoch: 0,
    maxTrainSteps,
    numTrainEpochs,
    run: runInfo,
    sums: { loss: 0, lossCount: 0, correct: 0, count: 0, examples: 0 },
    stepLogLines: 0,
    evalLogLines: 0,
    best: null,
  };
  if (outputDir) await Deno.mkdir(outputDir, { recursive: true });
  const stepLog = new JsonlCsvLog(outputDir ? `${outputDir}/${STEP_LOG}` : null);
  const evalLog = new JsonlCsvLog(outputDir ? `${outputDir}/${EVAL_LOG}` : null);
  const optimizer = new AdamW(opts.variables, {
    weightDecay: args.weightDecay ?? 0,
    momentsOnHost: args.optimizerMomentsOnHost ?? tf.getBackend() === "wasm",
  });
  const scheduler = createScheduler(args.lrSchedulerType ?? "linear", {
    learningRate: args.learningRate ?? 5e-5,
    numWarmupSteps: args.numWarmupSteps ?? 0,
    numTrainingSteps: maxTrainSteps,
  });
  let progress: ProgressBar | null = null;
  let lastCheckpoint: string | null = null;
  // Gradients summed over the micro-batches of the current update (by parameter name).
  const acc = new Map<string, tf.Tensor>();
  const nameOf = new Map<string, string>();
  for (const [name, v] of opts.variables) nameOf.set(v.name, name);
  const varList = [...opts.variables.values()].filter((v) => v.trainable);
  const where = (epoch: number, b: number) =>
    `update ${state.completedSteps + 1}/${maxTrainSteps} (epoch ${epoch + 1}, micro-batch ` +
    `${b + 1}/${numBatches})`;

  /** Forward + backward of some rows; their gradients, times `weight`, are added into `acc`. */
  const backward = async (
    rows: number[],
    dropoutSeed: number,
    scale: (l: tf.Scalar) => tf.Scalar,
  ) => {
    const batch = opts.makeBatch(rows);
    const kept: tf.Tensor[] = [];
    const keep = <T>(x: T): T => {
      if (x instanceof tf.Tensor) kept.push(tf.keep(x));
      return x;
    };
    let loss: tf.Scalar, correct: tf.Scalar | number | undefined, count: typeof correct;
    try {
      const { value, grads } = tf.variableGrads(() => {
        const r = asResult(opts.lossFn(batch, { training: true, seed: dropoutSeed }));
        ({ loss, correct, count } = {
          loss: keep(r.loss),
          correct: keep(r.correct),
          count: keep(r.count),
        });
        return scale(r.loss);
      }, varList);
      kept.push(value);
      const lossVal = (await loss!.data())[0];
      if (!Number.isFinite(lossVal)) {
        tf.dispose(Object.values(grads));
        return { loss: lossVal, correct: 0, count: 0 };
      }
      for (const [tfName, g] of Object.entries(grads)) {
        const name = nameOf.get(tfName)!;
        const prev = acc.get(name);
        acc.set(name, prev ? tf.add(prev, g) : g);
        if (prev) tf.dispose([prev, g]);
      }
      return {
        loss: lossVal,
        correct: await toNumber(correct),
        count: count === undefined ? rows.length : await toNumber(count),
      };
    } finally {
      disposeBatch(batch);
      tf.dispose(kept);
    }
  };

  /** Gradients of one requested micro-batch, in parts of `microBatch` rows when it was split:
   *  each part's loss is weighted by its share of the rows, so the summed gradient is the
   *  unsplit one (only the dropout masks differ). */
  const accumulate = async (indices: number[], epoch: number, b: number) => {
    const seedOf = deriveSeed(seed, "dropout", epoch, b);
    const split = parts(indices, microBatch);
    let loss = 0, correct = 0, count = 0;
    for (let p = 0; p < split.length; p++) {
      const rows = split[p];
      const r = split.length === 1
        ? await backward(rows, seedOf, (l) => tf.div(l, gas))
        : await backward(
          rows,
          deriveSeed(seedOf, "part", p),
          (l) => tf.div(tf.mul(l, rows.length), indices.length * gas),
        );
      if (!Number.isFinite(r.loss)) {
        throw new NonFiniteLossError(
          `training stopped: the loss is ${r.loss} at ${where(epoch, b)}, rows ` +
            `${indices.slice(0, 8).join(",")}${indices.length > 8 ? ",…" : ""}; the update ` +
            `was not applied. Last good checkpoint: ${lastCheckpoint ?? "none saved yet"} ` +
            `(left untouched). Try a lower --learning_rate, --max_grad_norm 1.0, or check ` +
            `the data.`,
        );
      }
      loss += split.length === 1 ? r.loss : r.loss * rows.length / indices.length;
      correct += r.correct;
      count += r.count;
    }
    return { loss, correct, count };
  };

  /** Clips and applies the accumulated gradients; returns the norm and learning rate used. */
  const applyUpdate = async (epoch: number, b: number) => {
    const gradNorm = await globalNorm(acc);
    if (!Number.isFinite(gradNorm)) {
      throw new NonFiniteLossError(
        `training stopped: the gradient norm is ${gradNorm} at ${where(epoch, b)}; the update ` +
          `was not applied. Last good checkpoint: ${lastCheckpoint ?? "none saved yet"} ` +
          `(left untouched).`,
      );
    }
    const coef = maxGradNorm > 0 ? maxGradNorm / (gradNorm + 1e-6) : 1;
    if (coef < 1) {
      for (const [name, g] of acc) {
        acc.set(name, tf.mul(g, coef));
        g.dispose();
      }
    }
    const learningRate = scheduler.current();
    optimizer.step(acc, learningRate);
    scheduler.step();
    tf.dispose([...acc.values()]);
    acc.clear();
    return { gradNorm, learningRate };
  };

  const checkpoint = async (dir: string) => {
    state.stepLogLines = stepLog.records.length;
    state.evalLogLines = evalLog.records.length;
    await stepLog.flush();
    await evalLog.flush();
    await saveCheckpoint(dir, { saveModel, optimizer, scheduler, state });
    lastCheckpoint = dir;
  };

  /** One evaluation: the eval log (1-based `epoch`, `epoch_float` = epochs done), `best/`. */
  const evaluate = async (epoch: number, epochFloat: number, atEpochEnd: boolean) => {
    const metrics = await opts.evaluate!({ epoch, step: state.completedSteps });
    await evalLog.append({
      epoch: epoch + 1,
      epoch_float: epochFloat,
      step: state.completedSteps,
      ...metrics,
    });
    await evalLog.flush();
    const at = atEpochEnd
      ? `epoch ${epoch + 1}/${numTrainEpochs}`
      : `update ${state.completedSteps} (epoch ${epochFloat.toFixed(2)})`;
    log(
      `${at} eval: ` +
        Object.entries(metrics).map(([k, v]) => `${k}=${formatMetric(k, v)}`).join(" "),
    );
    if (opts.bestMetric) await keepBest(metrics, epoch);
  };

  /** Evaluation, `best/`, and the epoch checkpoint. */
  const endOfEpoch = async (epoch: number) => {
    // Epochs done: below epoch + 1 only when max_train_steps ended this epoch early.
    if (opts.evaluate) await evaluate(epoch, epoch + state.batchInEpoch / numBatches, true);
    state.epoch = epoch + 1;
    state.batchInEpoch = 0;
    if (ckptEvery === "epoch") await checkpoint(`${outputDir}/epoch_${epoch + 1}`);
  };

  const keepBest = async (metrics: Record<string, number>, epoch: number) => {
    const v = metrics[opts.bestMetric!];
    if (v === undefined) {
      throw new Error(`evaluate() returned no '${opts.bestMetric}' (best metric)`);
    }
    const better = state.best === null || (greater ? v > state.best.value : v < state.best.value);
    if (!better) return;
    const best = {
      metric: opts.bestMetric!,
      value: v,
      step: state.completedSteps,
      epoch: epoch + 1,
    };
    state.best = best;
    await writeDirAtomic(`${outputDir}/best`, async (tmp) => {
      await saveModel(tmp);
      await Deno.writeTextFile(
        `${tmp}/best_metric.json`,
        JSON.stringify({ ...best, metrics }, null, 2) + "\n",
      );
    });
  };

  let log = opts.log ?? ((m: string) => console.log(m));
  try {
    const resumeDir = await resumeInto(args.resumeFromCheckpoint, outputDir, {
      runInfo,
      maxTrainSteps,
      state,
      scheduler,
      optimizer,
      loadModel,
    });
    await stepLog.open(resumeDir ? state.stepLogLines : 0);
    await evalLog.open(resumeDir ? state.evalLogLines : 0);
    lastCheckpoint = resumeDir;
    const bar = new ProgressBar({
      total: maxTrainSteps,
      numEpochs: numTrainEpochs,
      initialStep: state.completedSteps,
      mode: opts.progress ?? "auto",
      label: opts.label,
    });
    progress = bar;
    log = opts.log ?? ((m: string) => bar.mode === "none" ? console.log(m) : bar.log(m));
    if (resumeDir) {
      log(
        `resumed from ${resumeDir}: update ${state.completedSteps}/${maxTrainSteps}, epoch ` +
          `${state.epoch + 1}, batch ${state.batchInEpoch}/${numBatches}`,
      );
    }
    if (microBatch < batchSize) {
      log(
        `batch ${batchSize} runs as ${Math.ceil(batchSize / microBatch)} × ${microBatch}` +
          `${opts.splitReason ? ` to fit ${opts.splitReason}` : ""}`,
      );
    }
    const startTime = performance.now();
    const examplesAtStart = state.sums.examples;
    let groupLoss = 0, groupBatches = 0;

    /** After update `state.completedSteps + 1` (batch `b` of `epoch`, mean loss `loss`): counts
     *  it, writes its log record, moves the progress bar, and evaluates or checkpoints when due. */
    const afterUpdate = async (
      epoch: number,
      b: number,
      loss: number,
      gradNorm: number,
      learningRate: number,
    ) => {
      state.completedSteps++;
      state.sums.loss += loss;
      state.sums.lossCount++;
      state.epoch = epoch;
      state.batchInEpoch = b + 1;
      const rec: LogRecord = {
        step: state.completedSteps,
        epoch: epoch + 1,
        epoch_float: epoch + (b + 1) / numBatches,
        loss,
        running_loss: state.sums.loss / state.sums.lossCount,
        learning_rate: learningRate,
        grad_norm: gradNorm,
      };
      const metric = state.sums.count > 0 ? 100 * state.sums.correct / state.sums.count : null;
      if (metricName) rec[metricName] = metric;
      rec.examples = state.sums.examples;
      rec.elapsed_s = (performance.now() - startTime) / 1000;
      await stepLog.append(rec);
      bar.update({
        step: state.completedSteps,
        epoch,
        loss: rec.running_loss as number,
        lr: learningRate,
        examples: state.sums.examples - examplesAtStart,
        extra: metricName && metric !== null ? { [metricName]: metric } : {},
      });
      const endsEpoch = b === numBatches - 1 || state.completedSteps >= maxTrainSteps;
      if (opts.evaluate && evalSteps && state.completedSteps % evalSteps === 0 && !endsEpoch) {
        await evaluate(epoch, rec.epoch_float as number, false);
      }
      if (typeof ckptEvery === "number" && state.completedSteps % ckptEvery === 0) {
        await checkpoint(`${outputDir}/step_${state.completedSteps}`);
      }
      if (opts.onStep) await opts.onStep(rec);
    };

    for (let epoch = state.epoch; epoch < numTrainEpochs; epoch++) {
      if (state.completedSteps >= maxTrainSteps) break;
      const order = epochOrder(seed, epoch, opts.numExamples);
      const firstBatch = epoch === state.epoch ? state.batchInEpoch : 0;
      for (let b = firstBatch; b < numBatches && state.completedSteps < maxTrainSteps; b++) {
        // Accumulate.
        const indices = order.slice(b * batchSize, (b + 1) * batchSize);
        const r = await accumulate(indices, epoch, b);
        groupLoss += r.loss;
        groupBatches++;
        state.sums.correct += r.correct;
        state.sums.count += r.count;
        state.sums.examples += indices.length;
        if ((b + 1) % gas !== 0 && b !== numBatches - 1) continue;

        // Apply the update, then log it (and evaluate / checkpoint when due).
        const { gradNorm, learningRate } = await applyUpdate(epoch, b);
        await afterUpdate(epoch, b, groupLoss / groupBatches, gradNorm, learningRate);
        groupLoss = groupBatches = 0;
      }
      // End of epoch (also when max_train_steps stops it early, as the HF scripts do).
      await endOfEpoch(epoch);
    }
    await stepLog.flush();
    await evalLog.flush();
    if (outputDir && (opts.saveFinalModel ?? true)) await saveFinal(outputDir, saveModel);
  } catch (e) {
    if (isOutOfMemory(e) && !(e instanceof OutOfMemoryError)) {
      throw new OutOfMemoryError(
        `training stopped: the backend ran out of memory (${(e as Error).message ?? e}) at ` +
          `update ${state.completedSteps + 1}/${maxTrainSteps}. ` +
          `${opts.memoryPlan ? opts.memoryPlan + ". " : ""}Last good checkpoint: ` +
          `${lastCheckpoint ?? "none saved yet"} (left untouched); continue with ` +
          `--resume_from_checkpoint after freeing memory. ${opts.memoryAdvice ?? ""}`.trim(),
      );
    }
    throw e;
  } finally {
    // After a wasm abort the heap is gone: cleanup must not throw over the real error.
    try {
      tf.dispose([...acc.values()]);
      optimizer.dispose();
    } catch { /* the backend is unusable */ }
    await stepLog.flush().catch(() => {});
    await evalLog.flush().catch(() => {});
    await progress?.close();
  }
  return {
    completedSteps: state.completedSteps,
    maxTrainSteps,
    numTrainEpochs,
    stepLog: stepLog.records,
    evalLog: evalLog.records,
    best: state.best,
    lastCheckpoint,
  };
}

/** Restores a checkpoint into the run (`"latest"`: the newest under `outputDir`); returns its
 *  directory, or null when there is nothing to resume. */
async function resumeInto(
  requested: string | undefined,
  outputDir: string | undefined,
  run: {
    runInfo: ReturnType<typeof runInfoOf>;
    maxTrainSteps: number;
    state: TrainerState;
    scheduler: ReturnType<typeof createScheduler>;
    optimizer: AdamW;
    loadModel: (dir: string) => Promise<void>;
  },
): Promise<string | null> {
  let dir = requested;
  if (dir === "latest") {
    if (!outputDir) throw new Error("resume_from_checkpoint=latest needs output_dir");
    dir = (await latestCheckpoint(outputDir)) ?? undefined;
    if (!dir) throw new Error(`resume_from_checkpoint: no checkpoint under ${outputDir}`);
  }
  if (!dir) return null;
  const meta = await readCheckpointMeta(dir);
  const s = meta.state;
  for (const k of Object.keys(run.runInfo) as (keyof typeof run.runInfo)[]) {
    if (s.run[k] !== run.runInfo[k]) {
      throw new Error(
        `resume_from_checkpoint: ${dir} was trained with ${k}=${s.run[k]}, ` +
          `this run has ${run.runInfo[k]}; they must match to continue at the same data position`,
      );
    }
  }
  if (s.maxTrainSteps !== run.maxTrainSteps) {
    throw new Error(
      `resume_from_checkpoint: ${dir} planned max_train_steps=${s.maxTrainSteps}, ` +
        `this run plans ${run.maxTrainSteps} (same epochs / max_train_steps needed)`,
    );
  }
  run.scheduler.loadState(meta.scheduler);
  await loadOptimizerState(dir, run.optimizer);
  await run.loadModel(dir);
  Object.assign(run.state, structuredClone(s));
  return dir;
}

/** Global L2 norm of a set of gradients (as `torch.nn.utils.clip_grad_norm_`). */
export async function globalNorm(grads: Map<string, tf.Tensor>): Promise<number> {
  if (grads.size === 0) return 0;
  const sq = tf.tidy(() => tf.addN([...grads.values()].map((g) => tf.sum(tf.square(g)))));
  const v = (await sq.data())[0];
  sq.dispose();
  return Math.sqrt(v);
}

/** Writes the final model into `outputDir` file by file (each file renamed into place). */
async function saveFinal(outputDir: string, saveModel: (dir: string) => Promise<void>) {
  const tmp = `${outputDir}/.final-tmp-${Deno.pid}`;
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
  await Deno.mkdir(tmp, { recursive: true });
  try {
    await saveModel(tmp);
    for await (const e of Deno.readDir(tmp)) {
      if (e.isFile) await Deno.rename(`${tmp}/${e.name}`, `${outputDir}/${e.name}`);
    }
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}
