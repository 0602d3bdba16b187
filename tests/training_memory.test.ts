import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../lib/backend/mod.ts";
import { createFromConfig, makeBertConfig } from "../lib/models/mod.ts";
import { qaLoss } from "../lib/training/mod.ts";
import { maxRelErr } from "./numeric_util.ts";

const config = makeBertConfig({
  vocab_size: 50,
  hidden_size: 16,
  num_hidden_layers: 3,
  num_attention_heads: 4,
  intermediate_size: 32,
  max_position_embeddings: 16,
});

function qaBatch() {
  return {
    inputIds: tf.tensor2d(
      [[2, 5, 7, 3, 0, 0], [2, 9, 3, 4, 3, 8], [2, 4, 4, 3, 6, 0]],
      undefined,
      "int32",
    ),
    attentionMask: tf.tensor2d(
      [[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 0]],
      undefined,
      "int32",
    ),
    start: tf.tensor1d([1, 4, 2], "int32"),
    end: tf.tensor1d([2, 5, 3], "int32"),
  };
}

for (const backend of ["cpu", "wasm"] as const) {
  Deno.test(`memory: gradient checkpointing gives the plain gradients (${backend})`, async () => {
    await useBackend(backend);
    const model = createFromConfig(config, "qa", 3);
    const b = qaBatch();
    const before = tf.memory().numTensors;
    const grads = (ckpt: boolean) => {
      model.gradientCheckpointing = ckpt;
      return tf.variableGrads(() => {
        const out = model.forward(
          { inputIds: b.inputIds, attentionMask: b.attentionMask },
          { training: true, seed: 11 },
        );
        return qaLoss(out.startLogits!, out.endLogits!, b.start, b.end);
      });
    };
    const plain = grads(false);
    const ckpt = grads(true);
    assert.equal(Object.keys(ckpt.grads).length, model.variables.size);
    assert.ok(Math.abs(plain.value.dataSync()[0] - ckpt.value.dataSync()[0]) < 1e-7);
    for (const [name, g] of Object.entries(plain.grads)) {
      const err = maxRelErr(ckpt.grads[name].dataSync(), g.dataSync());
      assert.ok(err <= 1e-6, `${name}: relative error ${err}`);
    }
    tf.dispose([
      plain.value,
      ckpt.value,
      ...Object.values(plain.grads),
      ...Object.values(ckpt.grads),
    ]);
    assert.equal(tf.memory().numTensors, before, "no tensor leaked");
    tf.dispose(Object.values(b));
    model.dispose();
  });
}
