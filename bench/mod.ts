/**
 * `deno task bench`: the project's BERT question-answering training and inference beside a
 * PyTorch peer, in one run.
 *
 * - Configurations (vocabulary 21128, random weights): S, M and B (bert-base size, sequence
 *   384, batch 1 and 4) time QA training steps (forward, backward, AdamW update) and evaluation.
 * - Every (configuration, backend) pair runs in its own process (`bench/worker.ts`) so that its
 *   peak resident memory is its own. The peers run in the same run, before and after ours, with
 *   2 threads (`bench/torch_reference.py`): Hugging Face `transformers`' `BertForQuestionAnswering`
 *   when `--python` imports torch and transformers, else the minimal torch BERT of that script;
 *   the minimal model is always the second column. The table quotes ours / peer.
 * - The data side (tokenization and QA feature building over DRCD_test) comes from
 *   `bench/features_bench.ts`.
 *
 * Prints a table and writes `outputs/bench.json`. `--help` lists the options.
 * @module
 */
import { parseArgs } from "node:util";
import { CONFIGS } from "./qa_step.ts";
import {
  type FeaturesBenchResult,
  formatFeaturesBench,
  runFeaturesBench,
} from "./features_bench.ts";
import type { EntryRate, Precision, WorkerResult, WorkerTask } from "./worker.ts";
import { forwardFlops, type Peaks, runPeaks, trainFlops } from "./peak.ts";
import { type AnswerBenchResult, formatAnswerBench, runAnswerBench } from "./answer.ts";
import { ONNX_BACKEND, runOnnxWorker } from "./onnx.ts";
import { peerPython } from "../lib/util/python.ts";

const HELP = `Usage: deno task bench [options]

Benchmarks the project's BERT QA training step and inference per backend, beside PyTorch:
transformers' BertForQuestionAnswering when --python imports torch and transformers, else the
minimal torch model of bench/torch_reference.py (always the second peer column).

Options:
  --configs S,M,B      configurations to run (default S,M,B)
                         S: 2 layers, hidden 128, 2 heads, inter 512, seq 128, batch 16 (train)
                         M: 4 layers, hidden 256, 4 heads, inter 1024, seq 256, batch 8 (train)
                         B: 12 layers, hidden 768, 12 heads, inter 3072, seq 384, batch 1 and 4
                         (each batch size: training steps and evaluation)
  --backends LIST      backends to try (default tensorflow,webgpu,wasm,cpu,onnxruntime;
                       unavailable ones are reported as skipped; a software WebGPU adapter is
                       timed only when --backends is given and names webgpu). onnxruntime:
                       evaluation only, the same model exported to ONNX (lib/export) and run by
                       onnxruntime-node with our evaluation's thread count, fp32 and int8 rows
                       (bench/onnx.ts)
  --batches LIST       only these batch sizes of the chosen configurations (e.g. 1 for B)
  --steps N            timed training steps per batch size (default: 200 for S, 20 for M, 3
                       for B);
                       tf.memory().numTensors is compared before and after them
  --budget-s SEC       per (configuration, backend) time budget for the timed training steps;
                       slower backends stop early, after at least 3 steps (default 120)
  --quick              a short run: 20 steps on S, 5 on M, 3 on B, 2 forward repeats, smaller
                       budgets
  --no-torch           skip the PyTorch peers (which run before and after ours; ratios use
                       their faster run)
  --no-data            skip the tokenization / feature-building benchmark
  --no-answer          skip the answer() / serve benchmark (bench/answer.ts)
  --bf16               also time bf16 mixed precision: ours with --bf16 (lib/backend/bf16.ts, on
                       wasm) and the HF peer under torch.autocast("cpu", dtype=torch.bfloat16)
  --python PATH        python with torch, and transformers for the HF peer (default
                       $HF_PYTHON, else python3), e.g. a venv's bin/python
  --out PATH           JSON output (default outputs/bench.json)
  --help               this text

bench.json also holds the machine's matrix-product peaks measured at the start of the run
(sgemmPeakGflops: the project's BLAS at its thread count; bf16PeakGflops: oneDNN's bf16 gemm, null
without it), and every training and evaluation entry its backend, precision, gflops (FLOPs of the
matrix products from the shapes, formula in bench/peak.ts) and fractionOfPeak (over the peak of
its precision).`;

/** PyTorch peer result (see bench/torch_reference.py) for one model and batch size. */
interface TorchResult {
  ok: boolean;
  error?: string;
  /** `hf`: transformers' BertForQuestionAnswering; `minimal`: bench/torch_reference.py's BERT. */
  model?: PeerModel;
  transformers?: string | null;
  attn_implementation?: string | null;
  batch?: number;
  torch?: string;
  threads?: number;
  steps?: number;
  step_ms_median?: number;
  train_tokens_per_s?: number;
  eval_tokens_per_s?: number;
  eval_ms_median?: number;
  peak_rss_mb?: number;
  /** Every run (before and after ours); the fields above are the best of them. */
  runs?: TorchResult[];
  precision?: Precision;
  /** GFLOP/s and fraction of the peak of the training step and of evaluation (bench/peak.ts). */
  trainRate?: EntryRate;
  evalRate?: EntryRate;
}

type PeerModel = "hf" | "minimal";

async function runWorker(task: WorkerTask): Promise<WorkerResult> {
  const script = new URL("./worker.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    // --expose-gc: the worker collects garbage before each memory sample, so the RSS series shows
    // live memory rather than V8's lazily collected garbage.
    args: [
      "run",
      "-A",
      "--unstable-webgpu",
      "--v8-flags=--expose-gc",
      script,
      JSON.stringify(task),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(text) as WorkerResult;
  } catch {
    const err = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-3).join(" | ");
    return {
      config: task.config.name,
      backend: task.backend,
      ok: false,
      error: `worker exited with code ${out.code}: ${err || text}`,
    };
  }
}

/** Exit code of torch_reference.py when `--model hf` finds no `transformers`. */
const NO_TRANSFORMERS = 3;

/** Timed forwards per batch size, ours and the peers' alike (the median is reported): a forward
 * of S or M takes milliseconds, so 20 or 10 keep a moment's load on the shared machine from
 * deciding the median; bert-base forwards take a second, 3 of them. */
function evalSteps(name: string, quick: boolean): number {
  if (quick) return 2;
  return name === "B" ? 3 : name === "M" ? 10 : 20;
}

async function runTorch(
  python: string,
  model: PeerModel,
  name: string,
  batch: number,
  steps: number,
  budgetS: number,
  bf16 = false,
): Promise<TorchResult> {
  const c = CONFIGS[name];
  const script = new URL("./torch_reference.py", import.meta.url).pathname;
  const big = name === "B";
  const args = [
    script,
    `--model=${model}`,
    `--layers=${c.layers}`,
    `--hidden=${c.hidden}`,
    `--heads=${c.heads}`,
    `--inter=${c.inter}`,
    `--seq=${c.seq}`,
    `--batch=${batch}`,
    `--vocab=${c.vocab}`,
    `--steps=${steps}`,
    `--budget-s=${budgetS}`,
    // bert-base steps take seconds: one warm-up step and 3 forwards are enough.
    `--warmup=${big ? 1 : 3}`,
    `--eval-steps=${evalSteps(name, false)}`,
    "--threads=2",
    ...(bf16 ? ["--bf16"] : []),
  ];
  try {
    const out = await new Deno.Command(python, { args, stdout: "piped", stderr: "piped" }).output();
    const text = new TextDecoder().decode(out.stdout).trim().split("\n").pop() ?? "";
    if (!out.success) {
      const err = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-2).join(" | ");
      return {
        ok: false,
        model,
        batch,
        error: out.code === NO_TRANSFORMERS
          ? `transformers does not import in ${python}`
          : `${python} exited with code ${out.code}: ${err}`,
      };
    }
    return { ok: true, ...JSON.parse(text) };
  } catch (e) {
    return { ok: false, model, batch, error: `${python}: ${e instanceof Error ? e.message : e}` };
  }
}

/** Whether `python` imports torch and transformers (decides the primary peer). */
async function peerModels(python: string): Promise<{ models: PeerModel[]; note: string }> {
  try {
    const out = await new Deno.Command(python, {
      args: [
        "-c",
        "import torch, transformers; print(torch.__version__, transformers.__version__)",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout).trim();
    if (out.success) {
      const [t, hf] = text.split(" ");
      return {
        models: ["hf", "minimal"],
        note: `peer: transformers ${hf} BertForQuestionAnswering on torch ${t} (${python}); ` +
          `second column: the minimal torch model`,
      };
    }
    const err = new TextDecoder().decode(out.stderr).trim().split("\n").pop();
    return {
      models: ["minimal"],
      note: `peer: the minimal torch model (bench/torch_reference.py); ${python} cannot import ` +
        `torch and transformers (${err})`,
    };
  } catch (e) {
    return {
      models: ["minimal"],
      note: `peer: the minimal torch model; ${python}: ${e instanceof Error ? e.message : e}`,
    };
  }
}

function fmt(x: number | undefined, digits = 0): string {
  return x === undefined || !Number.isFinite(x) ? "-" : x.toFixed(digits);
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [line(rows[0]), widths.map((w) => "-".repeat(w)).join("  "), ...rows.slice(1).map(line)]
    .join("\n");
}

/** Parsed options. */
interface Options {
  configs: string[];
  /** Batch sizes kept (undefined: every batch size of each configuration). */
  batches?: number[];
  backends: string[];
  steps?: number;
  budgetS: number;
  quick: boolean;
  /** --backends was given (a software WebGPU adapter is then timed too). */
  explicitBackends: boolean;
  torch: boolean;
  data: boolean;
  answer: boolean;
  bf16: boolean;
  python: string;
  out: string;
}

function parseOptions(argv: string[]): Options | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      configs: { type: "string", default: "S,M,B" },
      backends: { type: "string", default: "tensorflow,webgpu,wasm,cpu,onnxruntime" },
      steps: { type: "string" },
      batches: { type: "string" },
      "budget-s": { type: "string" },
      quick: { type: "boolean", default: false },
      "no-torch": { type: "boolean", default: false },
      "no-data": { type: "boolean", default: false },
      "no-answer": { type: "boolean", default: false },
      bf16: { type: "boolean", default: false },
      python: { type: "string", default: peerPython() },
      out: { type: "string", default: "outputs/bench.json" },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    return null;
  }
  const configs = values.configs!.split(",").map((s) => s.trim().toUpperCase()).filter(Boolean);
  for (const c of configs) {
    if (!CONFIGS[c]) throw new Error(`--configs: unknown configuration '${c}' (use S, M, B)`);
  }
  const backends = values.backends!.split(",").map((s) => s.trim()).filter(Boolean);
  const batches = values.batches?.split(",").map((s) => Number(s.trim()));
  if (batches?.some((b) => !(Number.isInteger(b) && b >= 1))) {
    throw new Error(`--batches: expected positive integers, got '${values.batches}'`);
  }
  const steps = values.steps === undefined ? undefined : Number(values.steps);
  if (steps !== undefined && !(Number.isInteger(steps) && steps >= 1)) {
    throw new Error(`--steps: expected a positive integer, got '${values.steps}'`);
  }
  const quick = values.quick!;
  const budgetS = values["budget-s"] === undefined
    ? (quick ? 30 : 120)
    : Number(values["budget-s"]);
  if (!(budgetS > 0)) throw new Error(`--budget-s: expected a positive number`);
  return {
    configs,
    batches,
    backends,
    steps,
    budgetS,
    quick,
    explicitBackends: argv.some((a) => a === "--backends" || a.startsWith("--backends=")),
    torch: !values["no-torch"],
    data: !values["no-data"],
    answer: !values["no-answer"],
    bf16: values.bf16!,
    python: values.python!,
    out: values.out!,
  };
}

/** Ours / peer at one batch size (training and evaluation tokens/s). */
interface Ratio {
  batch: number;
  /** The primary peer: `hf` when transformers imports, else `minimal`. */
  peer: PeerModel;
  /** Ours in this precision, against the peer in the same (bf16: HF under bf16 autocast). */
  precision: Precision;
  train?: number;
  eval?: number;
  /** Against the minimal torch model (the stricter second peer). */
  trainVsMinimal?: number;
  evalVsMinimal?: number;
}

/** Runs the benchmark with command-line arguments `argv`. */
export async function main(argv: string[]): Promise<void> {
  const opts = parseOptions(argv);
  if (!opts) return;
  const started = new Date();
  const loadStart = loadAverage();
  const results: WorkerResult[] = [];
  /** Peer results by `${config}/b${batch}/${model}`. */
  const torch: Record<string, TorchResult> = {};
  const log = (s: string) => console.error(`[bench] ${s}`);
  log("matrix-product peaks (bench/peak.ts)");
  const peaks = await runPeaks();
  if ("error" in peaks) log(`peaks: ${peaks.error}`);
  const peers = opts.torch ? await peerModels(opts.python) : { models: [], note: "no peer" };
  if (opts.torch) log(peers.note);
  const primary: PeerModel = peers.models[0] ?? "minimal";
  const peerKey = (name: string, b: number, m: PeerModel, p: Precision = "fp32") =>
    `${name}/b${b}/${m}${p === "bf16" ? "-bf16" : ""}`;
  const configOf = (name: string) => {
    const c = CONFIGS[name];
    const kept = opts.batches ? c.batches.filter((b) => opts.batches!.includes(b)) : c.batches;
    if (!kept.length) {
      throw new Error(`--batches: configuration ${name} has batch sizes ${c.batches.join(", ")}`);
    }
    return { ...c, batches: kept };
  };
  for (const name of opts.configs) configOf(name); // argument errors before anything runs
  for (const name of opts.configs) {
    const c = configOf(name);
    const steps = opts.steps ??
      (opts.quick
        ? (name === "S" ? 20 : name === "M" ? 5 : 3)
        : (name === "S" ? 200 : name === "M" ? 20 : 3));
    const torchRuns = new Map<string, TorchResult[]>();
    const torchSteps = Math.min(steps, 30);
    const peer = async (when: string) => {
      for (const b of c.batches) {
        for (const m of peers.models) {
          log(`${name}: PyTorch peer ${m}, batch ${b}, ${when} (${torchSteps} steps)`);
          const t = await runTorch(opts.python, m, name, b, torchSteps, opts.budgetS / 2);
          if (!t.ok) log(`${name}: PyTorch ${m} failed: ${t.error}`);
          const k = peerKey(name, b, m);
          torchRuns.set(k, [...(torchRuns.get(k) ?? []), t]);
          if (opts.bf16 && m === "hf") {
            log(`${name}: PyTorch peer hf bf16 autocast, batch ${b}, ${when}`);
            const t = await runTorch(opts.python, m, name, b, torchSteps, opts.budgetS / 2, true);
            if (!t.ok) log(`${name}: PyTorch hf bf16 failed: ${t.error}`);
            const kb = peerKey(name, b, m, "bf16");
            torchRuns.set(kb, [...(torchRuns.get(kb) ?? []), t]);
          }
        }
      }
    };
    // The peers run before and after ours; the ratios use their faster run (the machine is
    // shared, so this keeps a load spike from flattering us).
    if (c.train && opts.torch) await peer("before");
    const runs: [string, Precision][] = opts.backends.map((b) => [b, "fp32"]);
    if (opts.bf16 && opts.backends.includes("wasm")) runs.push(["wasm", "bf16"]);
    for (const [backend, precision] of runs) {
      log(`${name}: ${backend} ${precision}${c.train ? ` (${steps} steps per batch size)` : ""}`);
      const task: WorkerTask = {
        precision,
        config: c,
        backend,
        steps,
        warmup: name === "B" ? 1 : 2,
        evalSteps: evalSteps(name, opts.quick),
        budgetS: opts.budgetS,
        seed: 7,
        allowSoftwareGpu: opts.explicitBackends,
      };
      // The onnxruntime entry (bench/onnx.ts) gives two rows: fp32 and int8 exports.
      const rs = backend === ONNX_BACKEND ? await runOnnxWorker(task) : [await runWorker(task)];
      results.push(...rs);
      for (const r of rs) {
        if (!r.ok) log(`${name}: ${r.backend} skipped: ${r.error}`);
        for (const t of r.train ?? []) {
          if (t.error) log(`${name}: ${backend} training at batch ${t.batch} failed: ${t.error}`);
        }
      }
    }
    if (c.train && opts.torch) {
      await peer("after");
      for (const [k, runs] of torchRuns) {
        const ok = runs.filter((t) => t.ok);
        torch[k] = ok.length
          ? {
            ...ok.reduce((a, b) => (b.train_tokens_per_s! > a.train_tokens_per_s! ? b : a)),
            eval_tokens_per_s: Math.max(...ok.map((t) => t.eval_tokens_per_s!)),
            runs,
          }
          : { ...runs[0], runs };
      }
    }
  }
  let data: DataResult | { error: string } | undefined = undefined;
  if (opts.data) {
    log("data: tokenization and QA feature building");
    data = await runDataBench(opts.quick);
  }

  const vs = primary === "hf" ? "vs HF" : "vs torch";
  const rows: string[][] = [[
    "config",
    "batch",
    "backend",
    "train tok/s",
    "step ms",
    vs,
    "vs minimal",
    "eval tok/s",
    vs,
    "vs minimal",
    "GFLOP/s train, eval (% peak)",
    "peak RSS MB",
    "tensors before→after (steps)",
  ]];
  const peakOf = (p: Precision) =>
    "error" in peaks ? null : p === "bf16" ? peaks.bf16PeakGflops : peaks.sgemmPeakGflops;
  /** GFLOP/s of `flops` done in `ms`, and its fraction of the peak of `precision`. */
  const rateOf = (flops: number, ms: number | undefined, backend: string, precision: Precision) => {
    const gflops = ms !== undefined && ms > 0 ? flops / (ms / 1000) / 1e9 : undefined;
    const peak = peakOf(precision);
    return {
      backend,
      precision,
      gflops,
      fractionOfPeak: gflops !== undefined && peak ? gflops / peak : null,
    } satisfies EntryRate;
  };
  const rateText = (t?: EntryRate, e?: EntryRate) =>
    [t, e].map((r) =>
      r?.gflops === undefined
        ? "-"
        : `${fmt(r.gflops)}${r.fractionOfPeak ? ` (${fmt(100 * r.fractionOfPeak)}%)` : ""}`
    ).join(", ");
  // Every entry gets its backend, precision, GFLOP/s and fraction of the peak (bench/peak.ts).
  for (const r of results) {
    const c = configOf(r.config);
    const precision = r.precision ?? "fp32";
    for (const t of r.train ?? []) {
      if (!t.error) {
        Object.assign(t, rateOf(trainFlops(c, t.batch), t.stepMsMedian, r.backend, precision));
      }
    }
    for (const e of r.eval ?? []) {
      if (!e.error) {
        Object.assign(e, rateOf(forwardFlops(c, e.batch), e.msMedian, r.backend, precision));
      }
    }
  }
  for (const [k, t] of Object.entries(torch)) {
    if (!t.ok) continue;
    const c = configOf(k.split("/")[0]);
    const precision = t.precision ?? "fp32";
    const backend = `pytorch ${t.model}`;
    t.trainRate = rateOf(trainFlops(c, t.batch!), t.step_ms_median, backend, precision);
    t.evalRate = rateOf(forwardFlops(c, t.batch!), t.eval_ms_median, backend, precision);
  }
  const ratios: Record<string, Ratio[]> = {};
  const ratio = (x: number | undefined, y: number | undefined) =>
    x !== undefined && y !== undefined && Number.isFinite(x) && y > 0 ? x / y : undefined;
  for (const name of opts.configs) {
    const c = configOf(name);
    for (const b of c.batches) {
      const hf = torch[peerKey(name, b, "hf")];
      const hfBf16 = torch[peerKey(name, b, "hf", "bf16")];
      const mini = torch[peerKey(name, b, "minimal")];
      const main = primary === "hf" ? hf : mini;
      for (const t of [hf, hfBf16, mini]) {
        if (!t) continue;
        if (!t.ok) {
          rows.push([
            name,
            String(b),
            `pytorch ${t.model}${t.precision === "bf16" ? " bf16" : ""}: failed`,
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
          ]);
          continue;
        }
        const each = (t.runs ?? []).filter((x) => x.ok).map((x) => fmt(x.train_tokens_per_s));
        const label = t.model === "hf"
          ? `HF BertForQA, transformers ${t.transformers}, torch ${t.torch}` +
            (t.precision === "bf16" ? ", bf16 autocast" : "")
          : `minimal torch model, torch ${t.torch}`;
        // A bf16 peer is compared with the bf16 one (ours / it, below), not with fp32.
        const ref = t.precision === "bf16" ? t : main;
        rows.push([
          name,
          String(b),
          `${label} (best of ${each.join(", ")})`,
          fmt(t.train_tokens_per_s),
          fmt(t.step_ms_median),
          fmt(ratio(t.train_tokens_per_s, ref?.train_tokens_per_s), 2),
          fmt(ratio(t.train_tokens_per_s, mini?.train_tokens_per_s), 2),
          fmt(t.eval_tokens_per_s),
          fmt(ratio(t.eval_tokens_per_s, ref?.eval_tokens_per_s), 2),
          fmt(ratio(t.eval_tokens_per_s, mini?.eval_tokens_per_s), 2),
          rateText(t.trainRate, t.evalRate),
          fmt(t.peak_rss_mb),
          `(${t.steps})`,
        ]);
      }
      for (const r of results.filter((x) => x.config === name)) {
        if (!r.ok) {
          if (b === c.batches[0]) {
            rows.push([name, "", r.label ?? r.backend, "skipped", ...new Array(9).fill("")]);
          }
          continue;
        }
        const tr = r.train?.find((x) => x.batch === b);
        const ev = r.eval?.find((x) => x.batch === b);
        const evOk = ev && !ev.error ? ev.tokensPerS : undefined;
        const trOk = tr && !tr.error ? tr.tokensPerS : undefined;
        // bf16 rows against HF under bf16 autocast; the minimal model has no bf16 run.
        const bf16 = r.precision === "bf16";
        const peer = bf16 ? hfBf16 : main;
        const q: Ratio = {
          batch: b,
          peer: bf16 ? "hf" : primary,
          precision: r.precision ?? "fp32",
          train: peer?.ok ? ratio(trOk, peer.train_tokens_per_s) : undefined,
          eval: peer?.ok ? ratio(evOk, peer.eval_tokens_per_s) : undefined,
          trainVsMinimal: mini?.ok && !bf16 ? ratio(trOk, mini.train_tokens_per_s) : undefined,
          evalVsMinimal: mini?.ok && !bf16 ? ratio(evOk, mini.eval_tokens_per_s) : undefined,
        };
        (ratios[`${name}/${r.backend}${bf16 ? "-bf16" : ""}`] ??= []).push(q);
        rows.push([
          name,
          String(b),
          // How the step ran when the memory plan did not run it whole and plain.
          (r.label ?? r.backend) + (tr?.mode && tr.mode !== "plain" ? ` (${tr.mode})` : ""),
          tr?.error ? "failed" : tr ? fmt(tr.tokensPerS) : "-",
          tr && !tr.error ? fmt(tr.stepMsMedian) : "-",
          fmt(q.train, 2),
          fmt(q.trainVsMinimal, 2),
          ev?.error ? "failed" : ev ? fmt(ev.tokensPerS) : "-",
          fmt(q.eval, 2),
          fmt(q.evalVsMinimal, 2),
          rateText(tr && !tr.error ? tr : undefined, ev && !ev.error ? ev : undefined),
          b === c.batches[0] ? fmt(r.peakRssMb) : "",
          tr && !tr.error ? `${tr.numTensorsBefore}→${tr.numTensorsAfter} (${tr.steps})` : "",
        ]);
      }
    }
  }
  if (opts.torch) console.log(peers.note);
  console.log(table(rows));
  for (const r of results.filter((x) => x.ok)) {
    for (const t of r.train ?? []) {
      if (t.error) {
        console.log(`FAILED: ${r.config}/${r.backend} training at batch ${t.batch}: ${t.error}`);
      } else if (t.numTensorsBefore !== t.numTensorsAfter) {
        console.log(
          `LEAK: ${r.config}/${r.backend} batch ${t.batch}: numTensors ${t.numTensorsBefore} → ${t.numTensorsAfter}`,
        );
      }
    }
    for (const e of r.eval ?? []) {
      if (e.error) {
        console.log(`FAILED: ${r.config}/${r.backend} forward at batch ${e.batch}: ${e.error}`);
      }
    }
  }
  const skipped = new Map<string, string[]>();
  for (const r of results.filter((x) => !x.ok)) {
    const key = `${r.backend}: ${r.error}`;
    skipped.set(key, [...(skipped.get(key) ?? []), r.config]);
  }
  if (skipped.size) {
    console.log("skipped:");
    for (const [why, configs] of skipped) console.log(`  ${configs.join(",")} ${why}`);
  }
  if (data !== undefined) console.log(formatData(data));
  let answer: AnswerBenchResult | { error: string } | undefined;
  if (opts.answer) {
    answer = await runAnswerBench({ python: opts.python, quick: opts.quick, torch: opts.torch })
      .catch((e) => ({ error: e instanceof Error ? e.message : String(e) }));
    console.log(
      "error" in answer ? `answer bench: failed: ${answer.error}` : formatAnswerBench(answer),
    );
  }
  console.log(formatPeaks(peaks));
  const loadEnd = loadAverage();
  const cores = navigator.hardwareConcurrency;
  console.log(
    `load average (1 min): ${fmt(loadStart, 2)} at start, ${
      fmt(loadEnd, 2)
    } at end, ${cores} cores` +
      (Math.max(loadStart ?? 0, loadEnd ?? 0) > cores
        ? " — the machine was shared; absolute numbers are noisy, compare the ratios"
        : ""),
  );

  const report = {
    command: `deno task bench ${argv.join(" ")}`.trim(),
    started: started.toISOString(),
    finished: new Date().toISOString(),
    host: {
      cpus: navigator.hardwareConcurrency,
      deno: Deno.version.deno,
      os: Deno.build.os,
      loadAverage: { start: loadStart, end: loadAverage() },
    },
    peer: { primary: opts.torch ? primary : null, note: peers.note, python: opts.python },
    sgemmPeakGflops: "error" in peaks ? null : peaks.sgemmPeakGflops,
    bf16PeakGflops: "error" in peaks ? null : peaks.bf16PeakGflops,
    peaks,
    configs: Object.fromEntries(opts.configs.map((n) => [n, configOf(n)])),
    torch,
    results,
    ratios,
    data,
    answer,
  };
  await Deno.mkdir(new URL(".", `file://${Deno.cwd()}/${opts.out}`).pathname, { recursive: true });
  await Deno.writeTextFile(opts.out, JSON.stringify(report, null, 2) + "\n");
  console.log(`wrote ${opts.out}`);
}

/** Data side: bench/features_bench.ts plus questions per second for the two main rows. */
interface DataResult extends FeaturesBenchResult {
  questions_per_s: { features: number; hf_encode: number };
}

async function runDataBench(quick: boolean): Promise<DataResult | { error: string }> {
  try {
    const r = await runFeaturesBench(quick ? 1 : 3);
    const qps = (name: RegExp) => {
      const row = r.rows.find((x) => name.test(x.name));
      return row ? r.questions / (row.median_ms / 1000) : NaN;
    };
    return {
      ...r,
      questions_per_s: { features: qps(/^features \(cold/), hf_encode: qps(/huggingface/) },
    };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

function formatData(data: DataResult | { error: string }): string {
  if ("error" in data) return `data side: failed: ${data.error}`;
  return `${formatFeaturesBench(data)}\nquestions/s: features ${
    fmt(data.questions_per_s.features)
  }, plain @huggingface/tokenizers encode ${fmt(data.questions_per_s.hf_encode)}`;
}

function formatPeaks(p: Peaks | { error: string }): string {
  if ("error" in p) return `matrix-product peaks: failed: ${p.error}`;
  const sizes = p.sizes.map((s) =>
    `${s.n}: ${fmt(s.sgemm ?? undefined)} fp32, ${fmt(s.bf16 ?? undefined)} bf16`
  );
  return `matrix-product peaks (GFLOP/s, square n × n × n, ${p.threads} BLAS threads): fp32 ${
    fmt(p.sgemmPeakGflops ?? undefined)
  }, bf16 ${fmt(p.bf16PeakGflops ?? undefined)} (${sizes.join("; ")}); ${p.bf16}`;
}

/** The 1-minute load average (Linux), to judge how noisy a run was. */
function loadAverage(): number | undefined {
  try {
    return Number(Deno.readTextFileSync("/proc/loadavg").split(" ")[0]);
  } catch {
    return undefined;
  }
}

if (import.meta.main) {
  try {
    await main(Deno.args);
  } catch (e) {
    console.error(`bench: ${e instanceof Error ? e.message : e}`);
    Deno.exit(2);
  }
}
