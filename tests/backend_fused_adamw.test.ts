import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  ADAMW_KERNEL,
  adamwComposite,
  adamwUpdate,
  type AdamWUpdateAttrs,
  useBackend,
} from "../lib/backend/mod.ts";
import { createRng } from "../lib/util/random.ts";
import { maxRelErr } from "./numeric_util.ts";

/** Runs `steps` updates from the same start with `update`; returns final p, m, v as arrays. */
async function run(
  update: typeof adamwUpdate,
  steps: number,
  weightDecay: number,
): Promise<Float32Array[]> {
  const rng = createRng(4);
  const n = 1000;
  const init = Float32Array.from({ length: n }, () => rng.normal() * 0.02);
  let p = tf.tensor(init, [40, 25]);
  let m = tf.zeros([40, 25]);
  let v = tf.zeros([40, 25]);
  for (let t = 1; t <= steps; t++) {
    // Gradients of very different sizes, zeros included (untouched embedding rows).
    const gv = Float32Array.from(
      { length: n },
      (_, i) => (i % 7 === 0 ? 0 : rng.normal() * 10 ** (i % 5 - 3)),
    );
    const g = tf.tensor(gv, [40, 25]);
    const attrs: AdamWUpdateAttrs = {
      lr: 1e-3,
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-8,
      weightDecay,
      step: t,
    };
    const r = update(p, m, v, g, attrs);
    tf.dispose([p, m, v, g]);
    ({ p, m, v } = r);
  }
  const out = [await p.data(), await m.data(), await v.data()] as Float32Array[];
  tf.dispose([p, m, v]);
  return out;
}

Deno.test("fused AdamW (cpu and wasm kernels) matches the composed tfjs ops over 5 steps", async () => {
  for (const wd of [0, 0.01]) {
    await useBackend("cpu");
    const ref = await run(adamwComposite, 5, wd);
    for (const backend of ["cpu", "wasm"] as const) {
      await useBackend(backend);
      assert.ok(tf.getKernel(ADAMW_KERNEL, backend), `${ADAMW_KERNEL} registered on ${backend}`);
      const before = tf.memory().numTensors;
      const got = await run(adamwUpdate, 5, wd);
      assert.equal(tf.memory().numTensors, before, "no tensor left behind");
      for (const [k, name] of ["p", "m", "v"].entries()) {
        const err = maxRelErr(got[k], ref[k]);
        assert.ok(err <= 1e-5, `${backend} wd=${wd} ${name}: rel err ${err}`);
      }
    }
  }
});

Deno.test("fused AdamW: first step of a known case, and shape errors", async () => {
  await useBackend("wasm");
  // t=1, m=v=0: m=0.1g, v=0.001g², step = lr·m/(√v/√0.001 + eps)/(0.1) = lr·sign(g) (eps≈0).
  const attrs = { lr: 0.5, beta1: 0.9, beta2: 0.999, epsilon: 0, weightDecay: 0.1, step: 1 };
  const r = adamwUpdate(
    tf.tensor([1, -2]),
    tf.zeros([2]),
    tf.zeros([2]),
    tf.tensor([3, -4]),
    attrs,
  );
  const p = await r.p.data();
  // p·(1 − 0.05) − 0.5·sign(g)
  assert.ok(Math.abs(p[0] - (0.95 - 0.5)) < 1e-6 && Math.abs(p[1] - (-1.9 + 0.5)) < 1e-6, `${p}`);
  tf.dispose([r.p, r.m, r.v]);
  assert.throws(
    () =>
      tf.tidy(() => adamwUpdate(tf.zeros([2]), tf.zeros([3]), tf.zeros([2]), tf.zeros([2]), attrs)),
    /m has shape \[3\], parameter \[2\]/,
  );
});
