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
 * - Optional global-norm gradient clipping (`max_grad_norm`, as `clip_grad_norm_`).
 * - Dropout: the loss function is called with `training: true` and a per-micro-batch seed
 *   `deriveSeed(seed, "dropout", epoch, batch)`; evaluation is the caller's `evaluate`, in eval
 *   mode.
 * - Logs (JSON lines + CSV under `output_dir`): per update the loss, learning rate, cumulative
 *   running averages of loss and of the task metric (accuracy / EM); per epoch the evaluation.
 * - Checkpoints (`checkpointing_steps` "epoch" or N) in `output_dir/epoch_E` / `step_N`, atomic,
 *   with optimizer, scheduler and data position; `resume_from_checkpoint` continues exactly.
 *   The best evaluation so far is kept in `output_dir/best`.
 * - A NaN or infinite loss (or gradient norm) stops training before the update is applied, with
 *   a message naming the step and the last good checkpoint, which is left untouched.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { createRng, deriveSeed } from "../util/random.ts";
import { writeDirAtomic } from "../util/atomic.ts";
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
  /** A checkpoint directory, or "latest" for the newest under `outputDir`. */
  resumeFromCheckpoint?: string;
  /** Where logs, checkpoints, `best/` and the final model go; undefined keeps logs in memory. */
  outputDir?: string;
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
  const batchSize = args.perDeviceTrainBatchSize ?? 8;
  const gas = args.gradientAccumulationSteps ?? 1;
  if (!(Number.isInteger(numExamples) && numExamples > 0)) {
    throw new Error(`training needs at least one example, got ${numExamples}`);
  }
  if (!(Number.isInteger(batchSize) && batchSize > 0)) {
    throw new Error(`per_device_train_batch_size must be a positive integer, got ${batchSize}`);
  }
  if (!(Number.isInteger(gas) && gas > 0)) {
    throw new Error(`gradient_accumulation_steps must be a positive integer, got ${gas}`);
  }
  const numBatches = Math.ceil(numExamples / batchSize);
  const updatesPerEpoch = Math.ceil(numBatches / gas);
  let maxTrainSteps: number;
  let numTrainEpochs: number;
  if (args.maxTrainSteps !== undefined && args.maxTrainSteps !== null) {
    if (!(Number.isInteger(args.maxTrainSteps) && args.maxTrainSteps > 0)) {
      throw new Error(`max_train_steps must be a positive integer, got ${args.maxTrainSteps}`);
    }
    maxTrainSteps = args.maxTrainSteps;
    numTrainEpochs = Math.ceil(maxTrainSteps / updatesPerEpoch);
  } else {
    numTrainEpochs = args.numTrainEpochs ?? 3;
    if (!(Number.isInteger(numTrainEpochs) && numTrainEpochs > 0)) {
      throw new Error(`num_train_epochs must be a positive integer, got ${numTrainEpochs}`);
    }
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

/**
 * Trains `variables` with AdamW and the chosen schedule. See the module documentation for the
 * exact semantics. Returns the logs and the final position.
 */
export async function train<B>(opts: TrainOptions<B>): Promise<TrainResult> {
  const args = opts.args;
  const plan = planSteps(opts.numExamples, args);
  const { batchSize, numBatches, maxTrainSteps, numTrainEpochs } = plan;
  const gas = plan.gradientAccumulationSteps;
  const seed = args.seed ?? 42;
  const outputDir = args.outputDir;
  const ckptEvery = args.checkpointingSteps;
  if (ckptEvery !== undefined && ckptEvery !== "epoch") {
    if (!(Number.isInteger(ckptEvery) && ckptEvery > 0)) {
      throw new Error(
        `checkpointing_steps must be "epoch" or a positive integer, got ${ckptEvery}`,
      );
    }
  }
  if ((ckptEvery !== undefined || opts.bestMetric) && !outputDir) {
    throw new Error("checkpointing and best-model tracking need output_dir");
  }
  const maxGradNorm = args.maxGradNorm ?? 0;
  if (!(maxGradNorm >= 0)) throw new Error(`max_grad_norm must be >= 0, got ${maxGradNorm}`);
  const lr = args.learningRate ?? 5e-5;
  if (!(lr >= 0)) throw new Error(`learning_rate must be >= 0, got ${lr}`);
  const metricName = opts.metricName;
  const greater = opts.greaterIsBetter ?? true;
  const saveModel = opts.saveModel ?? ((dir: string) => saveVariables(dir, opts.variables));
  const loadModel = opts.loadModel ?? ((dir: string) => loadVariables(dir, opts.variables));
  const disposeBatch = opts.disposeBatch ??
    ((b: B) => tf.dispose(b as unknown as tf.TensorContainer));

  const optimizer = new AdamW(opts.variables, { weightDecay: args.weightDecay ?? 0 });
  const scheduler = createScheduler(args.lrSchedulerType ?? "linear", {
    learningRate: lr,
    numWarmupSteps: args.numWarmupSteps ?? 0,
    numTrainingSteps: maxTrainSteps,
  });

  const runInfo = {
    seed,
    numExamples: opts.numExamples,
    batchSize,
    gradientAccumulationSteps: gas,
  };
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
  let lastCheckpoint: string | null = null;

  // ---- resume ----
  let resumeDir = args.resumeFromCheckpoint;
  if (resumeDir === "latest") {
    if (!outputDir) throw new Error("resume_from_checkpoint=latest needs output_dir");
    resumeDir = (await latestCheckpoint(outputDir)) ?? undefined;
    if (!resumeDir) throw new Error(`resume_from_checkpoint: no checkpoint under ${outputDir}`);
  }
  if (resumeDir) {
    const meta = await readCheckpointMeta(resumeDir);
    const s = meta.state;
    for (const k of Object.keys(runInfo) as (keyof typeof runInfo)[]) {
      if (s.run[k] !== runInfo[k]) {
        throw new Error(
          `resume_from_checkpoint: ${resumeDir} was trained with ${k}=${s.run[k]}, ` +
            `this run has ${runInfo[k]}; they must match to continue at the same data position`,
        );
      }
    }
    if (s.maxTrainSteps !== maxTrainSteps) {
      throw new Error(
        `resume_from_checkpoint: ${resumeDir} planned max_train_steps=${s.maxTrainSteps}, ` +
          `this run plans ${maxTrainSteps} (same epochs / max_train_steps needed)`,
      );
    }
    scheduler.loadState(meta.scheduler);
    try {
      await loadOptimizerState(resumeDir, optimizer);
      await loadModel(resumeDir);
    } catch (e) {
      optimizer.dispose();
      throw e;
    }
    Object.assign(state, structuredClone(s));
    await stepLog.open(s.stepLogLines);
    await evalLog.open(s.evalLogLines);
    lastCheckpoint = resumeDir;
  } else {
    await stepLog.open(0);
    await evalLog.open(0);
  }

  const progress = new ProgressBar({
    total: maxTrainSteps,
    numEpochs: numTrainEpochs,
    initialStep: state.completedSteps,
    mode: opts.progress ?? "auto",
    label: opts.label,
  });
  const log = opts.log ??
    ((m: string) => progress.mode === "none" ? console.log(m) : progress.log(m));
  if (resumeDir) {
    log(
      `resumed from ${resumeDir}: update ${state.completedSteps}/${maxTrainSteps}, epoch ${
        state.epoch + 1
      }, batch ${state.batchInEpoch}/${numBatches}`,
    );
  }

  const checkpoint = async (dir: string) => {
    state.stepLogLines = stepLog.records.length;
    state.evalLogLines = evalLog.records.length;
    await stepLog.flush();
    await evalLog.flush();
    await saveCheckpoint(dir, { saveModel, optimizer, scheduler, state });
    lastCheckpoint = dir;
  };

  const nameOf = new Map<string, string>();
  for (const [name, v] of opts.variables) nameOf.set(v.name, name);
  const varList = [...opts.variables.values()].filter((v) => v.trainable);
  const startTime = performance.now();
  const examplesAtStart = state.sums.examples;

  let acc: Map<string, tf.Tensor> | null = null;
  let groupLoss = 0;
  let groupBatches = 0;
  const disposeAcc = () => {
    if (acc) { for (const t of acc.values()) t.dispose(); }
    acc = null;
  };

  try {
    let done = state.completedSteps >= maxTrainSteps;
    for (let epoch = state.epoch; epoch < numTrainEpochs && !done; epoch++) {
      const order = epochOrder(seed, epoch, opts.numExamples);
      const firstBatch = epoch === state.epoch ? state.batchInEpoch : 0;
      for (let b = firstBatch; b < numBatches; b++) {
        const indices = order.slice(b * batchSize, (b + 1) * batchSize);
        const batch = opts.makeBatch(indices);
        const dropoutSeed = deriveSeed(seed, "dropout", epoch, b);
        const kept: {
          loss?: tf.Scalar;
          correct?: tf.Scalar | number;
          count?: tf.Scalar | number;
        } = {};
        let grads: tf.NamedTensorMap;
        let scaled: tf.Scalar;
        try {
          ({ value: scaled, grads } = tf.variableGrads(() => {
            const out = opts.lossFn(batch, { training: true, seed: dropoutSeed });
            const r: LossResult = out instanceof tf.Tensor ? { loss: out } : out;
            kept.loss = tf.keep(r.loss);
            kept.correct = r.correct instanceof tf.Tensor ? tf.keep(r.correct) : r.correct;
            kept.count = r.count instanceof tf.Tensor ? tf.keep(r.count) : r.count;
            return tf.div(r.loss, gas) as tf.Scalar;
          }, varList));
        } catch (e) {
          tf.dispose([kept.loss, kept.correct, kept.count].filter((t) => t instanceof tf.Tensor));
          throw e;
        } finally {
          disposeBatch(batch);
        }
        const lossVal = (await kept.loss!.data())[0];
        const correct = await toNumber(kept.correct);
        const count = kept.count === undefined ? indices.length : await toNumber(kept.count);
        tf.dispose(
          [kept.loss, kept.correct, kept.count, scaled].filter((t) => t instanceof tf.Tensor),
        );
        if (!Number.isFinite(lossVal)) {
          tf.dispose(Object.values(grads));
          throw new NonFiniteLossError(
            `training stopped: the loss is ${lossVal} at update ${state.completedSteps + 1}/` +
              `${maxTrainSteps} (epoch ${epoch + 1}, micro-batch ${b + 1}/${numBatches}, rows ` +
              `${indices.slice(0, 8).join(",")}${indices.length > 8 ? ",…" : ""}); the update ` +
              `was not applied. Last good checkpoint: ${lastCheckpoint ?? "none saved yet"} ` +
              `(left untouched). Try a lower --learning_rate, --max_grad_norm 1.0, or check ` +
              `the data.`,
          );
        }
        // Accumulate.
        if (!acc) acc = new Map();
        for (const [tfName, g] of Object.entries(grads)) {
          const name = nameOf.get(tfName)!;
          const prev = acc.get(name);
          if (prev) {
            acc.set(name, tf.add(prev, g));
            prev.dispose();
            g.dispose();
          } else {
            acc.set(name, g);
          }
        }
        groupLoss += lossVal;
        groupBatches++;
        state.sums.correct += correct;
        state.sums.count += count;
        state.sums.examples += indices.length;

        const sync = (b + 1) % gas === 0 || b === numBatches - 1;
        if (!sync) continue;

        // ---- optimizer update ----
        const gradNorm = await globalNorm(acc!);
        if (!Number.isFinite(gradNorm)) {
          throw new NonFiniteLossError(
            `training stopped: the gradient norm is ${gradNorm} at update ` +
              `${state.completedSteps + 1}/${maxTrainSteps} (epoch ${epoch + 1}, micro-batch ` +
              `${b + 1}/${numBatches}); the update was not applied. Last good checkpoint: ` +
              `${lastCheckpoint ?? "none saved yet"} (left untouched).`,
          );
        }
        if (maxGradNorm > 0) {
          const coef = maxGradNorm / (gradNorm + 1e-6);
          if (coef < 1) {
            for (const [name, g] of acc!) {
              acc!.set(name, tf.mul(g, coef));
              g.dispose();
            }
          }
        }
        const stepLr = scheduler.current();
        optimizer.step(acc!, stepLr);
        scheduler.step();
        disposeAcc();
        state.completedSteps++;
        const stepLoss = groupLoss / groupBatches;
        groupLoss = 0;
        groupBatches = 0;
        state.sums.loss += stepLoss;
        state.sums.lossCount++;
        state.epoch = epoch;
        state.batchInEpoch = b + 1;

        const rec: LogRecord = {
          step: state.completedSteps,
          epoch,
          epoch_float: epoch + (b + 1) / numBatches,
          loss: stepLoss,
          running_loss: state.sums.loss / state.sums.lossCount,
          learning_rate: stepLr,
          grad_norm: gradNorm,
          examples: state.sums.examples,
          elapsed_s: (performance.now() - startTime) / 1000,
        };
        if (metricName) {
          rec[`running_${metricName}`] = state.sums.count > 0
            ? state.sums.correct / state.sums.count
            : null;
        }
        await stepLog.append(rec);
        const extra: Record<string, number> = {};
        if (metricName && state.sums.count > 0) {
          extra[metricName] = state.sums.correct / state.sums.count;
        }
        progress.update({
          step: state.completedSteps,
          epoch,
          loss: rec.running_loss as number,
          lr: stepLr,
          examples: state.sums.examples - examplesAtStart,
          extra,
        });
        if (typeof ckptEvery === "number" && state.completedSteps % ckptEvery === 0) {
          await checkpoint(`${outputDir}/step_${state.completedSteps}`);
        }
        if (opts.onStep) await opts.onStep(rec);
        if (state.completedSteps >= maxTrainSteps) {
          done = true;
          break;
        }
      }

      // ---- end of epoch: evaluation, best model, epoch checkpoint ----
      if (opts.evaluate) {
        const metrics = await opts.evaluate({ epoch, step: state.completedSteps });
        const rec: LogRecord = { epoch, step: state.completedSteps, ...metrics };
        await evalLog.append(rec);
        await evalLog.flush();
        log(
          `epoch ${epoch + 1}/${numTrainEpochs} eval: ` +
            Object.entries(metrics).map(([k, v]) => `${k}=${fmt(v)}`).join(" "),
        );
        if (opts.bestMetric) {
          const v = metrics[opts.bestMetric];
          if (v === undefined) {
            throw new Error(`evaluate() returned no '${opts.bestMetric}' (best metric)`);
          }
          const better = state.best === null ||
            (greater ? v > state.best.value : v < state.best.value);
          if (better) {
            state.best = { metric: opts.bestMetric, value: v, step: state.completedSteps, epoch };
            const best = state.best;
            await writeDirAtomic(`${outputDir}/best`, async (tmp) => {
              await saveModel(tmp);
              await Deno.writeTextFile(
                `${tmp}/best_metric.json`,
                JSON.stringify({ ...best, metrics }, null, 2) + "\n",
              );
            });
          }
        }
      }
      state.epoch = epoch + 1;
      state.batchInEpoch = 0;
      if (ckptEvery === "epoch") await checkpoint(`${outputDir}/epoch_${epoch}`);
    }

    await stepLog.flush();
    await evalLog.flush();
    if (outputDir && (opts.saveFinalModel ?? true)) await saveFinal(outputDir, saveModel);
  } catch (e) {
    disposeAcc();
    await stepLog.flush().catch(() => {});
    await evalLog.flush().catch(() => {});
    await progress.close();
    optimizer.dispose();
    throw e;
  }
  await progress.close();
  optimizer.dispose();
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

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(4);
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
