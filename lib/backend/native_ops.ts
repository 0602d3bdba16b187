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
 * Everything else (other dtypes, other broadcasts, other axes) goes to the original kernel,
 * kept as the fallback. The Add gives the same bits as tfjs's; Softmax agrees to float rounding
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

function addKernel(backendName: "cpu" | "wasm", fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const native = nativeKernels();
    if (!native || a.dtype !== "float32" || b.dtype !== "float32") return fallback(args);
    const sa = tf.util.sizeFromShape(a.shape), sb = tf.util.sizeFromShape(b.shape);
    // The full-size operand first; float addition is commutative, so the bits are tfjs's.
    const [big, small] = sa >= sb ? [a, b] : [b, a];
    if (Math.min(sa, sb) === 0 || !isTrailingBlock(big.shape, small.shape)) return fallback(args);
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

const REPLACEMENTS: Record<string, typeof addKernel> = { Add: addKernel, Softmax: softmaxKernel };

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
