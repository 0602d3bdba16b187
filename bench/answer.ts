/**
 * The answer bench: `answer()` latency for one question on one 384-token DRCD paragraph (p50 /
 * p95) and questions/s in batches, with a small QA model (configuration S's shape) and a
 * bert-base-shaped one (B), random weights, the real bert-base-chinese vocabulary, beside Hugging
 * Face's question-answering pipeline on the same model folder (`bench/answer_peer.py`, PyTorch
 * of `--python`, 2 threads), measured in the same run (the two take turns, two rounds each, and each
 * side's best round counts); then the server (`cli serve`, the small
 * model, its own process) at concurrency 1, 8 and 32: requests/s and p95 latency.
 *
 * Part of `deno task bench` (results under `answer` in `outputs/bench.json`); alone:
 * `deno run -A bench/answer.ts [--quick] [--python PATH] [--configs S,B]`, which merges its result
 * into `outputs/bench.json`.
 * @module
 */
import { parseArgs } from "node:util";
import { initBackend } from "../lib/backend/mod.ts";
import { createFromConfig, makeBertConfig, saveModel } from "../lib/models/mod.ts";
import { Answerer, type AnswerQuery, type AnswerResult, QA_DEFAULTS } from "../lib/pipeline/mod.ts";
import { BertTokenizer } from "../lib/tokenization/mod.ts";
import { peerPython } from "../lib/util/python.ts";
import { CONFIGS } from "./qa_step.ts";
import { readServeUrl } from "../lib/cli/serve.ts";

const SHARED = new URL("../../shared/data/", import.meta.url).pathname;
const ROOT = new URL("../", import.meta.url).pathname;

/** Options of {@link runAnswerBench}. */
export interface AnswerBenchOptions {
  python: string;
  quick: boolean;
  /** Model shapes (CONFIGS names), default S and B. */
  configs?: string[];
  torch?: boolean;
  log?: (m: string) => void;
}

interface Latency {
  p50: number;
  p95: number;
  runs: number;
}

/** One model's row. */
export interface AnswerModelResult {
  config: string;
  layers: number;
  hidden: number;
  backend: string;
  /** The best round (lowest p50; the highest questions/s of any round). */
  ours: { latency_ms: Latency; batch_questions_per_s: number; batch: number };
  oursRuns?: AnswerModelResult["ours"][];
  hfRuns?: NonNullable<AnswerModelResult["hf"]>[];
  hf?: {
    ok: boolean;
    error?: string;
    impl?: string;
    torch?: string;
    threads?: number;
    latency_ms?: Latency;
    batch_questions_per_s?: number;
    answer?: { answer: string; score: number; start: number; end: number };
  };
  /** Ours / HF: latency ratio (HF p50 / ours p50, above 1 = faster) and questions/s ratio. */
  speedup?: { latency_p50: number; batch_questions_per_s: number };
  /** Same span as HF's pipeline, and the score difference. */
  agreement?: { same_span: boolean; score_ours: number; score_hf: number };
}

/** The server rows. */
export interface ServerResult {
  config: string;
  rows: {
    concurrency: number;
    requests: number;
    requests_per_s: number;
    p95_ms: number;
    p50_ms: number;
  }[];
  errors: number;
}

/** Everything the answer bench measured. */
export interface AnswerBenchResult {
  tokens: number;
  question: string;
  models: AnswerModelResult[];
  server?: ServerResult;
}

function percentile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const k = (s.length - 1) * q;
  const lo = Math.floor(k);
  const hi = Math.ceil(k);
  return s[lo] + (s[hi] - s[lo]) * (k - lo);
}

function latency(ms: number[]): Latency {
  return { p50: percentile(ms, 0.5), p95: percentile(ms, 0.95), runs: ms.length };
}

/**
 * DRCD questions, each with its paragraph cut (at a token boundary) so that
 * `[CLS] question [SEP] paragraph [SEP]` is exactly 384 tokens: one window.
 */
async function drcdQueries(tokenizer: BertTokenizer, n: number): Promise<AnswerQuery[]> {
  const squad = JSON.parse(await Deno.readTextFile(`${SHARED}drcd/DRCD_dev.json`));
  const out: AnswerQuery[] = [];
  const window = QA_DEFAULTS.max_seq_length;
  for (const article of squad.data) {
    for (const p of article.paragraphs) {
      const q = p.qas[0]?.question as string | undefined;
      if (!q) continue;
      const budget = window - tokenizer.tokenizeWithOffsets(q).ids.length - 3;
      const t = tokenizer.tokenizeWithOffsets(p.context);
      if (t.ids.length < budget) continue;
      out.push({ question: q, context: p.context.slice(0, t.offsets[budget - 1][1]) });
      if (out.length === n) return out;
    }
  }
  throw new Error(`DRCD_dev.json has fewer than ${n} paragraphs of ${window} tokens`);
}

async function makeModel(name: string, tokenizer: BertTokenizer, dir: string) {
  const c = CONFIGS[name];
  const config = makeBertConfig({
    vocab_size: tokenizer.vocabSize,
    hidden_size: c.hidden,
    num_hidden_layers: c.layers,
    num_attention_heads: c.heads,
    intermediate_size: c.inter,
    max_position_embeddings: 512,
  });
  const model = createFromConfig(config, "qa", 42);
  await saveModel(model, dir);
  model.dispose();
  await tokenizer.save(dir);
}

async function runPeer(python: string, job: Record<string, unknown>) {
  const script = new URL("./answer_peer.py", import.meta.url).pathname;
  try {
    const child = new Deno.Command(python, {
      args: [script],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(JSON.stringify(job)));
    await w.close();
    const out = await child.output();
    const text = new TextDecoder().decode(out.stdout).trim().split("\n").pop() ?? "";
    if (!out.success) {
      const err = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-2).join(" | ");
      return { ok: false, error: `exit ${out.code}: ${err}` };
    }
    return JSON.parse(text);
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

async function serverBench(
  dir: string,
  query: AnswerQuery,
  quick: boolean,
  log: (m: string) => void,
): Promise<ServerResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "cli.ts", "serve", "--qa_model", dir, "--port", "0"],
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  const { url } = await readServeUrl(reader);
  // Drain the request log so the server never blocks on a full pipe.
  const drain = (async () => {
    while (!(await reader.read()).done) { /* request log lines */ }
  })();
  const body = JSON.stringify(query);
  let errors = 0;
  const one = async (): Promise<number> => {
    const t0 = performance.now();
    const res = await fetch(`${url}/answer`, { method: "POST", body });
    await res.arrayBuffer();
    if (res.status !== 200) errors++;
    return performance.now() - t0;
  };
  const rows = [];
  try {
    for (let i = 0; i < 3; i++) await one(); // warm-up
    for (const concurrency of [1, 8, 32]) {
      const requests = quick ? Math.max(16, concurrency * 2) : Math.max(48, concurrency * 4);
      let next = 0;
      const ms: number[] = [];
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < requests) {
            next++;
            ms.push(await one());
          }
        }),
      );
      const wall = (performance.now() - t0) / 1000;
      rows.push({
        concurrency,
        requests,
        requests_per_s: requests / wall,
        p50_ms: percentile(ms, 0.5),
        p95_ms: percentile(ms, 0.95),
      });
      log(`server, concurrency ${concurrency}: ${(requests / wall).toFixed(1)} requests/s`);
    }
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await drain;
  }
  return { config: "", rows, errors };
}

/** Runs the answer bench (see the module docs). */
export async function runAnswerBench(opts: AnswerBenchOptions): Promise<AnswerBenchResult> {
  const log = opts.log ?? ((m: string) => console.error(`[bench answer] ${m}`));
  const backend = await initBackend({ quiet: true });
  const tokenizer = await BertTokenizer.fromPretrained(`${SHARED}vocab/bert-base-chinese`);
  const batchSize = 8;
  const queries = await drcdQueries(tokenizer, batchSize);
  const query = queries[0];
  const tmp = await Deno.makeTempDir({ prefix: "answer-bench-" });
  const models: AnswerModelResult[] = [];
  let server: ServerResult | undefined;
  try {
    for (const name of opts.configs ?? ["S", "B"]) {
      const c = CONFIGS[name];
      const big = c.layers >= 12;
      const reps = opts.quick ? (big ? 3 : 10) : (big ? 10 : 40);
      const batchReps = opts.quick ? 1 : (big ? 2 : 5);
      const dir = `${tmp}/${name}`;
      log(`${name}: writing a random-weight QA model (${c.layers} layers, hidden ${c.hidden})`);
      await makeModel(name, tokenizer, dir);
      const answerer = await Answerer.load({ qaModel: dir, log: () => {} });
      let mine: AnswerResult | undefined;
      const measure = async (): Promise<AnswerModelResult["ours"]> => {
        for (let i = 0; i < 2; i++) mine = await answerer.answer(query);
        const ms: number[] = [];
        for (let i = 0; i < reps; i++) {
          const t0 = performance.now();
          mine = await answerer.answer(query);
          ms.push(performance.now() - t0);
        }
        const bt: number[] = [];
        for (let i = 0; i < batchReps; i++) {
          const t0 = performance.now();
          await answerer.answerBatch(queries);
          bt.push((performance.now() - t0) / 1000);
        }
        return {
          latency_ms: latency(ms),
          batch_questions_per_s: batchSize / percentile(bt, 0.5),
          batch: batchSize,
        };
      };
      const peer = () =>
        runPeer(opts.python, {
          model: dir,
          question: query.question,
          context: (query as { context: string }).context,
          batch: queries,
          reps,
          batch_reps: batchReps,
          warmup: 2,
          threads: 2,
          max_seq_len: QA_DEFAULTS.max_seq_length,
          doc_stride: QA_DEFAULTS.doc_stride,
          max_answer_len: QA_DEFAULTS.max_answer_length,
        });
      // Ours and the peer take turns (two rounds each unless --quick); each side's best round
      // counts, so that a burst of load on the shared machine hits both alike.
      const oursRuns: AnswerModelResult["ours"][] = [];
      const hfRuns: NonNullable<AnswerModelResult["hf"]>[] = [];
      try {
        for (let round = 0; round < (opts.quick ? 1 : 2); round++) {
          oursRuns.push(await measure());
          log(`${name}: ours p50 ${oursRuns.at(-1)!.latency_ms.p50.toFixed(1)} ms`);
          if (opts.torch !== false) {
            log(`${name}: Hugging Face pipeline on ${opts.python}`);
            hfRuns.push(await peer());
          }
        }
      } finally {
        answerer.dispose();
      }
      const ours = {
        ...oursRuns.reduce((a, b) => (b.latency_ms.p50 < a.latency_ms.p50 ? b : a)),
        batch_questions_per_s: Math.max(...oursRuns.map((r) => r.batch_questions_per_s)),
      };
      const row: AnswerModelResult = {
        config: name,
        layers: c.layers,
        hidden: c.hidden,
        backend: backend.name,
        ours,
        oursRuns,
      };
      const okRuns = hfRuns.filter((r) => r.ok);
      if (hfRuns.length && !okRuns.length) log(`${name}: peer failed: ${hfRuns[0].error}`);
      if (okRuns.length) {
        const hf = {
          ...okRuns.reduce((a, b) => (b.latency_ms!.p50 < a.latency_ms!.p50 ? b : a)),
          batch_questions_per_s: Math.max(...okRuns.map((r) => r.batch_questions_per_s!)),
        };
        row.hf = hf;
        row.hfRuns = hfRuns;
        row.speedup = {
          latency_p50: hf.latency_ms!.p50 / ours.latency_ms.p50,
          batch_questions_per_s: ours.batch_questions_per_s / hf.batch_questions_per_s,
        };
        row.agreement = {
          same_span: hf.answer!.start === mine!.start && hf.answer!.end === mine!.end,
          score_ours: mine!.score,
          score_hf: hf.answer!.score,
        };
      } else if (hfRuns.length) row.hf = hfRuns[0];
      models.push(row);
      if (!big && !server) {
        log(`${name}: server at concurrency 1, 8, 32`);
        server = { ...(await serverBench(dir, query, opts.quick, log)), config: name };
      }
      if (big) await Deno.remove(dir, { recursive: true });
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
  return {
    tokens: QA_DEFAULTS.max_seq_length,
    question: query.question,
    models,
    server,
  };
}

const f = (x: number | undefined, d = 1) => (x === undefined ? "-" : x.toFixed(d));

/** The bench's table. */
export function formatAnswerBench(r: AnswerBenchResult): string {
  const lines = [
    `answer(): one question on one ${r.tokens}-token paragraph; batches of 8 questions`,
    "model | ours p50 / p95 ms | HF p50 / p95 ms | latency ours vs HF | ours q/s | HF q/s | q/s ratio | same span",
  ];
  for (const m of r.models) {
    lines.push(
      `${m.config} (${m.layers} layers, hidden ${m.hidden}, ${m.backend}) | ${
        f(m.ours.latency_ms.p50)
      } / ${f(m.ours.latency_ms.p95)} | ${f(m.hf?.latency_ms?.p50)} / ${
        f(m.hf?.latency_ms?.p95)
      } | ${f(m.speedup?.latency_p50, 2)}× | ${f(m.ours.batch_questions_per_s, 2)} | ${
        f(m.hf?.batch_questions_per_s, 2)
      } | ${f(m.speedup?.batch_questions_per_s, 2)}× | ${
        m.agreement ? (m.agreement.same_span ? "yes" : "no") : "-"
      }`,
    );
  }
  if (r.models[0]?.hf?.impl) {
    lines.push(`HF peer: ${r.models[0].hf.impl}, torch ${r.models[0].hf.torch}`);
  }
  if (r.server) {
    lines.push(
      `server (cli serve, model ${r.server.config}): concurrency | requests/s | p50 ms | p95 ms`,
    );
    for (const s of r.server.rows) {
      lines.push(`  ${s.concurrency} | ${f(s.requests_per_s)} | ${f(s.p50_ms)} | ${f(s.p95_ms)}`);
    }
    if (r.server.errors) lines.push(`  ${r.server.errors} requests failed`);
  }
  return lines.join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean", default: false },
      python: { type: "string", default: peerPython() },
      configs: { type: "string", default: "S,B" },
      "no-torch": { type: "boolean", default: false },
      out: { type: "string", default: "outputs/bench.json" },
    },
    strict: true,
  });
  const load = () => Number(Deno.readTextFileSync("/proc/loadavg").split(" ")[0]);
  const loadStart = load();
  const started = new Date().toISOString();
  const r = await runAnswerBench({
    python: values.python!,
    quick: values.quick!,
    configs: values.configs!.split(","),
    torch: !values["no-torch"],
  });
  console.log(formatAnswerBench(r));
  let report: Record<string, unknown> = {};
  try {
    report = JSON.parse(await Deno.readTextFile(values.out!));
  } catch { /* a new file */ }
  report.answer = {
    command: `deno run -A bench/answer.ts ${Deno.args.join(" ")}`.trim(),
    started,
    finished: new Date().toISOString(),
    loadAverage: { start: loadStart, end: load() },
    cpus: navigator.hardwareConcurrency,
    ...r,
  };
  await Deno.writeTextFile(values.out!, JSON.stringify(report, null, 2) + "\n");
  console.log(`wrote ${values.out} (answer)`);
}
