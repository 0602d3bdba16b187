/**
 * Per-kernel time of the project's QA training step: every kernel of the active backend is
 * wrapped with a timer (wasm and cpu kernels are synchronous, so wall time is kernel time), then
 * a few steps run and the totals are printed by kernel name and input shapes.
 *
 *     deno run -A bench/profile.ts [--config M] [--backend wasm] [--steps 2] [--top 40] [--layers N]
 *       [--batch B] [--eval]
 *
 * `TFJS_BF16=1` in front profiles `--bf16`. Besides wall time it prints the process CPU time and
 * minor page faults per step (all threads: the GEMM and the native kernels run on several) and
 * the load average, since the machine may be shared.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { parseArgs } from "node:util";
import { matmulPrecision, useBackend } from "../lib/backend/mod.ts";
import {
  CONFIGS,
  createQaTrainer,
  disposeBatch,
  type QaBatch,
  type QaTrainer,
  randomBatch,
} from "./qa_step.ts";

interface Tally {
  ms: number;
  calls: number;
}

/** Wraps every kernel registered for `backendName`; returns the tallies and an unwrap function. */
export function wrapKernels(backendName: string, trace?: string): {
  byKernel: Map<string, Tally>;
  byShape: Map<string, Tally>;
  byCaller: Map<string, Tally>;
  unwrap(): void;
} {
  const byKernel = new Map<string, Tally>();
  const byCaller = new Map<string, Tally>();
  const byShape = new Map<string, Tally>();
  const originals = tf.getKernelsForBackend(backendName);
  const add = (m: Map<string, Tally>, k: string, ms: number) => {
    const t = m.get(k) ?? { ms: 0, calls: 0 };
    t.ms += ms;
    t.calls++;
    m.set(k, t);
  };
  for (const k of originals) {
    tf.unregisterKernel(k.kernelName, backendName);
    tf.registerKernel({
      ...k,
      kernelFunc: (args) => {
        const t0 = performance.now();
        const r = k.kernelFunc(args);
        const ms = performance.now() - t0;
        add(byKernel, k.kernelName, ms);
        const shapes = Object.values(args.inputs).map((t) =>
          `[${(t as tf.TensorInfo | undefined)?.shape}]`
        );
        const a = args.attrs as Record<string, unknown> | undefined;
        const flags = a && ("transposeA" in a)
          ? ` tA=${a.transposeA ? 1 : 0} tB=${a.transposeB ? 1 : 0}`
          : "";
        add(byShape, `${k.kernelName} ${shapes.join(" ")}${flags}`, ms);
        if (trace === k.kernelName) {
          const frames = (new Error().stack ?? "").split("\n").slice(2)
            .slice(0, 9)
            .map((f) => f.trim().replace(/\(?file:.*\/(dist\/)?/, "").replace(/^at /, ""));
          add(byCaller, frames.join(" < "), ms);
        }
        return r;
      },
    });
  }
  return {
    byKernel,
    byShape,
    byCaller,
    unwrap() {
      for (const k of originals) {
        tf.unregisterKernel(k.kernelName, backendName);
        tf.registerKernel(k);
      }
    },
  };
}

/** Median wall time of forward, forward+backward, and full training step. */
async function phases(trainer: QaTrainer, batch: QaBatch, steps: number): Promise<void> {
  const vars = [...trainer.model.variables.values()];
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const fwd: number[] = [], fb: number[] = [], full: number[] = [];
  await trainer.trainStep(batch, 0);
  for (let i = 0; i < steps; i++) {
    let t0 = performance.now();
    const out = trainer.model.forward(batch, { training: true, seed: i });
    await out.startLogits.data();
    tf.dispose([out.startLogits, out.endLogits]);
    fwd.push(performance.now() - t0);
    t0 = performance.now();
    const { value, grads } = tf.variableGrads(() => {
      const o = trainer.model.forward(batch, { training: true, seed: i });
      return tf.tidy(() => tf.add(tf.sum(o.startLogits), tf.sum(o.endLogits)) as tf.Scalar);
    }, vars);
    await value.data();
    tf.dispose([value, ...Object.values(grads)]);
    fb.push(performance.now() - t0);
    t0 = performance.now();
    await trainer.trainStep(batch, i + 1);
    full.push(performance.now() - t0);
  }
  console.log(
    `forward ${med(fwd).toFixed(0)} ms, forward+backward ${med(fb).toFixed(0)} ms, ` +
      `full step (incl. loss + AdamW) ${med(full).toFixed(0)} ms`,
  );
}

/** Process CPU time (all threads) in ms from /proc (Linux): [user, system]; NaN elsewhere. */
/** Process CPU time (user, system ms) and minor page faults so far (Linux). */
function cpuMs(): [number, number, number] {
  try {
    const f = Deno.readTextFileSync("/proc/self/stat").split(") ")[1].split(" ");
    return [Number(f[11]) * 10, Number(f[12]) * 10, Number(f[7])]; // clock ticks of 10 ms
  } catch {
    return [NaN, NaN, NaN];
  }
}

/** The 1-minute load average (Linux). */
function loadAverage(): string {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ")[0];
  } catch {
    return "?";
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      config: { type: "string", default: "M" },
      backend: { type: "string", default: "wasm" },
      steps: { type: "string", default: "2" },
      top: { type: "string", default: "40" },
      eval: { type: "boolean", default: false },
      trace: { type: "string" },
      phases: { type: "boolean", default: false },
      layers: { type: "string" },
      batch: { type: "string" },
    },
  });
  // --layers N: the configuration's widths with N layers (e.g. bert-base per-layer costs in a
  // process small enough to run beside other jobs).
  const base = CONFIGS[values.config!];
  const cfg = values.layers ? { ...base, layers: Number(values.layers) } : base;
  await useBackend(values.backend as "wasm" | "cpu");
  const trainer = createQaTrainer(cfg, 1);
  // --batch B: that many sequences per step (default: the configuration's first batch size).
  const batch = randomBatch(cfg, values.batch ? Number(values.batch) : cfg.batches[0], 2);
  if (values.phases) {
    await phases(trainer, batch, Number(values.steps));
    disposeBatch(batch);
    trainer.dispose();
    Deno.exit(0);
  }
  const run = (i: number) => values.eval ? trainer.evalStep(batch) : trainer.trainStep(batch, i);
  await run(0); // warm-up (optimizer state, kernel compilation)
  const prof = wrapKernels(values.backend!, values.trace);
  const steps = Number(values.steps);
  const load = loadAverage();
  const c0 = cpuMs();
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) await run(i + 1);
  const wall = (performance.now() - t0) / steps;
  const c1 = cpuMs();
  const user = (c1[0] - c0[0]) / steps, sys = (c1[1] - c0[1]) / steps;
  const faults = (c1[2] - c0[2]) / steps;
  prof.unwrap();
  const kernelTotal = [...prof.byKernel.values()].reduce((a, t) => a + t.ms, 0) / steps;
  console.log(
    `${values.config} ${values.backend} ${matmulPrecision()} ${values.eval ? "eval" : "train"}: ${
      wall.toFixed(0)
    } ms/step wall, ${kernelTotal.toFixed(0)} ms in kernels; process CPU time per step ${
      user.toFixed(0)
    } ms user + ${sys.toFixed(0)} ms system, ${
      faults.toFixed(0)
    } minor page faults; load average ${load} at start, ${loadAverage()} at end, ${navigator.hardwareConcurrency} cores`,
  );
  const print = (m: Map<string, Tally>, n: number) => {
    const rows = [...m.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, n);
    for (const [k, t] of rows) {
      console.log(
        `${(t.ms / steps).toFixed(1).padStart(8)} ms ${
          (100 * t.ms / steps / wall).toFixed(1).padStart(5)
        }% ${String(t.calls / steps).padStart(4)}x  ${k}`,
      );
    }
  };
  console.log("--- by kernel");
  print(prof.byKernel, Number(values.top));
  console.log("--- by kernel and shapes");
  print(prof.byShape, Number(values.top));
  if (values.trace) {
    console.log(`--- ${values.trace} by caller`);
    print(prof.byCaller, Number(values.top));
  }
  disposeBatch(batch);
  trainer.dispose();
}
