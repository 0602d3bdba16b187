/**
 * The few members of tfjs's cpu and wasm backends that the project's float32 kernels use. They
 * are not part of tfjs's public types; kernels cast the `backend` argument to these.
 * @module
 */
import type * as tf from "@tensorflow/tfjs";

/** The cpu backend: tensor values live in JavaScript arrays. */
export interface CpuBackendLike {
  data: { get(id: tf.DataId): { values: Float32Array } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

/** The wasm backend: tensor values live in the wasm heap (views detach when it grows). */
export interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}
