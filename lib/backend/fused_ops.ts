/**
 * Fused BERT building blocks with their own gradients: exact (erf) GELU and LayerNorm over the
 * last axis. Each is one forward kernel and one backward kernel written as a single JavaScript
 * loop over the tensors' memory (or the multi-threaded C kernels of `native.ts` when they are
 * open; the JavaScript loops stay as the readable reference they are tested against); composed from tfjs ops that is 5 (GELU) and ~10 (LayerNorm)
 * kernels forward and about twice as many backward, each a full pass over memory.
 * Measured with `bench/fused_ops_bench.ts` (forward + backward at the M sizes): LayerNorm is
 * 2–3x faster on wasm and ~6x on cpu; GELU is ~2x faster on cpu but ~3x SLOWER on wasm (V8's
 * `Math.exp` per element against tfjs's compiled Erf/Exp), so the GELU kernels are registered
 * for cpu only. Other backends (wasm for GELU, webgpu, tensorflow) compose the same math from
 * tfjs ops.
 *
 * GELU uses Φ(x) = erfc(−x/√2)/2 with the Numerical Recipes `erfcc` approximation (fractional
 * error < 1.2e-7 everywhere, so the negative tail keeps its relative accuracy).
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { withMemory } from "./internals.ts";
import { nativeKernels } from "./native.ts";

/** Kernel names registered for cpu and wasm. */
export const FUSED_OP_KERNELS = [
  "ProjectGelu",
  "ProjectGeluGrad",
  "ProjectLayerNorm",
  "ProjectLayerNormGrad",
  "ProjectAddLayerNorm",
] as const;

const INV_SQRT2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** erfc(z) (Numerical Recipes `erfcc`, fractional error < 1.2e-7). */
export function erfc(z: number): number {
  const a = Math.abs(z);
  const t = 1 / (1 + 0.5 * a);
  const r = t * Math.exp(
    -a * a - 1.26551223 +
      t * (1.00002368 +
          t * (0.37409196 +
              t * (0.09678418 +
                  t * (-0.18628806 +
                      t * (0.27886807 +
                          t *
                            (-1.13520398 +
                              t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
  );
  return z >= 0 ? r : 2 - r;
}

/** y = x·Φ(x). */
export function geluValues(x: ArrayLike<number>, y: Float32Array): void {
  const native = nativeKernels();
  if (native && x instanceof Float32Array) return native.gelu(x, y);
  const n = y.length;
  for (let i = 0; i < n; i++) {
    const v = x[i];
    y[i] = 0.5 * v * erfc(-v * INV_SQRT2);
  }
}

/** dx = dy·(Φ(x) + x·φ(x)). */
export function geluGradValues(
  dy: ArrayLike<number>,
  x: ArrayLike<number>,
  dx: Float32Array,
): void {
  const native = nativeKernels();
  if (native && dy instanceof Float32Array && x instanceof Float32Array) {
    return native.geluGrad(dy, x, dx);
  }
  const n = dx.length;
  for (let i = 0; i < n; i++) {
    const v = x[i];
    const cdf = 0.5 * erfc(-v * INV_SQRT2);
    dx[i] = dy[i] * (cdf + v * INV_SQRT_2PI * Math.exp(-0.5 * v * v));
  }
}

/**
 * LayerNorm of `rows` rows of `h` values: y = (x − mean)·rstd·γ + β with the population variance
 * (PyTorch / tf.moments) and rstd = 1/√(var + eps). Also writes each row's mean and rstd.
 */
export function layerNormValues(
  x: ArrayLike<number>,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  rows: number,
  h: number,
  eps: number,
  y: Float32Array,
  mean: Float32Array,
  rstd: Float32Array,
): void {
  for (let r = 0; r < rows; r++) {
    const o = r * h;
    let s = 0;
    for (let j = 0; j < h; j++) s += x[o + j];
    const mu = s / h;
    let q = 0;
    for (let j = 0; j < h; j++) {
      const d = x[o + j] - mu;
      q += d * d;
    }
    const rs = 1 / Math.sqrt(q / h + eps);
    mean[r] = mu;
    rstd[r] = rs;
    for (let j = 0; j < h; j++) y[o + j] = (x[o + j] - mu) * rs * gamma[j] + beta[j];
  }
}

/**
 * LayerNorm backward: with x̂ = (x − mean)·rstd and g = dy·γ,
 * dx = rstd·(g − mean(g) − x̂·mean(g·x̂)), dγ = Σ_rows dy·x̂, dβ = Σ_rows dy.
 */
export function layerNormGradValues(
  dy: ArrayLike<number>,
  x: ArrayLike<number>,
  gamma: ArrayLike<number>,
  mean: ArrayLike<number>,
  rstd: ArrayLike<number>,
  rows: number,
  h: number,
  dx: Float32Array,
  dgamma: Float32Array,
  dbeta: Float32Array,
): void {
  const dg = new Float64Array(h), db = new Float64Array(h);
  for (let r = 0; r < rows; r++) {
    const o = r * h, mu = mean[r], rs = rstd[r];
    let sg = 0, sgx = 0;
    for (let j = 0; j < h; j++) {
      const xh = (x[o + j] - mu) * rs;
      const d = dy[o + j];
      const g = d * gamma[j];
      sg += g;
      sgx += g * xh;
      dg[j] += d * xh;
      db[j] += d;
    }
    const mg = sg / h, mgx = sgx / h;
    for (let j = 0; j < h; j++) {
      const xh = (x[o + j] - mu) * rs;
      dx[o + j] = rs * (dy[o + j] * gamma[j] - mg - xh * mgx);
    }
  }
  for (let j = 0; j < h; j++) {
    dgamma[j] = dg[j];
    dbeta[j] = db[j];
  }
}

// ---- kernels over the backends' memory -------------------------------------------------------

/** Rows of a LayerNorm input: `h` values each (its last dimension), `rows` of them. */
function rowsOf(x: tf.TensorInfo): { h: number; rows: number } {
  const h = x.shape[x.shape.length - 1];
  return { h, rows: tf.util.sizeFromShape(x.shape) / h };
}

function kernels(backendName: "cpu" | "wasm"): Record<string, tf.KernelFunc> {
  return {
    ProjectGelu: ({ inputs, backend }) => {
      const x = inputs.x as tf.TensorInfo;
      return withMemory(
        backendName,
        backend,
        [x],
        [x.shape],
        ([xv], [yv]) => geluValues(xv, yv),
      )[0];
    },
    ProjectGeluGrad: ({ inputs, backend }) => {
      const { dy, x } = inputs as { dy: tf.TensorInfo; x: tf.TensorInfo };
      return withMemory(
        backendName,
        backend,
        [dy, x],
        [x.shape],
        ([dyv, xv], [dxv]) => geluGradValues(dyv, xv, dxv),
      )[0];
    },
    ProjectLayerNorm: ({ inputs, backend, attrs }) => {
      const { x, gamma, beta } = inputs as {
        x: tf.TensorInfo;
        gamma: tf.TensorInfo;
        beta: tf.TensorInfo;
      };
      const eps = (attrs as unknown as { eps: number }).eps;
      const { h, rows } = rowsOf(x);
      return withMemory(
        backendName,
        backend,
        [x, gamma, beta],
        [x.shape, [rows], [rows]],
        ([xv, gv, bv], [yv, mv, rv]) => {
          const native = nativeKernels();
          if (native) native.layerNorm(xv, gv, bv, h, eps, yv, mv, rv);
          else layerNormValues(xv, gv, bv, rows, h, eps, yv, mv, rv);
        },
      );
    },
    ProjectAddLayerNorm: ({ inputs, backend, attrs }) => {
      const { a, b, gamma, beta } = inputs as Record<string, tf.TensorInfo>;
      const eps = (attrs as unknown as { eps: number }).eps;
      const { h, rows } = rowsOf(a);
      return withMemory(
        backendName,
        backend,
        [a, b, gamma, beta],
        [a.shape],
        ([av, bv, gv, betav], [yv]) => {
          const native = nativeKernels();
          if (native) return native.addLayerNorm(av, bv, gv, betav, eps, yv);
          for (let i = 0; i < yv.length; i++) yv[i] = av[i] + bv[i]; // float32 adds, as tf.add
          layerNormValues(
            yv,
            gv,
            betav,
            rows,
            h,
            eps,
            yv,
            new Float32Array(rows),
            new Float32Array(rows),
          );
        },
      )[0];
    },
    ProjectLayerNormGrad: ({ inputs, backend }) => {
      const { dy, x, gamma, mean, rstd } = inputs as Record<string, tf.TensorInfo>;
      const { h, rows } = rowsOf(x);
      return withMemory(
        backendName,
        backend,
        [dy, x, gamma, mean, rstd],
        [x.shape, [h], [h]],
        ([dyv, xv, gv, mv, rv], [dxv, dgv, dbv]) => {
          const native = nativeKernels();
          if (native?.layerNormGrad(dyv, xv, gv, mv, rv, dxv, dgv, dbv)) return;
          layerNormGradValues(dyv, xv, gv, mv, rv, rows, h, dxv, dgv, dbv);
        },
      );
    },
  };
}

/**
 * Whether `gelu` uses the fused kernels on the current backend: always on cpu; on wasm only with
 * the native kernels (`native.ts`), since the JavaScript loop (V8's `Math.exp` and the erfc
 * polynomial per element) measured ~3x slower there than tfjs's own Erf/Exp kernels composed
 * (`bench/fused_ops_bench.ts`).
 */
export function geluFusedHere(): boolean {
  const b = tf.getBackend();
  return b === "cpu" || (b === "wasm" && nativeKernels() !== undefined);
}

let registered = false;

/** Registers the fused-op kernels for cpu and wasm (idempotent). */
export function registerFusedOpKernels(): void {
  if (registered) return;
  for (const backendName of ["cpu", "wasm"] as const) {
    for (const [kernelName, kernelFunc] of Object.entries(kernels(backendName))) {
      if (tf.getKernel(kernelName, backendName)) tf.unregisterKernel(kernelName, backendName);
      tf.registerKernel({ kernelName, backendName, kernelFunc });
    }
  }
  registered = true;
}

function fusedAvailable(kernel: string, ...ts: tf.Tensor[]): boolean {
  return ts.every((t) => t.dtype === "float32") &&
    tf.getKernel(kernel, tf.getBackend()) !== undefined;
}

function run(name: string, inputs: Record<string, tf.Tensor>, attrs = {}): tf.Tensor[] {
  const r = tf.engine().runKernel(
    name,
    inputs as unknown as tf.NamedTensorMap,
    attrs as unknown as tf.NamedAttrMap,
  );
  return Array.isArray(r) ? r as tf.Tensor[] : [r as tf.Tensor];
}

/** Exact GELU from tfjs ops: x·(1 + erf(x/√2))/2 (any backend; the reference in tests). */
export function geluComposite<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, INV_SQRT2)), 1))) as T;
}

/** LayerNorm over the last axis from tfjs ops (any backend; the reference in tests). */
export function layerNormComposite<T extends tf.Tensor>(
  x: T,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  eps: number,
): T {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), gamma), beta);
  }) as T;
}

const geluFused = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const x = args[0] as tf.Tensor;
  const save = args[1] as tf.GradSaveFunc;
  save([x]);
  return {
    value: run("ProjectGelu", { x })[0],
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => run("ProjectGeluGrad", { dy, x: saved[0] })[0],
  };
});

function layerNormFused(eps: number) {
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, gamma, beta] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const [y, mean, rstd] = run("ProjectLayerNorm", { x, gamma, beta }, { eps });
    save([x, gamma, mean, rstd]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sg, sm, sr] = saved;
        const [dx, dgamma, dbeta] = run("ProjectLayerNormGrad", {
          dy,
          x: sx,
          gamma: sg,
          mean: sm,
          rstd: sr,
        });
        return [dx, dgamma, dbeta];
      },
    };
  });
}

/**
 * Exact (erf) GELU, Hugging Face's `"gelu"`: x·Φ(x). One kernel forward and one backward on cpu
 * and on wasm with the native kernels; tfjs ops elsewhere (see `geluFusedHere`).
 */
export function gelu<T extends tf.Tensor>(x: T): T {
  if (!fusedAvailable("ProjectGelu", x) || !geluFusedHere()) return geluComposite(x);
  return geluFused(x) as T;
}

/**
 * LayerNorm over the last axis: (x − mean)/√(var + eps)·γ + β (population variance, as
 * `torch.nn.LayerNorm`). `gamma` and `beta` have the size of the last axis. One kernel forward
 * and one backward (dx, dγ, dβ) on cpu and wasm; tfjs ops elsewhere.
 */
export function layerNorm<T extends tf.Tensor>(
  x: T,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  eps: number,
): T {
  const h = x.shape[x.shape.length - 1];
  if (gamma.size !== h || beta.size !== h) {
    throw new Error(
      `layerNorm: gamma [${gamma.shape}] and beta [${beta.shape}] must have ${h} values (x [${x.shape}])`,
    );
  }
  if (!fusedAvailable("ProjectLayerNorm", x, gamma, beta)) {
    return layerNormComposite(x, gamma, beta, eps);
  }
  return tf.tidy(() =>
    layerNormFused(eps)(
      x,
      gamma.rank === 1 ? gamma : tf.reshape(gamma, [h]),
      beta.rank === 1 ? beta : tf.reshape(beta, [h]),
    )
  ) as T;
}

/**
 * `layerNorm(x + residual)`: the residual add and LayerNorm of a BERT sublayer. With `fused`
 * (evaluation: no gradient tape may be recording) on cpu and wasm it is one kernel, one pass per
 * row (`ProjectAddLayerNorm`: the same float32 adds and the same LayerNorm, so the same bits);
 * otherwise, and under a tape, `tf.add` then {@link layerNorm}.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { addLayerNorm } from "./fused_ops.ts";
 * const x = tf.tensor2d([[1, 2, 3], [4, 5, 7]]);
 * const y = addLayerNorm(x, tf.onesLike(x), tf.ones([3]), tf.zeros([3]), 1e-12, true);
 * console.log(y.shape); // [2, 3]
 * ```
 */
export function addLayerNorm<T extends tf.Tensor>(
  x: T,
  residual: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  eps: number,
  fused = false,
): T {
  const h = x.shape[x.shape.length - 1];
  const taped = tf.engine().state.gradientDepth > 0;
  if (
    fused && !taped && x.shape.join() === residual.shape.join() && gamma.size === h &&
    beta.size === h && fusedAvailable("ProjectAddLayerNorm", x, residual, gamma, beta)
  ) {
    return run("ProjectAddLayerNorm", { a: x, b: residual, gamma, beta }, { eps })[0] as T;
  }
  return tf.tidy(() => layerNorm(tf.add(x, residual), gamma, beta, eps)) as T;
}
