/**
 * The arithmetic of one AdamW update of one parameter, in a single pass: the update that the
 * optimizer `AdamW` (lib/training/adamw.ts, which keeps the state and documents the algorithm)
 * asks for in `AdamW.step`. In `torch.optim.AdamW`'s terms, decoupled weight decay before the
 * Adam step:
 *
 *     m ← β1·m + (1 − β1)·g;   v ← β2·v + (1 − β2)·g²
 *     p ← p·keep − stepSize · m / (√v / bc2Sqrt + ε)
 *     keep = 1 − lr·wd;   stepSize = lr / (1 − β1^t);   bc2Sqrt = √(1 − β2^t)
 *
 * The pieces, each named `adamw…`:
 * - {@link adamwCoefficients}: `stepSize`, `bc2Sqrt` and `keep` from the learning rate and the
 *   parameter's step, computed once per update for every path below (so they round alike);
 * - {@link adamwValues}: the update's loop on plain arrays, or the native C kernel `nk_adamw`
 *   (multi-threaded, lib/backend/native.ts) over the same memory when that library is loaded;
 * - the `ProjectAdamW` kernel ({@link ADAMW_KERNEL}; `adamwCpuKernel`, `adamwWasmKernel` here,
 *   `adamwKernel` in webgpu_kernels.ts) for moments kept as tensors, run by {@link adamwUpdate};
 * - the `ProjectAdamWHostMoments` kernel (`adamwHostMomentsKernel`) for moments kept in
 *   JavaScript arrays, run by {@link adamwUpdateHostMoments};
 * - {@link adamwComposite}: the same update from tfjs ops, for other backends and as the
 *   reference in tests.
 *
 * Composed from tfjs ops the update is ~12 kernels and as many full passes over memory per
 * parameter; for a 21,128-row embedding that alone is ~65 ms per step on wasm (measured with
 * `bench/profile.ts`). On wasm and cpu the `ProjectAdamW` kernel does it in one loop. With the
 * optional native kernels the loop runs in C on all cores (~4x faster over bert-base's 102 M
 * parameters).
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { CpuBackendLike, WasmBackendLike } from "./internals.ts";
import { type NativeKernels, nativeKernels } from "./native.ts";

/** Hyper-parameters of one update. `step` is the parameter's own 1-based step count. */
export interface AdamWUpdateAttrs {
  lr: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
  step: number;
}

/** Kernel name (registered for `cpu` and `wasm`). */
export const ADAMW_KERNEL = "ProjectAdamW";

/**
 * The scalars of one update, derived once from the learning rate and the parameter's step and
 * shared by every path (JavaScript loop, C kernel, webgpu kernel, tfjs ops) so they round alike:
 * `stepSize = lr / (1 − β1^t)`, `bc2Sqrt = √(1 − β2^t)`, `keep = 1 − lr·wd`.
 */
export function adamwCoefficients(
  a: AdamWUpdateAttrs,
): { stepSize: number; bc2Sqrt: number; keep: number } {
  const bc1 = 1 - Math.pow(a.beta1, a.step);
  const bc2 = 1 - Math.pow(a.beta2, a.step);
  return { stepSize: a.lr / bc1, bc2Sqrt: Math.sqrt(bc2), keep: 1 - a.lr * a.weightDecay };
}

/**
 * The update on plain arrays: reads `p, m, v, g`, writes `outP, outM, outV` (which may not
 * alias the inputs' memory when inputs are shared elsewhere; they are separate here).
 */
export function adamwValues(
  p: Float32Array,
  m: Float32Array,
  v: Float32Array,
  g: Float32Array,
  outP: Float32Array,
  outM: Float32Array,
  outV: Float32Array,
  a: AdamWUpdateAttrs,
  native: NativeKernels | null = nativeKernels() ?? null,
): void {
  const c = adamwCoefficients(a);
  if (native) {
    // Multi-threaded C over the same memory (lib/backend/native.ts), float32 arithmetic.
    return native.adamw([p, m, v, g], [outP, outM, outV], { ...a, ...c });
  }
  const { stepSize, bc2Sqrt, keep } = c;
  const b1 = a.beta1, b2 = a.beta2, c1 = 1 - a.beta1, c2 = 1 - a.beta2, eps = a.epsilon;
  const n = p.length;
  // The step reads the moments back from float32 storage, as the C kernel and torch (float32
  // state) use them. `outM`/`outV` may alias `m`/`v`: each element is read before it is written.
  for (let i = 0; i < n; i++) {
    outM[i] = b1 * m[i] + c1 * g[i];
    outV[i] = b2 * v[i] + c2 * g[i] * g[i];
    outP[i] = p[i] * keep - stepSize * outM[i] / (Math.sqrt(outV[i]) / bc2Sqrt + eps);
  }
}

type Inputs = { p: tf.TensorInfo; m: tf.TensorInfo; v: tf.TensorInfo; g: tf.TensorInfo };

/** `ProjectAdamW` on cpu: {@link adamwValues} on the backend's arrays into three new ones. */
const adamwCpuKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { p, m, v, g } = inputs as unknown as Inputs;
  const be = backend as unknown as CpuBackendLike;
  const n = tf.util.sizeFromShape(p.shape);
  const outs = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
  const val = (t: tf.TensorInfo) => be.data.get(t.dataId).values;
  adamwValues(
    val(p),
    val(m),
    val(v),
    val(g),
    outs[0],
    outs[1],
    outs[2],
    attrs as unknown as AdamWUpdateAttrs,
  );
  return outs.map((o) => be.makeTensorInfo(p.shape.slice(), "float32", o));
};

/** `ProjectAdamW` on wasm: {@link adamwValues} on heap views, into three new heap outputs. */
const adamwWasmKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { p, m, v, g } = inputs as unknown as Inputs;
  const be = backend as unknown as WasmBackendLike;
  const outs = [0, 1, 2].map(() => be.makeOutput(p.shape.slice(), "float32"));
  // Views after all allocations (a heap growth detaches older views).
  const h = (t: tf.TensorInfo) => be.typedArrayFromHeap(t);
  adamwValues(
    h(p),
    h(m),
    h(v),
    h(g),
    h(outs[0]),
    h(outs[1]),
    h(outs[2]),
    attrs as unknown as AdamWUpdateAttrs,
  );
  return outs;
};

/** Attributes of `ProjectAdamWHostMoments`: the update's and the moments' arrays. */
type HostMomentAttrs = AdamWUpdateAttrs & { m: Float32Array; v: Float32Array };

/** The update with the moments in JavaScript arrays (updated in place): only p is a new tensor,
 * written straight into the backend's memory (no copies of p and g out and back in). */
function adamwHostMomentsKernel(backendName: "cpu" | "wasm"): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { p, g } = inputs as unknown as { p: tf.TensorInfo; g: tf.TensorInfo };
    const a = attrs as unknown as HostMomentAttrs;
    if (backendName === "cpu") {
      const be = backend as unknown as CpuBackendLike;
      const out = new Float32Array(tf.util.sizeFromShape(p.shape));
      const val = (t: tf.TensorInfo) => be.data.get(t.dataId).values;
      adamwValues(val(p), a.m, a.v, val(g), out, a.m, a.v, a);
      return be.makeTensorInfo(p.shape.slice(), "float32", out);
    }
    const be = backend as unknown as WasmBackendLike;
    const out = be.makeOutput(p.shape.slice(), "float32");
    const h = (t: tf.TensorInfo) => be.typedArrayFromHeap(t);
    adamwValues(h(p), a.m, a.v, h(g), h(out), a.m, a.v, a);
    return out;
  };
}

/** Kernel name of the update with host moments (cpu and wasm). */
export const ADAMW_HOST_MOMENTS_KERNEL = "ProjectAdamWHostMoments";

let registered = false;

/** Registers `ProjectAdamW` and `ProjectAdamWHostMoments` for cpu and wasm (idempotent). */
export function registerAdamWKernels(): void {
  if (registered) return;
  const kernels = [
    ["cpu", ADAMW_KERNEL, adamwCpuKernel],
    ["wasm", ADAMW_KERNEL, adamwWasmKernel],
    ["cpu", ADAMW_HOST_MOMENTS_KERNEL, adamwHostMomentsKernel("cpu")],
    ["wasm", ADAMW_HOST_MOMENTS_KERNEL, adamwHostMomentsKernel("wasm")],
  ] as const;
  for (const [backendName, kernelName, kernelFunc] of kernels) {
    if (tf.getKernel(kernelName, backendName)) tf.unregisterKernel(kernelName, backendName);
    tf.registerKernel({ kernelName, backendName, kernelFunc });
  }
  registered = true;
}

/**
 * One AdamW update of `p` whose moments `m` and `v` are JavaScript arrays (updated in place; the
 * optimizer keeps them outside the wasm heap). Returns the new parameter values as a tensor
 * (the caller assigns and disposes it). One kernel on cpu and wasm; elsewhere p and g are read
 * back, updated with {@link adamwValues} and uploaded again. Same arithmetic on every path.
 */
export function adamwUpdateHostMoments(
  p: tf.Tensor,
  g: tf.Tensor,
  m: Float32Array,
  v: Float32Array,
  attrs: AdamWUpdateAttrs,
): tf.Tensor {
  if (m.length !== p.size || v.length !== p.size || !sameShape(g.shape, p.shape)) {
    throw new Error(
      `adamwUpdateHostMoments: g [${g.shape}], m ${m.length} and v ${v.length} values do not ` +
        `match the parameter [${p.shape}]`,
    );
  }
  const fused = p.dtype === "float32" && g.dtype === "float32" &&
    tf.getKernel(ADAMW_HOST_MOMENTS_KERNEL, tf.getBackend()) !== undefined;
  if (fused) {
    return tf.engine().runKernel(
      ADAMW_HOST_MOMENTS_KERNEL,
      { p, g } as unknown as tf.NamedTensorMap,
      { ...attrs, m, v } as unknown as tf.NamedAttrMap,
    ) as tf.Tensor;
  }
  const out = new Float32Array(p.size);
  const pv = p.dataSync() as Float32Array, gv = g.dataSync() as Float32Array;
  adamwValues(pv, m, v, gv, out, m, v, attrs);
  return tf.tensor(out, p.shape, "float32");
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** The same update composed from tfjs ops (any backend; also the reference in tests). */
export function adamwComposite(
  p: tf.Tensor,
  m: tf.Tensor,
  v: tf.Tensor,
  g: tf.Tensor,
  a: AdamWUpdateAttrs,
): { p: tf.Tensor; m: tf.Tensor; v: tf.Tensor } {
  const { stepSize, bc2Sqrt, keep } = adamwCoefficients(a);
  return tf.tidy(() => {
    const newM = tf.add(tf.mul(m, a.beta1), tf.mul(g, 1 - a.beta1));
    const newV = tf.add(tf.mul(v, a.beta2), tf.mul(tf.square(g), 1 - a.beta2));
    const denom = tf.add(tf.div(tf.sqrt(newV), bc2Sqrt), a.epsilon);
    const decayed = keep !== 1 ? tf.mul(p, keep) : p;
    const newP = tf.sub(decayed, tf.mul(tf.div(newM, denom), stepSize));
    return { p: newP, m: newM, v: newV };
  });
}

/**
 * New values of `p`, `m` and `v` after one AdamW update with gradient `g` (all float32, same
 * shape). One fused kernel on cpu and wasm, composed ops elsewhere. The caller assigns the
 * results (e.g. `param.assign(r.p)`) and disposes them.
 */
export function adamwUpdate(
  p: tf.Tensor,
  m: tf.Tensor,
  v: tf.Tensor,
  g: tf.Tensor,
  attrs: AdamWUpdateAttrs,
): { p: tf.Tensor; m: tf.Tensor; v: tf.Tensor } {
  for (const [k, t] of [["m", m], ["v", v], ["g", g]] as const) {
    if (!sameShape(t.shape, p.shape)) {
      throw new Error(`adamwUpdate: ${k} has shape [${t.shape}], parameter [${p.shape}]`);
    }
  }
  const fused = [p, m, v, g].every((t) => t.dtype === "float32") &&
    tf.getKernel(ADAMW_KERNEL, tf.getBackend()) !== undefined;
  if (!fused) return adamwComposite(p, m, v, g, attrs);
  const [np, nm, nv] = tf.engine().runKernel(
    ADAMW_KERNEL,
    { p, m, v, g } as unknown as tf.NamedTensorMap,
    attrs as unknown as tf.NamedAttrMap,
  ) as tf.Tensor[];
  return { p: np, m: nm, v: nv };
}
