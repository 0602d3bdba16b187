import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  dropout,
  dropoutMask,
  dropoutValues,
  nativeKernels,
  useBackend,
} from "../lib/backend/mod.ts";
import { assertSameBits, randn } from "./numeric_util.ts";

/** x · mask computed element by element in float32 (the definition the kernels must match). */
function reference(x: Float32Array, rate: number, seed: number): Float32Array {
  const mask = dropoutMask(x.length, rate, seed);
  return x.map((v, i) => Math.fround(v * mask[i]));
}

Deno.test("dropout mask: keeps 1 − rate of the values, scaled by 1/(1 − rate), fixed by the seed", () => {
  const a = dropoutMask(10_000, 0.1, 5);
  assert.deepEqual(a, dropoutMask(10_000, 0.1, 5));
  assert.notDeepEqual(a, dropoutMask(10_000, 0.1, 6));
  const kept = a.filter((v) => v !== 0);
  assert.ok(kept.every((v) => v === Math.fround(1 / 0.9)));
  assert.ok(Math.abs(kept.length / 10_000 - 0.9) < 0.02, `kept ${kept.length}`);
});

Deno.test("dropout values: the JavaScript loop and the native kernel give the reference's bits", async () => {
  await useBackend("cpu"); // opens the native kernels when they can be built
  // Sizes below and above the native kernel's single-thread cutoff (32768), odd lengths, signed
  // zeros and non-finite inputs (0 · ∞ = NaN as with the mask tensor), seeds up to 2³¹ − 2.
  const x = randn(100_003, 1, 3);
  x[0] = -0;
  x[1] = Infinity;
  x[2] = -1e-30;
  x[3] = NaN;
  const native = nativeKernels();
  if (!native) assert.notEqual(Deno.env.get("NATIVE_REQUIRED"), "1", "native kernels missing");
  let checked = 0;
  for (
    const [n, rate, seed] of [[1, 0.5, 0], [7, 0.1, 3], [100_003, 0.1, 2 ** 31 - 2], [
      65_536,
      0.9,
      12345,
    ], [40_000, 0.3333, 77]] as const
  ) {
    const xs = x.subarray(0, n);
    const want = reference(xs, rate, seed);
    const js = new Float32Array(n);
    dropoutValues(xs, js, rate, seed, null);
    assertSameBits(js, want, `javascript n=${n} rate=${rate} seed=${seed}`);
    if (native) {
      const nat = new Float32Array(n);
      dropoutValues(xs, nat, rate, seed, native);
      assertSameBits(nat, want, `native n=${n} rate=${rate} seed=${seed}`);
      checked++;
    }
  }
  assert.equal(checked, native ? 5 : 0);
});

Deno.test("dropout op: same values on cpu and wasm, gradient is the same mask, no tensor left", async () => {
  const shape = [37, 1031];
  const xs = randn(37 * 1031, 2), ws = randn(37 * 1031, 3);
  const mask = dropoutMask(xs.length, 0.2, 9);
  for (const backend of ["cpu", "wasm"] as const) {
    await useBackend(backend);
    const before = tf.memory().numTensors;
    const [x, w] = [tf.tensor(xs, shape), tf.tensor(ws, shape)];
    const y = tf.tidy(() => dropout(x, 0.2, 9));
    assertSameBits(y.dataSync() as Float32Array, reference(xs, 0.2, 9), `${backend} value`);
    const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(dropout(t, 0.2, 9), w)))(x);
    assertSameBits(
      dx.dataSync() as Float32Array,
      ws.map((v, i) => Math.fround(v * mask[i])),
      `${backend} gradient`,
    );
    assert.equal(dropout(x, 0, 1), x, "rate 0 returns the input");
    tf.dispose([x, w, y, dx]);
    assert.equal(tf.memory().numTensors, before, `${backend}: tensors left`);
  }
});
