/**
 * Kernels that BERT training needs and a backend lacks or implements too slowly.
 *
 * `UnsortedSegmentSum` is the gradient of `tf.gather`, i.e. of every embedding lookup.
 * - wasm has no implementation at all, so training any embedding fails there;
 * - cpu has one that loops over every segment and builds a masked copy of the whole input each
 *   time (O(numSegments × size)): with a 21,128-row vocabulary one backward pass takes minutes.
 * Both get the same direct scatter-add here: O(size), one output allocation.
 * @module
 */
import * as tf from "@tensorflow/tfjs";

type TypedArray = Float32Array | Int32Array | Uint8Array;

/**
 * Scatter-add of `x` rows into `numSegments` rows (TensorFlow semantics: ids outside
 * `[0, numSegments)` are dropped). `segmentIds` indexes the leading dims of `x`.
 */
export function segmentSumValues(
  x: ArrayLike<number>,
  xShape: readonly number[],
  ids: ArrayLike<number>,
  idsRank: number,
  numSegments: number,
  out: TypedArray,
): void {
  let rowSize = 1;
  for (let d = idsRank; d < xShape.length; d++) rowSize *= xShape[d];
  const n = ids.length;
  out.fill(0);
  for (let i = 0; i < n; i++) {
    const s = ids[i];
    if (s < 0 || s >= numSegments) continue;
    const src = i * rowSize;
    const dst = s * rowSize;
    for (let j = 0; j < rowSize; j++) out[dst + j] += x[src + j];
  }
}

function outShape(x: tf.TensorInfo, ids: tf.TensorInfo, numSegments: number): number[] {
  return [numSegments, ...x.shape.slice(ids.shape.length)];
}

function allocate(dtype: tf.DataType, size: number): TypedArray {
  return dtype === "int32" ? new Int32Array(size) : new Float32Array(size);
}

// The backends' internals are not part of tfjs's public types; these are the few members used.
interface CpuBackendLike {
  data: { get(id: tf.DataId): { values: ArrayLike<number> } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: TypedArray): tf.TensorInfo;
}
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): TypedArray;
}

const cpuSegmentSum: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const numSegments = (attrs as unknown as { numSegments: number }).numSegments;
  const b = backend as unknown as CpuBackendLike;
  const shape = outShape(x, segmentIds, numSegments);
  const out = allocate(x.dtype, shape.reduce((a, c) => a * c, 1));
  segmentSumValues(
    b.data.get(x.dataId).values,
    x.shape,
    b.data.get(segmentIds.dataId).values,
    segmentIds.shape.length,
    numSegments,
    out,
  );
  return b.makeTensorInfo(shape, x.dtype, out);
};

const wasmSegmentSum: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const numSegments = (attrs as unknown as { numSegments: number }).numSegments;
  const b = backend as unknown as WasmBackendLike;
  const output = b.makeOutput(outShape(x, segmentIds, numSegments), x.dtype);
  // Views into the wasm heap: read both inputs before writing the output.
  segmentSumValues(
    b.typedArrayFromHeap(x),
    x.shape,
    b.typedArrayFromHeap(segmentIds),
    segmentIds.shape.length,
    numSegments,
    b.typedArrayFromHeap(output),
  );
  return output;
};

const KERNELS: { backendName: string; kernelName: string; kernelFunc: tf.KernelFunc }[] = [
  { backendName: "cpu", kernelName: "UnsortedSegmentSum", kernelFunc: cpuSegmentSum },
  { backendName: "wasm", kernelName: "UnsortedSegmentSum", kernelFunc: wasmSegmentSum },
];

let registered = false;

/** Registers (or replaces) the project's kernels. Idempotent. */
export function registerProjectKernels(): void {
  if (registered) return;
  for (const k of KERNELS) {
    if (tf.getKernel(k.kernelName, k.backendName)) tf.unregisterKernel(k.kernelName, k.backendName);
    tf.registerKernel(k);
  }
  registered = true;
}

/** Names of the kernels this module adds or replaces, per backend (for reports and tests). */
export function projectKernelNames(): { backendName: string; kernelName: string }[] {
  return KERNELS.map(({ backendName, kernelName }) => ({ backendName, kernelName }));
}
