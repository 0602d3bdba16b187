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
 *
 * `ProjectAdamW` (fused_adamw.ts; cpu and wasm have one-loop kernels): composed from tfjs ops the
 * update is ~12 dispatches and as many passes over each parameter's memory. Here it is three
 * elementwise passes (new m, new v, new p), each recomputing what it needs, in the composite's
 * order of float32 operations.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { ADAMW_KERNEL, adamwCoefficients, type AdamWUpdateAttrs } from "./fused_adamw.ts";

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

const VARIABLES = {
  m: ["moment1", "grad"],
  v: ["moment2", "grad"],
  p: ["param", "moment1", "moment2", "grad"],
};

/** One output of the AdamW update; `what` picks which. */
function adamwProgram(n: number, what: "m" | "v" | "p"): Program {
  const body = {
    m: "result[index] = moment1[index] * uniforms.b1 + grad[index] * uniforms.c1;",
    v: "let gi = grad[index]; result[index] = moment2[index] * uniforms.b2 + (gi * gi) * uniforms.c2;",
    p: `let gi = grad[index];
        let mi = moment1[index] * uniforms.b1 + gi * uniforms.c1;
        let vi = moment2[index] * uniforms.b2 + (gi * gi) * uniforms.c2;
        let denom = sqrt(vi) / uniforms.bc2Sqrt + uniforms.eps;
        result[index] = param[index] * uniforms.keep - (mi / denom) * uniforms.stepSize;`,
  }[what];
  return {
    // Only the inputs the body reads: the pipeline layout is derived from the shader, and a
    // declared but unused binding fails validation (the dispatch is then silently dropped).
    variableNames: VARIABLES[what],
    outputShape: [n],
    shaderKey: `projectAdamW_${what}`,
    size: true,
    uniforms:
      "b1 : f32, c1 : f32, b2 : f32, c2 : f32, eps : f32, bc2Sqrt : f32, keep : f32, stepSize : f32,",
    ...flat(n),
    getUserCode: () => `
      fn main(index : i32) {
        if (index < uniforms.size) {
          ${body}
        }
      }`,
  };
}

/** `ProjectAdamW` on webgpu: outputs new p, m, v (float32, the parameter's shape). */
const adamwKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { p, m, v, g } = inputs as unknown as Record<"p" | "m" | "v" | "g", tf.TensorInfo>;
  const a = attrs as unknown as AdamWUpdateAttrs;
  const b = backend as unknown as WebGpuBackendLike;
  const n = p.shape.reduce((x, y) => x * y, 1);
  // The scalars every AdamW path shares (fused_adamw.ts).
  const { stepSize, bc2Sqrt, keep } = adamwCoefficients(a);
  const f32 = (x: number) => ({ type: "float32", data: [x] });
  const uniforms = [
    f32(a.beta1),
    f32(1 - a.beta1),
    f32(a.beta2),
    f32(1 - a.beta2),
    f32(a.epsilon),
    f32(bc2Sqrt),
    f32(keep),
    f32(stepSize),
  ];
  const flat1d = (t: tf.TensorInfo): tf.TensorInfo => ({ ...t, shape: [n] });
  const byName: Record<string, tf.TensorInfo> = {
    param: flat1d(p),
    moment1: flat1d(m),
    moment2: flat1d(v),
    grad: flat1d(g),
  };
  return (["p", "m", "v"] as const).map((what) => {
    const ins = VARIABLES[what].map((name) => byName[name]);
    const out = b.runWebGPUProgram(adamwProgram(n, what), ins, "float32", uniforms);
    return { dataId: out.dataId, shape: p.shape.slice(), dtype: "float32" as const };
  });
};

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
  if (tf.getKernel(ADAMW_KERNEL, "webgpu")) tf.unregisterKernel(ADAMW_KERNEL, "webgpu");
  tf.registerKernel({ kernelName: ADAMW_KERNEL, backendName: "webgpu", kernelFunc: adamwKernel });
  registered = true;
}

/** Kernels this module replaces on webgpu (for reports and tests). */
export function webgpuKernelNames(): { backendName: string; kernelName: string }[] {
  return [
    { backendName: "webgpu", kernelName: "UnsortedSegmentSum" },
    { backendName: "webgpu", kernelName: ADAMW_KERNEL },
  ];
}
