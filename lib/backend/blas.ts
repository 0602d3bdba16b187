/**
 * Matrix products through a system GEMM over Deno's FFI, for the wasm and cpu backends.
 *
 * tfjs's wasm matMul is single-threaded XNNPACK (~17 GFLOP/s on the 2-core reference machine) and
 * the cpu backend's is plain JavaScript (~1.5 GFLOP/s); a tuned GEMM reaches ten times that. The
 * float32 GEMM is oneDNN's `dnnl_sgemm` (Debian: `libdnnl2`) where it opens, else OpenBLAS's
 * `cblas_sgemm` (Debian: `libopenblas0-pthread`): on the skinny products of BERT (K = 128–1024,
 * a few hundred to a few thousand rows) oneDNN runs 1.1–2× faster than OpenBLAS on the same cores
 * (docs/PERF.md). `BatchMatMul` and `_FusedMatMul` on both backends then call it directly on the
 * tensors' memory (the wasm heap or the cpu backend's arrays). When neither opens, nothing is
 * registered and tfjs's own kernels stay. `TFJS_BLAS=0` disables the path; `TFJS_GEMM=openblas`
 * (or `onednn`) picks the library; `TFJS_BLAS=/path/lib.so` names a CBLAS library to use.
 * The two libraries round differently (sums in another order), so a run's bits depend on which
 * one ran: a run resumed from a checkpoint keeps the same one as long as the machine does.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import {
  type CpuBackendLike,
  cpuFloat32,
  DNNL_CANDIDATES,
  isVariableData,
  type LibraryInfo,
  variableDataIds,
  type WasmBackendLike,
} from "./internals.ts";
import { nativeKernels } from "./native.ts";
import { bf16VariableCopy, matmulPrecision } from "./bf16.ts";
import { geluValues } from "./fused_ops.ts";
import { createRng } from "../util/random.ts";

const CANDIDATES = [
  "libopenblas.so.0",
  "/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
  "/usr/lib/aarch64-linux-gnu/libopenblas.so.0",
  "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
  "/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
  "/usr/local/opt/openblas/lib/libopenblas.dylib",
];

const SYMBOLS = {
  cblas_sgemm: {
    parameters: [
      "i32", // order
      "i32", // transA
      "i32", // transB
      "i32", // M
      "i32", // N
      "i32", // K
      "f32", // alpha
      "buffer", // A
      "i32", // lda
      "buffer", // B
      "i32", // ldb
      "f32", // beta
      "buffer", // C
      "i32", // ldc
    ],
    result: "void",
  },
  openblas_set_num_threads: { parameters: ["i32"], result: "void", optional: true },
} as const;

/** `dnnl_sgemm(transa, transb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)`: row-major, `'N'` /
 * `'T'` as chars, 64-bit sizes; returns a `dnnl_status_t` (0: success). */
const DNNL_SYMBOLS = {
  dnnl_sgemm: {
    parameters: [
      "u8",
      "u8",
      "i64",
      "i64",
      "i64",
      "f32",
      "buffer",
      "i64",
      "buffer",
      "i64",
      "f32",
      "buffer",
      "i64",
    ],
    result: "i32",
  },
} as const;

const ROW_MAJOR = 101;
const NO_TRANS = 111;
const TRANS = 112;

type Sgemm = (
  order: number,
  ta: number,
  tb: number,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Float32Array,
  lda: number,
  b: Float32Array,
  ldb: number,
  beta: number,
  c: Float32Array,
  ldc: number,
) => void;

/** State of the BLAS path. */
export type BlasInfo = LibraryInfo;

let sgemm: Sgemm | undefined;
let info: BlasInfo | undefined;

/** Threads of a library that takes its count from the environment variable `name`. */
function threadsFrom(name: string): number {
  return Math.max(1, Number(Deno.env.get(name) ?? navigator.hardwareConcurrency) || 1);
}

type Opened = BlasInfo & { gemm?: Sgemm };

/** The first of `paths` that `open` opens without throwing, or the first errors in one line. */
function openFirst(paths: string[], open: (path: string) => Opened): Opened {
  const errors: string[] = [];
  for (const path of paths) {
    try {
      return open(path);
    } catch (e) {
      errors.push(`${path}: ${e instanceof Error ? e.message.split("\n")[0] : e}`);
    }
  }
  return {
    enabled: false,
    reason: errors.slice(0, 2).join("; ") + (errors.length > 2 ? "; ..." : ""),
  };
}

/** oneDNN's `dnnl_sgemm` behind the CBLAS signature the kernels call, or an error line. */
function openOneDnn(paths: string[]): Opened {
  return openFirst(paths, (path) => {
    const f = Deno.dlopen(path, DNNL_SYMBOLS).symbols.dnnl_sgemm;
    const gemm: Sgemm = (_order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) => {
      const status = f(
        ta === TRANS ? 84 : 78, // 'T' : 'N'
        tb === TRANS ? 84 : 78,
        BigInt(m),
        BigInt(n),
        BigInt(k),
        alpha,
        a,
        BigInt(lda),
        b,
        BigInt(ldb),
        beta,
        c,
        BigInt(ldc),
      );
      if (status !== 0) throw new Error(`matMul: oneDNN's dnnl_sgemm returned status ${status}`);
    };
    // oneDNN runs on OpenMP's threads, whose count the native kernels set when they are open
    // (TFJS_NATIVE_THREADS, else every core); without them OMP_NUM_THREADS, else every core.
    // OpenMP's idle threads keep the default wait policy (they spin a while before sleeping):
    // with oneDNN and the native kernels on the same pool, OMP_WAIT_POLICY=passive measured
    // slower (bench/profile.ts, S / M training 71–74 / 353–361 ms per step against 82–83 /
    // 400–404 passive, alternating twice).
    const threads = threadsFrom(
      Deno.env.get("TFJS_NATIVE") === "0" ? "OMP_NUM_THREADS" : "TFJS_NATIVE_THREADS",
    );
    return {
      enabled: true,
      library: path,
      name: "oneDNN",
      threads,
      gemm,
      reason: `dnnl_sgemm from ${path}`,
    };
  });
}

/** OpenBLAS's (or another CBLAS library's) `cblas_sgemm`, or an error line. */
function openCblas(paths: string[]): Opened {
  // OpenBLAS's idle threads spin for 2^28 cycles by default before they sleep, taking a core from
  // the single-threaded wasm kernels and the native kernels' threads between two matMuls (~90 ms
  // of system time per S training step in bench/profile.ts; 2^10: ~15 ms). Read when the library
  // loads, so it is set before dlopen; a user's setting wins.
  // OpenMP's idle threads (the native kernels', loaded after this) likewise sleep instead of
  // spinning, leaving the cores to OpenBLAS's threads. Both are read when each library loads.
  try {
    if (!Deno.env.get("OPENBLAS_THREAD_TIMEOUT")) Deno.env.set("OPENBLAS_THREAD_TIMEOUT", "10");
    if (!Deno.env.get("OMP_WAIT_POLICY")) Deno.env.set("OMP_WAIT_POLICY", "passive");
  } catch { /* no --allow-env: the libraries keep their defaults */ }
  return openFirst(paths, (path) => {
    const lib = Deno.dlopen(path, SYMBOLS);
    const threads = threadsFrom("OPENBLAS_NUM_THREADS");
    lib.symbols.openblas_set_num_threads?.(threads);
    return {
      enabled: true,
      library: path,
      name: /openblas/i.test(path) ? "OpenBLAS" : "CBLAS",
      threads,
      gemm: lib.symbols.cblas_sgemm as unknown as Sgemm,
      reason: `cblas_sgemm from ${path}`,
    };
  });
}

/**
 * Opens the float32 GEMM once; returns what happened. oneDNN first (faster on BERT's shapes),
 * OpenBLAS when oneDNN does not open; env `TFJS_GEMM=openblas|onednn` insists on one,
 * `TFJS_BLAS=/path` names a CBLAS library, `TFJS_BLAS=0` turns the path off.
 */
export function openBlas(): BlasInfo {
  if (info) return info;
  const setting = Deno.env.get("TFJS_BLAS");
  if (setting === "0" || setting === "false") {
    return info = { enabled: false, reason: "disabled by TFJS_BLAS=0" };
  }
  const choice = (Deno.env.get("TFJS_GEMM") ?? "").toLowerCase();
  if (choice && choice !== "onednn" && choice !== "openblas") {
    throw new Error(`TFJS_GEMM=${choice}: expected "onednn" or "openblas"`);
  }
  const tries: string[] = [];
  let opened: Opened | undefined;
  if (setting && setting !== "1") {
    opened = openCblas([setting]);
  } else {
    if (choice !== "openblas") {
      const dnnl = Deno.env.get("TFJS_DNNL");
      opened = openOneDnn(dnnl ? [dnnl] : DNNL_CANDIDATES);
      if (!opened.enabled) tries.push(`oneDNN (install libdnnl2): ${opened.reason}`);
    }
    if (!opened?.enabled && choice !== "onednn") {
      opened = openCblas(CANDIDATES);
      if (!opened.enabled) tries.push(`OpenBLAS (install libopenblas0-pthread): ${opened.reason}`);
    }
  }
  if (!opened?.enabled) {
    return info = {
      enabled: false,
      reason: `no float32 GEMM library could be opened; tried ${
        tries.join("; ") || opened?.reason
      }`,
    };
  }
  sgemm = opened.gemm;
  const { gemm: _, ...state } = opened;
  return info = tries.length
    ? { ...state, reason: `${state.reason} (${tries.join("; ")})` }
    : state;
}

/**
 * The float32 GEMM {@link openBlas} opened (oneDNN's or OpenBLAS's, at its thread count), as
 * `C = op(A) · op(B)` in row-major order; null when none is open. For measurements of the
 * library itself (the bench's peak); models go through `tf.matMul`.
 *
 * @example
 * ```ts
 * import { float32Gemm } from "./blas.ts";
 * const gemm = float32Gemm();
 * const c = new Float32Array(1);
 * gemm?.(false, false, 1, 1, 2, new Float32Array([1, 2]), 2, new Float32Array([3, 4]), 1, c, 1);
 * console.log(gemm ? c[0] : 11); // 11
 * ```
 */
export function float32Gemm():
  | ((
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    a: Float32Array,
    lda: number,
    b: Float32Array,
    ldb: number,
    c: Float32Array,
    ldc: number,
  ) => void)
  | null {
  if (!openBlas().enabled) return null;
  return (ta, tb, m, n, k, a, lda, b, ldb, c, ldc) =>
    sgemm!(
      ROW_MAJOR,
      ta ? TRANS : NO_TRANS,
      tb ? TRANS : NO_TRANS,
      m,
      n,
      k,
      1,
      a,
      lda,
      b,
      ldb,
      0,
      c,
      ldc,
    );
}

interface Geometry {
  batchA: number;
  batchB: number;
  batch: number;
  m: number;
  n: number;
  k: number;
  outShape: number[];
  /** Item of A and of B for each output item, when the batch shapes broadcast against each
   * other ([2, 1] with [1, 2]: four products from two matrices each); null otherwise. */
  items: { a: number[]; b: number[] } | null;
}

/** For each item of the broadcast batch shape `outer`, the item it reads of batch shape `s`. */
function broadcastItems(outer: number[], s: number[]): number[] {
  const shape = [...new Array(outer.length - s.length).fill(1), ...s];
  const strides = shape.map((_, d) => tf.util.sizeFromShape(shape.slice(d + 1)));
  return Array.from({ length: tf.util.sizeFromShape(outer) }, (_, flat) => {
    let idx = 0;
    for (let d = outer.length - 1; d >= 0; d--) {
      const c = flat % outer[d];
      flat = Math.floor(flat / outer[d]);
      if (shape[d] !== 1) idx += c * strides[d];
    }
    return idx;
  });
}

function geometry(
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
): Geometry {
  const ra = a.shape.length, rb = b.shape.length;
  const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (k !== kb) {
    throw new Error(
      `Error in matMul: inner shapes (${k}) and (${kb}) of Tensors with shapes ${a.shape} and ` +
        `${b.shape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`,
    );
  }
  const outer = tf.backend_util.assertAndGetBroadcastShape(
    a.shape.slice(0, -2),
    b.shape.slice(0, -2),
  );
  const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
  const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
  const batch = tf.util.sizeFromShape(outer);
  // Batch shapes that broadcast against each other need an item map (tfjs 4.22's own kernels
  // compute only max(batchA, batchB) items there and leave the rest unset).
  const items = batch === Math.max(batchA, batchB) ? null : {
    a: broadcastItems(outer, a.shape.slice(0, -2)),
    b: broadcastItems(outer, b.shape.slice(0, -2)),
  };
  return { batchA, batchB, batch, m, n, k, outShape: [...outer, m, n], items };
}

/** Rows from which oneDNN's `N·N` and `N·T` products give the same bits (oneDNN 2.6: every
 * shape with m ≥ 16 tried, n 1–768, k 8–3072; below, its small-m kernels sum in another order). */
const TRANSPOSED_COPY_MIN_ROWS = 16;
/**
 * Training products `x · Wᵀ` whose K is at least this many times N read the weight's kept copy
 * too: the feed-forward output layer (K = intermediate size = 4N). oneDNN's `N·T` is slowest
 * there (bert-base, 384 × 768 × 3072: 12.2 against 10.2 ms per product `N·N` over the copy, in
 * the training step's profile), so one transposition per weight update (~1.2–1.5 ms for
 * `[768, 3072]`) pays for itself within one micro-batch; on the other dense layers it did not (the
 * copy of every weight at each update cost more than it saved).
 */
const TRAINING_COPY_MIN_K_OVER_N = 2;

let sameBits: boolean | undefined;

/** `t` = the `[k, n]` transpose of the `[n, k]` matrix `b` (native kernels when open); `t`. */
function transposeInto(b: Float32Array, t: Float32Array, n: number, k: number): Float32Array {
  const native = nativeKernels();
  if (native) native.transpose(b, t, [k, n], [1, k]);
  else for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) t[j * n + i] = b[i * k + j];
  return t;
}

/**
 * Whether dense layers read kept transposed weight copies here (in evaluation, and in training
 * the products with K ≥ 2N): oneDNN open and its `N·N` products checked to give `N·T`'s bits.
 *
 * @example
 * ```ts
 * import { weightCopiesActive } from "./blas.ts";
 * console.log(typeof weightCopiesActive()); // "boolean"
 * ```
 */
export function weightCopiesActive(): boolean {
  return openBlas().name === "oneDNN" && copiesKeepBits();
}

/**
 * Whether `N·N` over a transposed copy gives `N·T`'s bits with the GEMM opened here, checked
 * once on a few products of 16 to 300 rows (the rule was measured on one oneDNN and one CPU;
 * another build or instruction set may choose other kernels): when not, no copies are made.
 */
function copiesKeepBits(): boolean {
  if (sameBits !== undefined) return sameBits;
  const rng = createRng(7);
  const fill = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
  sameBits = [[16, 40, 48], [37, 96, 200], [300, 128, 64], [64, 768, 256]].every(([m, n, k]) => {
    const a = fill(m * k), w = fill(n * k), wt = transposeInto(w, new Float32Array(n * k), n, k);
    const c1 = new Float32Array(m * n), c2 = new Float32Array(m * n);
    sgemm!(ROW_MAJOR, NO_TRANS, TRANS, m, n, k, 1, a, k, w, k, 0, c1, n);
    sgemm!(ROW_MAJOR, NO_TRANS, NO_TRANS, m, n, k, 1, a, k, wt, n, 0, c2, n);
    const u1 = new Uint32Array(c1.buffer), u2 = new Uint32Array(c2.buffer);
    return u1.every((x, i) => x === u2[i]);
  });
  return sameBits;
}

/** `[in, out]` copies of dense-layer weights (`[out, in]` variables), by data id. */
const transposedCopies = new Map<object, { n: number; k: number; t: Float32Array }>();
/** Buffers of the copies dropped last, reused by new copies of the same size. */
let spareCopies: Float32Array[] = [];

/**
 * The `[k, n]` copy of a variable's `[n, k]` data, made on first use and kept while the data is a
 * variable's (tensors are immutable in tfjs: new values come as new data). Copies of data no
 * variable holds any more are dropped whenever a new one is made, so about one copy of the model's
 * dense weights is kept, outside the wasm heap, until then (also after the model is disposed).
 * Null for other tensors and for the same data seen with another shape. oneDNN's `N·N` product
 * over it runs 1.1–1.45× faster than `N·T` over the original on the dense layers' shapes (most
 * where K is large: the feed-forward output) and gives the same bits (tests/backend_blas.test.ts).
 * Used in evaluation (`_FusedMatMul` with a bias, which the model issues there) and, in training,
 * only for products with K ≥ 2N: training replaces every weight at each update, and copying all
 * of them then cost more than they saved (bert-base widths, 2 layers, batch 1 × 384: 319–337
 * against 302–311 ms per step).
 */
function transposedVariableCopy(
  dataId: object,
  b: Float32Array,
  n: number,
  k: number,
): Float32Array | null {
  const have = transposedCopies.get(dataId);
  // The same data seen as another [n, k] (a reshape shares its data): no copy for that view.
  if (have) return have.n === n && have.k === k ? have.t : null;
  if (!isVariableData(dataId)) return null;
  const ids = variableDataIds();
  const stale: Float32Array[] = [];
  for (const [key, copy] of transposedCopies) {
    if (ids.has(key)) continue;
    transposedCopies.delete(key);
    stale.push(copy.t);
  }
  // Spares left unused since the last drop (another model's sizes) go; these take their place.
  if (stale.length) spareCopies = stale;
  // A buffer of a dropped copy when one has the size (training replaces every weight at each
  // update: fresh buffers would page-fault in every step), else a new one.
  const spare = spareCopies.findIndex((c) => c.length === n * k);
  const t = spare >= 0 ? spareCopies.splice(spare, 1)[0] : new Float32Array(n * k);
  transposedCopies.set(dataId, { n, k, t: transposeInto(b, t, n, k) });
  return t;
}

/** C[batch] = op(A[batch]) · op(B[batch]) in row-major order. */
function gemm(
  g: Geometry,
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  transposeA: boolean,
  transposeB: boolean,
  ids?: { a: object; b: object },
  /** Evaluation's dense layers (`_FusedMatMul` with a bias): a weight operand `B` used transposed
   * may be read from its kept `[k, n]` copy (see {@link transposedVariableCopy}). */
  constantWeights = false,
): void {
  const { m, n, k } = g;
  const sizeA = m * k, sizeB = k * n, sizeC = m * n;
  const lda = transposeA ? m : k;
  const ldb = transposeB ? k : n;
  const ta = transposeA ? TRANS : NO_TRANS;
  const tb = transposeB ? TRANS : NO_TRANS;
  if (m === 0 || n === 0) return;
  if (k === 0) {
    c.fill(0);
    return;
  }
  if (!g.items && matmulPrecision() === "bf16") {
    // bf16 operands, float32 accumulation (bf16.ts); the conversion is fused in C.
    const status = nativeKernels()!.gemmBf16F32(
      transposeA,
      transposeB,
      g.batch,
      g,
      a,
      g.batchA === 1 ? 0 : sizeA,
      lda,
      b,
      g.batchB === 1 ? 0 : sizeB,
      ldb,
      c,
      ids && bf16VariableCopy(ids.a, a),
      ids && bf16VariableCopy(ids.b, b),
    );
    if (status !== 0) throw new Error(`bf16 matMul: oneDNN returned status ${status}`);
    return;
  }
  if (g.batch > 1 && batchedLinked && !g.items) {
    // One single-threaded sgemm per item, the items over the threads (native.ts).
    return nativeKernels()!.sgemmBatch(
      ta,
      tb,
      g.batch,
      g,
      a,
      g.batchA === 1 ? 0 : sizeA,
      lda,
      b,
      g.batchB === 1 ? 0 : sizeB,
      ldb,
      c,
    );
  }
  if (
    // A dense layer's `x · Wᵀ` over a variable weight: its kept `[k, n]` copy (oneDNN only), in
    // evaluation, and in training where K ≥ 2N (see TRAINING_COPY_MIN_K_OVER_N).
    (constantWeights || k >= TRAINING_COPY_MIN_K_OVER_N * n) && g.batch === 1 && !g.items &&
    transposeB && !transposeA && ids &&
    info?.name === "oneDNN" && m >= TRANSPOSED_COPY_MIN_ROWS && copiesKeepBits()
  ) {
    const bt = transposedVariableCopy(ids.b, b.subarray(0, sizeB), n, k);
    if (bt) {
      sgemm!(ROW_MAJOR, NO_TRANS, NO_TRANS, m, n, k, 1, a, k, bt, n, 0, c, n);
      return;
    }
  }
  for (let i = 0; i < g.batch; i++) {
    const ia = g.items ? g.items.a[i] : g.batchA === 1 ? 0 : i;
    const ib = g.items ? g.items.b[i] : g.batchB === 1 ? 0 : i;
    const av = a.subarray(ia * sizeA, (ia + 1) * sizeA);
    const bv = b.subarray(ib * sizeB, (ib + 1) * sizeB);
    const cv = c.subarray(i * sizeC, (i + 1) * sizeC);
    sgemm!(ROW_MAJOR, ta, tb, m, n, k, 1, av, lda, bv, ldb, 0, cv, n);
  }
}

/** Adds a bias broadcast over the last dimension (the only bias shape dense layers use), in place.
 * With the native kernels: their strided add (multi-threaded C, one float32 add per element as
 * tfjs's `Add`, so the same bits as `tf.add(tf.matMul(...), bias)`); else a JavaScript loop. */
function addBias(c: Float32Array, n: number, bias: Float32Array): boolean {
  if (bias.length === n) {
    const native = nativeKernels();
    if (native && n > 0) {
      native.binaryStrided(0, c, bias, c, [c.length / n, n], [n, 1], [0, 1]);
      return true;
    }
    for (let i = 0; i < c.length; i += n) for (let j = 0; j < n; j++) c[i + j] += bias[j];
    return true;
  }
  if (bias.length === 1) {
    const v = bias[0];
    for (let i = 0; i < c.length; i++) c[i] += v;
    return true;
  }
  return false;
}

/** The bias add, then with `gelu` GELU over the result: in one native pass when the kernels are
 * open (`nk_bias_gelu`: the same bits as the two steps), else the two steps. */
function addBiasAndGelu(c: Float32Array, n: number, bias: Float32Array, gelu: boolean): boolean {
  if (gelu && bias.length === n) {
    const native = nativeKernels();
    if (native && n > 0) {
      native.biasGelu(c, bias, c);
      return true;
    }
  }
  if (!addBias(c, n, bias)) return false;
  if (gelu) geluValues(c.slice(), c);
  return true;
}

/** `_FusedMatMul`'s activation name for {@link denseGelu}: this project's kernel only. */
const DENSE_GELU_ACTIVATION = "gelu";

/**
 * GELU(x · Wᵀ + b) in one `_FusedMatMul` (evaluation's feed-forward: the bias add and GELU in
 * one pass over the product): the same bits as `gelu(tf.add(tf.matMul(x, w, false, true), b))`.
 * Only where {@link blasFusedBiasActive} holds, and not under a gradient tape (the activation
 * has no gradient): callers keep the composed ops otherwise.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { blasFusedBiasActive, denseGelu } from "./blas.ts";
 * if (blasFusedBiasActive()) {
 *   const y = denseGelu(tf.ones([1, 2]), tf.ones([1, 2]), tf.zeros([1]));
 *   console.log(y.shape); // [1, 1]
 * }
 * ```
 */
export function denseGelu(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  if (!blasFusedBiasActive()) {
    throw new Error(
      `denseGelu: the project's matMul kernel is not registered on ${tf.getBackend()}`,
    );
  }
  return tf.engine().runKernel(
    "_FusedMatMul",
    { a: x, b: w, bias: b } as unknown as tf.NamedTensorMap,
    {
      transposeA: false,
      transposeB: true,
      activation: DENSE_GELU_ACTIVATION,
    } as unknown as tf.NamedAttrMap,
  ) as tf.Tensor2D;
}

interface MatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
  activation?: string;
}

function makeKernel(
  backendName: "cpu" | "wasm",
  fused: boolean,
  fallback: tf.KernelFunc,
): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const { a, b, bias } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo; bias?: tf.TensorInfo };
    const { transposeA, transposeB, activation } = attrs as unknown as MatMulAttrs;
    // "gelu" (this kernel's own, from denseGelu): with a bias only.
    const gelu = fused && activation === DENSE_GELU_ACTIVATION;
    const extra = fused && (inputs.preluActivationWeights ||
      (gelu ? !bias : activation && activation !== "linear"));
    if (a.dtype !== "float32" || b.dtype !== "float32" || extra) return fallback(args);
    const g = geometry(a, b, transposeA, transposeB);
    const size = g.batch * g.m * g.n;
    if (backendName === "cpu") {
      const be = backend as unknown as CpuBackendLike;
      const out = new Float32Array(size);
      gemm(
        g,
        cpuFloat32(be, a),
        cpuFloat32(be, b),
        out,
        transposeA,
        transposeB,
        { a: a.dataId, b: b.dataId },
        fused && bias !== undefined,
      );
      if (bias && !addBiasAndGelu(out, g.n, cpuFloat32(be, bias), gelu)) return fallback(args);
      return be.makeTensorInfo(g.outShape, "float32", out);
    }
    const be = backend as unknown as WasmBackendLike;
    if (
      bias && tf.util.sizeFromShape(bias.shape) !== g.n && tf.util.sizeFromShape(bias.shape) !== 1
    ) {
      return fallback(args);
    }
    const out = be.makeOutput(g.outShape, "float32");
    // Heap views are taken after the allocation: growing the heap detaches older views.
    const outView = be.typedArrayFromHeap(out);
    try {
      gemm(
        g,
        be.typedArrayFromHeap(a),
        be.typedArrayFromHeap(b),
        outView,
        transposeA,
        transposeB,
        { a: a.dataId, b: b.dataId },
        fused && bias !== undefined,
      );
      if (bias) addBiasAndGelu(outView, g.n, be.typedArrayFromHeap(bias), gelu);
    } catch (e) {
      be.disposeData(out.dataId); // a failed product leaves no output behind
      throw e;
    }
    return out;
  };
}

let batchedLinked = false;

/**
 * Lets batched matMuls run their items side by side through the native kernels (`native.ts`),
 * when both they and BLAS are open (call after `openNative`). Returns whether it did.
 * `TFJS_BATCHED_GEMM=0` keeps one multi-threaded sgemm per item.
 */
export function linkBatchedGemm(): boolean {
  const native = nativeKernels();
  const setting = Deno.env.get("TFJS_BATCHED_GEMM");
  if (batchedLinked || !native || !info?.enabled || setting === "0" || setting === "false") {
    return batchedLinked;
  }
  return batchedLinked = native.linkBlas(info.library!, info.threads ?? 1);
}

let registered = false;

/**
 * Whether `tf.fused.matMul` with a bias runs on this project's BLAS kernel on the current backend
 * (cpu or wasm with {@link registerBlasKernels} done): the bias is then added in place to the
 * product, with the same float32 adds as a separate `tf.add`. Without it, `_FusedMatMul` is
 * tfjs's own kernel, whose bias broadcast is wrong on wasm 4.22 with `transposeB`: callers then
 * keep `matMul` + `add`.
 *
 * @example
 * ```ts
 * import { blasFusedBiasActive } from "./blas.ts";
 * console.log(typeof blasFusedBiasActive()); // "boolean"
 * ```
 */
export function blasFusedBiasActive(): boolean {
  if (!registered) return false;
  const backend = tf.getBackend();
  return backend === "wasm" || backend === "cpu";
}

/**
 * Replaces `BatchMatMul` and `_FusedMatMul` on the cpu and wasm backends by BLAS-backed kernels
 * when a BLAS library can be opened. The original kernels remain as fallbacks for shapes and
 * options the BLAS path does not cover (non-float32, fused activations, uneven batch broadcast).
 */
export function registerBlasKernels(): BlasInfo {
  const state = openBlas();
  if (!state.enabled || registered) return state;
  for (const backendName of ["cpu", "wasm"] as const) {
    for (const kernelName of ["BatchMatMul", "_FusedMatMul"]) {
      const original = tf.getKernel(kernelName, backendName);
      if (!original) continue;
      tf.unregisterKernel(kernelName, backendName);
      tf.registerKernel({
        ...original,
        kernelFunc: makeKernel(backendName, kernelName === "_FusedMatMul", original.kernelFunc),
      });
    }
  }
  registered = true;
  return state;
}
