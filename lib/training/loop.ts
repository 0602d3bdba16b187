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
import { createScheduler, type Scheduler } from "./schedules.ts";
import { type LoopArgs, markResolved, resolveLoopArgs } from "../args/mod.ts";
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
import {
  isOutOfMemory,
  type MemoryPlan,
  OutOfMemoryError,
  splitMessage,
  trainingOutOfMemoryError,
} from "./memory.ts";

/** The loop's arguments as callers pass them: any of the schema's loop arguments (the rest from
 *  its defaults), plus what the runner decides (the micro-batch split, where moments live). */
export type TrainingArgs = Partial<LoopArgs> & {
  /** Rows per forward/backward pass (default: the whole micro-batch). Smaller values split each
   *  micro-batch into parts whose loss-weighted gradients sum to the unsplit one; logs,
   *  checkpoints and resume still count `perDeviceTrainBatchSize`. */
  microBatchSize?: number;
  /** Keep AdamW's moments in JavaScript arrays, outside the backend's memory (default: on
   *  wasm, where they would take 8 bytes per parameter of the 4 GiB heap). */
  optimizerMomentsOnHost?: boolean;
};

/** The loop's arguments, every one resolved. */
export interface ResolvedTrainingArgs extends LoopArgs {
  microBatchSize: number;
  optimizerMomentsOnHost: boolean;
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
  /** The run's memory plan: its micro-batch split is announced and a backend running out of
   *  memory is explained with it (wording in memory.ts). */
  memoryPlan?: MemoryPlan;
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

/** The loop's arguments resolved: the schema's (checked there, once; resolved ones pass as they
 *  are), then the runner's two. */
export function resolveTrainingArgs(args: TrainingArgs): ResolvedTrainingArgs {
  const loop = resolveLoopArgs(args);
  return markResolved({
    ...loop,
    microBatchSize: args.microBatchSize ?? loop.perDeviceTrainBatchSize,
    optimizerMomentsOnHost: args.optimizerMomentsOnHost ?? tf.getBackend() === "wasm",
  });
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
  const a = resolveLoopArgs(args);
  const batchSize = a.perDeviceTrainBatchSize;
  const gas = a.gradientAccumulationSteps;
  const numBatches = Math.ceil(numExamples / batchSize);
  const updatesPerEpoch = Math.ceil(numBatches / gas);
  const maxTrainSteps = a.maxTrainSteps ?? a.numTrainEpochs * updatesPerEpoch;
  const numTrainEpochs = a.maxTrainSteps !== undefined
    ? Math.ceil(a.maxTrainSteps / updatesPerEpoch)
    : a.numTrainEpochs;
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

/** Checks what depends on the run itself (best-model tracking, the split), before any write. */
function validateRun(a: ResolvedTrainingArgs, batchSize: number, hasBest: boolean): void {
  if (hasBest && !a.outputDir) throw new Error("best-model tracking needs --output_dir");
  const micro = a.microBatchSize;
  if (!(Number.isInteger(micro) && micro >= 1 && micro <= batchSize)) {
    throw new Error(`micro-batch size must be an integer in 1..${batchSize}, got ${micro}`);
  }
}

/** What one micro-batch (or one part of it) adds to the running sums. */
interface MicroResult {
  loss: number;
  correct: number;
  count: number;
}

/**
 * One training run: explicit state (the resumable {@link TrainerState}, the gradients summed for
 * the current update, the last checkpoint) and one method per part of the step. The step, in
 * {@link Trainer.epoch}: `microBatch` (forward + backward, gradients added) for each micro-batch
 * → every `gradient_accumulation_steps` `update` (clip, AdamW, schedule) → `afterUpdate` (log
 * record, progress, `--eval_steps` evaluation, step checkpoint) → at the epoch's end
 * `endOfEpoch` (evaluation, `best/`, epoch checkpoint).
 */
export class Trainer<B> {
  readonly args: ResolvedTrainingArgs;
  readonly steps: ReturnType<typeof planSteps>;
  readonly state: TrainerState;
  private readonly optimizer: AdamW;
  private readonly scheduler: Scheduler;
  private readonly stepLog: JsonlCsvLog;
  private readonly evalLog: JsonlCsvLog;
  /** Gradients summed over the micro-batches of the current update (by parameter name). */
  private readonly acc = new Map<string, tf.Tensor>();
  private readonly nameOf = new Map<string, string>();
  private readonly varList: tf.Variable[];
  private readonly saveModel: (dir: string) => Promise<void>;
  private readonly loadModel: (dir: string) => Promise<void>;
  private lastCheckpoint: string | null = null;
  private bar: ProgressBar | null = null;
  private log: (m: string) => void;
  private startTime = 0;
  private examplesAtStart = 0;

  constructor(readonly opts: TrainOptions<B>) {
    this.args = resolveTrainingArgs(opts.args);
    const a = this.args;
    this.steps = planSteps(opts.numExamples, a);
    const { batchSize, gradientAccumulationSteps, maxTrainSteps, numTrainEpochs } = this.steps;
    validateRun(a, batchSize, opts.bestMetric !== undefined);
    this.state = {
      version: 1,
      completedSteps: 0,
      epoch: 0,
      batchInEpoch: 0,
      maxTrainSteps,
      numTrainEpochs,
      run: runInfoOf(a.seed, opts.numExamples, batchSize, gradientAccumulationSteps),
      sums: { loss: 0, lossCount: 0, correct: 0, count: 0, examples: 0 },
      stepLogLines: 0,
      evalLogLines: 0,
      best: null,
    };
    const dir = a.outputDir;
    this.stepLog = new JsonlCsvLog(dir ? `${dir}/${STEP_LOG}` : null);
    this.evalLog = new JsonlCsvLog(dir ? `${dir}/${EVAL_LOG}` : null);
    this.optimizer = new AdamW(opts.variables, {
      weightDecay: a.weightDecay,
      momentsOnHost: a.optimizerMomentsOnHost,
    });
    this.scheduler = createScheduler(a.lrSchedulerType, {
      learningRate: a.learningRate,
      numWarmupSteps: a.numWarmupSteps,
      numTrainingSteps: maxTrainSteps,
    });
    for (const [name, v] of opts.variables) this.nameOf.set(v.name, name);
    this.varList = [...opts.variables.values()].filter((v) => v.trainable);
    this.saveModel = opts.saveModel ?? ((d: string) => saveVariables(d, opts.variables));
    this.loadModel = opts.loadModel ?? ((d: string) => loadVariables(d, opts.variables));
    this.log = opts.log ?? ((m: string) => console.log(m));
  }

  /** Trains to the end (or to `max_train_steps`); returns the logs and the final position. */
  async run(): Promise<TrainResult> {
    try {
      await this.start();
      for (let epoch = this.state.epoch; epoch < this.steps.numTrainEpochs; epoch++) {
        if (this.done()) break;
        await this.epoch(epoch);
      }
      await this.stepLog.flush();
      await this.evalLog.flush();
      const dir = this.args.outputDir;
      if (dir && (this.opts.saveFinalModel ?? true)) await saveFinal(dir, this.saveModel);
    } catch (e) {
      throw isOutOfMemory(e) && !(e instanceof OutOfMemoryError)
        ? trainingOutOfMemoryError(e, this.opts.memoryPlan, {
          update: this.state.completedSteps + 1,
          maxTrainSteps: this.steps.maxTrainSteps,
          lastCheckpoint: this.lastCheckpoint,
        })
        : e;
    } finally {
      await this.cleanup();
    }
    return {
      completedSteps: this.state.completedSteps,
      maxTrainSteps: this.steps.maxTrainSteps,
      numTrainEpochs: this.steps.numTrainEpochs,
      stepLog: this.stepLog.records,
      evalLog: this.evalLog.records,
      best: this.state.best,
      lastCheckpoint: this.lastCheckpoint,
    };
  }

  private done(): boolean {
    return this.state.completedSteps >= this.steps.maxTrainSteps;
  }

  /** Resumes when asked, opens the logs and the progress bar, says how the batch runs. */
  private async start(): Promise<void> {
    const a = this.args;
    const { maxTrainSteps, numTrainEpochs, numBatches, batchSize } = this.steps;
    if (a.outputDir) await Deno.mkdir(a.outputDir, { recursive: true });
    const resumed = await resumeInto(a.resumeFromCheckpoint, a.outputDir, {
      runInfo: this.state.run,
      maxTrainSteps,
      state: this.state,
      scheduler: this.scheduler,
      optimizer: this.optimizer,
      loadModel: this.loadModel,
    });
    await this.stepLog.open(resumed ? this.state.stepLogLines : 0);
    await this.evalLog.open(resumed ? this.state.evalLogLines : 0);
    this.lastCheckpoint = resumed?.dir ?? null;
    const bar = new ProgressBar({
      total: maxTrainSteps,
      numEpochs: numTrainEpochs,
      initialStep: this.state.completedSteps,
      mode: this.opts.progress ?? "auto",
      label: this.opts.label,
    });
    this.bar = bar;
    this.log = this.opts.log ?? ((m: string) => bar.mode === "none" ? console.log(m) : bar.log(m));
    if (resumed) {
      const extended = resumed.extendedFrom === null ? "" : ` (extended from ` +
        `${resumed.extendedFrom} planned updates: the schedule now spans ${maxTrainSteps})`;
      this.log(
        `resumed from ${resumed.dir}: update ${this.state.completedSteps}/${maxTrainSteps}` +
          `${extended}, epoch ${this.state.epoch + 1}, batch ${this.state.batchInEpoch}/` +
          `${numBatches}`,
      );
    }
    if (a.microBatchSize < batchSize) {
      this.log(splitMessage(batchSize, a.microBatchSize, this.opts.memoryPlan));
    }
    this.startTime = performance.now();
    this.examplesAtStart = this.state.sums.examples;
  }

  /** One epoch from the saved position: micro-batches, an update every accumulation group. */
  private async epoch(epoch: number): Promise<void> {
    const { batchSize, numBatches, gradientAccumulationSteps: gas } = this.steps;
    const order = epochOrder(this.args.seed, epoch, this.opts.numExamples);
    const firstBatch = epoch === this.state.epoch ? this.state.batchInEpoch : 0;
    let groupLoss = 0, groupBatches = 0;
    for (let b = firstBatch; b < numBatches && !this.done(); b++) {
      const indices = order.slice(b * batchSize, (b + 1) * batchSize);
      const r = await this.microBatch(indices, epoch, b);
      groupLoss += r.loss;
      groupBatches++;
      this.state.sums.correct += r.correct;
      this.state.sums.count += r.count;
      this.state.sums.examples += indices.length;
      if ((b + 1) % gas !== 0 && b !== numBatches - 1) continue;
      const { gradNorm, learningRate } = await this.update(epoch, b);
      await this.afterUpdate(epoch, b, groupLoss / groupBatches, gradNorm, learningRate);
      groupLoss = groupBatches = 0;
    }
    // End of epoch (also when max_train_steps stops it early, as the HF scripts do).
    await this.endOfEpoch(epoch);
  }

  /** Where the next update is, for messages. */
  private where(epoch: number, b: number): string {
    return `update ${this.state.completedSteps + 1}/${this.steps.maxTrainSteps} (epoch ` +
      `${epoch + 1}, micro-batch ${b + 1}/${this.steps.numBatches})`;
  }

  /** Gradients of one requested micro-batch, in parts of `microBatchSize` rows when it was
   *  split: each part's loss is weighted by its share of the rows, so the summed gradient is
   *  the unsplit one (only the dropout masks differ). */
  private async microBatch(indices: number[], epoch: number, b: number): Promise<MicroResult> {
    const gas = this.steps.gradientAccumulationSteps;
    const seedOf = deriveSeed(this.args.seed, "dropout", epoch, b);
    const split = parts(indices, this.args.microBatchSize);
    let loss = 0, correct = 0, count = 0;
    for (let p = 0; p < split.length; p++) {
      const rows = split[p];
      const r = split.length === 1
        ? await this.backward(rows, seedOf, (l) => tf.div(l, gas))
        : await this.backward(
          rows,
          deriveSeed(seedOf, "part", p),
          (l) => tf.div(tf.mul(l, rows.length), indices.length * gas),
        );
      if (!Number.isFinite(r.loss)) {
        throw new NonFiniteLossError(
          `training stopped: the loss is ${r.loss} at ${this.where(epoch, b)}, rows ` +
            `${indices.slice(0, 8).join(",")}${indices.length > 8 ? ",…" : ""}; the update ` +
            `was not applied. Last good checkpoint: ${this.lastCheckpoint ?? "none saved yet"} ` +
            `(left untouched). Try a lower --learning_rate, --max_grad_norm 1.0, or check ` +
            `the data.`,
        );
      }
      loss += split.length === 1 ? r.loss : r.loss * rows.length / indices.length;
      correct += r.correct;
      count += r.count;
    }
    return { loss, correct, count };
  }

  /** Forward + backward of some rows; their gradients (of `scale(loss)`) are added into `acc`. */
  private async backward(
    rows: number[],
    dropoutSeed: number,
    scale: (l: tf.Scalar) => tf.Scalar,
  ): Promise<MicroResult> {
    const batch = this.opts.makeBatch(rows);
    const kept: tf.Tensor[] = [];
    const keep = <T>(x: T): T => {
      if (x instanceof tf.Tensor) kept.push(tf.keep(x));
      return x;
    };
    let r!: LossResult;
    try {
      const { value, grads } = tf.variableGrads(() => {
        const out = asResult(this.opts.lossFn(batch, { training: true, seed: dropoutSeed }));
        r = { loss: keep(out.loss), correct: keep(out.correct), count: keep(out.count) };
        return scale(out.loss);
      }, this.varList);
      kept.push(value);
      const lossVal = (await r.loss.data())[0];
      if (!Number.isFinite(lossVal)) {
        tf.dispose(Object.values(grads));
        return { loss: lossVal, correct: 0, count: 0 };
      }
      for (const [tfName, g] of Object.entries(grads)) {
        const name = this.nameOf.get(tfName)!;
        const prev = this.acc.get(name);
        this.acc.set(name, prev ? tf.add(prev, g) : g);
        if (prev) tf.dispose([prev, g]);
      }
      return {
        loss: lossVal,
        correct: await toNumber(r.correct),
        count: r.count === undefined ? rows.length : await toNumber(r.count),
      };
    } finally {
      (this.opts.disposeBatch ?? ((x: B) => tf.dispose(x as unknown as tf.TensorContainer)))(
        batch,
      );
      tf.dispose(kept);
    }
  }

  /** Clips and applies the accumulated gradients; returns the norm and learning rate used. */
  private async update(epoch: number, b: number) {
    const gradNorm = await globalNorm(this.acc);
    if (!Number.isFinite(gradNorm)) {
      throw new NonFiniteLossError(
        `training stopped: the gradient norm is ${gradNorm} at ${this.where(epoch, b)}; the ` +
          `update was not applied. Last good checkpoint: ` +
          `${this.lastCheckpoint ?? "none saved yet"} (left untouched).`,
      );
    }
    // No --max_grad_norm (or 0): no clipping, as the no_trainer scripts.
    const maxGradNorm = this.args.maxGradNorm;
    const coef = maxGradNorm ? maxGradNorm / (gradNorm + 1e-6) : 1;
    if (coef < 1) {
      for (const [name, g] of this.acc) {
        this.acc.set(name, tf.mul(g, coef));
        g.dispose();
      }
    }
    const learningRate = this.scheduler.current();
    this.optimizer.step(this.acc, learningRate);
    this.scheduler.step();
    tf.dispose([...this.acc.values()]);
    this.acc.clear();
    return { gradNorm, learningRate };
  }

  /** After update `completedSteps + 1` (batch `b` of `epoch`, mean loss `loss`): counts it,
   *  writes its log record, moves the progress bar, and evaluates or checkpoints when due. */
  private async afterUpdate(
    epoch: number,
    b: number,
    loss: number,
    gradNorm: number,
    learningRate: number,
  ): Promise<void> {
    const { state, steps, opts } = this;
    state.completedSteps++;
    state.sums.loss += loss;
    state.sums.lossCount++;
    state.epoch = epoch;
    state.batchInEpoch = b + 1;
    const rec: LogRecord = {
      step: state.completedSteps,
      epoch: epoch + 1,
      epoch_float: epoch + (b + 1) / steps.numBatches,
      loss,
      running_loss: state.sums.loss / state.sums.lossCount,
      learning_rate: learningRate,
      grad_norm: gradNorm,
    };
    const metric = state.sums.count > 0 ? 100 * state.sums.correct / state.sums.count : null;
    if (opts.metricName) rec[opts.metricName] = metric;
    rec.examples = state.sums.examples;
    rec.elapsed_s = (performance.now() - this.startTime) / 1000;
    await this.stepLog.append(rec);
    this.bar!.update({
      step: state.completedSteps,
      epoch,
      loss: rec.running_loss as number,
      lr: learningRate,
      examples: state.sums.examples - this.examplesAtStart,
      extra: opts.metricName && metric !== null ? { [opts.metricName]: metric } : {},
    });
    const evalSteps = this.args.evalSteps;
    const endsEpoch = b === steps.numBatches - 1 || this.done();
    if (opts.evaluate && evalSteps && state.completedSteps % evalSteps === 0 && !endsEpoch) {
      await this.evaluate(epoch, rec.epoch_float as number, false);
    }
    const every = this.args.checkpointingSteps;
    if (typeof every === "number" && state.completedSteps % every === 0) {
      await this.checkpoint(`${this.args.outputDir}/step_${state.completedSteps}`);
    }
    if (opts.onStep) await opts.onStep(rec);
  }

  /** One evaluation: the eval log (1-based `epoch`, `epoch_float` = epochs done), `best/`. */
  private async evaluate(epoch: number, epochFloat: number, atEpochEnd: boolean): Promise<void> {
    const step = this.state.completedSteps;
    const metrics = await this.opts.evaluate!({ epoch, step });
    await this.evalLog.append({ epoch: epoch + 1, epoch_float: epochFloat, step, ...metrics });
    await this.evalLog.flush();
    const at = atEpochEnd
      ? `epoch ${epoch + 1}/${this.steps.numTrainEpochs}`
      : `update ${step} (epoch ${epochFloat.toFixed(2)})`;
    this.log(
      `${at} eval: ` +
        Object.entries(metrics).map(([k, v]) => `${k}=${formatMetric(k, v)}`).join(" "),
    );
    if (this.opts.bestMetric) await this.keepBest(metrics, epoch);
  }

  /** `output_dir/best` when this evaluation beats the best so far. */
  private async keepBest(metrics: Record<string, number>, epoch: number): Promise<void> {
    const metric = this.opts.bestMetric!;
    const v = metrics[metric];
    if (v === undefined) throw new Error(`evaluate() returned no '${metric}' (best metric)`);
    const prev = this.state.best;
    const greater = this.opts.greaterIsBetter ?? true;
    if (prev !== null && (greater ? v <= prev.value : v >= prev.value)) return;
    const best = { metric, value: v, step: this.state.completedSteps, epoch: epoch + 1 };
    this.state.best = best;
    await writeDirAtomic(`${this.args.outputDir}/best`, async (tmp) => {
      await this.saveModel(tmp);
      await Deno.writeTextFile(
        `${tmp}/best_metric.json`,
        JSON.stringify({ ...best, metrics }, null, 2) + "\n",
      );
    });
  }

  /** A resumable checkpoint in `dir` (model, optimizer, scheduler, data position, logs). */
  private async checkpoint(dir: string): Promise<void> {
    this.state.stepLogLines = this.stepLog.records.length;
    this.state.evalLogLines = this.evalLog.records.length;
    await this.stepLog.flush();
    await this.evalLog.flush();
    const { saveModel, optimizer, scheduler, state } = this;
    await saveCheckpoint(dir, { saveModel, optimizer, scheduler, state });
    this.lastCheckpoint = dir;
  }

  /** Evaluation, `best/`, and the epoch checkpoint. */
  private async endOfEpoch(epoch: number): Promise<void> {
    // Epochs done: below epoch + 1 only when max_train_steps ended this epoch early.
    const epochsDone = epoch + this.state.batchInEpoch / this.steps.numBatches;
    if (this.opts.evaluate) await this.evaluate(epoch, epochsDone, true);
    this.state.epoch = epoch + 1;
    this.state.batchInEpoch = 0;
    if (this.args.checkpointingSteps === "epoch") {
      await this.checkpoint(`${this.args.outputDir}/epoch_${epoch + 1}`);
    }
  }

  /** Releases the gradients and the optimizer, flushes the logs, closes the bar. */
  private async cleanup(): Promise<void> {
    // After a wasm abort the heap is gone: cleanup must not throw over the real error.
    try {
      tf.dispose([...this.acc.values()]);
      this.optimizer.dispose();
    } catch { /* the backend is unusable */ }
    await this.stepLog.flush().catch(() => {});
    await this.evalLog.flush().catch(() => {});
    await this.bar?.close();
  }
}

/**
 * Trains `variables` with AdamW and the chosen schedule (a {@link Trainer} run). See the module
 * documentation for the exact semantics. Returns the logs and the final position.
 */
export async function train<B>(opts: TrainOptions<B>): Promise<TrainResult> {
  return await new Trainer(opts).run();
}

/** Everything about the run that a checkpoint must match to resume at the same data position. */
function runInfoOf(seed: number, numExamples: number, batchSize: number, gas: number) {
  return { seed, numExamples, batchSize, gradientAccumulationSteps: gas };
}

/** What a resumed run's data position depends on, in the words of its flags. */
const RUN_INFO_NAMES: Record<keyof TrainerState["run"], string> = {
  seed: "--seed",
  numExamples: "training rows (features)",
  batchSize: "--per_device_train_batch_size",
  gradientAccumulationSteps: "--gradient_accumulation_steps",
};

/** Where a resumed run continues: the checkpoint, and the plan it was made with when this run
 *  extends it (a larger `max_train_steps` / `num_train_epochs`). */
interface Resumed {
  dir: string;
  extendedFrom: number | null;
}

/**
 * Restores a checkpoint into the run (`"latest"`: the newest under `outputDir`); null when there
 * is nothing to resume. As Hugging Face's resume: model, optimizer, the scheduler's step count
 * and the data position come back; a run asking for more updates than the checkpoint planned
 * continues with the new schedule length (the data order of the updates done is the same: it
 * depends on the seed and the epoch only).
 */
async function resumeInto(
  requested: string | undefined,
  outputDir: string | undefined,
  run: {
    runInfo: TrainerState["run"];
    maxTrainSteps: number;
    state: TrainerState;
    scheduler: Scheduler;
    optimizer: AdamW;
    loadModel: (dir: string) => Promise<void>;
  },
): Promise<Resumed | null> {
  let dir = requested;
  if (dir === "latest") {
    if (!outputDir) throw new Error("--resume_from_checkpoint latest needs --output_dir");
    dir = (await latestCheckpoint(outputDir)) ?? undefined;
    if (!dir) throw new Error(`--resume_from_checkpoint: no checkpoint under ${outputDir}`);
  }
  if (!dir) return null;
  const meta = await readCheckpointMeta(dir);
  const s = meta.state;
  for (const k of Object.keys(run.runInfo) as (keyof typeof run.runInfo)[]) {
    if (s.run[k] !== run.runInfo[k]) {
      throw new Error(
        `--resume_from_checkpoint: ${dir} was trained with ${RUN_INFO_NAMES[k]} ${s.run[k]}, ` +
          `this run has ${run.runInfo[k]}; they must match to continue at the same data position`,
      );
    }
  }
  if (run.maxTrainSteps < s.completedSteps) {
    throw new Error(
      `--resume_from_checkpoint: ${dir} has done ${s.completedSteps} updates, this run plans ` +
        `only ${run.maxTrainSteps} (--max_train_steps / --num_train_epochs)`,
    );
  }
  run.scheduler.loadState(meta.scheduler);
  await loadOptimizerState(dir, run.optimizer);
  await run.loadModel(dir);
  const { maxTrainSteps, numTrainEpochs } = run.state;
  Object.assign(run.state, structuredClone(s), { maxTrainSteps, numTrainEpochs });
  return { dir, extendedFrom: s.maxTrainSteps !== maxTrainSteps ? s.maxTrainSteps : null };
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
