/**
 * The bench's `onnxruntime` entry: the same QA model as our evaluation rows
 * (`createFromConfig(config, "qa", seed)`, the worker's seed), exported by `lib/export`
 * (`bertToOnnx`), run by onnxruntime-node's CPU provider with `intraOpNumThreads` equal to the
 * threads of our own evaluation (OpenBLAS's, `OPENBLAS_NUM_THREADS` or every core), on the same
 * seeded random batches, timed the same way (one warm-up, then the median of `evalSteps`
 * forwards). The int8 model (`--quantize int8`) is timed beside it. Feeds are built once,
 * outside the timing (as our rows' input tensors are).
 *
 * Runs in its own process, like `bench/worker.ts`, so its peak memory is its own:
 * `deno run -A bench/onnx.ts '<WorkerTask JSON>'` prints one JSON array of two `WorkerResult`s.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import * as ort from "onnxruntime-node";
import { openBlas } from "../lib/backend/mod.ts";
import { bertToOnnx, encodeModel, onnxFeeds } from "../lib/export/mod.ts";
import { createFromConfig } from "../lib/models/mod.ts";
import { bertConfigOf, disposeBatch, randomBatch } from "./qa_step.ts";
import { median } from "./util.ts";
import { type EvalResult, peakRssMb, type WorkerResult, type WorkerTask } from "./worker.ts";

/** The entry's name in `--backends`, the table and bench.json. */
export const ONNX_BACKEND = "onnxruntime";

/** Threads of our own evaluation (the OpenBLAS rule of lib/backend/blas.ts). */
function evaluationThreads(): number {
  return openBlas().threads ?? navigator.hardwareConcurrency;
}

async function timeSession(
  session: ort.InferenceSession,
  task: WorkerTask,
  b: number,
): Promise<EvalResult> {
  const c = task.config;
  // The worker's evaluation batch (same seed), as int64 feeds.
  const batch = randomBatch(c, b, task.seed + 2);
  const data = (t: tf.Tensor) => ({ data: t.dataSync() as Int32Array, shape: t.shape });
  const feeds = onnxFeeds({
    inputIds: data(batch.inputIds),
    tokenTypeIds: data(batch.tokenTypeIds),
    attentionMask: data(batch.attentionMask),
  }, (d, dims) => new ort.Tensor("int64", d, dims));
  disposeBatch(batch);
  try {
    await session.run(feeds); // warm-up
    const times: number[] = [];
    for (let i = 0; i < task.evalSteps; i++) {
      const t0 = performance.now();
      await session.run(feeds);
      times.push(performance.now() - t0);
    }
    const med = median(times);
    return { batch: b, steps: times.length, msMedian: med, tokensPerS: b * c.seq / (med / 1000) };
  } catch (e) {
    return { batch: b, steps: 0, msMedian: NaN, tokensPerS: NaN, error: String(e) };
  }
}

/** Times the fp32 and int8 exports of the task's model (in this process). */
export async function runOnnxTask(task: WorkerTask): Promise<WorkerResult[]> {
  await tf.setBackend("cpu");
  const c = task.config;
  const threads = evaluationThreads();
  const model = createFromConfig(bertConfigOf(c), "qa", task.seed);
  const out: WorkerResult[] = [];
  try {
    for (const quantize of [undefined, "int8"] as const) {
      const name = quantize ? `${ONNX_BACKEND} (int8)` : ONNX_BACKEND;
      const result: WorkerResult = {
        config: c.name,
        backend: name,
        ok: false,
        label: `${name}: onnxruntime-node ${ort.env.versions.node ?? ""} CPU, ` +
          `intraOpNumThreads ${threads}`,
        params: model.numParameters(),
      };
      try {
        const session = await ort.InferenceSession.create(
          encodeModel(bertToOnnx(model, { quantize })),
          {
            intraOpNumThreads: threads,
            interOpNumThreads: 1,
            // Idle pool threads sleep instead of spinning, as lib/backend/blas.ts has OpenBLAS's
            // do: on a shared machine spinning threads take the cores the others need (S: about
            // 5x slower with 2 threads at load average 2.7 on 2 cores).
            extra: { session: { intra_op: { allow_spinning: "0" } } },
          },
        );
        result.eval = [];
        for (const b of c.batches) result.eval.push(await timeSession(session, task, b));
        await session.release();
        result.ok = true;
      } catch (e) {
        result.error = e instanceof Error ? e.message : String(e);
      }
      result.peakRssMb = peakRssMb();
      out.push(result);
    }
  } finally {
    model.dispose();
  }
  return out;
}

/** Runs {@link runOnnxTask} in a child process; failures become `ok: false` results. */
export async function runOnnxWorker(task: WorkerTask): Promise<WorkerResult[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(import.meta.url).pathname, JSON.stringify(task)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(text) as WorkerResult[];
  } catch {
    const err = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-3).join(" | ");
    return [{
      config: task.config.name,
      backend: ONNX_BACKEND,
      ok: false,
      error: `onnxruntime worker exited with code ${out.code}: ${err || text}`,
    }];
  }
}

if (import.meta.main) {
  const task = JSON.parse(Deno.args[0]) as WorkerTask;
  console.log(JSON.stringify(await runOnnxTask(task)));
}
