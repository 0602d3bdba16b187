/**
 * Raw checkpoint tensors (as read from a file, before they become tf.Variables) and dtype
 * conversion to float32.
 * @module
 */

/** Element types found in checkpoints (safetensors names). */
export type RawDtype =
  | "F64"
  | "F32"
  | "F16"
  | "BF16"
  | "I64"
  | "I32"
  | "I16"
  | "I8"
  | "U8"
  | "BOOL";

/** Bytes per element of each dtype. */
export const DTYPE_SIZE: Record<RawDtype, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/** One tensor of a checkpoint; `toFloat32()` converts (and copies) its values lazily. */
export interface RawTensor {
  dtype: RawDtype;
  shape: number[];
  /** Values as float32 in row-major order (a fresh array each call). */
  toFloat32(): Float32Array;
}

/** Number of elements of a shape. */
export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** IEEE half → float. */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

const scratchU32 = new Uint32Array(1);
const scratchF32 = new Float32Array(scratchU32.buffer);
let HALF_TABLE: Float32Array | null = null;
function halfTable(): Float32Array {
  if (!HALF_TABLE) {
    HALF_TABLE = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) HALF_TABLE[h] = halfToFloat(h);
  }
  return HALF_TABLE;
}

/** How to read one little-endian element of each dtype at byte `p` as a number. */
const READ: Record<RawDtype, (dv: DataView, p: number) => number> = {
  F64: (dv, p) => dv.getFloat64(p, true),
  F32: (dv, p) => dv.getFloat32(p, true),
  F16: (dv, p) => halfTable()[dv.getUint16(p, true)],
  BF16: (dv, p) => {
    // bfloat16 is the top half of a float32.
    scratchU32[0] = dv.getUint16(p, true) << 16;
    return scratchF32[0];
  },
  I64: (dv, p) => Number(dv.getBigInt64(p, true)),
  I32: (dv, p) => dv.getInt32(p, true),
  I16: (dv, p) => dv.getInt16(p, true),
  I8: (dv, p) => dv.getInt8(p),
  U8: (dv, p) => dv.getUint8(p),
  BOOL: (dv, p) => dv.getUint8(p),
};

/**
 * Converts `count` little-endian elements of `dtype` starting at byte `byteOffset` of `bytes`
 * to float32, taking element `i` from position `index(i)` (in elements) when given.
 */
export function convertToFloat32(
  bytes: Uint8Array,
  byteOffset: number,
  dtype: RawDtype,
  count: number,
  index?: (i: number) => number,
): Float32Array {
  const out = new Float32Array(count);
  const size = DTYPE_SIZE[dtype];
  const dv = new DataView(bytes.buffer, bytes.byteOffset + byteOffset);
  if (dtype === "F32" && !index) {
    // Fast path: one copy of the bytes (handles unaligned offsets).
    new Uint8Array(out.buffer).set(bytes.subarray(byteOffset, byteOffset + count * 4));
    return out;
  }
  const read = READ[dtype];
  for (let i = 0; i < count; i++) out[i] = read(dv, (index ? index(i) : i) * size);
  return out;
}
