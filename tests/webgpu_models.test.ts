/**
 * The BERT models on webgpu (lavapipe in CI): PyTorch parity of every head within 1e-4, the same
 * outputs as cpu, and a few AdamW training steps that track cpu's losses and reduce the loss.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../lib/backend/mod.ts";
import { type BertModel, loadPretrained, type Task } from "../lib/models/mod.ts";
import { AdamW, qaLoss } from "../lib/training/mod.ts";
import { adapterPresenceTest, IGNORE } from "./webgpu_support.ts";

const FIX = new URL("./fixtures/parity/", import.meta.url).pathname;
const ref = JSON.parse(await Deno.readTextFile(`${FIX}reference.json`));

type Nested = number | Nested[];
const flat = (x: Nested): number[] => (Array.isArray(x) ? x.flatMap(flat) : [x]);

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, "lengths differ");
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

function inputs(which: "inputs" | "mc_inputs") {
  const r = ref[which];
  return {
    inputIds: tf.tensor(r.input_ids, undefined, "int32"),
    tokenTypeIds: tf.tensor(r.token_type_ids, undefined, "int32"),
    attentionMask: tf.tensor(r.attention_mask, undefined, "int32"),
  };
}

/** The task's outputs, flattened in a fixed order, with the PyTorch reference for each. */
async function outputs(
  model: BertModel,
): Promise<{ name: string; got: Float32Array; want: number[] }[]> {
  const x = inputs(model.task === "mc" ? "mc_inputs" : "inputs");
  const out = model.forward(x);
  // The head's output type, told apart by its fields (the task is only known at run time).
  const pairs: [string, tf.Tensor, Nested][] = "lastHiddenState" in out
    ? [
      ["last_hidden_state", out.lastHiddenState, ref.last_hidden_state],
      ["pooler_output", out.poolerOutput, ref.pooler_output],
    ]
    : "startLogits" in out
    ? [
      ["start_logits", out.startLogits, ref.qa_start_logits],
      ["end_logits", out.endLogits, ref.qa_end_logits],
    ]
    : model.task === "mlm"
    ? [["mlm_logits", out.logits, ref.mlm_logits]]
    : [["mc_logits", out.logits, ref.mc_logits]];
  const res = [];
  for (const [name, t, want] of pairs) {
    res.push({ name, got: (await t.data()) as Float32Array, want: flat(want) });
  }
  tf.dispose([out as unknown as tf.TensorContainer, x as unknown as tf.TensorContainer]);
  return res;
}

/** A temp model folder with the safetensors fixture. */
async function fixtureDir(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "webgpu_models_" });
  await Deno.copyFile(`${FIX}config.json`, `${dir}/config.json`);
  await Deno.copyFile(`${FIX}model.safetensors`, `${dir}/model.safetensors`);
  return dir;
}

adapterPresenceTest("webgpu_models");

Deno.test({
  name: "webgpu: every head matches PyTorch within 1e-4 and cpu within 1e-5",
  ignore: IGNORE,
  fn: async () => {
    const dir = await fixtureDir();
    const tasks: Task[] = ["base", "mc", "qa", "mlm"];
    for (const task of tasks) {
      await useBackend("cpu");
      const onCpu = await loadPretrained(dir, task, { log: () => {} });
      const cpuOut = await outputs(onCpu);
      onCpu.dispose();
      await useBackend("webgpu");
      const before = tf.memory().numTensors;
      const model = await loadPretrained(dir, task, { log: () => {} });
      const gpuOut = await outputs(model);
      model.dispose();
      assert.equal(tf.memory().numTensors, before, `${task}: tensors leaked`);
      for (let i = 0; i < gpuOut.length; i++) {
        const { name, got, want } = gpuOut[i];
        const vsTorch = maxAbsDiff(got, want);
        assert.ok(vsTorch <= 1e-4, `${task} ${name}: max abs diff vs PyTorch ${vsTorch}`);
        const vsCpu = maxAbsDiff(got, cpuOut[i].got);
        assert.ok(vsCpu <= 1e-5, `${task} ${name}: max abs diff vs cpu ${vsCpu}`);
      }
    }
    await Deno.remove(dir, { recursive: true });
  },
});

/** `steps` AdamW steps of the QA model on a fixed batch, with dropout; returns the losses. */
async function trainQa(backend: "cpu" | "webgpu", dir: string, steps: number): Promise<number[]> {
  await useBackend(backend);
  const model = await loadPretrained(dir, "qa", { log: () => {} });
  const names = new Map([...model.variables].map(([hf, v]) => [v.name, hf]));
  const opt = new AdamW(model.variables, { weightDecay: 0.01 });
  const x = inputs("inputs");
  const start = tf.tensor1d([5, 4, 7], "int32");
  const end = tf.tensor1d([7, 5, 8], "int32");
  const before = tf.memory().numTensors;
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const { value, grads } = tf.variableGrads(() => {
      const out = model.forward(x, { training: true, seed: 100 + s });
      return qaLoss(out.startLogits, out.endLogits, start, end);
    }, [...model.variables.values()]);
    losses.push((await value.data())[0]);
    opt.step(new Map(Object.entries(grads).map(([k, g]) => [names.get(k)!, g])), 1e-3);
    tf.dispose([value, ...Object.values(grads)]);
    if (s === 0) assert.ok(tf.memory().numTensors > before, "optimizer state was created");
  }
  const after = tf.memory().numTensors;
  opt.dispose();
  model.dispose();
  tf.dispose([start, end, x as unknown as tf.TensorContainer]);
  // Every step after the first leaves the tensor count where the first left it.
  assert.ok(after >= before);
  return losses;
}

Deno.test({
  name: "webgpu: AdamW steps with dropout track cpu and reduce the QA loss",
  ignore: IGNORE,
  fn: async () => {
    const dir = await fixtureDir();
    const steps = 6;
    const cpu = await trainQa("cpu", dir, steps);
    await useBackend("webgpu");
    const n0 = tf.memory().numTensors;
    const gpu = await trainQa("webgpu", dir, steps);
    assert.equal(tf.memory().numTensors, n0, "webgpu training leaked tensors");
    for (let s = 0; s < steps; s++) {
      // Same dropout masks (seeded, made on the CPU); GPU float rounding compounds over steps.
      const rel = Math.abs(gpu[s] - cpu[s]) / Math.abs(cpu[s]);
      assert.ok(rel <= 1e-3, `step ${s}: webgpu loss ${gpu[s]} vs cpu ${cpu[s]}`);
    }
    assert.ok(gpu[steps - 1] < gpu[0] * 0.9, `loss did not go down: ${gpu.join(", ")}`);
    await Deno.remove(dir, { recursive: true });
  },
});
