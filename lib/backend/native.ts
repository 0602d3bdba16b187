/**
 * Optional native kernels (C, 2+ threads through OpenMP) for the element-wise work of BERT
 * training that stays single-threaded on wasm: AdamW over every parameter, exact GELU forward and
 * backward, the softmax gradient, dropout (mask drawn in C, same stream as JavaScript),
 * LayerNorm forward and backward, column sums (bias gradients), softmax, adds of same-shape
 * or bias-shaped tensors, and batched matMuls (one BLAS call per item, items over the threads). They run over Deno's FFI directly on the tensors' memory
 * (the wasm heap or the cpu backend's arrays: no copies in or out).
 *
 * The C source (`native_kernels.c`) is compiled once per machine with the system C compiler
 * (`native_build.ts`: `cc -O3 -march=native -fopenmp ...`; Debian: `gcc`) into
 * `$XDG_CACHE_HOME/bert-mrc-native/<hash of source and flags>.so` (default `~/.cache/...`); the
 * FFI signatures are in `native_symbols.ts`; this module opens the library and wraps its calls.
 * When there is no compiler or the build fails, nothing is registered and the JavaScript / tfjs
 * kernels stay: same results, fewer threads. `TFJS_NATIVE=0` disables it;
 * `TFJS_NATIVE=/path/lib.so` uses a library built from this source elsewhere.
 * `TFJS_NATIVE_THREADS` sets the thread count (default: all cores).
 * @module
 */
import type { LibraryInfo } from "./internals.ts";
import { buildNative } from "./native_build.ts";
import { NATIVE_SYMBOLS } from "./native_symbols.ts";

/** The native functions (all over float32 buffers). */
export interface NativeKernels {
  /** AdamW over `[p, m, v, g]` into `[p, m, v]` (outputs may alias m and v; see `adamwValues`). */
  adamw(ins: Float32Array[], outs: Float32Array[], c: AdamWCoefficients): void;
  gelu(x: Float32Array, y: Float32Array): void;
  geluGrad(dy: Float32Array, x: Float32Array, dx: Float32Array): void;
  /** `y` = GELU(`x` + `bias`), the bias repeated on every row of `bias.length` (`y` may be `x`):
   * the bits of the bias add followed by {@link NativeKernels.gelu}, in one pass. */
  biasGelu(x: Float32Array, bias: Float32Array, y: Float32Array): void;
  softmaxGrad(dy: Float32Array, y: Float32Array, dx: Float32Array, h: number): void;
  /** `out = a + b` with `b` repeated over `out` (its length divides `a`'s). */
  add(a: Float32Array, b: Float32Array, out: Float32Array): void;
  /** Softmax over rows of `h` values (max subtracted; e^-87 and below count as 0). */
  softmax(x: Float32Array, y: Float32Array, h: number): void;
  /**
   * Connects the batched matMul below to the BLAS library at `path` (opened by `blas.ts`, which
   * uses `threads` threads); false when its functions are not there.
   */
  linkBlas(path: string, threads: number): boolean;
  /** Whether `linkBlas` succeeded (the GEMM calls below can run). */
  blasLinked(): boolean;
  /**
   * Items of a batched row-major matMul (`trans*`: CBLAS's 111 no / 112 yes; a stride of 0
   * broadcasts one matrix), one single-threaded sgemm per item, items over the threads. Only
   * after `linkBlas` returned true.
   */
  sgemmBatch(
    transA: number,
    transB: number,
    batch: number,
    dims: { m: number; n: number; k: number },
    a: Float32Array,
    strideA: number,
    lda: number,
    b: Float32Array,
    strideB: number,
    ldb: number,
    c: Float32Array,
  ): void;
  /**
   * One layer's self-attention without dropout (evaluation): `out = softmax(q·scale kᵀ + mask) v`
   * per sequence and head, `q`, `k`, `v`, `out` as `[N·T, heads·dh]` rows, `mask` `[N, T]`
   * additive or null; `bf16`: the products as `--bf16` runs matMuls. The same bits as the
   * unfused ops (see `nk_attention`). Only after
   * `linkBlas` returned true; false when the C side could not run (no GEMM, no memory).
   */
  attention(
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    mask: Float32Array | null,
    out: Float32Array,
    dims: { n: number; t: number; heads: number; dh: number },
    scale: number,
    bf16: boolean,
  ): boolean;
  /** `y[i, :] = x[ids[i], :]` for rows of `inner` 4-byte values (ids checked by the caller). */
  gatherRows(
    x: Float32Array | Int32Array,
    ids: Int32Array,
    y: Float32Array | Int32Array,
    inner: number,
  ): void;
  /** Column sums of `x` viewed as `[rows, out.length]` (see `sumLeadingRows`; same bits). */
  colSum(x: Float32Array, out: Float32Array): void;
  /** `y = x · mask` with the mask `dropoutMask(init, keep)` would draw (see `fused_dropout.ts`);
   * `threshold` is ⌈keep · 2³²⌉ and `scale` 1 / keep. */
  dropout(x: Float32Array, y: Float32Array, init: number, threshold: number, scale: number): void;
  /** LayerNorm of rows of `h` values (see `layerNormValues`). */
  layerNorm(
    x: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    h: number,
    eps: number,
    y: Float32Array,
    mean: Float32Array,
    rstd: Float32Array,
  ): void;
  /** `y = LayerNorm(a + b)` over rows of `gamma.length` values, without mean and rstd (the same
   * bits as `add` then `layerNorm`). */
  addLayerNorm(
    a: Float32Array,
    b: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    eps: number,
    y: Float32Array,
  ): void;
  /** LayerNorm backward (see `layerNormGradValues`); false when it could not allocate. */
  layerNormGrad(
    dy: Float32Array,
    x: Float32Array,
    gamma: Float32Array,
    mean: Float32Array,
    rstd: Float32Array,
    dx: Float32Array,
    dgamma: Float32Array,
    dbeta: Float32Array,
  ): boolean;
  /**
   * `out = a op b` (`op` 0: add, 1: multiply) over `shape` (the output's), each input read with
   * its strides per output dimension (0 where it broadcasts).
   */
  binaryStrided(
    op: 0 | 1,
    a: Float32Array,
    b: Float32Array,
    out: Float32Array,
    shape: number[],
    stridesA: number[],
    stridesB: number[],
  ): void;
  /** `y` = `x` read with strides `stridesX` per dimension of `y`'s `shape` (a transpose). */
  transpose(x: Float32Array, y: Float32Array, shape: number[], stridesX: number[]): void;
  /** Finds oneDNN's `dnnl_gemm_bf16bf16f32` in the library at `path` (see `bf16.ts`). */
  openDnnl(path: string): boolean;
  /** oneDNN's `dnnl_cpu_isa_t` in effect (-1 before `openDnnl`). */
  dnnlIsa(): number;
  /** float32 → bf16 bits, round to nearest even (`native_bf16.c`). */
  toBf16(x: Float32Array, y: Uint16Array): void;
  /** bf16 bits → float32 (exact). */
  bf16ToF32(x: Uint16Array, y: Float32Array): void;
  /**
   * A batched row-major matMul from float32 operands in bf16 with float32 accumulation: both are
   * rounded to bf16 (fused, in C), then oneDNN multiplies (strides as `sgemmBatch`); an operand
   * whose bf16 copy is given in `a16` / `b16` is not converted again. Returns 0 or oneDNN's status.
   */
  gemmBf16F32(
    transA: boolean,
    transB: boolean,
    batch: number,
    dims: { m: number; n: number; k: number },
    a: Float32Array,
    strideA: number,
    lda: number,
    b: Float32Array,
    strideB: number,
    ldb: number,
    c: Float32Array,
    a16?: Uint16Array | null,
    b16?: Uint16Array | null,
  ): number;
  /** One row-major matMul of bf16 operands into float32 `c` (ldc = n). Returns 0 or oneDNN's status. */
  gemmBf16(
    transA: boolean,
    transB: boolean,
    dims: { m: number; n: number; k: number },
    a: Uint16Array,
    lda: number,
    b: Uint16Array,
    ldb: number,
    c: Float32Array,
  ): number;
}

/** The scalars of one AdamW update (`fused_adamw.ts` derives them from the step). */
export interface AdamWCoefficients {
  beta1: number;
  beta2: number;
  epsilon: number;
  stepSize: number;
  bc2Sqrt: number;
  keep: number;
}

/** State of the native path. */
export type NativeInfo = LibraryInfo;

let info: NativeInfo | undefined;

/** An int64 array for the C side. */
function i64(xs: number[]): BigInt64Array {
  return BigInt64Array.from(xs, (x) => BigInt(x));
}
let kernels: NativeKernels | undefined;

/** Builds (if needed) and opens the native kernels once; returns what happened. */
export async function openNative(): Promise<NativeInfo> {
  if (info) return info;
  const setting = Deno.env.get("TFJS_NATIVE");
  if (setting === "0" || setting === "false") {
    return info = { enabled: false, reason: "disabled by TFJS_NATIVE=0" };
  }
  try {
    const path = setting && setting !== "1" ? setting : await buildNative();
    const lib = Deno.dlopen(path, NATIVE_SYMBOLS);
    const threads = Math.max(
      1,
      Number(Deno.env.get("TFJS_NATIVE_THREADS") ?? navigator.hardwareConcurrency) || 1,
    );
    lib.symbols.nk_set_threads(threads);
    const s = lib.symbols;
    let blasThreads = 0;
    kernels = {
      adamw: ([p, m, v, g], [op, om, ov], c) =>
        // 1 − β computed in float64 (as the JavaScript and composed paths do), then rounded.
        s.nk_adamw(
          p,
          m,
          v,
          g,
          op,
          om,
          ov,
          BigInt(p.length),
          c.beta1,
          c.beta2,
          1 - c.beta1,
          1 - c.beta2,
          c.epsilon,
          c.stepSize,
          c.bc2Sqrt,
          c.keep,
        ),
      gelu: (x, y) => s.nk_gelu(x, y, BigInt(y.length)),
      geluGrad: (dy, x, dx) => s.nk_gelu_grad(dy, x, dx, BigInt(dx.length)),
      biasGelu: (x, bias, y) =>
        s.nk_bias_gelu(x, bias, y, BigInt(y.length / bias.length), BigInt(bias.length)),
      softmaxGrad: (dy, y, dx, h) => s.nk_softmax_grad(dy, y, dx, BigInt(dx.length / h), BigInt(h)),
      add: (a, b, out) => s.nk_add(a, b, out, BigInt(out.length), BigInt(b.length)),
      softmax: (x, y, h) => s.nk_softmax(x, y, BigInt(y.length / h), BigInt(h)),
      linkBlas: (path, threads) => {
        if (s.nk_open_blas(new TextEncoder().encode(path + "\0")) !== 0) return false;
        blasThreads = threads;
        return true;
      },
      blasLinked: () => blasThreads > 0,
      sgemmBatch: (ta, tb, batch, { m, n, k }, a, sa, lda, b, sb, ldb, c) => {
        if (blasThreads === 0) throw new Error("sgemmBatch: call linkBlas first");
        const failed = s.nk_sgemm_batch(
          ta,
          tb,
          BigInt(batch),
          m,
          n,
          k,
          a,
          BigInt(sa),
          lda,
          b,
          BigInt(sb),
          ldb,
          c,
          blasThreads,
        );
        if (failed !== 0) throw new Error("batched matMul: oneDNN's dnnl_sgemm failed");
      },
      attention: (q, k, v, mask, out, { n, t, heads, dh }, scale, bf16) => {
        if (blasThreads === 0) throw new Error("attention: call linkBlas first");
        return s.nk_attention(
          q,
          k,
          v,
          mask,
          out,
          BigInt(n),
          BigInt(t),
          BigInt(heads),
          BigInt(dh),
          scale,
          blasThreads,
          bf16 ? 1 : 0,
        ) === 0;
      },
      gatherRows: (x, ids, y, inner) =>
        s.nk_gather_rows(x, ids, y, BigInt(ids.length), BigInt(inner)),
      colSum: (x, out) => s.nk_col_sum(x, out, BigInt(x.length / out.length), BigInt(out.length)),
      dropout: (x, y, init, threshold, scale) =>
        s.nk_dropout(x, y, BigInt(y.length), init, BigInt(threshold), scale),
      layerNorm: (x, gamma, beta, h, eps, y, mean, rstd) =>
        s.nk_layernorm(x, gamma, beta, y, mean, rstd, BigInt(mean.length), BigInt(h), eps),
      addLayerNorm: (a, b, gamma, beta, eps, y) =>
        s.nk_add_layernorm(
          a,
          b,
          gamma,
          beta,
          y,
          BigInt(y.length / gamma.length),
          BigInt(gamma.length),
          eps,
        ),
      layerNormGrad: (dy, x, gamma, mean, rstd, dx, dgamma, dbeta) =>
        s.nk_layernorm_grad(
          dy,
          x,
          gamma,
          mean,
          rstd,
          dx,
          dgamma,
          dbeta,
          BigInt(mean.length),
          BigInt(gamma.length),
        ) === 0,
      binaryStrided: (op, a, b, out, shape, sa, sb) =>
        s.nk_binary_strided(op, a, b, out, shape.length, i64(shape), i64(sa), i64(sb)),
      transpose: (x, y, shape, sx) => s.nk_transpose(x, y, shape.length, i64(shape), i64(sx)),
      openDnnl: (path) => s.nk_open_dnnl(new TextEncoder().encode(path + "\0")) === 0,
      dnnlIsa: () => s.nk_dnnl_effective_isa(),
      toBf16: (x, y) => s.nk_to_bf16(x, y, BigInt(x.length)),
      bf16ToF32: (x, y) => s.nk_bf16_to_f32(x, y, BigInt(x.length)),
      gemmBf16F32: (ta, tb, batch, { m, n, k }, a, sa, lda, b, sb, ldb, c, a16, b16) =>
        s.nk_gemm_bf16_f32(
          ta ? 1 : 0,
          tb ? 1 : 0,
          BigInt(batch),
          BigInt(m),
          BigInt(n),
          BigInt(k),
          a,
          a16 ?? null,
          BigInt(sa === 0 ? m * k : sa * batch),
          BigInt(sa),
          BigInt(lda),
          b,
          b16 ?? null,
          BigInt(sb === 0 ? k * n : sb * batch),
          BigInt(sb),
          BigInt(ldb),
          c,
        ),
      gemmBf16: (ta, tb, { m, n, k }, a, lda, b, ldb, c) =>
        s.nk_gemm_bf16(
          ta ? 1 : 0,
          tb ? 1 : 0,
          BigInt(m),
          BigInt(n),
          BigInt(k),
          a,
          BigInt(lda),
          b,
          BigInt(ldb),
          c,
          BigInt(n),
        ),
    };
    return info = {
      enabled: true,
      library: path,
      threads,
      reason: `native kernels (${threads} threads) from ${path}`,
    };
  } catch (e) {
    kernels = undefined;
    return info = {
      enabled: false,
      reason: `native kernels unavailable: ${
        e instanceof Error ? e.message.split("\n")[0] : e
      }; JavaScript / tfjs kernels are used`,
    };
  }
}

/** The opened native kernels, or undefined (not opened yet, disabled or unavailable). */
export function nativeKernels(): NativeKernels | undefined {
  return kernels;
}

/** What `openNative` found (undefined before it ran). */
export function nativeInfo(): NativeInfo | undefined {
  return info;
}
