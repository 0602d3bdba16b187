/**
 * GPU check: what WebGPU adapter Deno gets, matMul GFLOP/s, BERT S/M/B (bench/qa_step.ts sizes)
 * training and inference throughput on webgpu, parity of webgpu against the cpu backend (and against PyTorch with
 * `--fixtures`), and a short training run whose loss must go down.
 *
 * Bundled into one file by `scripts/gpu-check.sh pack` and run there by `scripts/gpu-check.sh run`
 * on a GPU host without network access. Unbundled:
 *
 *   deno run -A bench/gpu_check.ts [--quick] [--sizes S,M,B] [--backends webgpu,wasm]
 *     [--fixtures tests/fixtures/parity] [--json out.json]
 *
 * `--quick` shrinks everything for a software adapter (lavapipe). Exit status 1 when a parity
 * check or the training run fails, 2 when there is no adapter.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { adapterLabel, planBackends, probeWebGpu, useBackend } from "../lib/backend/mod.ts";
import {
  type BertConfig,
  type BertModel,
  createFromConfig,
  loadPretrained,
  makeBertConfig,
  type ModelOutput,
  type Task,
} from "../lib/models/mod.ts";
import { AdamW, qaLoss } from "../lib/training/mod.ts";
import { createRng, deriveSeed } from "../lib/util/random.ts";
import { bertConfigOf, CONFIGS } from "./qa_step.ts";

type BackendArg = "webgpu" | "wasm" | "cpu";

interface Args {
  quick: boolean;
  sizes: string[];
  backends: BackendArg[];
  fixtures?: string;
  json?: string;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { quick: false, sizes: ["S", "M", "B"], backends: ["webgpu"] };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`gpu_check: ${k} needs a value`);
      return x;
    };
    if (k === "--quick") a.quick = true;
    else if (k === "--sizes") a.sizes = v().split(",").filter(Boolean);
    else if (k === "--backends") a.backends = v().split(",").filter(Boolean) as BackendArg[];
    else if (k === "--fixtures") a.fixtures = v();
    else if (k === "--json") a.json = v();
    else throw new Error(`gpu_check: unknown argument ${k}`);
  }
  for (const s of a.sizes) {
    if (!(s in CONFIGS)) throw new Error(`gpu_check: --sizes takes S, M, B (got ${s})`);
  }
  for (const b of a.backends) {
    if (!["webgpu", "wasm", "cpu"].includes(b)) {
      throw new Error(`gpu_check: --backends takes webgpu, wasm, cpu (got ${b})`);
    }
  }
  return a;
}

/**
 * S/M/B are `deno task bench`'s configurations (bench/qa_step.ts: S 2×128 at 16×128, M 4×256 at
 * 8×256, B bert-base at 8×384, vocabulary 21128), so the numbers compare with its table. Here B
 * is trained too: that is what a GPU is for.
 */
function sizeConfig(size: string): { cfg: BertConfig; batch: number; seq: number } {
  const c = CONFIGS[size];
  return { cfg: bertConfigOf(c), batch: Math.max(...c.batches), seq: c.seq };
}

/** A synthetic QA batch: random ids, the second half of each row is segment B, some padding. */
function syntheticBatch(cfg: BertConfig, b: number, t: number, seed: number) {
  const rng = createRng(seed);
  const cls = Math.min(101, cfg.vocab_size - 1);
  const first = 5; // after [PAD] and the special tokens of small test vocabularies
  const ids = new Int32Array(b * t);
  const types = new Int32Array(b * t);
  const mask = new Int32Array(b * t);
  const start = new Int32Array(b);
  const end = new Int32Array(b);
  for (let r = 0; r < b; r++) {
    const len = t - (r % 3) * Math.floor(t / 8);
    for (let c = 0; c < t; c++) {
      const i = r * t + c;
      mask[i] = c < len ? 1 : 0;
      ids[i] = c === 0 ? cls : c < len ? first + rng.int(cfg.vocab_size - first) : 0;
      types[i] = c >= t / 2 && c < len ? 1 : 0;
    }
    start[r] = Math.floor(t / 2) + rng.int(Math.floor(len / 4));
    end[r] = start[r] + rng.int(4);
  }
  return {
    inputs: () => ({
      inputIds: tf.tensor2d(ids, [b, t], "int32"),
      tokenTypeIds: tf.tensor2d(types, [b, t], "int32"),
      attentionMask: tf.tensor2d(mask, [b, t], "int32"),
    }),
    start,
    end,
  };
}

/** One AdamW step on the QA loss; returns the loss (awaited, as a training loop would). */
async function trainStep(
  model: BertModel<"qa">,
  opt: AdamW,
  names: Map<string, string>,
  batch: ReturnType<typeof syntheticBatch>,
  seed: number,
  lr: number,
): Promise<number> {
  const x = batch.inputs();
  const { value, grads } = tf.variableGrads(() => {
    const out = model.forward(x, { training: true, seed });
    return qaLoss(out.startLogits, out.endLogits, batch.start, batch.end);
  }, [...model.variables.values()]);
  opt.step(new Map(Object.entries(grads).map(([k, g]) => [names.get(k)!, g])), lr);
  const loss = (await value.data())[0];
  tf.dispose([value, ...Object.values(grads), x as unknown as tf.TensorContainer]);
  return loss;
}

function namesOf(model: BertModel): Map<string, string> {
  return new Map([...model.variables].map(([hf, v]) => [v.name, hf]));
}

/** Waits for everything queued on the device (a read of a value computed last). */
async function sync(t: tf.Tensor): Promise<void> {
  await t.data();
}

async function matMulGflops(m: number, k: number, n: number, reps: number): Promise<number> {
  const rng = createRng(deriveSeed(1, "matmul", m, k, n));
  const a = tf.tensor2d(Float32Array.from({ length: m * k }, () => rng.normal()), [m, k]);
  const b = tf.tensor2d(Float32Array.from({ length: k * n }, () => rng.normal()), [k, n]);
  for (let w = 0; w < 2; w++) {
    const c = tf.matMul(a, b);
    await sync(c);
    c.dispose();
  }
  const t0 = performance.now();
  let last: tf.Tensor | undefined;
  for (let r = 0; r < reps; r++) {
    last?.dispose();
    last = tf.matMul(a, b);
  }
  await sync(last!);
  const s = (performance.now() - t0) / 1000;
  tf.dispose([a, b, last!]);
  return (2 * m * k * n * reps) / s / 1e9;
}

interface Throughput {
  size: string;
  batch: number;
  seqLen: number;
  trainSeqPerS: number;
  inferSeqPerS: number;
  trainStepMs: number;
}

async function bertThroughput(size: string, quick: boolean): Promise<Throughput> {
  const { cfg, batch: fullBatch, seq } = sizeConfig(size);
  const [b, t] = quick ? [2, 32] : [fullBatch, seq];
  const [warm, reps] = quick ? [1, 2] : [2, 5];
  const model = createFromConfig(cfg, "qa", deriveSeed(7, "size", size));
  const opt = new AdamW(model.variables, { weightDecay: 0.01 });
  const names = namesOf(model);
  const batch = syntheticBatch(cfg, b, t, deriveSeed(7, "batch", size));
  for (let i = 0; i < warm; i++) await trainStep(model, opt, names, batch, i, 1e-5);
  let t0 = performance.now();
  for (let i = 0; i < reps; i++) await trainStep(model, opt, names, batch, warm + i, 1e-5);
  const trainS = (performance.now() - t0) / 1000;
  const infer = async () => {
    const x = batch.inputs();
    const out = model.forward(x);
    await sync(out.endLogits);
    tf.dispose([out as unknown as tf.TensorContainer, x as unknown as tf.TensorContainer]);
  };
  for (let i = 0; i < warm; i++) await infer();
  t0 = performance.now();
  for (let i = 0; i < reps; i++) await infer();
  const inferS = (performance.now() - t0) / 1000;
  opt.dispose();
  model.dispose();
  return {
    size,
    batch: b,
    seqLen: t,
    trainSeqPerS: (b * reps) / trainS,
    inferSeqPerS: (b * reps) / inferS,
    trainStepMs: (trainS / reps) * 1000,
  };
}

const PARITY_CONFIG = {
  vocab_size: 100,
  hidden_size: 32,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  intermediate_size: 64,
  max_position_embeddings: 64,
};

/** A head's output tensors: base hidden state and pooler, QA start and end, MC / MLM logits. */
function outputTensors(out: ModelOutput): tf.Tensor[] {
  if ("lastHiddenState" in out) return [out.lastHiddenState, out.poolerOutput];
  if ("startLogits" in out) return [out.startLogits, out.endLogits];
  return [out.logits];
}

/** Every output of every head, flattened, for one model on the current backend. */
async function headOutputs(
  model: BertModel,
  x: () => ReturnType<ReturnType<typeof syntheticBatch>["inputs"]>,
): Promise<Float32Array[]> {
  const inputs = x();
  const fed = model.task === "mc"
    ? {
      inputIds: inputs.inputIds.reshape([1, ...inputs.inputIds.shape]),
      tokenTypeIds: inputs.tokenTypeIds.reshape([1, ...inputs.tokenTypeIds.shape]),
      attentionMask: inputs.attentionMask.reshape([1, ...inputs.attentionMask.shape]),
    }
    : inputs;
  const out = model.forward(fed);
  const ts = outputTensors(out);
  const vals = await Promise.all(ts.map((t) => t.data() as Promise<Float32Array>));
  tf.dispose([
    out as unknown as tf.TensorContainer,
    inputs as unknown as tf.TensorContainer,
    fed as unknown as tf.TensorContainer,
  ]);
  return vals;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let w = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    w = Number.isNaN(d) ? Infinity : Math.max(w, d);
  }
  return w;
}

interface Parity {
  what: string;
  maxAbsDiff: number;
  tolerance: number;
  ok: boolean;
}

/** webgpu vs cpu on a random tiny model (all heads, 3 training steps with dropout). */
async function parityVsCpu(): Promise<Parity[]> {
  const cfg = makeBertConfig(PARITY_CONFIG);
  const batch = syntheticBatch(cfg, 3, 16, 5);
  const tasks: Task[] = ["base", "mc", "qa", "mlm"];
  const res: Parity[] = [];
  const run = async (backend: BackendArg) => {
    await useBackend(backend);
    const heads: Float32Array[][] = [];
    for (const task of tasks) {
      const m = createFromConfig(cfg, task, 11);
      heads.push(await headOutputs(m, batch.inputs));
      m.dispose();
    }
    const m = createFromConfig(cfg, "qa", 11);
    const opt = new AdamW(m.variables, { weightDecay: 0.01 });
    const names = namesOf(m);
    const losses: number[] = [];
    for (let s = 0; s < 3; s++) losses.push(await trainStep(m, opt, names, batch, s, 1e-3));
    opt.dispose();
    m.dispose();
    return { heads, losses };
  };
  const cpu = await run("cpu");
  const gpu = await run("webgpu");
  tasks.forEach((task, i) => {
    const d = Math.max(...gpu.heads[i].map((g, j) => maxAbsDiff(g, cpu.heads[i][j])));
    res.push({ what: `${task} forward vs cpu`, maxAbsDiff: d, tolerance: 1e-4, ok: d <= 1e-4 });
  });
  const d = maxAbsDiff(gpu.losses, cpu.losses);
  res.push({ what: "3 AdamW steps (loss) vs cpu", maxAbsDiff: d, tolerance: 1e-4, ok: d <= 1e-4 });
  return res;
}

/** webgpu vs the PyTorch reference in tests/fixtures/parity (model.safetensors). */
async function parityVsTorch(dir: string): Promise<Parity[]> {
  await useBackend("webgpu");
  const ref = JSON.parse(await Deno.readTextFile(`${dir}/reference.json`));
  type Nested = number | Nested[];
  const flat = (x: Nested): number[] => (Array.isArray(x) ? x.flatMap(flat) : [x]);
  const res: Parity[] = [];
  const expected: Record<string, Nested[]> = {
    base: [ref.last_hidden_state, ref.pooler_output],
    mc: [ref.mc_logits],
    qa: [ref.qa_start_logits, ref.qa_end_logits],
    mlm: [ref.mlm_logits],
  };
  for (const task of ["base", "mc", "qa", "mlm"] as Task[]) {
    const m = await loadPretrained(dir, task, { log: () => {} });
    const r = ref[task === "mc" ? "mc_inputs" : "inputs"];
    const x = {
      inputIds: tf.tensor(r.input_ids, undefined, "int32"),
      tokenTypeIds: tf.tensor(r.token_type_ids, undefined, "int32"),
      attentionMask: tf.tensor(r.attention_mask, undefined, "int32"),
    };
    const out = m.forward(x);
    const ts = outputTensors(out);
    let d = 0;
    for (let i = 0; i < ts.length; i++) {
      d = Math.max(d, maxAbsDiff(await ts[i].data(), flat(expected[task][i])));
    }
    tf.dispose([out as unknown as tf.TensorContainer, x as unknown as tf.TensorContainer]);
    m.dispose();
    res.push({ what: `${task} vs PyTorch`, maxAbsDiff: d, tolerance: 1e-4, ok: d <= 1e-4 });
  }
  return res;
}

/** A short QA training run on a fixed batch; the loss must fall. */
async function shortTraining(quick: boolean): Promise<{ losses: number[]; ok: boolean }> {
  await useBackend("webgpu");
  const cfg = quick ? makeBertConfig(PARITY_CONFIG) : sizeConfig("S").cfg;
  const [b, t, steps] = quick ? [4, 32, 15] : [16, 128, 30];
  const m = createFromConfig(cfg, "qa", 3);
  const opt = new AdamW(m.variables, { weightDecay: 0.01 });
  const names = namesOf(m);
  const batch = syntheticBatch(cfg, b, t, 9);
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) losses.push(await trainStep(m, opt, names, batch, s, 1e-3));
  opt.dispose();
  m.dispose();
  const head = losses.slice(0, 3).reduce((a, c) => a + c, 0) / 3;
  const tail = losses.slice(-3).reduce((a, c) => a + c, 0) / 3;
  return { losses, ok: losses.every(Number.isFinite) && tail < head * 0.8 };
}

async function main(): Promise<number> {
  const args = parseArgs(Deno.args);
  const report: Record<string, unknown> = {
    deno: Deno.version.deno,
    os: `${Deno.build.os}-${Deno.build.arch}`,
    args,
  };
  console.log(`gpu_check — Deno ${Deno.version.deno} (${report.os})`);
  const probe = await probeWebGpu();
  report.adapter = probe.adapter;
  if (!probe.adapter) {
    console.log(`no WebGPU adapter: ${probe.reason}`);
    report.ok = false;
    if (args.json) await Deno.writeTextFile(args.json, JSON.stringify(report, null, 2));
    return 2;
  }
  console.log(`adapter: ${adapterLabel(probe.adapter)}`);
  console.log(`  ${JSON.stringify(probe.adapter)}`);
  // The chooser's order for this adapter (not run: the bundle carries no wasm binaries).
  const plan = planBackends(probe);
  console.log(`initBackend() order here: ${plan.order.join(" → ")}`);
  for (const s of plan.skipped) console.log(`  ${s}`);
  report.plan = plan;

  const shapes: [number, number, number][] = args.quick
    ? [[1024, 512, 512]]
    : [[1024, 512, 512], [2048, 2048, 2048], [4096, 4096, 4096]];
  const perf: Record<string, unknown>[] = [];
  for (const backend of args.backends) {
    let label: string;
    try {
      await useBackend(backend);
      label = backend === "webgpu" ? `webgpu (${adapterLabel(probe.adapter)})` : backend;
    } catch (e) {
      console.log(`${backend}: unavailable (${(e as Error).message.split("\n")[0]})`);
      continue;
    }
    console.log(`\n== ${label}`);
    for (const [m, k, n] of shapes) {
      if (backend !== "webgpu" && m * k * n > 1024 * 512 * 512 * 8) continue;
      const g = await matMulGflops(m, k, n, args.quick ? 5 : 20);
      console.log(`matMul ${m}x${k}x${n}: ${g.toFixed(1)} GFLOP/s`);
      perf.push({ backend: label, op: `matMul ${m}x${k}x${n}`, gflops: g });
    }
    for (const size of args.sizes) {
      const r = await bertThroughput(size, args.quick);
      console.log(
        `BERT-${size} (batch ${r.batch} x ${r.seqLen}): train ${r.trainSeqPerS.toFixed(2)} seq/s ` +
          `(${r.trainStepMs.toFixed(0)} ms/step), inference ${r.inferSeqPerS.toFixed(2)} seq/s`,
      );
      perf.push({ backend: label, ...r });
    }
  }
  report.perf = perf;

  console.log("\n== parity (webgpu)");
  const parity = await parityVsCpu();
  if (args.fixtures) parity.push(...await parityVsTorch(args.fixtures));
  for (const p of parity) {
    console.log(
      `${p.ok ? "PASS" : "FAIL"} ${p.what}: max abs diff ${p.maxAbsDiff.toExponential(2)} ` +
        `(tolerance ${p.tolerance})`,
    );
  }
  report.parity = parity;

  console.log("\n== short training run (webgpu)");
  const tr = await shortTraining(args.quick);
  console.log(
    `${tr.ok ? "PASS" : "FAIL"} loss ${tr.losses[0].toFixed(4)} -> ` +
      `${tr.losses[tr.losses.length - 1].toFixed(4)} over ${tr.losses.length} steps`,
  );
  report.training = tr;
  report.ok = tr.ok && parity.every((p) => p.ok);
  console.log(`\n${report.ok ? "GPU CHECK PASSED" : "GPU CHECK FAILED"}`);
  console.log(`RESULT ${JSON.stringify(report)}`);
  if (args.json) await Deno.writeTextFile(args.json, JSON.stringify(report, null, 2));
  return report.ok ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main());
