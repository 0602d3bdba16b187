import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  fastWasmKernelNames,
  registerFastWasmKernels,
  sliceBlocks,
  sumLeadingRows,
} from "../lib/backend/fused_wasm.ts";
import { useBackend } from "../lib/backend/mod.ts";
import { createRng } from "../lib/util/random.ts";
import { maxRelErr, randn } from "./numeric_util.ts";

/** Runs `f` on cpu and on wasm with the same inputs; returns both results as arrays. */
async function onBoth(
  f: () => tf.Tensor | tf.Tensor[],
): Promise<{ cpu: Float32Array[]; wasm: Float32Array[]; shapes: number[][][] }> {
  const out: Record<string, Float32Array[]> = {};
  const shapes: number[][][] = [];
  for (const name of ["cpu", "wasm"] as const) {
    await useBackend(name);
    const r = tf.tidy(f);
    const list = Array.isArray(r) ? r : [r];
    shapes.push(list.map((t) => t.shape));
    out[name] = await Promise.all(
      list.map(async (t) => Float32Array.from(await t.data() as ArrayLike<number>)),
    );
    tf.dispose(list);
  }
  assert.deepEqual(shapes[0], shapes[1]);
  return { cpu: out.cpu, wasm: out.wasm, shapes };
}

Deno.test("sumLeadingRows and sliceBlocks: small hand-checked cases", () => {
  const out = new Float32Array(3);
  sumLeadingRows([1, 2, 3, 4, 5, 6], 2, 3, out);
  assert.deepEqual(Array.from(out), [5, 7, 9]);
  // x = arange(24) as [2,3,4]; take [:, 1:3, :] (trailing dim whole → runs of 8).
  const x = Float32Array.from({ length: 24 }, (_, i) => i);
  const o = new Float32Array(16);
  sliceBlocks(x, [2, 3, 4], [0, 1, 0], [2, 2, 4], o);
  assert.deepEqual(Array.from(o), [4, 5, 6, 7, 8, 9, 10, 11, 16, 17, 18, 19, 20, 21, 22, 23]);
  const o2 = new Float32Array(2);
  sliceBlocks(x, [2, 3, 4], [1, 2, 1], [1, 1, 2], o2);
  assert.deepEqual(Array.from(o2), [21, 22]);
});

Deno.test("fast wasm kernels are registered by useBackend", async () => {
  await useBackend("wasm");
  assert.equal(registerFastWasmKernels(), true);
  assert.deepEqual(fastWasmKernelNames().sort(), [
    "Cast",
    "GatherV2",
    "Identity",
    "ScatterNd",
    "Slice",
    "SplitV",
    "Sum",
  ]);
});

Deno.test("Sum on wasm matches cpu for leading, trailing and mixed axes", async () => {
  const cases: { shape: number[]; axis: number | number[]; keepDims: boolean }[] = [
    { shape: [64, 48], axis: 0, keepDims: false },
    { shape: [64, 48], axis: 0, keepDims: true },
    { shape: [1, 300, 40], axis: [0, 1], keepDims: false },
    { shape: [4, 5, 6, 7], axis: [1, 0], keepDims: true },
    { shape: [4, 5, 6, 7], axis: -1, keepDims: false },
    { shape: [4, 5, 6, 7], axis: [0, 2], keepDims: false },
    { shape: [4, 5, 6], axis: [0, 1, 2], keepDims: false },
  ];
  for (const [i, c] of cases.entries()) {
    const size = c.shape.reduce((a, b) => a * b, 1);
    const xs = randn(size, 10 + i);
    const r = await onBoth(() => tf.sum(tf.tensor(xs, c.shape), c.axis, c.keepDims));
    const err = maxRelErr(r.wasm[0], r.cpu[0]);
    assert.ok(err <= 1e-5, `case ${JSON.stringify(c)}: ${err}`);
  }
  // int32 goes to the original kernel.
  const ri = await onBoth(() => tf.sum(tf.tensor([[1, 2], [3, 4]], [2, 2], "int32"), 0));
  assert.deepEqual(Array.from(ri.wasm[0]), [4, 6]);
});

Deno.test("Slice and split on wasm match cpu (float32 and int32, random blocks)", async () => {
  const rng = createRng(3);
  for (let trial = 0; trial < 25; trial++) {
    const rank = 1 + rng.int(4);
    const shape = Array.from({ length: rank }, () => 1 + rng.int(6));
    const begin = shape.map((d) => rng.int(d));
    const size = shape.map((d, i) => 1 + rng.int(d - begin[i]));
    const n = shape.reduce((a, b) => a * b, 1);
    const xs = randn(n, 100 + trial);
    const dtype = trial % 3 === 0 ? "int32" : "float32";
    const vals = dtype === "int32" ? Int32Array.from(xs, (v) => Math.round(v * 100)) : xs;
    const r = await onBoth(() => tf.slice(tf.tensor(vals, shape, dtype), begin, size));
    assert.deepEqual(r.wasm[0], r.cpu[0], `slice ${shape} ${begin} ${size}`);
  }
  for (const axis of [0, 1, 2, 3]) {
    const shape = [2, 6, 4, 3];
    const xs = randn(2 * 6 * 4 * 3, 7 + axis);
    const r = await onBoth(() => tf.split(tf.tensor(xs, shape), [1, shape[axis] - 1], axis));
    assert.equal(r.wasm.length, 2);
    for (let k = 0; k < 2; k++) assert.deepEqual(r.wasm[k], r.cpu[k], `split axis ${axis}`);
  }
  const even = await onBoth(() => tf.split(tf.tensor(randn(2 * 12 * 5, 9), [2, 12, 5]), 3, 1));
  for (let k = 0; k < 3; k++) assert.deepEqual(even.wasm[k], even.cpu[k]);
});

Deno.test("GatherV2 on wasm matches cpu on every axis, and rejects out-of-range ids", async () => {
  const rng = createRng(11);
  const shape = [5, 4, 18];
  const xs = randn(5 * 4 * 18, 12);
  for (const axis of [0, 1, 2]) {
    const ids = Int32Array.from({ length: 7 }, () => rng.int(shape[axis]));
    const r = await onBoth(() =>
      tf.gather(tf.tensor(xs, shape), tf.tensor(ids, [7], "int32"), axis)
    );
    assert.deepEqual(r.wasm[0], r.cpu[0], `axis ${axis}`);
  }
  // 2-D indices, int32 table (embedding-style lookup of a [B, T] id matrix).
  const table = Int32Array.from({ length: 30 * 3 }, (_, i) => i);
  const ids2 = Int32Array.from({ length: 8 }, () => rng.int(30));
  const r2 = await onBoth(() =>
    tf.gather(tf.tensor(table, [30, 3], "int32"), tf.tensor(ids2, [2, 4], "int32"))
  );
  assert.deepEqual(r2.shapes[1][0], [2, 4, 3]);
  assert.deepEqual(r2.wasm[0], r2.cpu[0]);
  await useBackend("wasm");
  const before = tf.memory().numTensors;
  assert.throws(
    () => tf.tidy(() => tf.gather(tf.zeros([3, 2]), tf.tensor([0, 3], [2], "int32"))),
    /index value 3 is not in \[0, 2\]/,
  );
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("Identity / same-dtype Cast share data safely on wasm (no leak, values kept)", async () => {
  await useBackend("wasm");
  const before = tf.memory();
  const x = tf.tensor([1, 2, 3, 4], [2, 2]);
  const c = tf.clone(x);
  const k = tf.cast(x, "float32");
  x.dispose();
  assert.deepEqual(Array.from(await c.data()), [1, 2, 3, 4]);
  assert.deepEqual(Array.from(await k.data()), [1, 2, 3, 4]);
  // A variable's assign swaps its data: an earlier clone keeps the old values.
  const init = tf.tensor([5, 6]), next = tf.tensor([7, 8]);
  const v = tf.variable(init);
  const snap = tf.clone(v);
  v.assign(next);
  assert.deepEqual(Array.from(await snap.data()), [5, 6]);
  assert.deepEqual(Array.from(await v.data()), [7, 8]);
  // int32 -> float32 still converts.
  const ints = tf.tensor([1, 2], [2], "int32");
  const i = tf.cast(ints, "float32");
  assert.equal(i.dtype, "float32");
  assert.deepEqual(Array.from(await i.data()), [1, 2]);
  tf.dispose([c, k, v, snap, i, init, next, ints]);
  const after = tf.memory();
  assert.equal(after.numTensors, before.numTensors);
  assert.equal(after.numBytes, before.numBytes);
});

Deno.test("gradients of a LayerNorm + dense block agree between wasm and cpu", async () => {
  const xs = randn(32 * 24, 1), ws = randn(24 * 16, 2), gs = randn(24, 3), bs = randn(16, 4);
  const r = await onBoth(() => {
    const x = tf.tensor2d(xs, [32, 24]);
    const w = tf.tensor2d(ws, [16, 24]);
    const g = tf.tensor1d(gs);
    const bias = tf.tensor1d(bs);
    // The bias gradient is a Sum over the leading axis (the replaced wasm Sum).
    const f = (x: tf.Tensor, w: tf.Tensor, g: tf.Tensor, bias: tf.Tensor) => {
      const { mean, variance } = tf.moments(x, -1, true);
      const y = tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-12))), g);
      const z = tf.add(tf.matMul(y as tf.Tensor2D, w as tf.Tensor2D, false, true), bias);
      const [a, b] = tf.split(z, [6, 10], 1);
      return tf.add(tf.sum(tf.square(a)), tf.sum(tf.tanh(b)));
    };
    return tf.grads(f)([x, w, g, bias]);
  });
  for (let k = 0; k < 4; k++) {
    const err = maxRelErr(r.wasm[k], r.cpu[k]);
    assert.ok(err <= 1e-5, `grad ${k}: ${err}`);
  }
});

Deno.test("ScatterNd on wasm (row scatter-add, repeated rows) matches cpu; other forms fall back", async () => {
  const ids = [3, 0, 3, 7, 3, 1];
  const ups = randn(6 * 5, 40);
  const r = await onBoth(() =>
    tf.scatterND(tf.tensor2d(ids, [6, 1], "int32"), tf.tensor2d(ups, [6, 5]), [9, 5])
  );
  assert.ok(maxRelErr(r.wasm[0], r.cpu[0]) <= 1e-6);
  // Row 3 is the sum of three updates; rows never indexed are zero.
  const row3 = [0, 2, 4].map((k) => ups.slice(k * 5, k * 5 + 5));
  for (let j = 0; j < 5; j++) {
    assert.ok(Math.abs(r.wasm[0][15 + j] - (row3[0][j] + row3[1][j] + row3[2][j])) < 1e-5);
    assert.equal(r.wasm[0][10 + j], 0);
  }
  // Two-component indices (not covered here) still work through tfjs's kernel.
  const r2 = await onBoth(() =>
    tf.scatterND(tf.tensor2d([1, 2, 0, 0], [2, 2], "int32"), tf.tensor1d([5, 6]), [2, 3])
  );
  assert.deepEqual(Array.from(r2.wasm[0]), [6, 0, 0, 0, 0, 5]);
});
