/**
 * Kernels the webgpu backend computes differently from cpu/wasm, replaced for BERT training.
 *
 * `UnsortedSegmentSum` (the gradient of `tf.gather`, i.e. of every embedding lookup): tfjs's
 * webgpu kernel transposes the input, adds with a compare-and-swap loop on float atomics and
 * transposes the `[vocab, hidden]` result back. The order of the float additions then depends on
 * thread scheduling, so embedding gradients (and everything trained after them) are not
 * reproducible from run to run on a real GPU, and two full-table transposes are paid per step.
 * The replacement is deterministic and atomic-free, in three passes:
 *   1. per input row i: is it the first row with its segment id, and which row is the next one;
 *   2. zero the output;
 *   3. per (first row, column): walk that segment's rows in increasing index and write the sum.
 * Rows are summed in increasing index order, exactly as the cpu/wasm kernels in kernels.ts do, so
 * the results agree bit for bit with them (WGSL's f32 addition is correctly rounded).
 * Pass 1 costs O(n²) integer compares for n ids (n = batch × sequence length; 9.4 M at 8 × 384).
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** The members of tfjs's WebGPUProgram that this module fills in. */
interface Program {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  uniforms?: string;
  size?: boolean;
  getUserCode(): string;
}

// The backend's internals are not in tfjs's public types; these are the members used.
interface WebGpuBackendLike {
  runWebGPUProgram(
    program: Program,
    inputs: tf.TensorInfo[],
    outputDtype: tf.DataType,
    uniforms?: { type: string; data: number[] }[],
    output?: tf.TensorInfo,
  ): tf.TensorInfo;
  disposeData(dataId: tf.DataId): void;
}

const WORKGROUP: [number, number, number] = [64, 1, 1];

/**
 * A flat 1-D dispatch over `threads` invocations (tfjs's runWebGPUProgram reshapes it past 65,535
 * workgroups). Written out rather than imported from the package's `webgpu_util`: importing the
 * package registers the backend (see webgpu.ts).
 */
function flat(threads: number): Pick<Program, "dispatchLayout" | "dispatch" | "workgroupSize"> {
  return {
    dispatchLayout: { x: [0] },
    dispatch: [Math.ceil(threads / WORKGROUP[0]), 1, 1],
    workgroupSize: WORKGROUP,
  };
}

/** Pass 1: `result[2i] = 1` when row i is the first of its segment, `result[2i+1]` = next row or -1. */
function linksProgram(n: number): Program {
  return {
    variableNames: ["segmentIds"],
    outputShape: [n, 2],
    shaderKey: "projectSegmentLinks",
    uniforms: "n : i32,",
    ...flat(n),
    getUserCode: () => `
      fn main(index : i32) {
        if (index < uniforms.n) {
          let s = segmentIds[index];
          var head = 1;
          for (var j = 0; j < index; j = j + 1) {
            if (segmentIds[j] == s) { head = 0; break; }
          }
          var next = -1;
          for (var j = index + 1; j < uniforms.n; j = j + 1) {
            if (segmentIds[j] == s) { next = j; break; }
          }
          result[2 * index] = head;
          result[2 * index + 1] = next;
        }
      }`,
  };
}

/** Pass 2: zeros. */
function zeroProgram(shape: number[]): Program {
  return {
    variableNames: [],
    outputShape: shape,
    shaderKey: "projectZero",
    size: true,
    ...flat(shape.reduce((a, b) => a * b, 1)),
    getUserCode: () => `
      fn main(index : i32) {
        if (index < uniforms.size) { result[index] = 0; }
      }`,
  };
}

/** Pass 3: one invocation per (row, column); first rows of a segment sum the whole chain. */
function scatterProgram(n: number, rowSize: number, outShape: number[], zero: string): Program {
  return {
    variableNames: ["x", "segmentIds", "links"],
    outputShape: outShape,
    shaderKey: "projectSegmentScatter",
    uniforms: "work : i32, rowSize : i32, numSegments : i32,",
    ...flat(n * rowSize),
    getUserCode: () => `
      fn main(index : i32) {
        if (index < uniforms.work) {
          let i = index / uniforms.rowSize;
          let col = index - i * uniforms.rowSize;
          let s = segmentIds[i];
          if (links[2 * i] == 1 && s >= 0 && s < uniforms.numSegments) {
            var acc = ${zero};
            var j = i;
            loop {
              acc = acc + x[j * uniforms.rowSize + col];
              j = links[2 * j + 1];
              if (j < 0) { break; }
            }
            result[s * uniforms.rowSize + col] = acc;
          }
        }
      }`,
  };
}

/** Deterministic `UnsortedSegmentSum` for webgpu; `fallback` handles what it does not. */
function makeSegmentSum(fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
    const numSegments = (attrs as unknown as { numSegments: number }).numSegments;
    const n = segmentIds.shape.reduce((a, b) => a * b, 1);
    const size = x.shape.reduce((a, b) => a * b, 1);
    if (
      n === 0 || size === 0 || numSegments === 0 || segmentIds.dtype !== "int32" ||
      (x.dtype !== "float32" && x.dtype !== "int32")
    ) {
      return fallback(args);
    }
    const b = backend as unknown as WebGpuBackendLike;
    const rowSize = size / n;
    const outShape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
    const out2d = [numSegments, rowSize];
    const ids: tf.TensorInfo = { dataId: segmentIds.dataId, shape: [n], dtype: "int32" };
    const x2d: tf.TensorInfo = { dataId: x.dataId, shape: [n, rowSize], dtype: x.dtype };
    const links = b.runWebGPUProgram(linksProgram(n), [ids], "int32", [
      { type: "int32", data: [n] },
    ]);
    const out = b.runWebGPUProgram(zeroProgram(out2d), [], x.dtype);
    b.runWebGPUProgram(
      scatterProgram(n, rowSize, out2d, x.dtype === "int32" ? "0" : "0.0"),
      [x2d, ids, links],
      x.dtype,
      [{ type: "int32", data: [n * rowSize] }, { type: "int32", data: [rowSize] }, {
        type: "int32",
        data: [numSegments],
      }],
      out,
    );
    b.disposeData(links.dataId);
    return { dataId: out.dataId, shape: outShape, dtype: x.dtype };
  };
}

let registered = false;

/**
 * Replaces the webgpu kernels listed in {@link webgpuKernelNames}. Call after
 * `@tensorflow/tfjs-backend-webgpu` has been imported (it registers its own kernels on import).
 * Idempotent.
 */
export function registerWebGpuKernels(): void {
  if (registered) return;
  const stock = tf.getKernel("UnsortedSegmentSum", "webgpu");
  if (!stock) throw new Error("tfjs-backend-webgpu is not loaded: no webgpu UnsortedSegmentSum");
  tf.unregisterKernel("UnsortedSegmentSum", "webgpu");
  tf.registerKernel({
    kernelName: "UnsortedSegmentSum",
    backendName: "webgpu",
    kernelFunc: makeSegmentSum(stock.kernelFunc),
  });
  registered = true;
}

/** Kernels this module replaces on webgpu (for reports and tests). */
export function webgpuKernelNames(): { backendName: string; kernelName: string }[] {
  return [{ backendName: "webgpu", kernelName: "UnsortedSegmentSum" }];
}
