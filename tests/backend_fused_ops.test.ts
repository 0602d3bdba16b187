import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  addLayerNorm,
  gelu,
  geluComposite,
  layerNorm,
  layerNormComposite,
  useBackend,
} from "../lib/backend/mod.ts";
import { erfc } from "../lib/backend/fused_ops.ts";
import { assertSameBits, maxRelErr, randn, values } from "./numeric_util.ts";

/** Value and gradients (w.r.t. every input) of sum(f(...) · w) for a fixed random w. */
function valueAndGrads(
  f: (...xs: tf.Tensor[]) => tf.Tensor,
  inputs: tf.Tensor[],
  w: tf.Tensor,
): tf.Tensor[] {
  const y = f(...inputs);
  const grads = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(f(...xs), w)))(inputs);
  return [y, ...grads];
}

Deno.test("erfc matches known values to float32 accuracy", () => {
  // erfc(0) = 1, erfc(1) = 0.157299207..., erfc(-1) = 1.842700792..., erfc(3) = 2.209049699e-5
  const cases: [number, number][] = [[0, 1], [1, 0.15729920705028513], [-1, 1.8427007929497148], [
    3,
    2.209049699858544e-5,
  ], [0.5, 0.4795001221869535]];
  for (const [z, want] of cases) {
    assert.ok(Math.abs(erfc(z) - want) / want < 2e-7, `erfc(${z}) = ${erfc(z)}, want ${want}`);
  }
});

Deno.test("GELU: value and gradient match the composed ops on cpu (fused cpu kernel; wasm path)", async () => {
  const shape = [64, 96];
  const xs = randn(64 * 96, 1, 2.5);
  const ws = randn(64 * 96, 2);
  await useBackend("cpu");
  const ref = await values(
    tf.tidy(() =>
      valueAndGrads((x) => geluComposite(x), [tf.tensor(xs, shape)], tf.tensor(ws, shape))
    ),
  );
  for (const backend of ["cpu", "wasm"] as const) {
    await useBackend(backend);
    const before = tf.memory().numTensors;
    const got = await values(
      tf.tidy(() => valueAndGrads((x) => gelu(x), [tf.tensor(xs, shape)], tf.tensor(ws, shape))),
    );
    assert.equal(tf.memory().numTensors, before);
    for (let k = 0; k < 2; k++) {
      const err = maxRelErr(got[k], ref[k]);
      assert.ok(err <= 1e-5, `${backend} ${k === 0 ? "value" : "grad"}: rel err ${err}`);
    }
  }
});

Deno.test("fused GELU (cpu kernel) keeps relative accuracy in the negative tail", async () => {
  // The composed form loses it: 1 + erf(x/√2) cancels to 0 in float32 below x ≈ -5.5.
  await useBackend("cpu");
  const y = tf.tidy(() => gelu(tf.tensor([-3, -5, -7])));
  const got = await y.data();
  y.dispose();
  // x·Φ(x) from tabulated Φ: Φ(-3)=1.3498980316e-3, Φ(-5)=2.8665157187e-7, Φ(-7)=1.2798125438e-12
  const want = [-3 * 1.3498980316301e-3, -5 * 2.866515718791939e-7, -7 * 1.279812543885835e-12];
  for (let i = 0; i < 3; i++) {
    assert.ok(
      Math.abs(got[i] - want[i]) / Math.abs(want[i]) < 1e-6,
      `gelu tail ${got[i]} vs ${want[i]}`,
    );
  }
});

Deno.test("fused LayerNorm: value and gradients (x, γ, β) match the composed ops on cpu", async () => {
  // Rows with an offset and different scales, as in a residual stream; rank 3 input.
  const shape = [4, 24, 40];
  const n = 4 * 24 * 40;
  const xs = randn(n, 3, 3, 0.7);
  const gs = randn(40, 4, 0.2, 1);
  const bs = randn(40, 5, 0.1);
  const ws = randn(n, 6);
  const run = (f: typeof layerNorm) =>
    valueAndGrads(
      (x, g, b) => f(x, g, b, 1e-12),
      [tf.tensor(xs, shape), tf.tensor(gs, [40]), tf.tensor(bs, [40])],
      tf.tensor(ws, shape),
    );
  await useBackend("cpu");
  const ref = await values(tf.tidy(() => run(layerNormComposite)));
  for (const backend of ["cpu", "wasm"] as const) {
    await useBackend(backend);
    const before = tf.memory().numTensors;
    const got = await values(tf.tidy(() => run(layerNorm)));
    assert.equal(tf.memory().numTensors, before);
    for (const [k, name] of ["y", "dx", "dgamma", "dbeta"].entries()) {
      const err = maxRelErr(got[k], ref[k]);
      assert.ok(err <= 1e-5, `${backend} ${name}: rel err ${err}`);
    }
  }
});

Deno.test("fused LayerNorm rejects a gamma of the wrong size", async () => {
  await useBackend("wasm");
  assert.throws(
    () => tf.tidy(() => layerNorm(tf.zeros([2, 4]), tf.ones([3]), tf.zeros([4]), 1e-5)),
    /gamma \[3\] and beta \[4\] must have 4 values/,
  );
});

Deno.test("addLayerNorm: the fused evaluation kernel has tf.add + layerNorm's bits; taped, it composes", async () => {
  const shape = [37, 96];
  const xs = randn(37 * 96, 11, 2, 0.3), rs = randn(37 * 96, 12), gs = randn(96, 13, 0.2, 1);
  const bs = randn(96, 14, 0.1);
  for (const backend of ["wasm", "cpu"] as const) {
    await useBackend(backend);
    const [x, r, g, b] = [[xs, shape], [rs, shape], [gs, [96]], [bs, [96]]].map(([v, s]) =>
      tf.tensor(v as Float32Array, s as number[])
    );
    const before = tf.memory().numTensors;
    const fused = addLayerNorm(x, r, g, b, 1e-12, true);
    const plain = tf.tidy(() => layerNorm(tf.add(x, r), g, b, 1e-12));
    assert.equal(tf.memory().numTensors, before + 2, `${backend}: tensors`);
    assertSameBits(await fused.data() as Float32Array, await plain.data() as Float32Array, backend);
    // Under a tape the composed ops run, so the gradient exists and is layerNorm's.
    const grad = tf.grad((a: tf.Tensor) => tf.sum(addLayerNorm(a, r, g, b, 1e-12, true)))(x);
    const want = tf.grad((a: tf.Tensor) => tf.sum(layerNorm(tf.add(a, r), g, b, 1e-12)))(x);
    assertSameBits(await grad.data() as Float32Array, await want.data() as Float32Array, backend);
    tf.dispose([x, r, g, b, fused, plain, grad, want]);
  }
});
