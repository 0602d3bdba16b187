/**
 * What the training loop adds to a step, next to the model's forward + backward: one AdamW update
 * over all parameters and the global gradient norm (computed every update as the NaN/inf guard
 * and for clipping), for a small multiple-choice BERT.
 *
 *     deno run -A bench/training_overhead.ts [--layers 2] [--hidden 64] [--batch 8] [--seq 128]
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { parseArgs } from "node:util";
import { initBackend } from "../lib/backend/mod.ts";
import { createFromConfig, makeBertConfig } from "../lib/models/mod.ts";
import { AdamW, globalNorm } from "../lib/training/mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    layers: { type: "string", default: "2" },
    hidden: { type: "string", default: "64" },
    batch: { type: "string", default: "8" },
    seq: { type: "string", default: "128" },
    reps: { type: "string", default: "5" },
  },
});
const H = Number(values.hidden);
const B = Number(values.batch);
const T = Number(values.seq);
const reps = Number(values.reps);
const backend = await initBackend({ quiet: true });
const model = createFromConfig(
  makeBertConfig({
    vocab_size: 1174,
    num_hidden_layers: Number(values.layers),
    hidden_size: H,
    num_attention_heads: Math.max(1, H / 32),
    intermediate_size: 2 * H,
    max_position_embeddings: Math.max(T, 128),
  }),
  "mc",
  1,
);
const vars = [...model.variables.values()];
const ids = tf.randomUniform([B, 4, T], 5, 1000, "int32");
const types = tf.zeros([B, 4, T], "int32");
const mask = tf.ones([B, 4, T], "int32");

const time = async (f: () => Promise<void>) => {
  await f();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) await f();
  return (performance.now() - t0) / reps;
};

let grads = new Map<string, tf.Tensor>();
const fwdBwd = await time(async () => {
  tf.dispose([...grads.values()]);
  const r = tf.variableGrads(
    () =>
      tf.sum(
        model.forward({ inputIds: ids, tokenTypeIds: types, attentionMask: mask }, {
          training: true,
          seed: 1,
        }).logits,
      ) as tf.Scalar,
    vars,
  );
  await r.value.data();
  r.value.dispose();
  grads = new Map();
  for (const [name, v] of model.variables) if (r.grads[v.name]) grads.set(name, r.grads[v.name]);
});
const opt = new AdamW(model.variables, { weightDecay: 0.01 });
const adamw = await time(async () => {
  opt.step(grads, 1e-3);
  await vars[0].data();
});
const norm = await time(async () => {
  await globalNorm(grads);
});
console.log(
  `backend ${backend.name}; MC BERT ${values.layers} layers, hidden ${H}, ` +
    `${model.numParameters()} parameters; batch ${B} x 4 choices x ${T} tokens`,
);
console.log(`forward+backward  ${fwdBwd.toFixed(1)} ms`);
console.log(`AdamW update      ${adamw.toFixed(1)} ms`);
console.log(`global grad norm  ${norm.toFixed(1)} ms`);
console.log(
  `loop overhead     ${(100 * (adamw + norm) / fwdBwd).toFixed(1)} % of forward+backward`,
);
opt.dispose();
model.dispose();
