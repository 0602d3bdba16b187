import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { createFromConfig, makeBertConfig, parameterSpecs } from "../lib/models/mod.ts";

const config = makeBertConfig({
  vocab_size: 50,
  hidden_size: 16,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  intermediate_size: 32,
  max_position_embeddings: 16,
});

function inputs2d() {
  return {
    inputIds: tf.tensor2d([[2, 5, 7, 3, 0], [2, 9, 3, 4, 3]], undefined, "int32"),
    tokenTypeIds: tf.tensor2d([[0, 0, 0, 0, 0], [0, 0, 0, 1, 1]], undefined, "int32"),
    attentionMask: tf.tensor2d([[1, 1, 1, 1, 0], [1, 1, 1, 1, 1]], undefined, "int32"),
  };
}

/** Runs `body` on `backend` and checks that it leaves no tensor behind. */
function modelTest(name: string, body: () => void | Promise<void>) {
  for (const backend of ["cpu", "wasm"]) {
    Deno.test(`models: ${name} (${backend})`, async () => {
      await tf.setBackend(backend);
      await tf.ready();
      const before = tf.memory().numTensors;
      await body();
      assert.equal(tf.memory().numTensors, before, "tensors leaked");
    });
  }
}

modelTest("createFromConfig names the variables as Hugging Face's BertForMaskedLM", () => {
  const m = createFromConfig(config, "mlm", 7);
  const names = [...m.variables.keys()];
  assert.deepEqual(names, parameterSpecs(config, "mlm").map((s) => s.name));
  assert.ok(!names.includes("bert.pooler.dense.weight")); // BertForMaskedLM has no pooler
  m.dispose();
});

modelTest("initialisation follows HF: normal(0.02), zero padding row, LayerNorm ones", async () => {
  const m = createFromConfig(config, "mlm", 7);
  const emb = await m.variables.get("bert.embeddings.word_embeddings.weight")!
    .array() as number[][];
  assert.ok(emb[0].every((x) => x === 0), "padding row zero");
  const std = Math.sqrt(emb.slice(1).flat().reduce((a, x) => a + x * x, 0) / (49 * 16));
  assert.ok(Math.abs(std - 0.02) < 0.003, `std ${std}`);
  const ln = await m.variables.get("bert.encoder.layer.1.output.LayerNorm.weight")!.data();
  assert.ok(ln.every((x) => x === 1));
  m.dispose();
});

modelTest("the same seed gives the same weights", async () => {
  const [a, b] = [createFromConfig(config, "mlm", 7), createFromConfig(config, "mlm", 7)];
  const name = "bert.embeddings.word_embeddings.weight";
  assert.deepEqual(await a.variables.get(name)!.array(), await b.variables.get(name)!.array());
  a.dispose();
  b.dispose();
});

modelTest("masked-LM logits at maskedPositions equal the full logits' rows", async () => {
  const m = createFromConfig(config, "mlm", 7);
  const x = inputs2d();
  const out = m.forward(x);
  assert.deepEqual(out.logits.shape, [2, 5, 50]); // [B, T, V]
  const pos = tf.tensor1d([1, 7], "int32"); // flat indices into B*T: (0, 1) and (1, 2)
  const sel = m.forward(x, { maskedPositions: pos });
  assert.deepEqual(sel.logits.shape, [2, 50]); // [N, V]
  const full = await out.logits.array() as number[][][];
  const rows = await sel.logits.array() as number[][];
  for (let i = 0; i < 50; i++) {
    assert.ok(Math.abs(rows[0][i] - full[0][1][i]) < 1e-5);
    assert.ok(Math.abs(rows[1][i] - full[1][2][i]) < 1e-5);
  }
  tf.dispose([out.logits, sel.logits, pos, x.inputIds, x.tokenTypeIds, x.attentionMask]);
  m.dispose();
});

modelTest("each head returns Hugging Face's output shapes", () => {
  const x = inputs2d();
  const mc = createFromConfig(config, "mc", 1);
  const mcIds = tf.tensor3d([[[2, 5, 3], [2, 6, 3]], [[2, 7, 3], [2, 8, 3]]], undefined, "int32");
  const mo = mc.forward({ inputIds: mcIds });
  assert.deepEqual(mo.logits.shape, [2, 2]); // [B, choices]
  const qa = createFromConfig(config, "qa", 1);
  const qo = qa.forward(x);
  assert.deepEqual(qo.startLogits.shape, [2, 5]); // [B, T]
  assert.deepEqual(qo.endLogits.shape, [2, 5]);
  const base = createFromConfig(config, "base", 1);
  const bo = base.forward(x);
  assert.deepEqual(bo.lastHiddenState.shape, [2, 5, 16]); // [B, T, H]
  assert.deepEqual(bo.poolerOutput.shape, [2, 16]); // [B, H]
  tf.dispose([mo.logits, qo.startLogits, qo.endLogits, bo.lastHiddenState, bo.poolerOutput]);
  tf.dispose([mcIds, x.inputIds, x.tokenTypeIds, x.attentionMask]);
  for (const m of [mc, qa, base]) m.dispose();
});

modelTest("dropout is seeded in training and off in evaluation", async () => {
  const x = inputs2d();
  const qa = createFromConfig(config, "qa", 1);
  const run = async (training: boolean, seed: number) => {
    const o = qa.forward(x, { training, seed });
    const d = await o.startLogits.data();
    tf.dispose([o.startLogits, o.endLogits]);
    return d;
  };
  const [d1, d2, d3, n1, n2] = [
    await run(true, 3),
    await run(true, 3),
    await run(true, 4),
    await run(false, 3),
    await run(false, 4),
  ];
  assert.deepEqual(d1, d2, "same seed, same masks");
  assert.notDeepEqual(d1, d3, "another seed, other masks");
  assert.deepEqual(n1, n2, "no dropout in evaluation");
  assert.notDeepEqual(d1, n1);
  tf.dispose([x.inputIds, x.tokenTypeIds, x.attentionMask]);
  qa.dispose();
});

for (const backend of ["cpu", "wasm"]) {
  Deno.test(`models: 50 training steps leak no tensor and reduce the loss (${backend})`, async () => {
    await tf.setBackend(backend);
    await tf.ready();
    const x = inputs2d();
    const starts = tf.tensor1d([1, 2], "int32");
    const mlm = createFromConfig(config, "mlm", 5);
    const qa = createFromConfig(config, "qa", 5);
    const pos = tf.tensor1d([1, 7], "int32");
    const labels = tf.tensor1d([11, 12], "int32");
    // tfjs optimizers keep slots by position in the variable list: one optimizer per model.
    const opt = tf.train.adam(1e-2);
    const opt2 = tf.train.adam(1e-2);
    const qaLoss = (step: number) => {
      const o = qa.forward(x, { training: true, seed: step });
      return tf.losses.softmaxCrossEntropy(tf.oneHot(starts, 5), o.startLogits) as tf.Scalar;
    };
    const mlmLoss = (step: number) => {
      const o = mlm.forward(x, { training: true, seed: step, maskedPositions: pos });
      return tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 50), o.logits) as tf.Scalar;
    };
    // Warm-up step creates the optimizer's slot variables; count after it.
    let first = 0;
    for (const m of [qa, mlm]) {
      const f = m === qa ? qaLoss : mlmLoss;
      (m === qa ? opt : opt2).minimize(() => f(0), false, [...m.variables.values()]);
    }
    const before = tf.memory().numTensors;
    let last = 0;
    for (let step = 1; step <= 50; step++) {
      const l1 = opt.minimize(() => qaLoss(step), true, [...qa.variables.values()])!;
      const { value, grads } = tf.variableGrads(() => mlmLoss(step), [...mlm.variables.values()]);
      opt2.applyGradients(grads as tf.NamedTensorMap as Parameters<typeof opt.applyGradients>[0]);
      const v = (await l1.data())[0] + (await value.data())[0];
      if (step === 1) first = v;
      last = v;
      tf.dispose([l1, value]);
      tf.dispose(Object.values(grads));
      assert.equal(tf.memory().numTensors, before, `step ${step}`);
    }
    assert.ok(last < first, `loss ${first} -> ${last}`);
    // The embedding gradient flows through the custom lookup (scatter-add) on this backend.
    const g = tf.variableGrads(() => qaLoss(0), [
      qa.variables.get("bert.embeddings.word_embeddings.weight")!,
    ]);
    const gw = await Object.values(g.grads)[0].array() as number[][];
    assert.ok(gw[2].some((v) => v !== 0), "row of a used token gets gradient");
    assert.ok(gw[40].every((v) => v === 0), "row of an unused token gets none");
    // Token 0 (pad_token_id) occurs in the input, but nn.Embedding(padding_idx) gives it none.
    assert.ok(gw[0].every((v) => v === 0), "padding row gets no gradient");
    tf.dispose([g.value, ...Object.values(g.grads)]);
    tf.dispose([x.inputIds, x.tokenTypeIds, x.attentionMask, starts, pos, labels]);
    opt.dispose();
    opt2.dispose();
    qa.dispose();
    mlm.dispose();
  });
}

Deno.test("evaluation forward (bias fused into the BLAS matMul, fused attention) has the unfused forward's bits", async () => {
  const { blasFusedBiasActive, fusedAttentionActive, useBackend } = await import(
    "../lib/backend/mod.ts"
  );
  // Dropout probabilities 0: `training: true` then computes the same function through the
  // unfused matMul + add path, so every logit must agree bit for bit.
  const config = makeBertConfig({
    vocab_size: 50,
    hidden_size: 32,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    intermediate_size: 64,
    max_position_embeddings: 16,
    hidden_dropout_prob: 0,
    attention_probs_dropout_prob: 0,
  });
  for (const backend of ["wasm", "cpu"] as const) {
    await useBackend(backend);
    assert.ok(blasFusedBiasActive(), backend);
    if (Deno.env.get("NATIVE_REQUIRED") === "1") assert.ok(fusedAttentionActive(), backend);
    for (const task of ["qa", "mc", "mlm"] as const) {
      const model = createFromConfig(config, task, 3);
      const shape = task === "mc" ? [2, 3, 9] : [3, 9];
      const n = shape.reduce((a, b) => a * b, 1);
      const inputIds = tf.tensor(
        Array.from({ length: n }, (_, i) => 1 + (i * 7) % 49),
        shape,
        "int32",
      );
      const attentionMask = tf.tensor(
        Array.from({ length: n }, (_, i) => i % 9 < 7 ? 1 : 0),
        shape,
        "int32",
      );
      const before = tf.memory().numTensors;
      const evalOut = model.forward({ inputIds, attentionMask }) as unknown as Record<
        string,
        tf.Tensor
      >;
      const trainOut = model.forward({ inputIds, attentionMask }, {
        training: true,
      }) as unknown as Record<string, tf.Tensor>;
      for (const key of Object.keys(evalOut)) {
        const e = new Uint32Array((await evalOut[key].data() as Float32Array).buffer);
        const t = new Uint32Array((await trainOut[key].data() as Float32Array).buffer);
        assert.equal(e.length, t.length);
        for (let i = 0; i < e.length; i++) {
          assert.equal(e[i], t[i], `${backend} ${task} ${key} [${i}]`);
        }
      }
      tf.dispose([...Object.values(evalOut), ...Object.values(trainOut)]);
      assert.equal(tf.memory().numTensors, before);
      tf.dispose([inputIds, attentionMask]);
      model.dispose();
    }
  }
});
