/**
 * Memory plan of a BERT training or inference run, made before the first step: bytes of
 * parameters, gradients, AdamW moments and activations per micro-batch against what the backend
 * can hold, and from it the largest micro-batch that fits.
 *
 * Pure arithmetic. The activation terms count float32 values kept by tfjs's gradient tape (or
 * alive inside one encoder layer during inference) and were measured with `tf.memory()` on small
 * configurations (tests/training_memory.test.ts checks them within 15%):
 *
 * - one encoder layer in training keeps ≈ 26·NTH + 4·NTI + 3·S values (N sequences of T tokens,
 *   hidden H, intermediate I, S = N·heads·T² attention scores; dropout masks are not kept, as the
 *   dropout kernel draws its mask again for the gradient);
 * - embeddings, mask and head ≈ 10·NTH;
 * - with gradient checkpointing a layer keeps only its input (NTH), and the layer being
 *   recomputed in the backward pass holds one layer's worth again;
 * - the backward pass needs about one more layer's worth of temporaries, and tfjs keeps every
 *   intermediate gradient until the backward pass ends (its tape never frees a used `dy`):
 *   ≈ 0.5 × what the tape keeps, calibrated on bert-base QA steps at 384 tokens (wasm heap after
 *   two updates with the moments outside it: 2.24 GiB at batch 1, plan 2.41 GiB; with the moments
 *   inside: 2.87 GiB, plan 3.16 GiB; forward + backward alone at batch 2: 3.37 GiB). With
 *   checkpointing each layer's backward is its own pass, so only one layer's gradients are alive
 *   at a time.
 *
 * Limits: wasm keeps every tensor in one WebAssembly heap of at most 4 GiB; cpu keeps tensors in
 * JS ArrayBuffers, bounded by the machine's memory; webgpu by the adapter's buffer limits (the
 * largest single tensor) and the machine's memory. `TFJS_MEMORY_LIMIT` (bytes, or with a
 * KB/MB/GB suffix) overrides the limit, e.g. to test the error path.
 * @module
 */
import type { BertConfig, Task } from "../models/mod.ts";
import { geluFusedHere } from "../backend/mod.ts";

/** 4 GiB: the largest heap a 32-bit WebAssembly module (tfjs-backend-wasm) can grow to. */
export const WASM_HEAP_LIMIT = 4 * 1024 ** 3;

/** Share of the limit a plan may use (allocator fragmentation, tokenised inputs, logits). */
export const USABLE_FRACTION = 0.9;

/** What the plan is made for. */
export interface MemoryPlanInput {
  config: Pick<
    BertConfig,
    | "hidden_size"
    | "num_hidden_layers"
    | "num_attention_heads"
    | "intermediate_size"
    | "vocab_size"
  >;
  task: Task;
  /** Number of trainable parameters. */
  numParameters: number;
  /** Tokens per sequence (the longest a batch can have). */
  seqLength: number;
  /** Sequences per example (MC: the number of choices; otherwise 1). */
  sequencesPerExample?: number;
  /** Requested examples per micro-batch. */
  batchSize: number;
  gradientCheckpointing: boolean;
  /** True: training (gradients, optimizer state, tape); false: inference only. */
  training: boolean;
  /** Backend name (for the message). */
  backend: string;
  /** Bytes the backend can hold. */
  limitBytes: number;
  /** What the limit is (e.g. "the wasm heap"). */
  limitName: string;
  /** AdamW moments kept in JavaScript arrays, outside the backend's memory (the loop's default
   *  on wasm). */
  optimizerOnHost?: boolean;
}

/** The plan: bytes per part, the peak for the requested and the chosen micro-batch. */
export interface MemoryPlan {
  backend: string;
  limitName: string;
  limitBytes: number;
  usableBytes: number;
  parameterBytes: number;
  gradientBytes: number;
  optimizerBytes: number;
  /** Activations of one example (sequencesPerExample sequences). */
  activationBytesPerExample: number;
  requestedBatch: number;
  /** Peak bytes at the requested micro-batch. */
  requestedPeakBytes: number;
  /** Largest micro-batch ≤ requested that fits (0: not even one example fits). */
  microBatch: number;
  /** Peak bytes at `microBatch` (at 1 when nothing fits). */
  peakBytes: number;
  gradientCheckpointing: boolean;
  training: boolean;
  seqLength: number;
  /** The moments do not count against the limit. */
  optimizerOnHost: boolean;
}

/**
 * Float32 values one encoder layer keeps for its backward pass (or holds in inference). GELU
 * as one fused kernel keeps only its input; composed from tfjs ops (erf, muls, adds) it keeps
 * five more `[N*T, intermediate]` tensors (measured with `tf.memory()`, tests).
 */
function layerValues(cfg: MemoryPlanInput["config"], n: number, T: number): number {
  const nth = n * T * cfg.hidden_size, nti = n * T * cfg.intermediate_size;
  const geluKept = geluFusedHere() ? 4 : 9;
  return 26 * nth + geluKept * nti + 3 * n * cfg.num_attention_heads * T * T;
}

/**
 * Bytes the gradient tape keeps at the end of a training forward pass of `n` sequences of `T`
 * tokens: every layer's saved tensors, or with checkpointing only each layer's input; plus
 * embeddings, mask and head. This is what `tf.memory().numBytes` grows by during the forward.
 */
export function keptActivationBytes(
  cfg: MemoryPlanInput["config"],
  task: Task,
  n: number,
  T: number,
  gradientCheckpointing: boolean,
): number {
  const nth = n * T * cfg.hidden_size, L = cfg.num_hidden_layers;
  // MLM logits over the vocabulary (pre-training asks for ~15% of the rows).
  const head = task === "mlm" ? 3 * 0.15 * n * T * cfg.vocab_size : 0;
  const layers = gradientCheckpointing ? L * nth : L * layerValues(cfg, n, T);
  return 4 * (layers + 10 * nth + head);
}

/**
 * Peak activation bytes of `n` sequences of `T` tokens: in training what the tape keeps plus one
 * layer's temporaries in the backward pass (two with checkpointing: the layer being recomputed
 * and its backward); in inference one layer's tensors and its output (nothing is kept).
 */
export function activationBytes(
  cfg: MemoryPlanInput["config"],
  task: Task,
  n: number,
  T: number,
  opts: { training: boolean; gradientCheckpointing: boolean },
): number {
  const layer = 4 * layerValues(cfg, n, T);
  if (!opts.training) {
    return 2 * layer + 4 * 13 * n * T * cfg.hidden_size +
      (task === "mlm" ? 4 * 0.15 * n * T * cfg.vocab_size : 0);
  }
  const kept = keptActivationBytes(cfg, task, n, T, opts.gradientCheckpointing);
  return opts.gradientCheckpointing ? kept + 2 * layer : Math.round(1.5 * kept) + layer;
}

/** Makes the plan and picks the largest micro-batch that fits. */
export function planMemory(inp: MemoryPlanInput): MemoryPlan {
  const P = inp.numParameters;
  const parameterBytes = 4 * P;
  // Accumulated gradients plus the new ones of a micro-batch while they are added.
  const gradientBytes = inp.training ? 8 * P : 0;
  const optimizerBytes = inp.training ? 8 * P : 0;
  const perSeq = inp.sequencesPerExample ?? 1;
  const act = (b: number) =>
    activationBytes(inp.config, inp.task, b * perSeq, inp.seqLength, {
      training: inp.training,
      gradientCheckpointing: inp.gradientCheckpointing,
    });
  const optimizerOnHost = inp.optimizerOnHost ?? false;
  const fixed = parameterBytes + gradientBytes + (optimizerOnHost ? 0 : optimizerBytes);
  const usableBytes = Math.floor(inp.limitBytes * USABLE_FRACTION);
  let microBatch = 0;
  for (let b = inp.batchSize; b >= 1; b--) {
    if (fixed + act(b) <= usableBytes) {
      microBatch = b;
      break;
    }
  }
  return {
    backend: inp.backend,
    limitName: inp.limitName,
    limitBytes: inp.limitBytes,
    usableBytes,
    parameterBytes,
    gradientBytes,
    optimizerBytes,
    activationBytesPerExample: act(1),
    requestedBatch: inp.batchSize,
    requestedPeakBytes: fixed + act(inp.batchSize),
    microBatch,
    peakBytes: fixed + act(Math.max(1, microBatch)),
    gradientCheckpointing: inp.gradientCheckpointing,
    training: inp.training,
    seqLength: inp.seqLength,
    optimizerOnHost,
  };
}

/** Bytes in binary units ("3.87 GiB", "283.9 MiB"), as heap limits are powers of two. */
export function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(2)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024).toFixed(1)} KiB`;
}

/** The one-line summary printed at the start (`memory plan: …`). */
export function describePlan(p: MemoryPlan): string {
  const parts = [`parameters ${formatBytes(p.parameterBytes)}`];
  if (p.training) {
    parts.push(`gradients ${formatBytes(p.gradientBytes)}`);
    parts.push(
      `AdamW moments ${formatBytes(p.optimizerBytes)}${
        p.optimizerOnHost ? " (in JS arrays, outside the heap)" : ""
      }`,
    );
  }
  const b = Math.max(1, p.microBatch);
  parts.push(
    `activations ${formatBytes(p.peakBytes - inHeapFixed(p))}` +
      ` for ${b} × ${p.seqLength} tokens${
        p.gradientCheckpointing ? " (gradient checkpointing)" : ""
      }`,
  );
  const verdict = p.microBatch === 0
    ? "does not fit even at batch 1"
    : p.microBatch < p.requestedBatch
    ? `batch ${p.requestedBatch} needs ${formatBytes(p.requestedPeakBytes)}, runs as ` +
      `${Math.ceil(p.requestedBatch / p.microBatch)} × ${p.microBatch}`
    : "fits";
  return `memory plan (${p.training ? "training" : "inference"}, ${p.backend}): ` +
    `${parts.join(", ")}; peak ≈ ${formatBytes(p.peakBytes)} of ${formatBytes(p.usableBytes)} ` +
    `usable (${p.limitName} ${formatBytes(p.limitBytes)}): ${verdict}`;
}

/** Raised when even one example per micro-batch does not fit, or the backend ran out of memory. */
export class OutOfMemoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OutOfMemoryError";
  }
}

/** Parameters, gradients and (unless on the host) moments: the bytes that do not depend on the
 *  batch. */
export function inHeapFixed(p: MemoryPlan): number {
  return p.parameterBytes + p.gradientBytes + (p.optimizerOnHost ? 0 : p.optimizerBytes);
}

/** The advice given when a run does not fit. */
export function memoryAdvice(p: MemoryPlan): string {
  const tips = [];
  if (p.training && !p.gradientCheckpointing) {
    tips.push("add --gradient_checkpointing (recomputes activations, far less memory)");
  }
  tips.push(`use a shorter --max_seq_length (now ${p.seqLength})`);
  if (p.backend === "wasm") {
    tips.push("or another backend (TFJS_BACKEND=cpu has no 4 GB heap limit, but is slower)");
  } else tips.push("or another backend (TFJS_BACKEND=...)");
  return tips.join("; ");
}

/** The error thrown before training when even batch 1 does not fit. */
export function doesNotFitError(p: MemoryPlan): OutOfMemoryError {
  const fixed = inHeapFixed(p);
  const what = p.optimizerOnHost
    ? "parameters and gradients"
    : "parameters, gradients and AdamW moments";
  return new OutOfMemoryError(
    `does not fit in memory: one example per micro-batch needs ≈ ${formatBytes(p.peakBytes)} ` +
      `(${what} ${formatBytes(fixed)} + activations ${formatBytes(p.peakBytes - fixed)} for ` +
      `${p.seqLength} tokens), ${p.limitName} allows ${formatBytes(p.limitBytes)} ` +
      `(${formatBytes(p.usableBytes)} usable); stopped before the first update. To fit: ` +
      `${memoryAdvice(p)}.`,
  );
}

/** How a split micro-batch runs, said once at the start of training. */
export function splitMessage(batchSize: number, microBatch: number, plan?: MemoryPlan): string {
  return `batch ${batchSize} runs as ${Math.ceil(batchSize / microBatch)} × ${microBatch}` +
    `${plan ? ` to fit ${plan.limitName}` : ""}`;
}

/**
 * The error a backend running out of memory during training becomes: where it stopped, the
 * memory plan, the last good checkpoint and what to do.
 */
export function trainingOutOfMemoryError(
  e: unknown,
  plan: MemoryPlan | undefined,
  at: { update: number; maxTrainSteps: number; lastCheckpoint: string | null },
): OutOfMemoryError {
  return new OutOfMemoryError(
    `training stopped: the backend ran out of memory (${(e as Error).message ?? e}) at ` +
      `update ${at.update}/${at.maxTrainSteps}. ` +
      `${plan ? describePlan(plan) + ". " : ""}Last good checkpoint: ` +
      `${at.lastCheckpoint ?? "none saved yet"} (left untouched); continue with ` +
      `--resume_from_checkpoint after freeing memory. ` +
      `${plan ? `To fit: ${memoryAdvice(plan)}.` : ""}`.trim(),
  );
}

/** True for the errors a backend throws when it runs out of memory (wasm abort, bad access,
 *  failed allocation). */
export function isOutOfMemory(e: unknown): boolean {
  if (e instanceof RangeError) return true;
  const m = e instanceof Error ? e.message : String(e);
  return /Aborted\(|memory access out of bounds|out of memory|Array buffer allocation failed|Cannot enlarge memory/i
    .test(m);
}

/** Parses a byte count like "4294967296", "3.5GB", "500MB" (10^3 units), or "2GiB". */
export function parseBytes(s: string): number {
  const m = /^\s*([\d.]+)\s*(k|m|g|t)?(i)?b?\s*$/i.exec(s);
  if (!m) throw new Error(`not a byte count: ${JSON.stringify(s)} (e.g. 3GB, 500MB, 2GiB)`);
  const base = m[3] ? 1024 : 1000;
  const pow = { "": 0, k: 1, m: 2, g: 3, t: 4 }[(m[2] ?? "").toLowerCase()]!;
  const n = Number(m[1]) * base ** pow;
  if (!(n > 0)) throw new Error(`not a positive byte count: ${JSON.stringify(s)}`);
  return Math.floor(n);
}

/**
 * The memory the backend can hold: the wasm heap's 4 GiB; for cpu and webgpu the machine's
 * total memory. `TFJS_MEMORY_LIMIT` overrides it.
 */
export function backendMemoryLimit(backend: string): { bytes: number; name: string } {
  const forced = Deno.env.get("TFJS_MEMORY_LIMIT");
  if (forced) return { bytes: parseBytes(forced), name: "TFJS_MEMORY_LIMIT" };
  if (backend === "wasm") return { bytes: WASM_HEAP_LIMIT, name: "the wasm heap" };
  let total = 16e9;
  try {
    total = Deno.systemMemoryInfo().total;
  } catch { /* not permitted: keep the default */ }
  return { bytes: total, name: "the machine's memory" };
}
