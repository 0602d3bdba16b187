/**
 * The few members of tfjs's cpu and wasm backends that the project's float32 kernels use (they
 * are not part of tfjs's public types; kernels cast the `backend` argument to these), and the
 * helper that hands a kernel views of its inputs and new outputs on either backend.
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** What opening an optional native library (BLAS, the native kernels) found. */
export interface LibraryInfo {
  enabled: boolean;
  library?: string;
  /** What users call it (`"oneDNN"`, `"OpenBLAS"`). */
  name?: string;
  /** Threads it was set to use. */
  threads?: number;
  reason: string;
}

/** The cpu backend: tensor values live in JavaScript arrays. */
export interface CpuBackendLike {
  data: { get(id: tf.DataId): { values: Float32Array } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

/**
 * A float32 tensor's values on the cpu backend as a Float32Array. The cpu backend's `Cast` from
 * int32 or bool to float32 shares the input's Int32Array / Uint8Array under the float32 label (no
 * precision is lost, so it does not copy); C kernels reading float32 memory need a real copy then.
 */
export function cpuFloat32(be: CpuBackendLike, t: tf.TensorInfo): Float32Array {
  const v = be.data.get(t.dataId).values as ArrayLike<number>;
  return v instanceof Float32Array ? v : Float32Array.from(v);
}

/** The wasm backend: tensor values live in the wasm heap (views detach when it grows). */
export interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
  disposeData(dataId: tf.DataId): boolean;
}

/**
 * Allocates float32 outputs of `shapes`, then calls `body` with views of the inputs and outputs
 * (wasm: views are taken after every allocation, since a heap growth detaches older views).
 */
export function withMemory(
  backendName: "cpu" | "wasm",
  backend: unknown,
  inputs: tf.TensorInfo[],
  shapes: number[][],
  body: (ins: Float32Array[], outs: Float32Array[]) => void,
): tf.TensorInfo[] {
  if (backendName === "cpu") {
    const be = backend as CpuBackendLike;
    const outs = shapes.map((s) => new Float32Array(tf.util.sizeFromShape(s)));
    body(inputs.map((t) => cpuFloat32(be, t)), outs);
    return outs.map((o, i) => be.makeTensorInfo(shapes[i], "float32", o));
  }
  const be = backend as WasmBackendLike;
  const infos = shapes.map((s) => be.makeOutput(s, "float32"));
  try {
    body(inputs.map((t) => be.typedArrayFromHeap(t)), infos.map((t) => be.typedArrayFromHeap(t)));
  } catch (e) {
    for (const t of infos) be.disposeData(t.dataId); // outputs nobody will own
    throw e;
  }
  return infos;
}

/** Where oneDNN (`libdnnl`, Debian: `libdnnl2`) is looked for; env `TFJS_DNNL` names another. */
export const DNNL_CANDIDATES = [
  "libdnnl.so.2",
  "/usr/lib/x86_64-linux-gnu/libdnnl.so.2",
  "/usr/lib/aarch64-linux-gnu/libdnnl.so.2",
  "libdnnl.so.3",
];

/**
 * Registers `kernelName` on cpu and wasm with the function `make` gives each, replacing one
 * already registered under that name (the project's own kernels, registered once per process).
 */
export function registerOnCpuAndWasm(
  kernelName: string,
  make: (backendName: "cpu" | "wasm") => tf.KernelFunc,
): void {
  for (const backendName of ["cpu", "wasm"] as const) {
    if (tf.getKernel(kernelName, backendName)) tf.unregisterKernel(kernelName, backendName);
    tf.registerKernel({ kernelName, backendName, kernelFunc: make(backendName) });
  }
}

/** Whether `dataId` is a registered variable's current data (a pass over the variables that
 * stops at the first match, nothing allocated: matMuls ask it of their operands). */
export function isVariableData(dataId: object): boolean {
  const vars = tf.engine().state.registeredVariables;
  for (const name in vars) if (vars[name].dataId === dataId) return true;
  return false;
}

/** Data ids of the registered variables' current data (a pass over the variables). */
export function variableDataIds(): Set<object> {
  const vars = tf.engine().state.registeredVariables;
  return new Set(Object.values(vars).map((v) => v.dataId));
}
