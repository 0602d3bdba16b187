import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../lib/backend/mod.ts";
import { createFromConfig, makeBertConfig } from "../lib/models/mod.ts";
import {
  AdamW,
  describePlan,
  doesNotFitError,
  keptActivationBytes,
  mcLoss,
  parseBytes,
  planMemory,
  qaLoss,
} from "../lib/training/mod.ts";
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
        return qaLoss(out.startLogits, out.endLogits, b.start, b.end);
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

/** Bytes `tf.memory()` grows by during a training forward pass (what the tape keeps). */
function measuredKept(
  cfg: ReturnType<typeof makeBertConfig>,
  task: "qa" | "mc",
  n: number,
  T: number,
  ckpt: boolean,
): number {
  const model = createFromConfig(cfg, task, 1);
  model.gradientCheckpointing = ckpt;
  const shape = task === "mc" ? [n / 2, 2, T] : [n, T];
  const ids = tf.fill(shape, 5, "int32");
  const mask = tf.ones(shape, "int32");
  let kept = 0;
  const base = tf.memory().numBytes;
  const r = tf.variableGrads(() => {
    const out = model.forward({ inputIds: ids, attentionMask: mask }, { training: true, seed: 1 });
    const loss = "startLogits" in out
      ? qaLoss(out.startLogits, out.endLogits, new Array(n).fill(1), new Array(n).fill(2))
      : mcLoss(out.logits, new Array(n / 2).fill(1));
    kept = tf.memory().numBytes - base;
    return loss;
  });
  tf.dispose([r.value, ...Object.values(r.grads), ids, mask]);
  model.dispose();
  return kept;
}

Deno.test("memory plan: activation bytes match tf.memory() on small configs (wasm)", async () => {
  await useBackend("wasm");
  const cases: [Record<string, number>, "qa" | "mc", number, number, boolean][] = [
    [{ hidden_size: 32, num_attention_heads: 4, intermediate_size: 64 }, "qa", 2, 32, false],
    [{ hidden_size: 64, num_attention_heads: 4, intermediate_size: 64 }, "qa", 4, 48, false],
    [{ hidden_size: 32, num_attention_heads: 8, intermediate_size: 128 }, "mc", 4, 40, false],
    [{ hidden_size: 32, num_attention_heads: 4, intermediate_size: 64 }, "qa", 4, 64, true],
    [{ hidden_size: 48, num_attention_heads: 4, intermediate_size: 96 }, "mc", 4, 32, true],
  ];
  for (const [over, task, n, T, ckpt] of cases) {
    const cfg = makeBertConfig({
      vocab_size: 50,
      num_hidden_layers: 3,
      max_position_embeddings: 128,
      ...over,
    });
    const measured = measuredKept(cfg, task, n, T, ckpt);
    const planned = keptActivationBytes(cfg, task, n, T, ckpt);
    const rel = Math.abs(planned - measured) / measured;
    assert.ok(
      rel < 0.15,
      `${
        JSON.stringify(over)
      } ${task} ${n}×${T} ckpt=${ckpt}: planned ${planned}, measured ${measured}`,
    );
  }
});

Deno.test("memory plan: parameters, gradients and AdamW moments match tf.memory()", async () => {
  await useBackend("cpu");
  const before = tf.memory().numBytes;
  const model = createFromConfig(config, "qa", 2);
  const params = tf.memory().numBytes - before;
  const plan = planMemory({
    config,
    task: "qa",
    numParameters: model.numParameters(),
    seqLength: 8,
    batchSize: 2,
    gradientCheckpointing: false,
    training: true,
    backend: "cpu",
    limitBytes: 1e9,
    limitName: "test",
  });
  assert.equal(plan.parameterBytes, params);
  const opt = new AdamW(model.variables, {});
  const grads = new Map([...model.variables].map(([k, v]) => [k, tf.onesLike(v)] as const));
  const beforeStep = tf.memory().numBytes;
  opt.step(grads, 1e-3);
  // The moments are the optimizer's state: two values per parameter.
  assert.equal(tf.memory().numBytes - beforeStep, plan.optimizerBytes);
  // Accumulated gradients plus the new ones of a micro-batch.
  assert.equal(plan.gradientBytes, 2 * params);
  tf.dispose([...grads.values()]);
  opt.dispose();
  model.dispose();
});

Deno.test("memory plan: picks the largest micro-batch that fits, and says when none does", () => {
  const big = makeBertConfig({
    vocab_size: 21128,
    hidden_size: 768,
    num_hidden_layers: 12,
    num_attention_heads: 12,
    intermediate_size: 3072,
  });
  const inp = {
    config: big,
    task: "qa" as const,
    numParameters: 101_678_594,
    seqLength: 384,
    batchSize: 4,
    gradientCheckpointing: false,
    training: true,
    backend: "wasm",
    limitBytes: 4 * 1024 ** 3,
    limitName: "the wasm heap",
    optimizerOnHost: true,
  };
  // Measured (scratch runs of two updates at 1 × 384): the wasm heap grew to 2.24 GiB with the
  // moments outside it and to 2.87 GiB with them inside; batch 2 needs ~3.4 GiB for forward and
  // backward alone, too close to the 4 GiB limit to plan on.
  const inside = planMemory({ ...inp, optimizerOnHost: false });
  assert.equal(inside.microBatch, 1, describePlan(inside));
  const plain = planMemory(inp);
  assert.equal(plain.microBatch, 1, describePlan(plain));
  assert.match(describePlan(plain), /^memory plan .*batch 4 needs .* runs as 4 × 1$/);
  const ckpt = planMemory({ ...inp, gradientCheckpointing: true });
  assert.equal(ckpt.microBatch, 4, describePlan(ckpt));
  assert.ok(ckpt.peakBytes < plain.requestedPeakBytes / 2);
  const none = planMemory({ ...inp, limitBytes: 2e9 });
  assert.equal(none.microBatch, 0);
  const msg = doesNotFitError(none).message;
  assert.match(msg, /stopped before the first update/);
  assert.match(msg, /--gradient_checkpointing/);
  assert.match(msg, /--max_seq_length/);
  assert.equal(parseBytes("3.5GB"), 3.5e9);
  assert.equal(parseBytes("2GiB"), 2 * 1024 ** 3);
  assert.equal(parseBytes("1024"), 1024);
  assert.throws(() => parseBytes("lots"), /not a byte count/);
});

for (const backend of ["cpu", "wasm"] as const) {
  Deno.test(`AdamW: moments on the host give the same updates as the fused kernel (${backend})`, async () => {
    await useBackend(backend);
    const make = () => createFromConfig(config, "qa", 4);
    const [a, b] = [make(), make()];
    const oa = new AdamW(a.variables, { weightDecay: 0.01 });
    const ob = new AdamW(b.variables, { weightDecay: 0.01, momentsOnHost: true });
    for (let step = 0; step < 3; step++) {
      const grads = new Map(
        [...a.variables].map(([k, v], i) =>
          [k, tf.randomNormal(v.shape, 0, 1, "float32", step * 100 + i)] as const
        ),
      );
      oa.step(grads, 1e-3);
      ob.step(grads, 1e-3);
      tf.dispose([...grads.values()]);
    }
    for (const [k, v] of a.variables) {
      assert.deepEqual(b.variables.get(k)!.dataSync(), v.dataSync(), k);
    }
    // Checkpoint state is the same whichever way the moments are kept.
    const [sa, sb] = [await oa.exportState(), await ob.exportState()];
    assert.deepEqual(sb, sa);
    const oc = new AdamW(b.variables, { weightDecay: 0.01, momentsOnHost: true });
    oc.importState(sa);
    assert.deepEqual(await oc.exportState(), sa);
    [oa, ob, oc].forEach((o) => o.dispose());
    a.dispose();
    b.dispose();
  });
}
