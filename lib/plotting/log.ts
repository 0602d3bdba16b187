/**
 * Training-log records as the plotting layer reads them: one record per optimizer step and one per
 * epoch evaluation, stored as JSON lines or CSV by the training loop.
 * @module
 */
import { EVAL_LOG, STEP_LOG } from "../training/logging.ts";

/** One optimizer step of a training run. */
export interface StepRecord {
  /** Global optimizer step, counted from 1 (monotone within a run). */
  step: number;
  /** Epoch of the step; an integer (0- or 1-based) or a fractional progress value. */
  epoch: number;
  /** Training loss of the step's batch. */
  loss: number;
  /** Learning rate used by the step. */
  learning_rate?: number;
  /** Global gradient norm of the update (before clipping). */
  grad_norm?: number;
  /** Multiple choice: cumulative average training accuracy so far (as logged). */
  running_accuracy?: number;
  /** Extractive QA: cumulative training exact match so far over the windows that hold the answer
   * (token positions; as logged). */
  running_exact_match?: number;
}

/** Evaluation at the end of an epoch, or inside one with `--eval_steps`. */
export interface EvalRecord {
  /** The epoch (1-based) the evaluation ran in or at the end of. */
  epoch: number;
  /** Epochs done when it ran (fractional inside an epoch); absent in older logs. */
  epoch_float?: number;
  /** Step at which the evaluation ran, when known. */
  step?: number;
  /** Multiple choice validation accuracy. */
  accuracy?: number;
  /** QA validation exact match. */
  exact_match?: number;
  /** QA validation F1. */
  f1?: number;
  /** Validation loss. */
  eval_loss?: number;
}

/** A whole run's log. */
export interface TrainingLog {
  steps: StepRecord[];
  evals: EvalRecord[];
}

function toNumber(v: unknown): number | undefined {
  if (typeof v === "number") return Number.isFinite(v) ? v : undefined;
  if (typeof v === "string" && v.trim() !== "") {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

const STEP_KEYS = [
  "step",
  "epoch",
  "loss",
  "learning_rate",
  "grad_norm",
  "running_accuracy",
  "running_exact_match",
] as const;
const EVAL_KEYS = [
  "epoch",
  "epoch_float",
  "step",
  "accuracy",
  "exact_match",
  "f1",
  "eval_loss",
] as const;

function pick<K extends string>(
  raw: Record<string, unknown>,
  keys: readonly K[],
): Partial<Record<K, number>> {
  const out: Partial<Record<K, number>> = {};
  for (const k of keys) {
    const v = toNumber(raw[k]);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** Other tools' key names accepted in log records (this project writes only the keys above). */
const ALIASES: Record<string, string> = {
  lr: "learning_rate",
  eval_accuracy: "accuracy",
  eval_exact_match: "exact_match",
  eval_f1: "f1",
};

function normalizeKeys(raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...raw };
  for (const [alias, key] of Object.entries(ALIASES)) {
    if (out[key] === undefined && raw[alias] !== undefined) out[key] = raw[alias];
  }
  return out;
}

/**
 * Sorts raw records into step and eval records. With `kind`, every record is of that kind (e.g.
 * the training loop's `eval_log.jsonl`). Otherwise a record with `type: "step" | "eval"` is taken
 * at its word, a record with a `loss` is a step and one with `eval_loss`, `accuracy`,
 * `exact_match` or `f1` (and no `loss`) is an evaluation; other records are ignored.
 * Other tools' names (`lr`, `eval_accuracy`, `eval_exact_match`, `eval_f1`) are accepted.
 * @param source names the file in error messages.
 */
export function recordsToLog(
  records: Record<string, unknown>[],
  source = "log",
  kind?: "step" | "eval",
): TrainingLog {
  const steps: StepRecord[] = [];
  const evals: EvalRecord[] = [];
  records.forEach((original, i) => {
    const raw = normalizeKeys(original);
    const type = kind ?? raw.type;
    const isStep = type === "step" || (type === undefined && raw.loss !== undefined);
    const isEval = type === "eval" ||
      (type === undefined && !isStep &&
        ["eval_loss", "accuracy", "exact_match", "f1"].some((k) => raw[k] !== undefined));
    if (isStep) {
      // In a step record of the training loop, `accuracy` / `exact_match` are the running
      // (cumulative) training metrics.
      if (raw.running_accuracy === undefined) raw.running_accuracy = raw.accuracy;
      if (raw.running_exact_match === undefined) raw.running_exact_match = raw.exact_match;
      const r = pick(raw, STEP_KEYS);
      for (const k of ["step", "epoch", "loss"] as const) {
        if (r[k] === undefined) {
          throw new Error(`${source}: record ${i} is a step record without a numeric '${k}'`);
        }
      }
      steps.push(r as StepRecord);
    } else if (isEval) {
      // In an eval record a plain `loss` is the validation loss.
      if (raw.eval_loss === undefined && raw.loss !== undefined) raw.eval_loss = raw.loss;
      const r = pick(raw, EVAL_KEYS);
      if (r.epoch === undefined) {
        throw new Error(`${source}: record ${i} is an eval record without a numeric 'epoch'`);
      }
      evals.push(r as EvalRecord);
    }
  });
  steps.sort((a, b) => a.step - b.step);
  evals.sort((a, b) => evalEpochs(a) - evalEpochs(b));
  return { steps, evals };
}

/** Parses JSON lines (blank lines skipped) into records; errors name the source and line. */
export function parseJsonl(text: string, source = "log"): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === "") return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      throw new Error(`${source}: line ${i + 1} is not valid JSON (${(e as Error).message})`);
    }
    if (v === null || typeof v !== "object" || Array.isArray(v)) {
      throw new Error(`${source}: line ${i + 1} is not a JSON object`);
    }
    out.push(v as Record<string, unknown>);
  });
  return out;
}

/** Parses a simple CSV with a header row (no quoted commas: log files hold numbers only). */
export function parseCsv(text: string, source = "log"): Record<string, unknown>[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  if (lines.length === 0) return [];
  const header = lines[0].split(",").map((h) => h.trim());
  return lines.slice(1).map((line, i) => {
    const cells = line.split(",");
    if (cells.length !== header.length) {
      throw new Error(
        `${source}: row ${i + 2} has ${cells.length} cells, header has ${header.length}`,
      );
    }
    const rec: Record<string, unknown> = {};
    header.forEach((h, j) => {
      if (cells[j].trim() !== "") rec[h] = cells[j].trim();
    });
    return rec;
  });
}

async function readRecords(path: string): Promise<Record<string, unknown>[]> {
  const text = await Deno.readTextFile(path);
  return path.endsWith(".csv") ? parseCsv(text, path) : parseJsonl(text, path);
}

/**
 * Reads a training log from one or more files (`.jsonl` or `.csv`) holding step and/or eval
 * records (told apart per record, see {@link recordsToLog}) and merges them.
 */
export async function readTrainingLog(...paths: string[]): Promise<TrainingLog> {
  const records: Record<string, unknown>[] = [];
  for (const path of paths) records.push(...await readRecords(path));
  return recordsToLog(records, paths.join(" + "));
}

/**
 * Reads the logs a training run wrote to its output directory: `train_log.jsonl` (steps,
 * required) and `eval_log.jsonl` (evaluations, optional) — the names lib/training/logging.ts uses.
 */
export async function readRunLog(outputDir: string): Promise<TrainingLog> {
  const stepPath = `${outputDir}/${STEP_LOG}.jsonl`;
  const evalPath = `${outputDir}/${EVAL_LOG}.jsonl`;
  let stepRecords: Record<string, unknown>[];
  try {
    stepRecords = await readRecords(stepPath);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Error(`${stepPath}: training log not found (has the run been trained?)`);
    }
    throw e;
  }
  const steps = recordsToLog(stepRecords, stepPath, "step").steps;
  let evals: EvalRecord[] = [];
  try {
    evals = recordsToLog(await readRecords(evalPath), evalPath, "eval").evals;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return { steps, evals };
}

/** Cumulative mean: out[i] = mean(values[0..i]). */
export function cumulativeMean(values: readonly number[]): number[] {
  const out: number[] = [];
  let sum = 0;
  values.forEach((v, i) => {
    sum += v;
    out.push(sum / (i + 1));
  });
  return out;
}

/**
 * Exponential moving average with Hugging Face/TensorBoard-style bias correction:
 * `m_i = β m_{i-1} + (1 − β) v_i`, shown as `m_i / (1 − β^(i+1))`, so the first value is `v_0`
 * and a short run is not pulled towards 0. `beta` in [0, 1).
 */
export function exponentialMovingAverage(values: readonly number[], beta = 0.9): number[] {
  if (!(beta >= 0 && beta < 1)) throw new Error(`EMA beta must be in [0, 1), got ${beta}`);
  const out: number[] = [];
  let m = 0;
  let w = 1;
  for (const v of values) {
    m = beta * m + (1 - beta) * v;
    w *= beta;
    out.push(m / (1 - w));
  }
  return out;
}

/** EMA smoothing factor for a run of `n` steps: about a twentieth of the run, within [0.5, 0.98]. */
export function emaBetaFor(n: number): number {
  return Math.min(0.98, Math.max(0.5, 1 - 1 / Math.max(1, n / 20)));
}

/**
 * Steps at which a new epoch starts (the step where `floor(epoch)` increases), excluding the first
 * epoch. Works for integer and fractional epoch counters.
 */
export function epochBoundaries(steps: readonly StepRecord[]): { step: number; epoch: number }[] {
  const out: { step: number; epoch: number }[] = [];
  for (let i = 1; i < steps.length; i++) {
    const prev = Math.floor(steps[i - 1].epoch + 1e-9);
    const cur = Math.floor(steps[i].epoch + 1e-9);
    if (cur > prev) out.push({ step: (steps[i - 1].step + steps[i].step) / 2, epoch: cur });
  }
  return out;
}

/** Which running metric a log carries: `running_accuracy` (MC), `running_exact_match` (QA) or none. */
export function runningMetricOf(
  log: TrainingLog,
): "running_accuracy" | "running_exact_match" | null {
  if (log.steps.some((s) => s.running_accuracy !== undefined)) return "running_accuracy";
  if (log.steps.some((s) => s.running_exact_match !== undefined)) return "running_exact_match";
  return null;
}

/** Epochs done at an evaluation: `epoch_float` when logged, else its (1-based) epoch. */
export function evalEpochs(e: EvalRecord): number {
  return e.epoch_float ?? e.epoch;
}
