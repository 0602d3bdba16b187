/**
 * Multi-head self-attention, `softmax(q kᵀ / √d + mask) v` per head (HF `BertSelfAttention`
 * after its three projections), composed from tfjs ops or, in evaluation on cpu and wasm with the
 * native kernels and their GEMM linked, as one kernel (`ProjectAttention`, C `nk_attention`).
 *
 * The composed form splits the heads with a transpose of each of q, k and v, scales q, runs two
 * batched matMuls around the mask add and the softmax, and merges the heads with a fourth
 * transpose: nine kernels and four full passes over `[N, heads, T, T]` scores. The fused kernel
 * reads the heads in place from the `[N·T, H]` rows, keeps each head's scores in a per-thread
 * buffer, and writes the context straight into the merged layout, with the same float operations
 * in the same order (the same bits: tests/backend_attention.test.ts), including under `--bf16`,
 * where its two products round their operands to bf16 and multiply through oneDNN as every bf16
 * matMul does. It has no gradient, so it runs only where no gradient is taken and no dropout is
 * drawn: `evaluate`, `predict`, the answering API and the report's validation.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { registerOnCpuAndWasm, withMemory } from "./internals.ts";
import { nativeKernels } from "./native.ts";
import { matmulPrecision } from "./bf16.ts";

/** Name of the fused kernel registered for cpu and wasm. */
export const ATTENTION_KERNEL = "ProjectAttention";

/** Shape facts of one attention call. */
export interface AttentionDims {
  /** Sequences in the batch. */
  n: number;
  /** Tokens per sequence. */
  t: number;
  /** `num_attention_heads`; the hidden size is a multiple of it. */
  heads: number;
}

/**
 * Self-attention from tfjs ops. `q`, `k`, `v`: `[N·T, H]` (the projections' outputs), `mask`:
 * `[N, 1, 1, T]` additive (0 at tokens, a large negative value at padding) or null; `dropProbs`,
 * when given, is applied to the probabilities before they weight `v` (attention dropout in
 * training). Returns the context `[N·T, H]`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { attentionComposite } from "./fused_attention.ts";
 * // N = 2 sequences of T = 2 tokens, H = 6 (3 heads of 2)
 * const x = tf.tensor2d(Array.from({ length: 24 }, (_, i) => i / 24), [4, 6]);
 * const out = attentionComposite(x, x, x, null, { n: 2, t: 2, heads: 3 });
 * console.log(out.shape); // [4, 6]
 * tf.dispose([x, out]);
 * ```
 */
export function attentionComposite(
  q: tf.Tensor2D,
  k: tf.Tensor2D,
  v: tf.Tensor2D,
  mask: tf.Tensor | null,
  { n, t, heads }: AttentionDims,
  dropProbs?: (probs: tf.Tensor4D) => tf.Tensor4D,
): tf.Tensor2D {
  const H = q.shape[1];
  const dh = H / heads;
  const split = (x: tf.Tensor2D) => tf.transpose(tf.reshape(x, [n, t, heads, dh]), [0, 2, 1, 3]); // [N, heads, T, dh]
  let scores = tf.matMul(tf.mul(split(q), 1 / Math.sqrt(dh)), split(k), false, true); // [N, heads, T, T]
  if (mask) scores = tf.add(scores, mask); // [N, heads, T, T]
  let probs = tf.softmax(scores, -1) as tf.Tensor4D; // [N, heads, T, T]
  if (dropProbs) probs = dropProbs(probs); // [N, heads, T, T]
  const context = tf.transpose(tf.matMul(probs, split(v)), [0, 2, 1, 3]); // [N, T, heads, dh]
  return tf.reshape(context, [n * t, H]) as tf.Tensor2D; // [N·T, H]
}

/**
 * Whether {@link attention} without dropout runs as the fused kernel on the current backend:
 * cpu or wasm, the kernel registered and the native GEMM linked.
 *
 * @example
 * ```ts
 * import { fusedAttentionActive } from "./fused_attention.ts";
 * console.log(typeof fusedAttentionActive()); // "boolean"
 * ```
 */
export function fusedAttentionActive(): boolean {
  const backend = tf.getBackend();
  return registered && (backend === "wasm" || backend === "cpu") &&
    nativeKernels()?.blasLinked() === true;
}

/**
 * Self-attention (see {@link attentionComposite} for the arguments): the fused kernel when
 * `fused` is set, {@link fusedAttentionActive} holds and no gradient tape is recording; the
 * composed ops otherwise (also whenever `dropProbs` is given).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { attention } from "./fused_attention.ts";
 * const x = tf.tensor2d(Array.from({ length: 24 }, (_, i) => i / 24), [4, 6]);
 * const mask = tf.zeros([2, 1, 1, 2]);
 * const out = attention(x, x, x, mask, { n: 2, t: 2, heads: 3 }, { fused: true });
 * console.log(out.shape); // [4, 6]
 * tf.dispose([x, mask, out]);
 * ```
 */
export function attention(
  q: tf.Tensor2D,
  k: tf.Tensor2D,
  v: tf.Tensor2D,
  mask: tf.Tensor | null,
  dims: AttentionDims,
  { fused = false, dropProbs }: {
    fused?: boolean;
    dropProbs?: (probs: tf.Tensor4D) => tf.Tensor4D;
  } = {},
): tf.Tensor2D {
  // No tape may be recording: the kernel has no gradient (a forward in evaluation mode can still
  // run under tf.grad, e.g. a gradient check without dropout).
  const taped = tf.engine().state.gradientDepth > 0;
  if (fused && !dropProbs && !taped && fusedAttentionActive()) {
    // The kernel checks its inputs (checkAttentionInputs).
    const inputs: tf.NamedTensorMap = mask ? { q, k, v, mask } : { q, k, v };
    return tf.engine().runKernel(ATTENTION_KERNEL, inputs, {
      ...dims,
    } as unknown as tf.NamedAttrMap) as tf.Tensor2D;
  }
  checkAttentionInputs(q, k, v, mask, dims);
  return attentionComposite(q, k, v, mask, dims, dropProbs);
}

/** What the checks read of a tensor (a `tf.Tensor` or a kernel's `TensorInfo`). */
type Operand = Pick<tf.TensorInfo, "shape" | "dtype">;

/** Shapes and dtypes {@link attention} needs (the fused kernel reads memory by them): throws
 * with the argument's name and what is wrong. */
function checkAttentionInputs(
  q: Operand,
  k: Operand,
  v: Operand,
  mask: Operand | null | undefined,
  { n, t, heads }: AttentionDims,
): void {
  const fail = (what: string) => {
    throw new Error(`attention: ${what}`);
  };
  if (![n, t, heads].every((d) => Number.isInteger(d) && d > 0)) {
    fail(`n, t and heads must be positive integers, got ${n}, ${t}, ${heads}`);
  }
  if (q.shape.length !== 2 || q.shape[0] !== n * t) {
    fail(`q has shape [${q.shape}], expected [${n * t}, H] (n · t rows)`);
  }
  if ((q.shape[1] ?? 0) % heads !== 0) {
    fail(`hidden size ${q.shape[1]} is not a multiple of ${heads} heads`);
  }
  for (const [name, x] of [["k", k], ["v", v]] as const) {
    if (x.shape.join() !== q.shape.join()) fail(`${name} has shape [${x.shape}], q [${q.shape}]`);
  }
  for (const [name, x] of [["q", q], ["k", k], ["v", v], ["mask", mask]] as const) {
    if (x && x.dtype !== "float32") fail(`${name} is ${x.dtype}, expected float32`);
  }
  if (mask && tf.util.sizeFromShape(mask.shape) !== n * t) {
    fail(`mask has shape [${mask.shape}], expected ${n * t} values ([n, 1, 1, t])`);
  }
}

function kernel(backendName: "cpu" | "wasm"): tf.KernelFunc {
  return (args) => {
    const { q, k, v, mask } = args.inputs as Record<string, tf.TensorInfo>;
    const { n, t, heads } = args.attrs as unknown as AttentionDims;
    const H = q.shape[1];
    checkAttentionInputs(q, k, v, mask, { n, t, heads });
    const ins = mask ? [q, k, v, mask] : [q, k, v];
    return withMemory(backendName, args.backend, ins, [[n * t, H]], (views, [out]) => {
      const ok = nativeKernels()!.attention(
        views[0],
        views[1],
        views[2],
        mask ? views[3] : null,
        out,
        { n, t, heads, dh: H / heads },
        Math.fround(1 / Math.sqrt(H / heads)),
        matmulPrecision() === "bf16",
      );
      if (!ok) throw new Error(`${ATTENTION_KERNEL}: the native kernel could not run`);
    })[0];
  };
}

let registered = false;

/**
 * Registers `ProjectAttention` for cpu and wasm when the native kernels are open (call after
 * `openNative`). Idempotent; a no-op without them.
 */
export function registerAttentionKernel(): boolean {
  if (registered) return true;
  if (!nativeKernels()) return false;
  registerOnCpuAndWasm(ATTENTION_KERNEL, kernel);
  return registered = true;
}
