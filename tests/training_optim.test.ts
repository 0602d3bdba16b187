// AdamW (against torch.optim.AdamW reference values), weight-decay groups, schedules
// (transformers.get_scheduler values) and losses (torch CrossEntropyLoss semantics).
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { ADAMW_KERNEL, registerAdamWKernels } from "../lib/backend/mod.ts";
import {
  AdamW,
  countCorrect,
  createScheduler,
  crossEntropy,
  defaultNoDecay,
  loadOptimizerState,
  mcLoss,
  mlmLoss,
  qaExactPositions,
  qaLoss,
  saveOptimizerState,
} from "../lib/training/mod.ts";

await tf.setBackend("cpu");

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what = "") {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(
      Math.abs(actual[i] - expected[i]) <= tol,
      `${what}[${i}]: ${actual[i]} vs ${expected[i]} (tol ${tol})`,
    );
  }
}

const P0: Record<string, number[][] | number[]> = {
  "dense.weight": [[0.5, -1.0, 0.25], [1.5, 0.75, -0.125]],
  "dense.bias": [0.1, -0.2, 0.3],
  "LayerNorm.weight": [1.0, 1.0, 0.9],
};
const GRADS: Record<string, number[][] | number[]>[] = [
  {
    "dense.weight": [[0.1, -0.2, 0.3], [0.0, 0.05, -0.4]],
    "dense.bias": [0.01, 0.02, -0.03],
    "LayerNorm.weight": [0.5, -0.5, 0.0],
  },
  {
    "dense.weight": [[-0.3, 0.2, 0.1], [0.2, -0.05, 0.4]],
    "dense.bias": [0.2, -0.02, 0.03],
    "LayerNorm.weight": [-0.1, 0.3, 0.2],
  },
  {
    "dense.weight": [[1.0, -2.0, 3.0], [0.5, 0.5, -0.5]],
    "dense.bias": [-0.5, 0.0, 0.25],
    "LayerNorm.weight": [0.0, 0.0, 1.0],
  },
];
const LRS = [1e-2, 5e-3, 2.5e-3];
// Produced by torch 1.13 torch.optim.AdamW (betas 0.9/0.999, eps 1e-8) with two parameter groups
// as run_qa_no_trainer builds them (weight_decay 0.1 / 0.0 by the no_decay substring rule),
// float32, the same gradients and per-step learning rates as above.
const TORCH: Record<string, number[]>[] = [
  {
    "dense.weight": [0.489500016, -0.989000022, 0.239749998, 1.49849999, 0.739250004, -0.114875004],
    "dense.bias": [0.090000011, -0.209999993, 0.310000002],
    "LayerNorm.weight": [0.99000001, 1.00999999, 0.899999976],
  },
  {
    "dense.weight": [0.49172619, -0.988768637, 0.235274792, 1.494030118, 0.739143491, -0.115080722],
    "dense.bias": [0.086116746, -0.209736839, 0.309736848],
    "LayerNorm.weight": [0.987444878, 1.010957479, 0.896279275],
  },
  {
    "dense.weight": [
      0.490368277,
      -0.986954391,
      0.233451426,
      1.491639853,
      0.737391651,
      -0.114070028,
    ],
    "dense.bias": [0.087041624, -0.209635124, 0.308145285],
    "LayerNorm.weight": [0.986457288, 1.011327505, 0.894431353],
  },
];

function makeParams(): Map<string, tf.Variable> {
  const m = new Map<string, tf.Variable>();
  for (const [k, v] of Object.entries(P0)) {
    const t = tf.tensor(v);
    m.set(k, tf.variable(t));
    t.dispose();
  }
  return m;
}

function disposeAll(m: Map<string, tf.Variable>) {
  for (const v of m.values()) v.dispose();
}

function torchParity() {
  const params = makeParams();
  const opt = new AdamW(params, { weightDecay: 0.1 });
  for (let s = 0; s < 3; s++) {
    const grads = new Map<string, tf.Tensor>();
    for (const [k, g] of Object.entries(GRADS[s])) grads.set(k, tf.tensor(g));
    opt.step(grads, LRS[s]);
    tf.dispose([...grads.values()]);
    for (const [k, expected] of Object.entries(TORCH[s])) {
      close(params.get(k)!.dataSync(), expected, 2e-7, `step ${s + 1} ${k}`);
    }
  }
  assert.equal(opt.stepCount, 3);
  opt.dispose();
  disposeAll(params);
}

Deno.test("AdamW (composed tfjs ops) matches torch.optim.AdamW over three steps", () => {
  assert.equal(tf.getKernel(ADAMW_KERNEL, "cpu"), undefined, "fused kernel not registered yet");
  const before = tf.memory().numTensors;
  torchParity();
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("AdamW (fused ProjectAdamW kernel) matches torch.optim.AdamW over three steps", () => {
  registerAdamWKernels();
  assert.ok(tf.getKernel(ADAMW_KERNEL, "cpu"));
  const before = tf.memory().numTensors;
  torchParity();
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("weight decay: biases and LayerNorm weights are excluded (HF no_decay rule)", () => {
  assert.equal(defaultNoDecay("bert.encoder.layer.0.attention.self.query.bias"), true);
  assert.equal(defaultNoDecay("bert.encoder.layer.3.output.LayerNorm.weight"), true);
  assert.equal(defaultNoDecay("bert.embeddings.LayerNorm.bias"), true);
  assert.equal(defaultNoDecay("cls.predictions.bias"), true);
  assert.equal(defaultNoDecay("bert.embeddings.word_embeddings.weight"), false);
  assert.equal(defaultNoDecay("qa_outputs.weight"), false);

  // With zero gradients the Adam part is exactly 0, so only decay moves parameters.
  const params = makeParams();
  const opt = new AdamW(params, { weightDecay: 0.5 });
  assert.deepEqual(opt.groups(), {
    decay: ["dense.weight"],
    noDecay: ["dense.bias", "LayerNorm.weight"],
  });
  const grads = new Map<string, tf.Tensor>();
  for (const [k, v] of params) grads.set(k, tf.zerosLike(v));
  opt.step(grads, 0.1);
  tf.dispose([...grads.values()]);
  close(
    params.get("dense.weight")!.dataSync(),
    (P0["dense.weight"] as number[][]).flat().map((x) => x * (1 - 0.1 * 0.5)),
    1e-7,
    "decayed",
  );
  assert.deepEqual(Array.from(params.get("dense.bias")!.dataSync()), [
    ...new Float32Array(P0["dense.bias"] as number[]),
  ]);
  assert.deepEqual(Array.from(params.get("LayerNorm.weight")!.dataSync()), [
    ...new Float32Array(P0["LayerNorm.weight"] as number[]),
  ]);
  opt.dispose();
  disposeAll(params);
});

Deno.test("AdamW skips parameters without a gradient (like grad=None in torch)", () => {
  const params = makeParams();
  const opt = new AdamW(params, { weightDecay: 0.1 });
  const before = params.get("dense.weight")!.dataSync().slice();
  const g = new Map<string, tf.Tensor>([["dense.bias", tf.tensor([1, 1, 1])]]);
  opt.step(g, 0.01);
  tf.dispose([...g.values()]);
  assert.deepEqual(params.get("dense.weight")!.dataSync(), before);
  assert.equal(opt.paramState("dense.weight"), undefined);
  assert.equal(opt.paramState("dense.bias")!.step, 1);
  assert.throws(
    () => opt.step(new Map([["nope", tf.scalar(1)]]), 0.1),
    /unknown parameter 'nope'/,
  );
  opt.dispose();
  disposeAll(params);
});

Deno.test("AdamW state survives a save/load round trip and continues identically", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const a = makeParams();
    const optA = new AdamW(a, { weightDecay: 0.1 });
    const gradsOf = (s: number) => {
      const m = new Map<string, tf.Tensor>();
      for (const [k, g] of Object.entries(GRADS[s])) m.set(k, tf.tensor(g));
      return m;
    };
    let g = gradsOf(0);
    optA.step(g, LRS[0]);
    tf.dispose([...g.values()]);
    await saveOptimizerState(dir, optA);

    // A fresh optimizer over a copy of the parameters, loaded from disk.
    const b = new Map<string, tf.Variable>();
    for (const [k, v] of a) b.set(k, tf.variable(v.clone()));
    const optB = new AdamW(b, { weightDecay: 0.1 });
    await loadOptimizerState(dir, optB);
    assert.equal(optB.stepCount, 1);
    for (let s = 1; s < 3; s++) {
      g = gradsOf(s);
      optA.step(g, LRS[s]);
      optB.step(g, LRS[s]);
      tf.dispose([...g.values()]);
    }
    for (const k of a.keys()) assert.deepEqual(a.get(k)!.dataSync(), b.get(k)!.dataSync());
    const wrong = new AdamW(b, { weightDecay: 0.2 });
    await assert.rejects(loadOptimizerState(dir, wrong), /hyper-parameters/);
    for (const o of [optA, optB, wrong]) o.dispose();
    disposeAll(a);
    disposeAll(b);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("schedules give transformers.get_scheduler values", () => {
  const at = (type: Parameters<typeof createScheduler>[0], w: number, t: number, ks: number[]) => {
    const s = createScheduler(type, { learningRate: 2, numWarmupSteps: w, numTrainingSteps: t });
    return ks.map((k) => s.lrAt(k) / 2);
  };
  // get_linear_schedule_with_warmup(warmup=2, total=10)
  close(
    at("linear", 2, 10, [0, 1, 2, 3, 6, 9, 10, 12]),
    [
      0,
      0.5,
      1,
      0.875,
      0.5,
      0.125,
      0,
      0,
    ],
    1e-12,
    "linear",
  );
  close(at("linear", 0, 4, [0, 1, 3, 4]), [1, 0.75, 0.25, 0], 1e-12, "linear no warmup");
  // get_cosine_schedule_with_warmup(warmup=2, total=10, num_cycles=0.5)
  close(
    at("cosine", 2, 10, [0, 1, 2, 4, 6, 8, 10]),
    [
      0,
      0.5,
      1,
      0.8535533905932737,
      0.5,
      0.14644660940672627,
      0,
    ],
    1e-12,
    "cosine",
  );
  // get_constant_schedule ignores warm-up; get_constant_schedule_with_warmup does not.
  close(at("constant", 4, 10, [0, 1, 5, 100]), [1, 1, 1, 1], 0, "constant");
  close(at("constant_with_warmup", 4, 10, [0, 1, 3, 4, 100]), [0, 0.25, 0.75, 1, 1], 1e-12, "cw");

  const s = createScheduler("linear", { learningRate: 3e-5, numTrainingSteps: 3 });
  const seen = [];
  for (let i = 0; i < 3; i++) {
    seen.push(s.current());
    s.step();
  }
  close(seen, [3e-5, 2e-5, 1e-5], 1e-15, "stepping");
  assert.throws(() => createScheduler("linear", { learningRate: 1 }), /num_training_steps/);
  // deno-lint-ignore no-explicit-any
  assert.throws(() => createScheduler("poly" as any, { learningRate: 1 }), /unknown/);
});

Deno.test("losses follow torch CrossEntropyLoss / BERT head semantics", () => {
  const before = tf.memory().numTensors;
  const logits = tf.tensor2d([[1, 2, 3], [0.5, -1, 2], [0, 0, 0]]);
  // Reference: -log softmax at the label, averaged over non-ignored rows.
  const lsm = (row: number[], i: number) =>
    row[i] - Math.log(row.reduce((a, x) => a + Math.exp(x), 0));
  const rows = logits.arraySync() as number[][];
  const ce = crossEntropy(logits, [2, -100, 1]);
  close([ce.dataSync()[0]], [-(lsm(rows[0], 2) + lsm(rows[2], 1)) / 2], 1e-6, "ce ignore");
  assert.throws(() => crossEntropy(logits, [3, 0, 0]), /outside \[0, 3\)/);
  const mc = mcLoss(logits, [0, 1, 2]);
  close(
    [mc.dataSync()[0]],
    [-(lsm(rows[0], 0) + lsm(rows[1], 1) + lsm(rows[2], 2)) / 3],
    1e-6,
    "mc",
  );

  // QA: positions >= T are clamped to T and ignored (per head, separately).
  const st = tf.tensor2d([[0.1, 2, 0.3, -1], [1, 0, 0, 0]]);
  const en = tf.tensor2d([[0, 0, 3, 0], [0, 1, 0, 2]]);
  const sRows = st.arraySync() as number[][];
  const eRows = en.arraySync() as number[][];
  const qa = qaLoss(st, en, [1, 99], [2, 3]);
  const startCe = -lsm(sRows[0], 1); // row 1 ignored (99 -> T=4)
  const endCe = -(lsm(eRows[0], 2) + lsm(eRows[1], 3)) / 2;
  close([qa.dataSync()[0]], [(startCe + endCe) / 2], 1e-6, "qa");
  const em = qaExactPositions(st, en, [1, 99], [2, 3]);
  assert.equal(em.correct.dataSync()[0], 1);
  assert.equal(em.count.dataSync()[0], 1);
  // Windows without the answer (gold at [CLS] = 0) do not count, even when predicted right.
  const counts = (s: number[][], e: number[][], sp: number[], ep: number[]) =>
    tf.tidy(() => {
      const r = qaExactPositions(tf.tensor2d(s), tf.tensor2d(e), sp, ep);
      return [r.correct.dataSync()[0], r.count.dataSync()[0]];
    });
  assert.deepEqual(
    counts([[5, 0, 0, 0], [0, 5, 0, 0]], [[5, 0, 0, 0], [0, 0, 5, 0]], [0, 1], [0, 2]),
    [1, 1],
  );
  assert.deepEqual(counts([[5, 0]], [[5, 0]], [0], [0]), [0, 0]);

  // MLM over [B, T, V] with -100 ignored.
  const mlmLogits = tf.tensor3d([[[1, 0], [0, 1]], [[2, 0], [0, 0]]]);
  const mlmLabels = tf.tensor2d([[1, -100], [0, -100]], undefined, "int32");
  const m = mlmLoss(mlmLogits, mlmLabels);
  close([m.dataSync()[0]], [-(lsm([1, 0], 1) + lsm([2, 0], 0)) / 2], 1e-6, "mlm");
  // All rows ignored: 0, not NaN (documented deviation from torch).
  const none = crossEntropy(logits, [-100, -100, -100]);
  assert.equal(none.dataSync()[0], 0);

  const cc = countCorrect(logits, [2, 2, -100]);
  assert.equal(cc.correct.dataSync()[0], 2);
  assert.equal(cc.count.dataSync()[0], 2);

  // Gradients flow through the loss.
  const g = tf.grad((x: tf.Tensor) => mcLoss(x, [0, 1, 2]))(logits);
  assert.deepEqual(g.shape, [3, 3]);
  tf.dispose([logits, ce, mc, st, en, qa, em.correct, em.count, mlmLogits, mlmLabels, m, none]);
  tf.dispose([cc.correct, cc.count, g]);
  assert.equal(tf.memory().numTensors, before, "losses leak no tensors");
});
