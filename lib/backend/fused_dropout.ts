/**
 * Inverted dropout (`torch.nn.Dropout` in training) as one kernel, `ProjectDropout`, whose
 * gradient is the same kernel applied to dy with the same seed: the mask is a function of the
 * seed, so it is drawn again instead of being kept as a tensor. Elements are kept with
 * probability `1 − rate` and scaled by `1 / (1 − rate)`; element i is kept when draw i of
 * `createRng(seed)` is below `1 − rate`.
 *
 * On cpu and wasm the kernel writes straight into the output (the native C kernel of `native.ts`
 * draws the same stream on all cores; without it a JavaScript loop draws it); on other backends
 * the mask is drawn in JavaScript and multiplied with tfjs ops. The three give the same bits.
 * Drawing the mask was the largest cost outside kernels of a training step: ~28 M draws per
 * bert-base window at ~25 ns each in JavaScript (docs/PERF.md).
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { registerOnCpuAndWasm, withMemory } from "./internals.ts";
import { type NativeKernels, nativeKernels } from "./native.ts";
import { createRng, rngInitialState } from "../util/random.ts";

/** Kernel name (cpu and wasm). Attributes: `rate` (0 < rate < 1) and `seed`. */
export const DROPOUT_KERNEL = "ProjectDropout";

/**
 * The dropout mask of `n` elements: `1 / (1 − rate)` where draw i of `createRng(seed)` is below
 * `1 − rate`, else 0 (the reference the kernels are tested against).
 *
 * @example
 * ```ts
 * import { dropoutMask } from "./fused_dropout.ts";
 * import assert from "node:assert/strict";
 *
 * const mask = dropoutMask(1000, 0.5, 7);
 * assert.ok(mask.every((m) => m === 0 || m === 2));
 * assert.deepEqual(mask, dropoutMask(1000, 0.5, 7)); // the seed fixes the mask
 * ```
 */
export function dropoutMask(n: number, rate: number, seed: number): Float32Array {
  const keep = 1 - rate;
  const scale = 1 / keep;
  const mask = new Float32Array(n);
  const rng = createRng(seed);
  for (let i = 0; i < n; i++) mask[i] = rng.next() < keep ? scale : 0;
  return mask;
}

/**
 * `y = x · dropoutMask(x.length, rate, seed)` without building the mask: by the native kernel
 * when `native` is given (by default when the native kernels are open), else (`null`) by a
 * JavaScript loop.
 */
export function dropoutValues(
  x: Float32Array,
  y: Float32Array,
  rate: number,
  seed: number,
  native: NativeKernels | null = nativeKernels() ?? null,
): void {
  const keep = 1 - rate;
  const scale = Math.fround(1 / keep);
  if (native) {
    // u = t / 2³² < keep  ⇔  t < keep · 2³² (exact scaling)  ⇔  t < ⌈keep · 2³²⌉ for integer t.
    return native.dropout(x, y, rngInitialState(seed), Math.ceil(keep * 2 ** 32), scale);
  }
  const rng = createRng(seed);
  for (let i = 0; i < y.length; i++) y[i] = x[i] * (rng.next() < keep ? scale : 0);
}

interface DropoutAttrs {
  rate: number;
  seed: number;
}

function kernel(backendName: "cpu" | "wasm"): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const x = inputs.x as tf.TensorInfo;
    const { rate, seed } = attrs as unknown as DropoutAttrs;
    return withMemory(
      backendName,
      backend,
      [x],
      [x.shape.slice()],
      ([xv], [yv]) => dropoutValues(xv, yv, rate, seed),
    )[0];
  };
}

let registered = false;

/** Registers `ProjectDropout` for cpu and wasm (idempotent). */
export function registerDropoutKernel(): void {
  if (registered) return;
  registerOnCpuAndWasm(DROPOUT_KERNEL, kernel);
  registered = true;
}

/** `t · mask` by the kernel where it is registered, else with a JavaScript-drawn mask. */
function applyMask(t: tf.Tensor, rate: number, seed: number): tf.Tensor {
  if (t.dtype === "float32" && tf.getKernel(DROPOUT_KERNEL, tf.getBackend()) !== undefined) {
    return tf.engine().runKernel(
      DROPOUT_KERNEL,
      { x: t } as unknown as tf.NamedTensorMap,
      { rate, seed } as unknown as tf.NamedAttrMap,
    ) as tf.Tensor;
  }
  return tf.tidy(() => tf.mul(t, tf.tensor(dropoutMask(t.size, rate, seed), t.shape, "float32")));
}

/**
 * Inverted dropout like `torch.nn.Dropout` in training: each element is kept with probability
 * `1 − rate` and scaled by `1 / (1 − rate)`; the mask is fixed by `seed` (a recomputation with
 * the same seed, as gradient checkpointing does, drops the same elements). The gradient is the
 * same mask applied to dy. `rate` 0 returns `x` itself.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { dropout } from "./fused_dropout.ts";
 * import assert from "node:assert/strict";
 *
 * const y = dropout(tf.ones([4, 8]), 0.25, 3).dataSync();
 * assert.ok(y.every((v) => v === 0 || Math.abs(v - 4 / 3) < 1e-6));
 * ```
 */
export function dropout<T extends tf.Tensor>(x: T, rate: number, seed: number): T {
  if (rate <= 0) return x;
  if (rate >= 1) return tf.zerosLike(x);
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: applyMask(args[0] as tf.Tensor, rate, seed),
    gradFunc: (dy: tf.Tensor) => applyMask(dy, rate, seed),
  }));
  return f(x) as T;
}
