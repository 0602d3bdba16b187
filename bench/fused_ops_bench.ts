/**
 * Forward + backward time of the fused GELU and LayerNorm (lib/backend/fused_ops.ts) against the
 * same math composed from tfjs ops, at the M configuration's sizes (GELU on [2048, 1024],
 * LayerNorm on [2048, 256]), per backend. Also the fused AdamW update against composed ops on a
 * vocabulary-sized embedding.
 *
 *     deno run -A bench/fused_ops_bench.ts [--backends wasm,cpu] [--reps 10]
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { parseArgs } from "node:util";
import {
  adamwComposite,
  adamwUpdate,
  gelu,
  geluComposite,
  layerNorm,
  layerNormComposite,
  useBackend,
} from "../lib/backend/mod.ts";
import { median } from "./util.ts";

async function time(reps: number, f: () => tf.Tensor[]): Promise<number> {
  const ts: number[] = [];
  for (let i = 0; i <= reps; i++) {
    const t0 = performance.now();
    const outs = tf.tidy(f);
    await outs[0].data();
    tf.dispose(outs);
    if (i > 0) ts.push(performance.now() - t0); // first run is warm-up
  }
  return median(ts);
}

/** Runs the comparisons on one backend; returns rows of [what, composed ms, fused ms]. */
export async function benchFusedOps(backend: "wasm" | "cpu", reps: number): Promise<string[][]> {
  await useBackend(backend);
  const rows: string[][] = [];
  const x = tf.randomNormal([2048, 1024], 0, 1, "float32", 1);
  const w = tf.randomNormal([2048, 1024], 0, 1, "float32", 2);
  const g = (f: (x: tf.Tensor) => tf.Tensor) => () => {
    const [dx] = tf.grads((a: tf.Tensor) => tf.sum(tf.mul(f(a), w)))([x]);
    return [dx];
  };
  rows.push([
    "GELU fwd+bwd [2048,1024]",
    (await time(reps, g(geluComposite))).toFixed(1),
    (await time(reps, g(gelu))).toFixed(1),
  ]);
  const h = tf.randomNormal([2048, 256], 0, 1, "float32", 3);
  const gam = tf.randomNormal([256], 1, 0.1, "float32", 4);
  const bet = tf.randomNormal([256], 0, 0.1, "float32", 5);
  const w2 = tf.randomNormal([2048, 256], 0, 1, "float32", 6);
  const ln = (f: typeof layerNorm) => () =>
    tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(f(a, b, c, 1e-12), w2)))(
      [h, gam, bet],
    );
  rows.push([
    "LayerNorm fwd+bwd [2048,256]",
    (await time(reps, ln(layerNormComposite))).toFixed(1),
    (await time(reps, ln(layerNorm))).toFixed(1),
  ]);
  const p = tf.randomNormal([21128, 256], 0, 0.02, "float32", 7);
  const gr = tf.randomNormal([21128, 256], 0, 1e-3, "float32", 8);
  const m = tf.zerosLike(p), v = tf.zerosLike(p);
  const attrs = { lr: 3e-5, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01, step: 3 };
  const upd = (f: typeof adamwUpdate) => () => {
    const r = f(p, m, v, gr, attrs);
    return [r.p, r.m, r.v];
  };
  rows.push([
    "AdamW update [21128,256]",
    (await time(reps, upd(adamwComposite))).toFixed(1),
    (await time(reps, upd(adamwUpdate))).toFixed(1),
  ]);
  tf.dispose([x, w, h, gam, bet, w2, p, gr, m, v]);
  return rows.map((r) => [backend, ...r]);
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      backends: { type: "string", default: "wasm,cpu" },
      reps: { type: "string", default: "10" },
    },
  });
  const all: string[][] = [["backend", "op", "composed ms", "fused ms"]];
  for (const b of values.backends!.split(",")) {
    all.push(...await benchFusedOps(b as "wasm" | "cpu", Number(values.reps)));
  }
  for (const r of all) console.log(r.map((c, i) => i < 2 ? c.padEnd(30) : c.padStart(12)).join(""));
}
