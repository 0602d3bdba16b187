import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  BackendError,
  initBackend,
  projectKernelNames,
  segmentSumValues,
  useBackend,
} from "../lib/backend/mod.ts";
import { createRng } from "../lib/util/random.ts";

function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const denom = Math.max(1e-6, Math.abs(b[i]));
    worst = Math.max(worst, Math.abs(a[i] - b[i]) / denom);
  }
  return worst;
}

Deno.test("segmentSumValues: scatter-add with dropped out-of-range ids", () => {
  const out = new Float32Array(6);
  segmentSumValues([1, 2, 3, 4, 5, 6, 7, 8], [4, 2], [2, 0, 2, -1], 1, 3, out);
  assert.deepEqual(Array.from(out), [3, 4, 0, 0, 6, 8]);
});

Deno.test("UnsortedSegmentSum on wasm and on the replaced cpu kernel match a reference", async () => {
  const rng = createRng(7);
  const cases: { xShape: number[]; idsShape: number[]; n: number }[] = [
    { xShape: [50, 16], idsShape: [50], n: 31 },
    { xShape: [4, 12, 8], idsShape: [4, 12], n: 100 },
    { xShape: [9], idsShape: [9], n: 4 },
  ];
  assert.ok(projectKernelNames().some((k) => k.backendName === "wasm"));
  for (const c of cases) {
    const size = c.xShape.reduce((a, b) => a * b, 1);
    const xs = Float32Array.from({ length: size }, () => rng.normal());
    const nIds = c.idsShape.reduce((a, b) => a * b, 1);
    const ids = Int32Array.from({ length: nIds }, () => rng.int(c.n));
    const rowSize = size / nIds;
    const expected = new Float64Array(c.n * rowSize);
    for (let i = 0; i < nIds; i++) {
      for (let j = 0; j < rowSize; j++) expected[ids[i] * rowSize + j] += xs[i * rowSize + j];
    }
    for (const backend of ["wasm", "cpu"] as const) {
      await useBackend(backend);
      const got = tf.tidy(() => {
        const idsT: tf.Tensor = tf.tensor(ids, c.idsShape, "int32");
        return tf.unsortedSegmentSum(tf.tensor(xs, c.xShape), idsT as tf.Tensor1D, c.n);
      });
      assert.deepEqual(got.shape, [c.n, ...c.xShape.slice(c.idsShape.length)]);
      const err = maxRelErr(await got.data(), expected);
      got.dispose();
      assert.ok(err <= 1e-5, `${backend} ${JSON.stringify(c)}: rel err ${err}`);
    }
  }
});

Deno.test("gather gradient (embedding backward) agrees between wasm and cpu", async () => {
  const rng = createRng(3);
  const table = Float32Array.from({ length: 40 * 6 }, () => rng.normal());
  const ids = Int32Array.from({ length: 24 }, () => rng.int(40));
  const upstream = Float32Array.from({ length: 24 * 6 }, () => rng.normal());
  const grads: Float32Array[] = [];
  for (const backend of ["cpu", "wasm"] as const) {
    await useBackend(backend);
    const g = tf.tidy(() => {
      const t = tf.tensor2d(table, [40, 6]);
      const f = (w: tf.Tensor) =>
        tf.sum(tf.mul(tf.gather(w, tf.tensor1d(ids, "int32")), tf.tensor2d(upstream, [24, 6])));
      return tf.grad(f)(t);
    });
    grads.push((await g.data()) as Float32Array);
    g.dispose();
  }
  assert.ok(maxRelErr(grads[1], grads[0]) <= 1e-5);
});

/** A two-layer toy encoder: embedding → attention → GELU(erf) → LayerNorm → softmax CE. */
function toyStep(
  vars: Record<string, tf.Variable>,
  ids: tf.Tensor2D,
  labels: tf.Tensor1D,
  opt: tf.Optimizer,
): number {
  const [b, t] = ids.shape as [number, number];
  const h = vars.emb.shape[1] as number;
  const loss = opt.minimize(() => {
    let x = tf.gather(vars.emb, ids.reshape([-1])).reshape([b, t, h]) as tf.Tensor3D;
    for (let l = 0; l < 2; l++) {
      const flat = x.reshape([b * t, h]);
      const q = tf.matMul(flat, vars[`q${l}`]).reshape([b, t, h]);
      const k = tf.matMul(flat, vars[`k${l}`]).reshape([b, t, h]);
      const v = tf.matMul(flat, vars[`v${l}`]).reshape([b, t, h]);
      const att = tf.softmax(tf.matMul(q, k, false, true).div(Math.sqrt(h)));
      const ctx = tf.matMul(att, v).reshape([b * t, h]);
      const inner = tf.matMul(ctx, vars[`f${l}`]);
      const gelu = inner.mul(tf.erf(inner.div(Math.SQRT2)).add(1)).mul(0.5);
      const y = flat.add(gelu);
      const { mean, variance } = tf.moments(y, -1, true);
      x = y.sub(mean).div(variance.add(1e-12).sqrt()).mul(vars[`g${l}`]).reshape([b, t, h]);
    }
    const pooled = x.mean(1) as tf.Tensor2D;
    const logits = tf.matMul(pooled, vars.out);
    return tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 3), logits) as tf.Scalar;
  }, true) as tf.Scalar;
  const value = loss.dataSync()[0];
  loss.dispose();
  return value;
}

Deno.test("a two-layer toy encoder trains on wasm and on cpu, without leaking tensors", async () => {
  for (const backend of ["wasm", "cpu"] as const) {
    await useBackend(backend);
    const rng = createRng(11);
    const h = 16;
    const init = (shape: number[]) =>
      tf.variable(
        tf.tensor(
          Float32Array.from({ length: shape[0] * shape[1] }, () => rng.normal() * 0.3),
          shape,
        ),
      );
    const vars: Record<string, tf.Variable> = { emb: init([30, h]), out: init([h, 3]) };
    for (let l = 0; l < 2; l++) {
      for (const n of ["q", "k", "v", "f"]) vars[`${n}${l}`] = init([h, h]);
      vars[`g${l}`] = tf.variable(tf.ones([h]));
    }
    const idsData = Int32Array.from({ length: 8 * 10 }, () => rng.int(30));
    const ids = tf.tensor2d(idsData, [8, 10], "int32");
    const labels = tf.tensor1d(
      Int32Array.from({ length: 8 }, (_, i) => idsData[i * 10] % 3),
      "int32",
    );
    const opt = tf.train.adam(0.01);
    const first = toyStep(vars, ids, labels, opt);
    const before = tf.memory().numTensors;
    let last = first;
    for (let s = 0; s < 30; s++) last = toyStep(vars, ids, labels, opt);
    assert.equal(tf.memory().numTensors, before, `${backend}: tensors leaked`);
    assert.ok(last < first * 0.5, `${backend}: loss ${first} -> ${last} did not go down`);
    opt.dispose();
    ids.dispose();
    labels.dispose();
    Object.values(vars).forEach((v) => v.dispose());
  }
});

Deno.test("TFJS_BACKEND=tensorflow without tfjs-node fails with an actionable error", async () => {
  await assert.rejects(
    () => initBackend({ backend: "tensorflow", quiet: true }),
    (e: unknown) =>
      e instanceof BackendError && /deno install --allow-scripts/.test(e.message) &&
      /tfjs-node/.test(e.message),
  );
  await assert.rejects(() => initBackend({ backend: "webgl2", quiet: true }), BackendError);
});

Deno.test("initBackend picks wasm here and remembers its choice", async () => {
  if (Deno.env.get("TFJS_BACKEND")) return; // the forced path is covered above
  const a = await initBackend({ quiet: true });
  const b = await initBackend({ quiet: true });
  assert.equal(a, b);
  assert.ok(["wasm", "tensorflow"].includes(a.name), a.reason);
});
