/**
 * tfjs kernels replaced on cpu and wasm by the native ones (`native.ts`) once those are open:
 *
 * - `Add` of two float32 tensors of the same shape, or where one is a trailing block of the other
 *   (a bias `[H]` on `[rows, H]`): one multi-threaded pass. wasm's `Add` walks broadcast indices
 *   element by element (~0.4 ms for a `[2048, 128] + [128]` bias add, `bench/profile.ts`).
 * - `Softmax` over the last axis (attention probabilities): one multi-threaded pass per row
 *   (max, exp, sum, scale) instead of wasm's single-threaded kernel (~1.4 ms for
 *   `[16, 2, 128, 128]`). Its exp is the kernels' polynomial (relative error ~2e-7).
 *
 * - `Add` with other broadcasts (the attention mask `[b, 1, 1, s]` on the scores `[b, h, s, s]`,
 *   which wasm's kernel walks index by index) and `Multiply` of float32 tensors: one strided
 *   multi-threaded pass.
 * - `Transpose` of float32 (attention's head split and merge): rows over the threads, contiguous
 *   runs copied whole.
 *
 * Everything else (other dtypes, other axes) goes to the original kernel, kept as the fallback.
 * Add, Multiply and Transpose give the same bits as tfjs's; Softmax agrees to float rounding
 * (tests/backend_native.test.ts).
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { withMemory } from "./internals.ts";
import { nativeKernels } from "./native.ts";

/** Whether `small` is a trailing block of `big` (leading 1s of `small` ignored) and not of higher
 * rank (else the broadcast output would have more dimensions than `big`). */
function isTrailingBlock(big: readonly number[], small: readonly number[]): boolean {
  if (small.length > big.length) return false;
  let lead = 0;
  while (lead < small.length && small[lead] === 1) lead++;
  const s = small.slice(lead);
  return s.every((d, i) => d === big[big.length - s.length + i]);
}

/** Strides of `shape` read as a broadcast operand of `out` (0 on broadcast dimensions). */
function broadcastStrides(shape: readonly number[], out: readonly number[]): number[] {
  const padded = [...new Array(out.length - shape.length).fill(1), ...shape];
  const strides = new Array(out.length).fill(0);
  let s = 1;
  for (let d = out.length - 1; d >= 0; d--) {
    strides[d] = padded[d] === 1 ? 0 : s;
    s *= padded[d];
  }
  return strides;
}

/** `a op b` with any broadcast, one strided pass (`nk_binary_strided`); the float operation is
 * tfjs's, so are the bits. Null when the shapes do not broadcast (tfjs's kernel then says why). */
function stridedBinary(
  op: 0 | 1,
  backendName: "cpu" | "wasm",
  args: Parameters<tf.KernelFunc>[0],
  a: tf.TensorInfo,
  b: tf.TensorInfo,
): tf.TensorInfo | null {
  let out: number[];
  try {
    out = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
  } catch {
    return null;
  }
  if (out.length === 0 || tf.util.sizeFromShape(out) === 0) return null;
  const native = nativeKernels()!;
  const sa = broadcastStrides(a.shape, out), sb = broadcastStrides(b.shape, out);
  return withMemory(
    backendName,
    args.backend,
    [a, b],
    [out],
    ([x, y], [o]) => native.binaryStrided(op, x, y, o, out, sa, sb),
  )[0];
}

function addKernel(backendName: "cpu" | "wasm", fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const native = nativeKernels();
    if (!native || a.dtype !== "float32" || b.dtype !== "float32") return fallback(args);
    const sa = tf.util.sizeFromShape(a.shape), sb = tf.util.sizeFromShape(b.shape);
    // The full-size operand first; float addition is commutative, so the bits are tfjs's.
    const [big, small] = sa >= sb ? [a, b] : [b, a];
    if (Math.min(sa, sb) === 0) return fallback(args);
    if (!isTrailingBlock(big.shape, small.shape)) {
      // Other broadcasts (the attention mask [b, 1, 1, s] on scores [b, h, s, s]).
      return stridedBinary(0, backendName, args, a, b) ?? fallback(args);
    }
    return withMemory(
      backendName,
      args.backend,
      [big, small],
      [big.shape.slice()],
      ([x, y], [out]) => native.add(x, y, out),
    )[0];
  };
}

function softmaxKernel(backendName: "cpu" | "wasm", fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const logits = args.inputs.logits as tf.TensorInfo;
    const { dim } = args.attrs as unknown as { dim: number };
    const native = nativeKernels();
    const rank = logits.shape.length;
    const last = dim === -1 || dim === rank - 1;
    if (
      !native || logits.dtype !== "float32" || !last || rank === 0 ||
      tf.util.sizeFromShape(logits.shape) === 0
    ) {
      return fallback(args);
    }
    const h = logits.shape[rank - 1];
    return withMemory(
      backendName,
      args.backend,
      [logits],
      [logits.shape.slice()],
      ([x], [y]) => native.softmax(x, y, h),
    )[0];
  };
}

function multiplyKernel(backendName: "cpu" | "wasm", fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    if (!nativeKernels() || a.dtype !== "float32" || b.dtype !== "float32") return fallback(args);
    if (tf.util.sizeFromShape(a.shape) === 0 || tf.util.sizeFromShape(b.shape) === 0) {
      return fallback(args);
    }
    return stridedBinary(1, backendName, args, a, b) ?? fallback(args);
  };
}

function transposeKernel(backendName: "cpu" | "wasm", fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    const { perm } = args.attrs as unknown as { perm: number[] };
    const native = nativeKernels();
    const rank = x.shape.length;
    if (!native || x.dtype !== "float32" || rank < 2 || tf.util.sizeFromShape(x.shape) === 0) {
      return fallback(args);
    }
    const inStrides = broadcastStrides(x.shape, x.shape).map((s, d) =>
      s === 0 ? tf.util.sizeFromShape(x.shape.slice(d + 1)) : s
    );
    const shape = perm.map((p) => x.shape[p]);
    const strides = perm.map((p) => inStrides[p]);
    return withMemory(
      backendName,
      args.backend,
      [x],
      [shape],
      ([xv], [y]) => native.transpose(xv, y, shape, strides),
    )[0];
  };
}

const REPLACEMENTS: Record<string, typeof addKernel> = {
  Add: addKernel,
  Multiply: multiplyKernel,
  Softmax: softmaxKernel,
  Transpose: transposeKernel,
};

let registered = false;

/**
 * Replaces `Add` and `Softmax` on cpu and wasm when the native kernels are open (call after
 * `openNative`). Idempotent; a no-op without them.
 */
export function registerNativeOps(): boolean {
  if (registered) return true;
  if (!nativeKernels()) return false;
  for (const backendName of ["cpu", "wasm"] as const) {
    for (const [kernelName, make] of Object.entries(REPLACEMENTS)) {
      const original = tf.getKernel(kernelName, backendName);
      if (!original) continue;
      tf.unregisterKernel(kernelName, backendName);
      tf.registerKernel({ ...original, kernelFunc: make(backendName, original.kernelFunc) });
    }
  }
  registered = true;
  return true;
}

/** Names of the kernels {@link registerNativeOps} replaces. */
export const NATIVE_OP_KERNELS = Object.keys(REPLACEMENTS);
