/**
 * Softmax gradient in one kernel: dx = y·(dy − Σ_last dy·y) per row of the last axis. tfjs's own
 * gradient composes it from four kernels (Multiply, Sum, Multiply, Sub), each a full pass over the
 * attention probabilities ([batch, heads, seq, seq]; ~200 ms of a bert-base training step on wasm,
 * `bench/profile.ts`).
 *
 * The `ProjectSoftmaxGrad` kernel runs on cpu and wasm through the native kernels (`native.ts`)
 * and is registered only when they are available. The Softmax gradient is replaced by one that
 * uses the kernel when it is registered for the current backend, the input is float32 and the
 * softmax is over the last axis, and otherwise calls tfjs's original gradient unchanged.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { registerOnCpuAndWasm, withMemory } from "./internals.ts";
import { nativeKernels } from "./native.ts";

/** Kernel name (cpu and wasm, with the native kernels only). */
export const SOFTMAX_GRAD_KERNEL = "ProjectSoftmaxGrad";

/** tfjs's composition (the reference in tests): y·dy − Σ(y·dy)·y over the last axis. */
export function softmaxGradComposite(dy: tf.Tensor, y: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const dyy = tf.mul(dy, y);
    return tf.sub(dyy, tf.mul(tf.sum(dyy, -1, true), y));
  });
}

function kernel(backendName: "cpu" | "wasm"): tf.KernelFunc {
  return ({ inputs, backend }) => {
    const { dy, y } = inputs as { dy: tf.TensorInfo; y: tf.TensorInfo };
    const native = nativeKernels();
    if (!native) throw new Error(`${SOFTMAX_GRAD_KERNEL}: native kernels are not loaded`);
    const h = y.shape[y.shape.length - 1];
    return withMemory(
      backendName,
      backend,
      [dy, y],
      [y.shape.slice()],
      ([dyv, yv], [dxv]) => native.softmaxGrad(dyv, yv, dxv, h),
    )[0];
  };
}

let registered = false;

/**
 * Registers `ProjectSoftmaxGrad` for cpu and wasm and the Softmax gradient that uses it, when
 * the native kernels are open (call after `openNative`). Idempotent; a no-op without them.
 */
export function registerSoftmaxGrad(): boolean {
  if (registered) return true;
  if (!nativeKernels()) return false;
  registerOnCpuAndWasm(SOFTMAX_GRAD_KERNEL, kernel);
  const original = tf.getGradient(tf.Softmax);
  if (!original) return false;
  tf.registerGradient({
    ...original,
    gradFunc: (dy, saved, attrs) => {
      const [y] = saved;
      const dim = (attrs as unknown as { dim: number }).dim;
      const last = dim === -1 || dim === y.rank - 1;
      const d = dy as tf.Tensor;
      if (
        last && y.dtype === "float32" && d.dtype === "float32" &&
        tf.getKernel(SOFTMAX_GRAD_KERNEL, tf.getBackend()) !== undefined
      ) {
        return {
          logits: () =>
            tf.engine().runKernel(
              SOFTMAX_GRAD_KERNEL,
              { dy: d, y } as unknown as tf.NamedTensorMap,
            ) as tf.Tensor,
        };
      }
      return original.gradFunc(dy, saved, attrs);
    },
  });
  registered = true;
  return true;
}
