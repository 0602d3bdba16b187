/** The fused self-attention kernel (`ProjectAttention`) against the composed tfjs ops. */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  attention,
  attentionComposite,
  fusedAttentionActive,
  matmulPrecision,
  nativeInfo,
  setMatmulPrecision,
  useBackend,
} from "../lib/backend/mod.ts";
import { assertSameBits, randn } from "./numeric_util.ts";

const MASK_VALUE = -3.4028234663852886e38;

/** `[N, 1, 1, T]` additive mask: sequence `i` keeps its first `lengths[i]` tokens. */
function additiveMask(lengths: number[], t: number): tf.Tensor4D {
  const m = lengths.flatMap((len) => Array.from({ length: t }, (_, j) => j < len ? 0 : MASK_VALUE));
  return tf.tensor4d(m, [lengths.length, 1, 1, t]);
}

/** Whether the fused kernel can run here; without the native kernels (no C compiler) the tests
 * check only that the composed path is taken, and NATIVE_REQUIRED=1 makes that a failure. */
async function fusedOn(backend: "cpu" | "wasm"): Promise<boolean> {
  await useBackend(backend);
  const on = fusedAttentionActive();
  if (!on) assert.notEqual(Deno.env.get("NATIVE_REQUIRED"), "1", nativeInfo()?.reason ?? "off");
  return on;
}

const CASES = [
  // n, t, heads, dh, lengths (null: no mask)
  { n: 3, t: 17, heads: 4, dh: 8, lengths: [17, 9, 1] },
  { n: 2, t: 33, heads: 2, dh: 16, lengths: null },
  { n: 1, t: 1, heads: 3, dh: 4, lengths: [1] },
  { n: 2, t: 5, heads: 1, dh: 6, lengths: [0, 5] }, // a fully padded sequence: uniform rows
  { n: 1, t: 40, heads: 1, dh: 24, lengths: [33] }, // one item: its products get every thread
];

Deno.test("fused attention has the composed ops' bits (wasm and cpu, masks, one token, one head)", async () => {
  for (const backend of ["wasm", "cpu"] as const) {
    if (!(await fusedOn(backend))) continue;
    for (const [i, c] of CASES.entries()) {
      const H = c.heads * c.dh, rows = c.n * c.t;
      const [q, k, v] = [1, 2, 3].map((s) => tf.tensor2d(randn(rows * H, 10 * i + s), [rows, H]));
      const mask = c.lengths ? additiveMask(c.lengths, c.t) : null;
      const dims = { n: c.n, t: c.t, heads: c.heads };
      const before = tf.memory().numTensors;
      const fused = tf.tidy(() => attention(q, k, v, mask, dims, { fused: true }));
      const composed = tf.tidy(() => attentionComposite(q, k, v, mask, dims));
      assert.equal(tf.memory().numTensors, before + 2, `${backend} case ${i}: tensors`);
      assert.deepEqual(fused.shape, [rows, H]);
      const what = `${backend} case ${i}`;
      assertSameBits(fused.dataSync() as Float32Array, composed.dataSync() as Float32Array, what);
      if (c.lengths?.includes(0)) {
        // The padded sequence attends uniformly to its tokens: its context is v's column mean.
        const vv = v.dataSync(), got = fused.dataSync();
        for (let d = 0; d < H; d++) {
          let mean = 0;
          for (let j = 0; j < c.t; j++) mean += vv[j * H + d] / c.t;
          assert.ok(Math.abs(got[d] - mean) < 1e-5, `${what}: uniform row, column ${d}`);
        }
      }
      tf.dispose([q, k, v, fused, composed, ...(mask ? [mask] : [])]);
    }
  }
});

Deno.test("attention under a gradient tape or with dropout takes the composed ops", async () => {
  for (const backend of ["wasm", "cpu"] as const) {
    if (!(await fusedOn(backend))) continue;
    const rows = 2 * 6, H = 8, dims = { n: 2, t: 6, heads: 2 };
    const q = tf.tensor2d(randn(rows * H, 7), [rows, H]);
    const mask = additiveMask([6, 4], 6);
    // The gradient exists (the fused kernel has none) and equals the composed one.
    const gFused = tf.grad((x: tf.Tensor) =>
      tf.sum(attention(x as tf.Tensor2D, x as tf.Tensor2D, x as tf.Tensor2D, mask, dims, {
        fused: true,
      }))
    )(q);
    const gComposed = tf.grad((x: tf.Tensor) =>
      tf.sum(attentionComposite(x as tf.Tensor2D, x as tf.Tensor2D, x as tf.Tensor2D, mask, dims))
    )(q);
    assertSameBits(
      gFused.dataSync() as Float32Array,
      gComposed.dataSync() as Float32Array,
      backend,
    );
    // dropProbs is honoured even when the fused kernel is asked for.
    const zeroed = attention(q, q, q, mask, dims, {
      fused: true,
      dropProbs: (p) => tf.mul(p, 0),
    });
    assert.ok(Array.from(zeroed.dataSync()).every((x) => x === 0), `${backend}: dropout applied`);
    tf.dispose([q, mask, gFused, gComposed, zeroed]);
  }
});

Deno.test("fused attention under --bf16 has the composed bf16 ops' bits (where bf16 runs)", async () => {
  for (const backend of ["wasm", "cpu"] as const) {
    if (!(await fusedOn(backend))) continue;
    setMatmulPrecision("bf16");
    try {
      if (matmulPrecision() !== "bf16") continue; // no bf16 units or no oneDNN: tested elsewhere
      assert.ok(fusedAttentionActive(), `${backend}: the fused kernel runs under bf16`);
      for (const [i, c] of CASES.entries()) {
        const H = c.heads * c.dh, rows = c.n * c.t;
        const [q, k, v] = [4, 5, 6].map((s) => tf.tensor2d(randn(rows * H, 10 * i + s), [rows, H]));
        const mask = c.lengths ? additiveMask(c.lengths, c.t) : null;
        const dims = { n: c.n, t: c.t, heads: c.heads };
        const fused = tf.tidy(() => attention(q, k, v, mask, dims, { fused: true }));
        const composed = tf.tidy(() => attentionComposite(q, k, v, mask, dims));
        const what = `${backend} bf16 case ${i}`;
        assertSameBits(fused.dataSync() as Float32Array, composed.dataSync() as Float32Array, what);
        // And bf16 it is: the float32 result differs (beyond one token, where softmax is 1).
        setMatmulPrecision("fp32");
        const f32 = tf.tidy(() => attentionComposite(q, k, v, mask, dims));
        setMatmulPrecision("bf16");
        if (c.t > 1) {
          const a = fused.dataSync(), b = f32.dataSync();
          assert.ok(a.some((x, j) => x !== b[j]), `${what}: differs from fp32`);
          assert.ok(a.every((x, j) => Math.abs(x - b[j]) < 0.05), `${what}: near fp32`);
        }
        tf.dispose([q, k, v, fused, composed, f32, ...(mask ? [mask] : [])]);
      }
    } finally {
      setMatmulPrecision("fp32");
    }
  }
});

Deno.test("attention refuses inputs that do not match n, t and heads, naming them", () => {
  const x = tf.zeros([6, 8]) as tf.Tensor2D;
  const wrong = tf.zeros([6, 4]) as tf.Tensor2D;
  const intMask = tf.zeros([2, 1, 1, 3], "int32");
  const shortMask = tf.zeros([2, 1, 1, 2]);
  const dims = { n: 2, t: 3, heads: 2 };
  const cases: [() => unknown, RegExp][] = [
    [
      () => attention(x, x, x, null, { n: 2, t: 4, heads: 2 }, { fused: true }),
      /q has shape \[6,8\]/,
    ],
    [
      () => attention(x, x, x, null, { n: 2, t: 3, heads: 3 }, { fused: true }),
      /not a multiple of 3 heads/,
    ],
    [() => attention(x, wrong, x, null, dims, { fused: true }), /k has shape \[6,4\]/],
    [() => attention(x, x, x, intMask, dims, { fused: true }), /mask is int32/],
    [() => attention(x, x, x, shortMask, dims, { fused: true }), /mask has shape \[2,1,1,2\]/],
  ];
  for (const [f, message] of cases) assert.throws(f, message);
  tf.dispose([x, wrong, intMask, shortMask]);
});
