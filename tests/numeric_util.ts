import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { createRng } from "../lib/util/random.ts";

/**
 * Largest |a − b| / |b|, with |b| floored at 1% of b's largest magnitude: entries that cancel to
 * near zero would otherwise turn float32 rounding into huge relative errors.
 */
export function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const denom = Math.max(1e-2 * scale, Math.abs(b[i]), 1e-30);
    worst = Math.max(worst, Math.abs(a[i] - b[i]) / denom);
  }
  return worst;
}

/** `n` seeded normal samples, times `scale`, plus `shift`. */
export function randn(n: number, seed: number, scale = 1, shift = 0): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => rng.normal() * scale + shift);
}

/** Reads and disposes `ts`. */
export async function values(ts: tf.Tensor[]): Promise<Float32Array[]> {
  const out = await Promise.all(
    ts.map(async (t) => Float32Array.from(await t.data() as Float32Array)),
  );
  tf.dispose(ts);
  return out;
}

/** Asserts equal float32 bit patterns, naming the first element that differs (a deepEqual diff
 * of large arrays takes minutes to format). */
export function assertSameBits(a: Float32Array, b: Float32Array, what: string): void {
  assert.equal(a.length, b.length, what);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) {
    if (ua[i] !== ub[i]) assert.fail(`${what}: element ${i} is ${a[i]}, want ${b[i]}`);
  }
}

/**
 * Plain triple loop in float64: the reference every matMul path is checked against. Batch
 * dimensions broadcast as in `tf.matMul` (including `[2, 1]` against `[1, 2]`).
 */
export function refMatMul(
  a: ArrayLike<number>,
  aShape: number[],
  b: ArrayLike<number>,
  bShape: number[],
  ta: boolean,
  tb: boolean,
): Float64Array {
  const ra = aShape.length, rb = bShape.length;
  const m = ta ? aShape[ra - 1] : aShape[ra - 2];
  const k = ta ? aShape[ra - 2] : aShape[ra - 1];
  const n = tb ? bShape[rb - 2] : bShape[rb - 1];
  const outer = tf.broadcast_util.assertAndGetBroadcastShape(
    aShape.slice(0, -2),
    bShape.slice(0, -2),
  );
  // Index of the matrix of batch shape `s` that output item `flat` reads.
  const item = (s: number[], flat: number) => {
    const shape = [...new Array(outer.length - s.length).fill(1), ...s];
    let idx = 0, stride = 1;
    for (let d = outer.length - 1; d >= 0; d--) {
      const c = flat % outer[d];
      flat = Math.floor(flat / outer[d]);
      if (shape[d] !== 1) idx += c * stride;
      stride *= shape[d];
    }
    return idx;
  };
  const batch = outer.reduce((p, d) => p * d, 1);
  const out = new Float64Array(batch * m * n);
  for (let p = 0; p < batch; p++) {
    const ao = item(aShape.slice(0, -2), p) * m * k, bo = item(bShape.slice(0, -2), p) * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let q = 0; q < k; q++) {
          const av = ta ? a[ao + q * m + i] : a[ao + i * k + q];
          const bv = tb ? b[bo + j * k + q] : b[bo + q * n + j];
          s += av * bv;
        }
        out[p * m * n + i * n + j] = s;
      }
    }
  }
  return out;
}
