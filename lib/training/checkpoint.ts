/**
 * Training checkpoints: a directory in Hugging Face layout (whatever `saveModel` writes:
 * `config.json`, `model.safetensors`, tokenizer files) plus the state needed to continue:
 *
 * - `optimizer.safetensors` — AdamW moments as float32 tensors `exp_avg.<name>` /
 *   `exp_avg_sq.<name>`, per-parameter step counts and hyper-parameters in `__metadata__`;
 * - `scheduler.json` — the learning-rate schedule and its step count;
 * - `trainer_state.json` — completed updates, epoch and position in the epoch's seeded batch
 *   order, running sums of the logs, best metric so far, and the run settings a resume must
 *   share (seed, batch size, accumulation, data size).
 *
 * The whole directory is written atomically (temporary directory, then rename), so a run killed
 * while saving leaves the previous checkpoint untouched.
 * @module
 */
import { writeDirAtomic } from "../util/atomic.ts";
import type { AdamW, AdamWStateData } from "./adamw.ts";
import type { Scheduler, SchedulerState } from "./schedules.ts";

/** Names of the training-state files inside a checkpoint directory. */
export const OPTIMIZER_FILE = "optimizer.safetensors";
export const SCHEDULER_FILE = "scheduler.json";
export const TRAINER_STATE_FILE = "trainer_state.json";

/** Position and running sums of a training run; everything needed to continue it exactly. */
export interface TrainerState {
  version: 1;
  /** Optimizer updates done. */
  completedSteps: number;
  /** Epoch of the next micro-batch (0-based). */
  epoch: number;
  /** Micro-batches of that epoch already consumed. */
  batchInEpoch: number;
  /** Total updates planned (`max_train_steps`). */
  maxTrainSteps: number;
  numTrainEpochs: number;
  /** Settings a resumed run must share for the data position to mean the same thing. */
  run: {
    seed: number;
    numExamples: number;
    batchSize: number;
    gradientAccumulationSteps: number;
  };
  /** Running sums for the cumulative averages in the step log. */
  sums: { loss: number; lossCount: number; correct: number; count: number; examples: number };
  /** Lines of the step log written up to this checkpoint (a resume truncates to this). */
  stepLogLines: number;
  /** Lines of the evaluation log written up to this checkpoint. */
  evalLogLines: number;
  /** Best validation metric so far and the update at which it was reached. */
  best: { metric: string; value: number; step: number; epoch: number } | null;
}

/** Writes `tensors` (float32) and string metadata as a safetensors file, streaming. */
export async function writeSafetensorsF32(
  path: string,
  tensors: { name: string; shape: number[]; data: Float32Array }[],
  metadata: Record<string, string> = {},
): Promise<void> {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of tensors) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (size !== t.data.length) {
      throw new Error(
        `safetensors: '${t.name}' has ${t.data.length} values for shape [${t.shape}]`,
      );
    }
    header[t.name] = { dtype: "F32", shape: t.shape, data_offsets: [offset, offset + size * 4] };
    offset += size * 4;
  }
  let json = JSON.stringify(header);
  while ((new TextEncoder().encode(json).length) % 8 !== 0) json += " ";
  const hbytes = new TextEncoder().encode(json);
  const lenBuf = new Uint8Array(8);
  new DataView(lenBuf.buffer).setBigUint64(0, BigInt(hbytes.length), true);
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  try {
    const writeAll = async (b: Uint8Array) => {
      let o = 0;
      while (o < b.length) o += await file.write(b.subarray(o));
    };
    await writeAll(lenBuf);
    await writeAll(hbytes);
    for (const t of tensors) {
      // Little-endian float32 (every platform Deno runs on is little-endian).
      await writeAll(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    }
    await file.sync();
  } finally {
    file.close();
  }
}

/** Reads a float32-only safetensors file written by `writeSafetensorsF32`. */
export async function readSafetensorsF32(path: string): Promise<{
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
  metadata: Record<string, string>;
}> {
  const bytes = await Deno.readFile(path);
  if (bytes.length < 8) throw new Error(`${path}: not a safetensors file (too short)`);
  const hlen = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (8 + hlen > bytes.length) throw new Error(`${path}: header length ${hlen} beyond file end`);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + hlen)));
  const base = 8 + hlen;
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, info] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const { dtype, shape, data_offsets } = info as {
      dtype: string;
      shape: number[];
      data_offsets: [number, number];
    };
    if (dtype !== "F32") {
      throw new Error(`${path}: tensor '${name}' has dtype ${dtype}, expected F32`);
    }
    const [s, e] = data_offsets;
    if (base + e > bytes.length || e - s !== shape.reduce((a, b) => a * b, 1) * 4) {
      throw new Error(`${path}: tensor '${name}' has inconsistent offsets [${s}, ${e}]`);
    }
    // Copy so the data is 4-byte aligned regardless of the header length.
    const data = new Float32Array(bytes.slice(base + s, base + e).buffer);
    tensors.set(name, { shape, data });
  }
  return { tensors, metadata: (header.__metadata__ ?? {}) as Record<string, string> };
}

/** Saves the optimizer state to `dir/optimizer.safetensors`. */
export async function saveOptimizerState(dir: string, opt: AdamW): Promise<void> {
  const st = await opt.exportState();
  const tensors: { name: string; shape: number[]; data: Float32Array }[] = [];
  const steps: Record<string, number> = {};
  for (const [name, p] of Object.entries(st.params)) {
    tensors.push({ name: `exp_avg.${name}`, shape: p.shape, data: p.m });
    tensors.push({ name: `exp_avg_sq.${name}`, shape: p.shape, data: p.v });
    steps[name] = p.step;
  }
  await writeSafetensorsF32(`${dir}/${OPTIMIZER_FILE}`, tensors, {
    format: "adamw",
    step: String(st.step),
    hyper: JSON.stringify(st.hyper),
    param_steps: JSON.stringify(steps),
  });
}

/** Loads `dir/optimizer.safetensors` into `opt`. */
export async function loadOptimizerState(dir: string, opt: AdamW): Promise<void> {
  const path = `${dir}/${OPTIMIZER_FILE}`;
  const { tensors, metadata } = await readSafetensorsF32(path);
  if (metadata.format !== "adamw") throw new Error(`${path}: not an AdamW state file`);
  const steps = JSON.parse(metadata.param_steps) as Record<string, number>;
  const params: AdamWStateData["params"] = {};
  for (const [name, step] of Object.entries(steps)) {
    const m = tensors.get(`exp_avg.${name}`);
    const v = tensors.get(`exp_avg_sq.${name}`);
    if (!m || !v) throw new Error(`${path}: missing moments for parameter '${name}'`);
    params[name] = { step, shape: m.shape, m: m.data, v: v.data };
  }
  opt.importState({ step: Number(metadata.step), hyper: JSON.parse(metadata.hyper), params });
}

/** What a checkpoint holds besides the model. */
export interface CheckpointParts {
  /** Writes the model (and tokenizer) in Hugging Face layout into the directory. */
  saveModel?: (dir: string) => Promise<void>;
  optimizer: AdamW;
  scheduler: Scheduler;
  state: TrainerState;
}

/** Writes a full checkpoint to `dir` atomically (replacing an older one of the same name). */
export async function saveCheckpoint(dir: string, parts: CheckpointParts): Promise<void> {
  await writeDirAtomic(dir, async (tmp) => {
    if (parts.saveModel) await parts.saveModel(tmp);
    await saveOptimizerState(tmp, parts.optimizer);
    await Deno.writeTextFile(
      `${tmp}/${SCHEDULER_FILE}`,
      JSON.stringify(parts.scheduler.state(), null, 2) + "\n",
    );
    // Written last: its presence marks a complete checkpoint.
    await Deno.writeTextFile(
      `${tmp}/${TRAINER_STATE_FILE}`,
      JSON.stringify(parts.state, null, 2) + "\n",
    );
  });
}

/** Reads `trainer_state.json` and `scheduler.json` of a checkpoint, with clear errors. */
export async function readCheckpointMeta(
  dir: string,
): Promise<{ state: TrainerState; scheduler: SchedulerState }> {
  const read = async (name: string) => {
    const path = `${dir}/${name}`;
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        throw new Error(
          `resume_from_checkpoint: ${path} not found — '${dir}' is not a complete training ` +
            `checkpoint (expected ${TRAINER_STATE_FILE}, ${SCHEDULER_FILE}, ${OPTIMIZER_FILE})`,
        );
      }
      throw e;
    }
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new Error(`${path}: invalid JSON (${(e as Error).message})`);
    }
  };
  const state = await read(TRAINER_STATE_FILE) as TrainerState;
  if (state.version !== 1) {
    throw new Error(`${dir}/${TRAINER_STATE_FILE}: unsupported version ${state.version}`);
  }
  const scheduler = await read(SCHEDULER_FILE) as SchedulerState;
  return { state, scheduler };
}

/**
 * Finds the most recent checkpoint (`epoch_N` / `step_N`, by completed updates) under
 * `outputDir`, like `--resume_from_checkpoint` with an empty value in the HF scripts.
 */
export async function latestCheckpoint(outputDir: string): Promise<string | null> {
  let best: { dir: string; steps: number } | null = null;
  try {
    for await (const e of Deno.readDir(outputDir)) {
      if (!e.isDirectory || !/^(epoch|step)_\d+$/.test(e.name)) continue;
      const dir = `${outputDir}/${e.name}`;
      try {
        const { state } = await readCheckpointMeta(dir);
        if (!best || state.completedSteps > best.steps) {
          best = { dir, steps: state.completedSteps };
        }
      } catch {
        // incomplete directory: not a checkpoint
      }
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  return best?.dir ?? null;
}
