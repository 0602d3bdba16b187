/**
 * Faster replacements for a few wasm-backend kernels that dominate BERT training after the matMuls
 * moved to BLAS (measured with `bench/profile.ts`):
 *
 * - `Identity` and same-dtype `Cast` copy the whole tensor on wasm; the engine runs `Identity` on
 *   every tensor a gradient saves (≈500 copies per BERT training step). Tensors are immutable
 *   (variables swap their data id on `assign`), so the output can share the input's data, as the
 *   cpu backend already does.
 * - `Sum` over leading axes (bias and LayerNorm-parameter gradients: `[rows, H]` → `[H]`) is a
 *   full transpose followed by a row reduction on wasm; here it is one pass of column sums.
 * - `Slice` (and `SplitV`, which slices) copies one innermost row at a time; here contiguous
 *   trailing dimensions are merged so each copy moves the largest contiguous block.
 * - `GatherV2` (every embedding lookup) runs a per-element strided loop plus a bounds check that
 *   allocates a closure per index (~20–35 ms for 2048 rows of 256 floats); here each index copies
 *   one contiguous row.
 *
 * - `ScatterNd` with one index per row (the embedding gradient of `lookupRows` in lib/models) is a
 *   row scatter-add into a zeroed output (~35 ms for the 21,128-row table on tfjs's kernel).
 *
 * Anything these kernels do not cover (other dtypes, other axis patterns) goes to the original
 * kernel, kept as a fallback.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { segmentSumValues } from "./kernels.ts";
import { type NativeKernels, nativeKernels } from "./native.ts";

type TypedArray = Float32Array | Int32Array | Uint8Array;

/** The wasm backend's internals used here (not part of tfjs's public types). */
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): TypedArray;
  incRef(dataId: tf.DataId): void;
}

/** Output sharing the input's data (no copy). */
function share(x: tf.TensorInfo, backend: unknown, dtype = x.dtype): tf.TensorInfo {
  (backend as WasmBackendLike).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape.slice(), dtype };
}

function identityKernel(fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    if (x.dtype === "string") return fallback(args);
    return share(x, args.backend);
  };
}

function castKernel(fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    const dtype = (args.attrs as unknown as { dtype: tf.DataType }).dtype;
    if (x.dtype !== dtype || dtype === "string") return fallback(args);
    return share(x, args.backend);
  };
}

/**
 * Column sums: `x` viewed as `[outer, inner]` is reduced over its rows into `out[inner]`,
 * accumulating in float64 (each column in row order). The native kernel (`native.ts`), when
 * open, gives the same bits on all cores.
 */
export function sumLeadingRows(
  x: ArrayLike<number>,
  outer: number,
  inner: number,
  out: TypedArray,
  native: NativeKernels | null = nativeKernels() ?? null,
): void {
  if (native && x instanceof Float32Array && out instanceof Float32Array && inner > 0) {
    return native.colSum(x.subarray(0, outer * inner), out);
  }
  const acc = new Float64Array(inner);
  for (let i = 0; i < outer; i++) {
    const o = i * inner;
    for (let j = 0; j < inner; j++) acc[j] += x[o + j];
  }
  for (let j = 0; j < inner; j++) out[j] = acc[j];
}

function sumKernel(fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    const { axis, keepDims } = args.attrs as unknown as {
      axis: number | number[];
      keepDims: boolean;
    };
    if (x.dtype !== "float32" || x.shape.length < 2) return fallback(args);
    const axes = tf.util.parseAxisParam(axis, x.shape).slice().sort((a, b) => a - b);
    const p = axes.length;
    // Only a strict leading prefix [0, p) with something left over.
    if (p === 0 || p >= x.shape.length || axes.some((a, i) => a !== i)) return fallback(args);
    const outer = tf.util.sizeFromShape(x.shape.slice(0, p));
    const innerShape = x.shape.slice(p);
    const inner = tf.util.sizeFromShape(innerShape);
    const outShape = keepDims ? [...x.shape.slice(0, p).map(() => 1), ...innerShape] : innerShape;
    const be = args.backend as WasmBackendLike;
    const out = be.makeOutput(outShape, "float32");
    // Views after the allocation (a heap growth detaches older views).
    sumLeadingRows(be.typedArrayFromHeap(x), outer, inner, be.typedArrayFromHeap(out));
    return out;
  };
}

/**
 * Copies the block `begin`/`size` of a row-major `shape` array into `out`, merging trailing
 * dimensions that are taken whole so each `set` moves one contiguous run.
 */
export function sliceBlocks(
  x: TypedArray,
  shape: readonly number[],
  begin: readonly number[],
  size: readonly number[],
  out: TypedArray,
): void {
  const rank = shape.length;
  // Last axis whose slice is partial; everything after it is whole.
  let k = rank - 1;
  while (k > 0 && begin[k] === 0 && size[k] === shape[k]) k--;
  let run = size[k];
  let stride = 1;
  for (let d = rank - 1; d > k; d--) {
    run *= shape[d];
    stride *= shape[d];
  }
  // stride: elements per step along axis k; run: contiguous elements copied per outer index.
  const strides = new Array<number>(k + 1);
  strides[k] = stride;
  for (let d = k - 1; d >= 0; d--) strides[d] = strides[d + 1] * shape[d + 1];
  const outerCount = size.slice(0, k).reduce((a, b) => a * b, 1);
  const idx = new Array<number>(k).fill(0);
  let o = 0;
  for (let n = 0; n < outerCount; n++) {
    let src = begin[k] * strides[k];
    for (let d = 0; d < k; d++) src += (begin[d] + idx[d]) * strides[d];
    out.set(x.subarray(src, src + run), o);
    o += run;
    for (let d = k - 1; d >= 0; d--) {
      if (++idx[d] < size[d]) break;
      idx[d] = 0;
    }
  }
}

function sliceKernel(fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    if (x.dtype === "string" || x.shape.length === 0) return fallback(args);
    const { begin, size } = args.attrs as unknown as { begin: number[]; size: number[] };
    const [b, s] = tf.slice_util.parseSliceParams(x as unknown as tf.Tensor, begin, size);
    if (s.some((d) => d === 0)) return fallback(args);
    const be = args.backend as WasmBackendLike;
    const out = be.makeOutput(s, x.dtype);
    sliceBlocks(be.typedArrayFromHeap(x), x.shape, b, s, be.typedArrayFromHeap(out));
    return out;
  };
}

function splitVKernel(fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    if (x.dtype === "string") return fallback(args);
    const { numOrSizeSplits, axis } = args.attrs as unknown as {
      numOrSizeSplits: number | number[];
      axis: number;
    };
    const ax = tf.util.parseAxisParam(axis, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(
      x as unknown as tf.Tensor,
      numOrSizeSplits,
      ax,
    );
    if (sizes.some((d) => d === 0)) return fallback(args);
    const be = args.backend as WasmBackendLike;
    const begin = new Array<number>(x.shape.length).fill(0);
    return sizes.map((piece) => {
      const size = x.shape.slice();
      size[ax] = piece;
      const out = be.makeOutput(size, x.dtype);
      sliceBlocks(be.typedArrayFromHeap(x), x.shape, begin, size, be.typedArrayFromHeap(out));
      begin[ax] += piece;
      return out;
    });
  };
}

/**
 * `out = take(x, indices, axis)` for `x` viewed as `[outer, dim, inner]`: each index copies one
 * contiguous run of `inner` values. Throws on an index outside `[0, dim)` (tfjs's message)
 * before writing anything.
 */
export function gatherRows(
  x: TypedArray,
  outer: number,
  dim: number,
  inner: number,
  indices: ArrayLike<number>,
  out: TypedArray,
): void {
  const n = indices.length;
  for (let i = 0; i < n; i++) {
    const ix = indices[i];
    if (!(ix >= 0 && ix <= dim - 1)) {
      throw new Error(`GatherV2: the index value ${ix} is not in [0, ${dim - 1}]`);
    }
  }
  let o = 0;
  for (let a = 0; a < outer; a++) {
    const base = a * dim * inner;
    for (let i = 0; i < n; i++) {
      const src = base + indices[i] * inner;
      if (inner >= 16) out.set(x.subarray(src, src + inner), o);
      else for (let j = 0; j < inner; j++) out[o + j] = x[src + j];
      o += inner;
    }
  }
}

function gatherKernel(fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { x, indices } = args.inputs as { x: tf.TensorInfo; indices: tf.TensorInfo };
    const { axis, batchDims } = args.attrs as unknown as { axis: number; batchDims: number };
    if (x.dtype === "string" || indices.dtype !== "int32" || (batchDims ?? 0) !== 0) {
      return fallback(args);
    }
    const ax = tf.util.parseAxisParam(axis, x.shape)[0];
    const outer = tf.util.sizeFromShape(x.shape.slice(0, ax));
    const inner = tf.util.sizeFromShape(x.shape.slice(ax + 1));
    const outShape = [...x.shape.slice(0, ax), ...indices.shape, ...x.shape.slice(ax + 1)];
    const be = args.backend as WasmBackendLike;
    const ids = be.typedArrayFromHeap(indices);
    const dim = x.shape[ax];
    for (let i = 0; i < ids.length; i++) {
      // Checked before the output exists, so a bad id leaks nothing.
      if (!(ids[i] >= 0 && ids[i] <= dim - 1)) {
        throw new Error(`GatherV2: the index value ${ids[i]} is not in [0, ${dim - 1}]`);
      }
    }
    const out = be.makeOutput(outShape, x.dtype);
    if (tf.util.sizeFromShape(outShape) === 0) return out;
    const native = nativeKernels();
    if (native && outer === 1 && (x.dtype === "float32" || x.dtype === "int32")) {
      // One memcpy per row in C, rows over the threads (the JavaScript loop's per-row subarray
      // costs ~0.5 µs: 1.1 ms of S's 21 ms forward for the word embeddings).
      // Views by dtype (Float32Array or Int32Array); C copies 4-byte words.
      native.gatherRows(
        be.typedArrayFromHeap(x) as Float32Array,
        be.typedArrayFromHeap(indices) as unknown as Int32Array,
        be.typedArrayFromHeap(out) as Float32Array,
        inner,
      );
      return out;
    }
    gatherRows(
      be.typedArrayFromHeap(x),
      outer,
      x.shape[ax],
      inner,
      be.typedArrayFromHeap(indices),
      be.typedArrayFromHeap(out),
    );
    return out;
  };
}

/**
 * `ScatterNd` with one index per row (`indices` [n, 1], the gradient of the model's embedding
 * lookups): a scatter-add of whole rows into a zeroed output. Other index ranks, dtypes, or an
 * index outside the output go to tfjs's kernel.
 */
function scatterNdKernel(fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { indices, updates } = args.inputs as { indices: tf.TensorInfo; updates: tf.TensorInfo };
    const shape = (args.attrs as unknown as { shape: number[] }).shape;
    if (
      indices.dtype !== "int32" || updates.dtype !== "float32" || indices.shape.length !== 2 ||
      indices.shape[1] !== 1 || shape.length < 1 ||
      tf.util.sizeFromShape(updates.shape) !==
        indices.shape[0] * tf.util.sizeFromShape(shape.slice(1))
    ) {
      return fallback(args);
    }
    const be = args.backend as WasmBackendLike;
    const ids = be.typedArrayFromHeap(indices);
    for (let i = 0; i < ids.length; i++) {
      if (!(ids[i] >= 0 && ids[i] < shape[0])) return fallback(args);
    }
    const out = be.makeOutput(shape.slice(), "float32");
    // Views after the allocation (a heap growth detaches older views).
    segmentSumValues(
      be.typedArrayFromHeap(updates),
      [indices.shape[0], ...shape.slice(1)],
      be.typedArrayFromHeap(indices),
      1,
      shape[0],
      be.typedArrayFromHeap(out),
    );
    return out;
  };
}

const REPLACEMENTS: Record<string, (fallback: tf.KernelFunc) => tf.KernelFunc> = {
  ScatterNd: scatterNdKernel,
  Identity: identityKernel,
  Cast: castKernel,
  Sum: sumKernel,
  Slice: sliceKernel,
  SplitV: splitVKernel,
  GatherV2: gatherKernel,
};

let registered = false;

/**
 * Replaces the wasm kernels listed in this module's docs (idempotent). `TFJS_FAST_WASM=0`
 * leaves tfjs's own kernels in place (for comparisons).
 */
export function registerFastWasmKernels(): boolean {
  if (registered) return true;
  const setting = Deno.env.get("TFJS_FAST_WASM");
  if (setting === "0" || setting === "false") return false;
  for (const [name, make] of Object.entries(REPLACEMENTS)) {
    const original = tf.getKernel(name, "wasm");
    if (!original) continue;
    tf.unregisterKernel(name, "wasm");
    tf.registerKernel({ ...original, kernelFunc: make(original.kernelFunc) });
  }
  registered = true;
  return true;
}

/** Kernel names this module replaces on wasm. */
export function fastWasmKernelNames(): string[] {
  return Object.keys(REPLACEMENTS);
}
