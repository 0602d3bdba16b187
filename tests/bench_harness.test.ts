import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { main } from "../bench/mod.ts";
import {
  type BenchConfig,
  CONFIGS,
  createQaTrainer,
  disposeBatch,
  randomBatch,
} from "../bench/qa_step.ts";
import { runTask } from "../bench/worker.ts";
import { useBackend } from "../lib/backend/mod.ts";

const TINY: BenchConfig = {
  name: "tiny",
  layers: 1,
  hidden: 16,
  heads: 2,
  inter: 32,
  seq: 12,
  batches: [3],
  train: true,
  vocab: 60,
};

Deno.test("bench configurations are the issue's sizes", () => {
  assert.deepEqual(
    [CONFIGS.S.layers, CONFIGS.S.hidden, CONFIGS.S.heads, CONFIGS.S.inter, CONFIGS.S.seq],
    [2, 128, 2, 512, 128],
  );
  assert.deepEqual(CONFIGS.S.batches, [16]);
  assert.deepEqual(
    [CONFIGS.M.layers, CONFIGS.M.hidden, CONFIGS.M.heads, CONFIGS.M.inter, CONFIGS.M.seq],
    [4, 256, 4, 1024, 256],
  );
  assert.deepEqual(CONFIGS.M.batches, [8]);
  assert.equal(CONFIGS.B.train, true);
  assert.deepEqual(CONFIGS.B.batches, [1, 4]);
  for (const c of Object.values(CONFIGS)) assert.equal(c.vocab, 21128);
});

Deno.test("the QA training step learns a fixed batch and leaves no tensor behind", async () => {
  await useBackend("wasm");
  const trainer = createQaTrainer(TINY, 3);
  const batch = randomBatch(TINY, 3, 4);
  const first = await trainer.trainStep(batch, 0);
  const before = tf.memory().numTensors;
  let last = first;
  for (let i = 1; i <= 40; i++) last = await trainer.trainStep(batch, i);
  await trainer.evalStep(batch);
  assert.equal(tf.memory().numTensors, before);
  assert.ok(Number.isFinite(first) && Number.isFinite(last));
  // Loss starts near ln(seq) (uniform logits) and drops while fitting one batch.
  assert.ok(Math.abs(first - Math.log(TINY.seq)) < 0.5, `first loss ${first}`);
  assert.ok(last < first, `loss ${first} → ${last}`);
  assert.equal(trainer.optimizer.stepCount, 41);
  disposeBatch(batch);
  trainer.dispose();
});

Deno.test("a batch that does not fit runs in parts, as the memory plan says", async () => {
  await useBackend("cpu");
  const whole = createQaTrainer(TINY, 3);
  const batch = randomBatch(TINY, 3, 4);
  assert.equal(whole.trainingMode(3), "plain");
  const lossWhole = await whole.trainStep(batch, 0);
  // The parameter bytes alone leave room for about one sequence's activations.
  const bytes = 4 * 3 * whole.model.numParameters() + 60_000;
  Deno.env.set("TFJS_MEMORY_LIMIT", String(Math.round(bytes / 0.9)));
  try {
    const split = createQaTrainer(TINY, 3);
    const mode = split.trainingMode(3);
    assert.match(mode, /× \d+$/, mode);
    const lossSplit = await split.trainStep(batch, 0); // creates AdamW's state
    // The parts' weighted losses sum to the batch's loss (up to their own dropout masks).
    assert.ok(Math.abs(lossSplit - lossWhole) < 0.2, `${lossSplit} vs ${lossWhole}`);
    const before = tf.memory().numTensors;
    await split.trainStep(batch, 1);
    assert.equal(tf.memory().numTensors, before, "no tensor left behind");
    split.dispose();
  } finally {
    Deno.env.delete("TFJS_MEMORY_LIMIT");
    disposeBatch(batch);
    whole.dispose();
  }
});

Deno.test("a worker task reports throughput, tensor counts and memory", async () => {
  const r = await runTask({
    config: TINY,
    backend: "wasm",
    steps: 4,
    warmup: 1,
    evalSteps: 2,
    budgetS: 0,
    seed: 1,
  });
  assert.ok(r.ok, r.error ?? "");
  assert.match(r.label ?? "", /^wasm/);
  assert.equal(r.train!.length, 1);
  const t = r.train![0];
  assert.equal(t.batch, 3);
  assert.equal(t.steps, 4);
  assert.equal(t.numTensorsBefore, t.numTensorsAfter);
  assert.ok(t.tokensPerS > 0 && t.stepMsMedian > 0);
  assert.equal(r.eval!.length, 1);
  assert.ok(r.peakRssMb! > 0);
  const bad = await runTask({ ...TINY_TASK, backend: "nonsense" });
  assert.equal(bad.ok, false);
  assert.match(bad.error!, /not a known backend/);
});

const TINY_TASK = {
  config: TINY,
  backend: "wasm",
  steps: 1,
  warmup: 0,
  evalSteps: 1,
  budgetS: 0,
  seed: 1,
};

Deno.test("bench options: unknown configuration, bad --steps and --batches are errors", async () => {
  await assert.rejects(
    () => main(["--configs", "S,X", "--no-torch", "--no-data"]),
    /unknown configuration 'X'/,
  );
  await assert.rejects(
    () => main(["--steps", "0", "--no-torch", "--no-data"]),
    /--steps: expected a positive integer/,
  );
  await assert.rejects(
    () => main(["--configs", "S", "--batches", "4", "--no-torch", "--no-data"]),
    /--batches: configuration S has batch sizes 16/,
  );
  await assert.rejects(
    () => main(["--batches", "0", "--no-torch", "--no-data"]),
    /--batches: expected positive integers/,
  );
});
