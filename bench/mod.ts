/**
 * `deno task bench`: the project's BERT question-answering training and inference beside a
 * PyTorch peer, in one run.
 *
 * - Configurations (vocabulary 21128, random weights): S and M time QA training steps (forward,
 *   backward, AdamW update) and evaluation; B (bert-base size, sequence 384) times forward
 *   latency at batch 1 and 8.
 * - Every (configuration, backend) pair runs in its own process (`bench/worker.ts`) so that its
 *   peak resident memory is its own; PyTorch (`bench/torch_reference.py`, 2 threads) runs the
 *   same S and M steps in the same run, and the table quotes ours / PyTorch.
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
import type { WorkerResult, WorkerTask } from "./worker.ts";

const HELP = `Usage: deno task bench [options]

Benchmarks the project's BERT QA training step and inference per backend, beside PyTorch.

Options:
  --configs S,M,B      configurations to run (default S,M,B)
                         S: 2 layers, hidden 128, 2 heads, inter 512, seq 128, batch 16 (train)
                         M: 4 layers, hidden 256, 4 heads, inter 1024, seq 256, batch 8 (train)
                         B: 12 layers, hidden 768, 12 heads, inter 3072, seq 384, batch 1 and 8
                            (forward only)
  --backends LIST      backends to try (default tensorflow,webgpu,wasm,cpu; unavailable ones
                       are reported as skipped; a software WebGPU adapter is timed only when
                       --backends is given and names webgpu)
  --steps N            timed training steps per configuration (default: 200 for S, 20 for M);
                       tf.memory().numTensors is compared before and after them
  --budget-s SEC       per (configuration, backend) time budget for the timed training steps;
                       slower backends stop early, after at least 3 steps (default 120)
  --quick              a short run: 20 steps on S, 5 on M, 2 forward repeats, smaller budgets
  --no-torch           skip the PyTorch peer (which runs before and after ours; ratios use its
                       faster run)
  --no-data            skip the tokenization / feature-building benchmark
  --python PATH        python with torch (default /usr/bin/python3)
  --out PATH           JSON output (default outputs/bench.json)
  --help               this text`;

/** PyTorch peer result (see bench/torch_reference.py). */
interface TorchResult {
  ok: boolean;
  error?: string;
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
}

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

async function runTorch(
  python: string,
  name: string,
  steps: number,
  budgetS: number,
): Promise<TorchResult> {
  const c = CONFIGS[name];
  const script = new URL("./torch_reference.py", import.meta.url).pathname;
  const args = [
    script,
    `--layers=${c.layers}`,
    `--hidden=${c.hidden}`,
    `--heads=${c.heads}`,
    `--inter=${c.inter}`,
    `--seq=${c.seq}`,
    `--batch=${c.batches[0]}`,
    `--vocab=${c.vocab}`,
    `--steps=${steps}`,
    `--budget-s=${budgetS}`,
    "--threads=2",
  ];
  try {
    const out = await new Deno.Command(python, { args, stdout: "piped", stderr: "piped" }).output();
    const text = new TextDecoder().decode(out.stdout).trim().split("\n").pop() ?? "";
    if (!out.success) {
      const err = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-2).join(" | ");
      return { ok: false, error: `${python} exited with code ${out.code}: ${err}` };
    }
    return { ok: true, ...JSON.parse(text) };
  } catch (e) {
    return { ok: false, error: `${python}: ${e instanceof Error ? e.message : e}` };
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
  backends: string[];
  steps?: number;
  budgetS: number;
  quick: boolean;
  /** --backends was given (a software WebGPU adapter is then timed too). */
  explicitBackends: boolean;
  torch: boolean;
  data: boolean;
  python: string;
  out: string;
}

function parseOptions(argv: string[]): Options | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      configs: { type: "string", default: "S,M,B" },
      backends: { type: "string", default: "tensorflow,webgpu,wasm,cpu" },
      steps: { type: "string" },
      "budget-s": { type: "string" },
      quick: { type: "boolean", default: false },
      "no-torch": { type: "boolean", default: false },
      "no-data": { type: "boolean", default: false },
      python: { type: "string", default: "/usr/bin/python3" },
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
    backends,
    steps,
    budgetS,
    quick,
    explicitBackends: argv.some((a) => a === "--backends" || a.startsWith("--backends=")),
    torch: !values["no-torch"],
    data: !values["no-data"],
    python: values.python!,
    out: values.out!,
  };
}

/** Runs the benchmark with command-line arguments `argv`. */
export async function main(argv: string[]): Promise<void> {
  const opts = parseOptions(argv);
  if (!opts) return;
  const started = new Date();
  const loadStart = loadAverage();
  const results: WorkerResult[] = [];
  const torch: Record<string, TorchResult> = {};
  const log = (s: string) => console.error(`[bench] ${s}`);
  for (const name of opts.configs) {
    const c = CONFIGS[name];
    const steps = opts.steps ?? (opts.quick ? (name === "S" ? 20 : 5) : (name === "S" ? 200 : 20));
    const torchRuns: TorchResult[] = [];
    const torchSteps = Math.min(steps, 30);
    const peer = async (when: string) => {
      log(`${name}: PyTorch peer, ${when} (${torchSteps} steps)`);
      const t = await runTorch(opts.python, name, torchSteps, opts.budgetS / 2);
      if (!t.ok) log(`${name}: PyTorch failed: ${t.error}`);
      torchRuns.push(t);
    };
    // PyTorch runs before and after ours; the ratios use its faster run (the machine is shared,
    // so this keeps a load spike from flattering us).
    if (c.train && opts.torch) await peer("before");
    for (const backend of opts.backends) {
      log(`${name}: ${backend}${c.train ? ` (${steps} steps)` : ""}`);
      const task: WorkerTask = {
        config: c,
        backend,
        steps,
        warmup: 2,
        evalSteps: opts.quick ? 2 : (name === "B" ? 3 : 5),
        budgetS: opts.budgetS,
        seed: 7,
        allowSoftwareGpu: opts.explicitBackends,
      };
      const r = await runWorker(task);
      results.push(r);
      if (!r.ok) log(`${name}: ${backend} skipped: ${r.error}`);
    }
    if (c.train && opts.torch) {
      await peer("after");
      const ok = torchRuns.filter((t) => t.ok);
      torch[name] = ok.length
        ? {
          ...ok.reduce((a, b) => (b.train_tokens_per_s! > a.train_tokens_per_s! ? b : a)),
          eval_tokens_per_s: Math.max(...ok.map((t) => t.eval_tokens_per_s!)),
          runs: torchRuns,
        }
        : { ...torchRuns[0], runs: torchRuns };
    }
  }
  let data: DataResult | { error: string } | undefined = undefined;
  if (opts.data) {
    log("data: tokenization and QA feature building");
    data = await runDataBench(opts.quick);
  }

  const rows: string[][] = [[
    "config",
    "backend",
    "train tok/s",
    "step ms",
    "vs torch",
    "eval tok/s",
    "vs torch",
    "peak RSS MB",
    "tensors before→after (steps)",
    "RSS first→last MB",
  ]];
  const ratios: Record<string, { train?: number; eval?: number }> = {};
  for (const name of opts.configs) {
    const t = torch[name];
    if (t?.ok) {
      const each = (t.runs ?? []).filter((x) => x.ok).map((x) => fmt(x.train_tokens_per_s));
      rows.push([
        name,
        `pytorch ${t.torch} (best of ${each.join(", ")})`,
        fmt(t.train_tokens_per_s),
        fmt(t.step_ms_median),
        "1.00",
        fmt(t.eval_tokens_per_s),
        "1.00",
        fmt(t.peak_rss_mb),
        `(${t.steps})`,
        "",
      ]);
    }
    for (const r of results.filter((x) => x.config === name)) {
      if (!r.ok) {
        rows.push([name, r.label ?? r.backend, "skipped", "", "", "", "", "", "", ""]);
        continue;
      }
      const tr = r.train;
      const ev = r.eval ?? [];
      const key = `${name}/${r.backend}`;
      const trainRatio = tr && t?.ok ? tr.tokensPerS / t.train_tokens_per_s! : undefined;
      const evalRatio = ev.length && t?.ok ? ev[0].tokensPerS / t.eval_tokens_per_s! : undefined;
      ratios[key] = { train: trainRatio, eval: evalRatio };
      const evalText = ev.map((e) =>
        e.error
          ? `b${e.batch}: failed`
          : CONFIGS[name].train
          ? fmt(e.tokensPerS)
          : `b${e.batch}: ${fmt(e.msMedian)} ms`
      ).join(", ");
      rows.push([
        name,
        r.label ?? r.backend,
        tr ? fmt(tr.tokensPerS) : "-",
        tr ? fmt(tr.stepMsMedian) : "-",
        fmt(trainRatio, 2),
        evalText,
        fmt(evalRatio, 2),
        fmt(r.peakRssMb),
        tr ? `${tr.numTensorsBefore}→${tr.numTensorsAfter} (${tr.steps})` : "",
        tr ? `${fmt(tr.rssFirstMb)}→${fmt(tr.rssLastMb)}` : "",
      ]);
    }
  }
  console.log(table(rows));
  for (const r of results.filter((x) => x.ok && x.train)) {
    if (r.train!.numTensorsBefore !== r.train!.numTensorsAfter) {
      console.log(
        `LEAK: ${r.config}/${r.backend}: numTensors ${r.train!.numTensorsBefore} → ${
          r.train!.numTensorsAfter
        }`,
      );
    }
  }
  for (const r of results) {
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
    configs: Object.fromEntries(opts.configs.map((n) => [n, CONFIGS[n]])),
    torch,
    results,
    ratios,
    data,
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
