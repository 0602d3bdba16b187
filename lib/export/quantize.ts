/**
 * Dynamic int8 quantization of a Linear weight, as onnxruntime's `quantize_dynamic` does with
 * `per_channel=True, reduce_range=True, weight_type=QInt8`: each output column gets its own
 * symmetric scale (zero point 0); activations are quantized at run time by `DynamicQuantizeLinear`.
 * @module
 */

/**
 * Largest quantized weight magnitude: 7 bits (`reduce_range`). On x86 CPUs without VNNI,
 * onnxruntime's u8×s8 kernels add pairs of products in 16 bits (`vpmaddubsw`), which saturates
 * with full 8-bit weights (255·127·2 > 32767) but not with 7-bit ones (255·64·2 ≤ 32767).
 */
export const INT8_WEIGHT_MAX = 63;

/** A weight `[K, N]` (row-major) quantized per column: `w ≈ q · scales[column]`. */
export interface QuantizedWeight {
  q: Int8Array;
  scales: Float32Array;
}

/** Rounds half-way cases to even, as `rint` does in onnxruntime's quantizer. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Quantizes a `[K, N]` row-major weight per column (symmetric, zero point 0).
 *
 * @example
 * ```ts
 * import { quantizeColumns } from "./quantize.ts";
 * import assert from "node:assert/strict";
 *
 * // K = 2 rows, N = 2 columns: column 0 is [1, -0.25], column 1 is [0.5, 0.1].
 * const { q, scales } = quantizeColumns(new Float32Array([1, 0.5, -0.25, 0.1]), 2, 2);
 * assert.deepEqual([...q], [63, 63, -16, 13]);
 * assert.ok(Math.abs(scales[0] - 1 / 63) < 1e-9);
 * ```
 */
export function quantizeColumns(w: Float32Array, K: number, N: number): QuantizedWeight {
  if (w.length !== K * N) throw new Error(`quantizeColumns: ${w.length} values for [${K}, ${N}]`);
  const scales = new Float32Array(N);
  for (let k = 0; k < K; k++) {
    for (let n = 0; n < N; n++) scales[n] = Math.max(scales[n], Math.abs(w[k * N + n]));
  }
  for (let n = 0; n < N; n++) scales[n] = scales[n] > 0 ? scales[n] / INT8_WEIGHT_MAX : 1;
  const q = new Int8Array(K * N);
  for (let k = 0; k < K; k++) {
    for (let n = 0; n < N; n++) {
      const v = roundHalfEven(w[k * N + n] / scales[n]);
      q[k * N + n] = Math.max(-INT8_WEIGHT_MAX, Math.min(INT8_WEIGHT_MAX, v));
    }
  }
  return { q, scales };
}
