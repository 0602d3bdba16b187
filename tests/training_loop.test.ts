// The generic training loop on a tiny hand-made classifier (HF-style parameter names):
// accumulation equivalence, the partial last group, reproducibility by seed, kill-and-resume
// equality, the NaN stop, logs, best checkpoint, and tensor hygiene.
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { createRng } from "../lib/util/random.ts";
import {
  countCorrect,
  crossEntropy,
  describePlan,
  epochOrder,
  type MemoryPlan,
  NonFiniteLossError,
  OutOfMemoryError,
  planSteps,
  readCheckpointMeta,
  readJsonl,
  train,
  type TrainingArgs,
  type TrainOptions,
} from "../lib/training/mod.ts";

await tf.setBackend("cpu");

const IN = 6;
const OUT = 3;

/** Seeded data: 3 classes separable-ish by a random projection plus noise. */
function makeData(n: number, seed: number) {
  const rng = createRng(seed);
  const x: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const label = i % OUT;
    x.push(Array.from({ length: IN }, (_, j) => (j % OUT === label ? 1.5 : 0) + rng.normal()));
    y.push(label);
  }
  return { x, y };
}

/** Parameters in PyTorch layout under Hugging Face-style names. */
function makeModel(seed: number): Map<string, tf.Variable> {
  const rng = createRng(seed);
  const r = (n: number) => Array.from({ length: n }, () => rng.normal() * 0.3);
  const v = (t: tf.Tensor) => {
    const x = tf.variable(t);
    t.dispose(); // the variable keeps its own reference to the data
    return x;
  };
  return new Map<string, tf.Variable>([
    ["encoder.LayerNorm.weight", v(tf.tensor1d(r(IN).map((x) => 1 + x)))],
    ["encoder.LayerNorm.bias", v(tf.tensor1d(r(IN)))],
    ["encoder.dense.weight", v(tf.tensor2d(r(IN * IN), [IN, IN]))],
    ["encoder.dense.bias", v(tf.tensor1d(r(IN)))],
    ["classifier.weight", v(tf.tensor2d(r(OUT * IN), [OUT, IN]))],
    ["classifier.bias", v(tf.tensor1d(r(OUT)))],
  ]);
}

function disposeModel(m: Map<string, tf.Variable>) {
  for (const v of m.values()) v.dispose();
}

interface Batch {
  x: tf.Tensor2D;
  y: number[];
}

function forward(
  vars: Map<string, tf.Variable>,
  x: tf.Tensor2D,
  training: boolean,
  seed: number,
  dropout: number,
): tf.Tensor2D {
  const g = (k: string) => vars.get(k)!;
  const { mean, variance } = tf.moments(x, -1, true);
  let h = tf.add(
    tf.mul(
      tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-12))),
      g("encoder.LayerNorm.weight"),
    ),
    g("encoder.LayerNorm.bias"),
  );
  h = tf.tanh(
    tf.add(tf.matMul(h, g("encoder.dense.weight"), false, true), g("encoder.dense.bias")),
  );
  if (training && dropout > 0) h = tf.dropout(h, dropout, undefined, seed);
  return tf.add(
    tf.matMul(h, g("classifier.weight"), false, true),
    g("classifier.bias"),
  ) as tf.Tensor2D;
}

function setup(
  vars: Map<string, tf.Variable>,
  data: { x: number[][]; y: number[] },
  args: TrainingArgs,
  extra: Partial<TrainOptions<Batch>> & { dropout?: number } = {},
): TrainOptions<Batch> {
  const dropout = extra.dropout ?? 0.1;
  return {
    variables: vars,
    numExamples: data.y.length,
    makeBatch: (idx) => ({
      x: tf.tensor2d(idx.map((i) => data.x[i])),
      y: idx.map((i) => data.y[i]),
    }),
    disposeBatch: (b) => b.x.dispose(),
    lossFn: (b, ctx) => {
      const logits = forward(vars, b.x, ctx.training, ctx.seed, dropout);
      const { correct, count } = countCorrect(logits, b.y);
      return { loss: crossEntropy(logits, b.y), correct, count };
    },
    metricName: "accuracy",
    progress: "none",
    args,
    ...extra,
  };
}

async function weights(vars: Map<string, tf.Variable>): Promise<Record<string, Float32Array>> {
  const out: Record<string, Float32Array> = {};
  for (const [k, v] of vars) out[k] = (await v.data()) as Float32Array;
  return out;
}

function maxDiff(a: Record<string, Float32Array>, b: Record<string, Float32Array>): number {
  let d = 0;
  for (const k of Object.keys(a)) {
    for (let i = 0; i < a[k].length; i++) d = Math.max(d, Math.abs(a[k][i] - b[k][i]));
  }
  return d;
}

/** A memory plan as the runners make it (the loop only words its messages with it). */
function testPlan(limitName: string): MemoryPlan {
  return {
    backend: "cpu",
    limitName,
    limitBytes: 1e6,
    usableBytes: 9e5,
    parameterBytes: 1e3,
    gradientBytes: 1e3,
    optimizerBytes: 2e3,
    activationBytesPerExample: 1e4,
    requestedBatch: 5,
    requestedPeakBytes: 5e4,
    microBatch: 2,
    peakBytes: 2.4e4,
    gradientCheckpointing: false,
    training: true,
    seqLength: 6,
    optimizerOnHost: false,
  };
}

async function tmp(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "training_loop_" });
}

Deno.test("planSteps follows run_qa_no_trainer's arithmetic", () => {
  const p = planSteps(10, {
    perDeviceTrainBatchSize: 2,
    gradientAccumulationSteps: 4,
    numTrainEpochs: 3,
  });
  assert.deepEqual(
    [p.numBatches, p.updatesPerEpoch, p.maxTrainSteps, p.numTrainEpochs],
    [5, 2, 6, 3],
  );
  const q = planSteps(10, {
    perDeviceTrainBatchSize: 2,
    gradientAccumulationSteps: 4,
    maxTrainSteps: 5,
  });
  assert.deepEqual([q.maxTrainSteps, q.numTrainEpochs], [5, 3]);
  assert.throws(() => planSteps(0, {}), /at least one example/);
  assert.throws(
    () => planSteps(4, { gradientAccumulationSteps: 0 }),
    /gradient_accumulation_steps/,
  );
});

Deno.test("accumulation: batch 8 equals batch 2 x 4 accumulation on the first update", async () => {
  const data = makeData(8, 1);
  const base: TrainingArgs = { maxTrainSteps: 1, learningRate: 1e-2, weightDecay: 0.01, seed: 7 };
  const a = makeModel(3);
  const ra = await train(setup(a, data, { ...base, perDeviceTrainBatchSize: 8 }, { dropout: 0 }));
  const b = makeModel(3);
  const rb = await train(
    setup(b, data, { ...base, perDeviceTrainBatchSize: 2, gradientAccumulationSteps: 4 }, {
      dropout: 0,
    }),
  );
  assert.equal(ra.completedSteps, 1);
  assert.equal(rb.completedSteps, 1);
  // Same accumulated gradient (its norm is scale-sensitive, unlike Adam's first step) ...
  const ga = ra.stepLog[0].grad_norm as number;
  const gb = rb.stepLog[0].grad_norm as number;
  assert.ok(Math.abs(ga - gb) <= 1e-5 * Math.max(1, ga), `grad norm ${ga} vs ${gb}`);
  // ... the same reported loss (mean over the 8 rows) ...
  assert.ok(Math.abs((ra.stepLog[0].loss as number) - (rb.stepLog[0].loss as number)) < 1e-5);
  // ... and the same weights after the update.
  const d = maxDiff(await weights(a), await weights(b));
  assert.ok(d <= 1e-5, `max weight difference ${d}`);
  // Without accumulation the 2-row batch alone gives a different update.
  const c = makeModel(3);
  await train(setup(c, data, { ...base, perDeviceTrainBatchSize: 2 }, { dropout: 0 }));
  assert.ok(maxDiff(await weights(a), await weights(c)) > 1e-4, "control differs");
  [a, b, c].forEach(disposeModel);
});

Deno.test("accumulation: the last partial group of an epoch updates, loss scaled by 1/accumulation", async () => {
  // 10 rows, batch 2, accumulation 4 -> 5 micro-batches per epoch: one full group, one of 1.
  const data = makeData(10, 2);
  const args: TrainingArgs = {
    perDeviceTrainBatchSize: 2,
    gradientAccumulationSteps: 4,
    numTrainEpochs: 1,
    learningRate: 1e-2,
    seed: 11,
  };
  const m = makeModel(5);
  const r = await train(setup(m, data, args, { dropout: 0 }));
  assert.equal(r.completedSteps, 2);
  assert.equal(r.maxTrainSteps, 2);
  // Recompute: rerun update 1 only, then take the gradient of the last micro-batch / 4.
  const m2 = makeModel(5);
  await train(setup(m2, data, { ...args, maxTrainSteps: 1, numTrainEpochs: undefined }, {
    dropout: 0,
  }));
  const rows = epochOrder(11, 0, 10).slice(8, 10);
  const x = tf.tensor2d(rows.map((i) => data.x[i]));
  const y = rows.map((i) => data.y[i]);
  const { grads, value } = tf.variableGrads(
    () => tf.div(crossEntropy(forward(m2, x, false, 0, 0), y), 4) as tf.Scalar,
    [...m2.values()],
  );
  const partialNorm = Math.sqrt(
    Object.values(grads).reduce((s, g) => s + tf.sum(tf.square(g)).dataSync()[0], 0),
  );
  tf.dispose([x, value, ...Object.values(grads)]);
  const logged = r.stepLog[1].grad_norm as number;
  assert.ok(
    Math.abs(logged - partialNorm) <= 1e-5,
    `partial group norm ${logged} vs ${partialNorm}`,
  );
  [m, m2].forEach(disposeModel);
});

Deno.test("reproducibility: same seed gives the same loss curve exactly, another seed does not", async () => {
  const data = makeData(24, 3);
  const run = async (seed: number) => {
    const m = makeModel(9);
    const r = await train(setup(m, data, {
      perDeviceTrainBatchSize: 4,
      gradientAccumulationSteps: 2,
      numTrainEpochs: 2,
      learningRate: 5e-3,
      numWarmupSteps: 2,
      seed,
    }));
    const w = await weights(m);
    disposeModel(m);
    return { losses: r.stepLog.map((s) => s.loss), lrs: r.stepLog.map((s) => s.learning_rate), w };
  };
  const a = await run(1);
  const b = await run(1);
  const c = await run(2);
  assert.equal(a.losses.length, 6);
  assert.deepEqual(a.losses, b.losses);
  assert.deepEqual(a.lrs, b.lrs);
  assert.equal(maxDiff(a.w, b.w), 0);
  assert.notDeepEqual(a.losses, c.losses);
  // Warm-up: the first update uses rate 0 (HF LambdaLR), then linear decay to 0.
  assert.equal(a.lrs[0], 0);
  assert.ok(Math.abs((a.lrs[2] as number) - 5e-3 * 4 / 4) < 1e-12);
});

Deno.test("dropout is on in training with a different seed per micro-batch", async () => {
  const data = makeData(8, 4);
  const seen: { training: boolean; seed: number }[] = [];
  const m = makeModel(1);
  const opts = setup(m, data, { perDeviceTrainBatchSize: 2, numTrainEpochs: 1, seed: 5 });
  await train({
    ...opts,
    lossFn: (b, ctx) => {
      seen.push(ctx);
      return opts.lossFn(b, ctx);
    },
  });
  assert.equal(seen.length, 4);
  assert.ok(seen.every((s) => s.training));
  assert.equal(new Set(seen.map((s) => s.seed)).size, 4);
  disposeModel(m);
});

Deno.test("kill and resume ends with the same weights and logs as an uninterrupted run", async () => {
  const data = makeData(20, 6);
  const valid = makeData(9, 60);
  const args: TrainingArgs = {
    perDeviceTrainBatchSize: 3,
    gradientAccumulationSteps: 2,
    numTrainEpochs: 2, // 7 micro-batches -> 4 updates per epoch (last group partial) -> 8
    learningRate: 2e-2,
    weightDecay: 0.01,
    numWarmupSteps: 2,
    maxGradNorm: 0.5,
    checkpointingSteps: 3,
    seed: 21,
  };
  const evaluate = (vars: Map<string, tf.Variable>) => () => {
    const acc = tf.tidy(() => {
      const logits = forward(vars, tf.tensor2d(valid.x), false, 0, 0);
      return countCorrect(logits, valid.y).correct.dataSync()[0] / valid.y.length;
    });
    return Promise.resolve({ accuracy: acc });
  };
  const dirA = await tmp();
  const dirB = await tmp();
  try {
    const a = makeModel(13);
    const ra = await train(setup(a, data, { ...args, outputDir: dirA }, {
      evaluate: evaluate(a),
      bestMetric: "accuracy",
    }));
    assert.equal(ra.completedSteps, 8);
    const wa = await weights(a);

    // Run B is "killed" right after update 4 (checkpoint step_3 exists, step 4 is lost).
    const b = makeModel(13);
    await assert.rejects(
      train(setup(b, data, { ...args, outputDir: dirB }, {
        evaluate: evaluate(b),
        bestMetric: "accuracy",
        onStep: (rec) => {
          if (rec.step === 4) throw new Error("killed");
        },
      })),
      /killed/,
    );
    const meta = await readCheckpointMeta(`${dirB}/step_3`);
    assert.equal(meta.state.completedSteps, 3);
    assert.deepEqual([meta.state.epoch, meta.state.batchInEpoch], [0, 6]);

    // A new process: fresh (differently initialised) weights, resume from the checkpoint.
    const c = makeModel(999);
    const rc = await train(setup(c, data, {
      ...args,
      outputDir: dirB,
      resumeFromCheckpoint: `${dirB}/step_3`,
    }, { evaluate: evaluate(c), bestMetric: "accuracy" }));
    assert.equal(rc.completedSteps, 8);
    const wc = await weights(c);
    assert.equal(maxDiff(wa, wc), 0, "bit-identical weights after resume");
    // Logs match the uninterrupted run (the lost update 4 was truncated and redone).
    const la = await readJsonl(`${dirA}/train_log.jsonl`);
    const lc = await readJsonl(`${dirB}/train_log.jsonl`);
    assert.deepEqual(
      lc.map((r) => [r.step, r.loss, r.learning_rate, r.accuracy]),
      la.map((r) => [
        r.step,
        r.loss,
        r.learning_rate,
        r.accuracy,
      ]),
    );
    assert.deepEqual(rc.evalLog, ra.evalLog);
    const csv = await Deno.readTextFile(`${dirB}/train_log.csv`);
    assert.equal(csv.trim().split("\n").length, 9);
    assert.ok(csv.startsWith("step,epoch,epoch_float,loss,running_loss,learning_rate,grad_norm"));
    // best/ and the final model exist; "latest" resolves to the newest checkpoint (step_6).
    const best = JSON.parse(await Deno.readTextFile(`${dirB}/best/best_metric.json`));
    assert.equal(best.value, Math.max(...ra.evalLog.map((r) => r.accuracy as number)));
    await Deno.stat(`${dirB}/best/model.safetensors`);
    await Deno.stat(`${dirB}/model.safetensors`);
    const d = makeModel(5);
    const rd = await train(
      setup(d, data, { ...args, outputDir: dirB, resumeFromCheckpoint: "latest" }, {
        evaluate: evaluate(d),
        bestMetric: "accuracy",
      }),
    );
    assert.equal(rd.completedSteps, 8);
    assert.equal(maxDiff(wa, await weights(d)), 0);
    // Incompatible settings are refused before training.
    const e = makeModel(1);
    await assert.rejects(
      train(setup(e, data, {
        ...args,
        outputDir: dirB,
        perDeviceTrainBatchSize: 4,
        resumeFromCheckpoint: `${dirB}/step_3`,
      })),
      /--per_device_train_batch_size 3, this run has 4/,
    );
    [a, b, c, d, e].forEach(disposeModel);
  } finally {
    await Deno.remove(dirA, { recursive: true });
    await Deno.remove(dirB, { recursive: true });
  }
});

Deno.test("kill and resume across an epoch checkpoint", async () => {
  const data = makeData(12, 8);
  const args: TrainingArgs = {
    perDeviceTrainBatchSize: 4,
    numTrainEpochs: 3,
    learningRate: 1e-2,
    checkpointingSteps: "epoch",
    seed: 3,
  };
  const dirA = await tmp();
  const dirB = await tmp();
  try {
    const a = makeModel(2);
    await train(setup(a, data, { ...args, outputDir: dirA }));
    const b = makeModel(2);
    await assert.rejects(
      train(setup(b, data, { ...args, outputDir: dirB }, {
        onStep: (r) => {
          if (r.step === 5) throw new Error("killed");
        },
      })),
      /killed/,
    );
    const names = [...Deno.readDirSync(dirB)].map((e) => e.name).filter((n) =>
      n.startsWith("epoch_")
    );
    assert.deepEqual(names.sort(), ["epoch_1"]);
    const c = makeModel(77);
    await train(
      setup(c, data, { ...args, outputDir: dirB, resumeFromCheckpoint: `${dirB}/epoch_1` }),
    );
    assert.equal(maxDiff(await weights(a), await weights(c)), 0);
    [a, b, c].forEach(disposeModel);
  } finally {
    await Deno.remove(dirA, { recursive: true });
    await Deno.remove(dirB, { recursive: true });
  }
});

Deno.test("a NaN loss stops training with a clear message and keeps the last checkpoint", async () => {
  const data = makeData(16, 9);
  const dir = await tmp();
  try {
    const m = makeModel(4);
    const opts = setup(m, data, {
      perDeviceTrainBatchSize: 2,
      numTrainEpochs: 1,
      learningRate: 1e-2,
      checkpointingSteps: 2,
      seed: 1,
      outputDir: dir,
    });
    let calls = 0;
    let weightsAtStep2: Record<string, Float32Array> = {};
    const err = await train({
      ...opts,
      lossFn: (b, ctx) => {
        calls++;
        const r = opts.lossFn(b, ctx) as { loss: tf.Scalar };
        return calls === 3 ? { loss: tf.mul(r.loss, NaN) as tf.Scalar } : r;
      },
      onStep: async (rec) => {
        if (rec.step === 2) weightsAtStep2 = await weights(m);
      },
    }).then(() => null, (e) => e);
    assert.ok(err instanceof NonFiniteLossError, `got ${err}`);
    assert.match(err.message, /loss is NaN at update 3\/8/);
    assert.match(err.message, /step_2 \(left untouched\)/);
    // The bad update was not applied and no newer checkpoint was written.
    assert.equal(maxDiff(weightsAtStep2, await weights(m)), 0);
    const meta = await readCheckpointMeta(`${dir}/step_2`);
    assert.equal(meta.state.completedSteps, 2);
    const dirs = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.startsWith("step_"));
    assert.deepEqual(dirs, ["step_2"]);
    // The step log holds the two good updates.
    assert.equal((await readJsonl(`${dir}/train_log.jsonl`)).length, 2);
    disposeModel(m);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("no tensor leaks: the tensor count is flat across updates and back to start after", async () => {
  const data = makeData(20, 10);
  const before = tf.memory().numTensors;
  const m = makeModel(6);
  const counts: number[] = [];
  const dir = await tmp();
  try {
    await train(setup(m, data, {
      perDeviceTrainBatchSize: 2,
      gradientAccumulationSteps: 2,
      numTrainEpochs: 2,
      maxGradNorm: 0.1,
      checkpointingSteps: 3,
      outputDir: dir,
    }, {
      onStep: () => {
        counts.push(tf.memory().numTensors);
      },
      evaluate: () => Promise.resolve({ accuracy: 0.5 }),
      bestMetric: "accuracy",
    }));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  assert.equal(counts.length, 10);
  assert.ok(counts.every((c) => c === counts[0]), `tensor counts ${counts}`);
  disposeModel(m);
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("split micro-batches: the weighted parts give the unsplit gradients and logs", async () => {
  // 10 rows, batch 5 × accumulation 2: micro-batch 2 splits each batch into parts of 2, 2, 1.
  const data = makeData(10, 4);
  const base: TrainingArgs = {
    maxTrainSteps: 3,
    learningRate: 1e-2,
    seed: 5,
    perDeviceTrainBatchSize: 5,
    gradientAccumulationSteps: 2,
  };
  const a = makeModel(9);
  const ra = await train(setup(a, data, base, { dropout: 0 }));
  const b = makeModel(9);
  const messages: string[] = [];
  const rb = await train(
    setup(b, data, { ...base, microBatchSize: 2 }, {
      dropout: 0,
      memoryPlan: testPlan("the test heap"),
      log: (m) => messages.push(m),
    }),
  );
  assert.deepEqual(messages, ["batch 5 runs as 3 × 2 to fit the test heap"]);
  assert.equal(rb.completedSteps, 3);
  for (let i = 0; i < 3; i++) {
    const [x, y] = [ra.stepLog[i], rb.stepLog[i]];
    for (const k of ["grad_norm", "loss", "accuracy"]) {
      const [u, v] = [x[k] as number, y[k] as number];
      assert.ok(
        Math.abs(u - v) <= 1e-6 * Math.max(1, Math.abs(u)),
        `step ${i + 1} ${k}: ${u} vs ${v}`,
      );
    }
    assert.equal(x.examples, y.examples, "examples count the requested batch");
  }
  const d = maxDiff(await weights(a), await weights(b));
  assert.ok(d <= 1e-6, `max weight difference ${d}`);
  // With dropout, the parts draw their own masks: a different (but valid) update.
  const c = makeModel(9);
  await train(setup(c, data, { ...base, microBatchSize: 2 }, { dropout: 0.3, log: () => {} }));
  [a, b, c].forEach(disposeModel);
});

Deno.test("a backend out of memory (wasm Aborted()) stops with the plan and the last good checkpoint", async () => {
  const dir = await tmp();
  try {
    const data = makeData(8, 2);
    const vars = makeModel(1);
    let calls = 0;
    const opts = setup(vars, data, {
      perDeviceTrainBatchSize: 2,
      maxTrainSteps: 4,
      checkpointingSteps: 1,
      outputDir: dir,
    }, { memoryPlan: testPlan("the test heap") });
    const inner = opts.lossFn;
    opts.lossFn = (b, ctx) => {
      if (++calls === 3) throw new WebAssembly.RuntimeError("Aborted(). Build with -sASSERTIONS");
      return inner(b, ctx);
    };
    await assert.rejects(train(opts), (e) => {
      assert.ok(e instanceof OutOfMemoryError, String(e));
      assert.match(e.message, /ran out of memory \(Aborted\(\)/);
      assert.match(e.message, /at update 3\/4/);
      assert.ok(e.message.includes(describePlan(testPlan("the test heap"))), e.message);
      assert.match(e.message, /To fit: .*--max_seq_length/);
      assert.match(
        e.message,
        new RegExp(`Last good checkpoint: ${dir}/step_2 \\(left untouched\\)`),
      );
      return true;
    });
    const meta = await readCheckpointMeta(`${dir}/step_2`);
    assert.equal(meta.state.completedSteps, 2);
    const again = await train(
      setup(vars, data, {
        perDeviceTrainBatchSize: 2,
        maxTrainSteps: 4,
        checkpointingSteps: 1,
        outputDir: dir,
        resumeFromCheckpoint: "latest",
      }, { log: () => {} }),
    );
    assert.equal(again.completedSteps, 4);
    disposeModel(vars);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("eval_steps: validation every N updates inside an epoch, at fractional epochs", async () => {
  const data = makeData(24, 9);
  const seen: number[] = [];
  const dir = await tmp();
  try {
    const vars = makeModel(4);
    const r = await train(setup(vars, data, {
      perDeviceTrainBatchSize: 4, // 6 updates per epoch
      numTrainEpochs: 2,
      learningRate: 1e-2,
      evalSteps: 4,
      seed: 5,
      outputDir: dir,
    }, {
      evaluate: ({ step }) => {
        seen.push(step);
        return Promise.resolve({ accuracy: 50, eval_loss: 1 });
      },
    }));
    // Updates 4 and 8 inside the epochs, plus each epoch's end (6 and 12); 12 is not repeated.
    assert.deepEqual(seen, [4, 6, 8, 12]);
    assert.deepEqual(r.evalLog.map((e) => e.epoch), [1, 1, 2, 2]);
    const epochsDone = r.evalLog.map((e) => Number((e.epoch_float as number).toFixed(4)));
    assert.deepEqual(epochsDone, [0.6667, 1, 1.3333, 2]);
    const lines = (await Deno.readTextFile(`${dir}/eval_log.jsonl`)).trim().split("\n");
    assert.equal(lines.length, 4);
    await assert.rejects(
      train(setup(vars, data, { perDeviceTrainBatchSize: 4, evalSteps: 0 })),
      /eval_steps must be a positive integer/,
    );
    disposeModel(vars);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
