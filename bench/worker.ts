/**
 * One benchmark measurement in its own process (so that peak resident memory belongs to one
 * backend and one configuration): `bench/mod.ts` spawns
 *
 *     deno run -A --unstable-webgpu bench/worker.ts '<json WorkerTask>'
 *
 * and reads one JSON line (`WorkerResult`) from stdout.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import {
  adapterLabel,
  backendLabel,
  initBackend,
  isSoftwareAdapter,
  probeWebGpu,
  setMatmulPrecision,
  useWebGpuIfAvailable,
} from "../lib/backend/mod.ts";
import {
  type BenchConfig,
  createQaTrainer,
  disposeBatch,
  type QaTrainer,
  randomBatch,
} from "./qa_step.ts";
import { median } from "./util.ts";

/** What one worker measures. */
export interface WorkerTask {
  config: BenchConfig;
  backend: string;
  /** Timed training steps (after warm-up); the tensor count is compared across all of them. */
  steps: number;
  warmup: number;
  evalSteps: number;
  /** Stop timing training steps once this many seconds were spent (0: no limit; min 3 steps). */
  budgetS: number;
  seed: number;
  /** Run webgpu on a software adapter (llvmpipe) too; otherwise it is skipped as not a GPU. */
  allowSoftwareGpu?: boolean;
  /** Precision of matMuls (`bf16`: the `--bf16` path of lib/backend/bf16.ts; wasm and cpu). */
  precision?: Precision;
}

/** Precision of a bench entry's matMuls. */
export type Precision = "fp32" | "bf16";

/** What bench/mod.ts adds to every training and evaluation entry (see bench/peak.ts). */
export interface EntryRate {
  /** The backend (or peer runtime) and precision, so rows of other runs stay apart. */
  backend?: string;
  precision?: Precision;
  /** Matrix-product GFLOP/s achieved (FLOPs from the shapes, bench/peak.ts). */
  gflops?: number;
  /** `gflops` over the peak of this precision measured in the same run (null: no peak). */
  fractionOfPeak?: number | null;
}

/** Training measurement at one batch size. */
export interface TrainResult extends EntryRate {
  batch: number;
  /** How the step ran, by the memory plan: "plain", "gradient checkpointing", or in parts. */
  mode: string;
  steps: number;
  stepMsMedian: number;
  stepMsMin: number;
  stepMsMax: number;
  tokensPerS: number;
  firstLoss: number;
  lastLoss: number;
  numTensorsBefore: number;
  numTensorsAfter: number;
  /** Resident memory (MB) after the first timed step and after the last one. */
  rssFirstMb: number;
  rssLastMb: number;
  /** Resident memory (MB) sampled at ~10 evenly spaced steps (flatness over the run). */
  rssSeriesMb: number[];
  /** Why this batch size could not be trained (the fields above are then NaN / empty). */
  error?: string;
}

/** Forward-only measurement for one batch size. */
export interface EvalResult extends EntryRate {
  batch: number;
  steps: number;
  msMedian: number;
  tokensPerS: number;
  /** Why this batch size could not be measured. */
  error?: string;
}

/** What one worker reports. */
export interface WorkerResult {
  config: string;
  backend: string;
  precision?: Precision;
  ok: boolean;
  error?: string;
  /** Backend and what it runs on (e.g. `wasm (SIMD, 1 thread)`). */
  label?: string;
  backendReason?: string;
  blas?: string;
  params?: number;
  /** One entry per training batch size (in `config.batches` order; stops at a failure). */
  train?: TrainResult[];
  eval?: EvalResult[];
  /** Peak resident memory of the process (VmHWM), MB. */
  peakRssMb?: number;
  numTensorsEnd?: number;
}

const MB = 1024 * 1024;

/** Resident memory after a full garbage collection when `--expose-gc` is on (bench/mod.ts sets it). */
function liveRssMb(): number {
  (globalThis as unknown as { gc?: () => void }).gc?.();
  return Deno.memoryUsage().rss / MB;
}

/** Peak resident set size from /proc (Linux); falls back to the current RSS. */
export function peakRssMb(): number {
  try {
    const status = Deno.readTextFileSync("/proc/self/status");
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(status);
    if (m) return Number(m[1]) / 1024;
  } catch {
    // not Linux
  }
  return Deno.memoryUsage().rss / MB;
}

function errorText(e: unknown): string {
  const text = e instanceof Error
    ? `${e.name === "Error" ? "" : `${e.name}: `}${e.message}`
    : String(e);
  return text.split("\n").map((l) => l.trim()).filter(Boolean).slice(0, 4).join(" | ");
}

/** Warm-up, then timed training steps at batch size `b`; an exception becomes `error`. */
async function timeTraining(
  trainer: QaTrainer,
  task: WorkerTask,
  b: number,
): Promise<TrainResult> {
  const c = task.config;
  const batch = randomBatch(c, b, task.seed + 1);
  try {
    let firstLoss = NaN;
    for (let i = 0; i < task.warmup; i++) {
      const l = await trainer.trainStep(batch, i);
      if (i === 0) firstLoss = l;
    }
    const before = tf.memory().numTensors;
    const times: number[] = [];
    let lastLoss = NaN, rssFirst = 0;
    const series: number[] = [];
    const every = Math.max(1, Math.floor(task.steps / 10));
    const began = performance.now();
    for (let i = 0; i < task.steps; i++) {
      const t0 = performance.now();
      lastLoss = await trainer.trainStep(batch, task.warmup + i);
      times.push(performance.now() - t0);
      if (i === 0) rssFirst = liveRssMb();
      if (i % every === every - 1) series.push(Math.round(liveRssMb()));
      if (
        task.budgetS > 0 && times.length >= 3 &&
        performance.now() - began > task.budgetS * 1000
      ) break;
    }
    const after = tf.memory().numTensors;
    const med = median(times);
    return {
      batch: b,
      mode: trainer.trainingMode(b),
      steps: times.length,
      stepMsMedian: med,
      stepMsMin: Math.min(...times),
      stepMsMax: Math.max(...times),
      tokensPerS: b * c.seq / (med / 1000),
      firstLoss,
      lastLoss,
      numTensorsBefore: before,
      numTensorsAfter: after,
      rssFirstMb: rssFirst,
      rssLastMb: liveRssMb(),
      rssSeriesMb: series,
    };
  } catch (e) {
    return {
      batch: b,
      mode: trainer.trainingMode(b),
      steps: 0,
      stepMsMedian: NaN,
      stepMsMin: NaN,
      stepMsMax: NaN,
      tokensPerS: NaN,
      firstLoss: NaN,
      lastLoss: NaN,
      numTensorsBefore: NaN,
      numTensorsAfter: NaN,
      rssFirstMb: NaN,
      rssLastMb: NaN,
      rssSeriesMb: [],
      error: errorText(e),
    };
  } finally {
    disposeBatch(batch);
  }
}

/** Warm-up, then timed forwards without dropout at batch size `b`; an exception becomes `error`. */
async function timeEvaluation(
  trainer: QaTrainer,
  task: WorkerTask,
  b: number,
): Promise<EvalResult> {
  const c = task.config;
  const batch = randomBatch(c, b, task.seed + 2);
  try {
    let t0 = performance.now();
    await trainer.evalStep(batch); // warm-up
    const warm = performance.now() - t0;
    const times: number[] = [];
    // A forward slower than a quarter of the budget (bert-base on cpu): the warm-up is the one
    // measurement (its one-time costs are small next to it).
    if (task.budgetS > 0 && warm > task.budgetS * 250) times.push(warm);
    const evalBegan = performance.now();
    for (let i = times.length ? task.evalSteps : 0; i < task.evalSteps; i++) {
      t0 = performance.now();
      await trainer.evalStep(batch);
      times.push(performance.now() - t0);
      // Slow backends: a quarter of the budget for each batch size's repeats.
      if (task.budgetS > 0 && performance.now() - evalBegan > task.budgetS * 250) break;
    }
    const med = median(times);
    return { batch: b, steps: times.length, msMedian: med, tokensPerS: b * c.seq / (med / 1000) };
  } catch (e) {
    return { batch: b, steps: 0, msMedian: NaN, tokensPerS: NaN, error: errorText(e) };
  } finally {
    disposeBatch(batch);
  }
}

/** Runs one task in this process. */
export async function runTask(task: WorkerTask): Promise<WorkerResult> {
  const c = task.config;
  const precision = task.precision ?? "fp32";
  const result: WorkerResult = { config: c.name, backend: task.backend, precision, ok: false };
  try {
    if (precision === "bf16") {
      if (task.backend !== "wasm" && task.backend !== "cpu") {
        throw new Error(`--bf16 runs on wasm and cpu only, not ${task.backend}`);
      }
      setMatmulPrecision("bf16");
    }
    if (task.backend === "webgpu") {
      const probe = await probeWebGpu();
      if (!probe.adapter) throw new Error("no WebGPU adapter");
      if (isSoftwareAdapter(probe.adapter) && !task.allowSoftwareGpu) {
        throw new Error(
          `only a software adapter (${adapterLabel(probe.adapter)}); ` +
            "pass --backends webgpu explicitly to time it anyway",
        );
      }
      result.label = (await useWebGpuIfAvailable()) ?? "webgpu";
      result.backendReason = `webgpu on ${adapterLabel(probe.adapter)}`;
    } else {
      const choice = await initBackend({ backend: task.backend, quiet: true });
      result.backendReason = choice.reason;
      result.blas = choice.blas?.reason;
      result.label = backendLabel(choice);
      if (precision === "bf16") {
        if (!choice.bf16.active) throw new Error(`bf16 unavailable: ${choice.bf16.reason}`);
        result.label += " bf16";
      }
    }
    const trainer = createQaTrainer(c, task.seed);
    result.params = trainer.model.numParameters();
    try {
      result.train = [];
      result.eval = [];
      // Per batch size: training steps, then evaluation. An abort (e.g. the wasm heap running out
      // at bert-base batch 4) may leave the backend unusable: the sizes measured before it are
      // kept and nothing more runs.
      for (const b of c.batches) {
        if (c.train) {
          const r = await timeTraining(trainer, task, b);
          result.train.push(r);
          if (r.error) break;
        }
        const e = await timeEvaluation(trainer, task, b);
        result.eval.push(e);
        if (e.error) break;
      }
    } finally {
      trainer.dispose();
    }
    result.numTensorsEnd = tf.memory().numTensors;
    result.peakRssMb = peakRssMb();
    result.ok = true;
  } catch (e) {
    result.error = errorText(e);
  }
  return result;
}

if (import.meta.main) {
  const task = JSON.parse(Deno.args[0]) as WorkerTask;
  const r = await runTask(task);
  console.log(JSON.stringify(r));
}
