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
