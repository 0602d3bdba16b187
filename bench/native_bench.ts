/**
 * The native kernels (lib/backend/native.ts) against the JavaScript / tfjs paths they replace, at
 * bert-base sizes, interleaved in one process (so machine load hits both alike): AdamW over a
 * [3072, 768] weight and the [21128, 768] embedding, GELU forward and backward on [384, 3072],
 * the softmax gradient on [1, 12, 384, 384]. Wall and process CPU time per call.
 *
 *     deno run -A bench/native_bench.ts [--reps 10]
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { parseArgs } from "node:util";
import {
  adamwValues,
  geluComposite,
  nativeKernels,
  softmaxGradComposite,
  useBackend,
} from "../lib/backend/mod.ts";
import { median } from "./util.ts";

/** Process CPU time (user + system) in ms, from /proc (Linux); NaN elsewhere. */
function cpuMs(): number {
  try {
    const f = Deno.readTextFileSync("/proc/self/stat").split(") ")[1].split(" ");
    return (Number(f[11]) + Number(f[12])) * 10; // clock ticks of 10 ms
  } catch {
    return NaN;
  }
}

function rand(n: number, scale: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (Math.random() - 0.5) * scale;
  return a;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { reps: { type: "string", default: "10" } },
  });
  const reps = Number(values.reps);
  await useBackend("wasm");
  const native = nativeKernels();
  if (!native) throw new Error("native kernels unavailable (see lib/backend/native.ts)");
  const cases: [string, () => void, () => void][] = [];
  for (const shape of [[3072, 768], [21128, 768]]) {
    const n = shape[0] * shape[1];
    const [p, m, v, g] = [rand(n, 1), rand(n, 0.01), rand(n, 1e-4).map(Math.abs), rand(n, 0.1)];
    const outs = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
    const a = { lr: 3e-5, beta1: 0.9, beta2: 0.999, epsilon: 1e-6, weightDecay: 0.01, step: 3 };
    const [op, om, ov] = outs;
    cases.push([
      `AdamW [${shape}]`,
      () => adamwValues(p, m, v, g, op, om, ov, a, null),
      () => adamwValues(p, m, v, g, op, om, ov, a, native),
    ]);
  }
  const x = tf.randomNormal([384, 3072], 0, 2, "float32", 1);
  const dy = tf.randomNormal([384, 3072], 0, 1, "float32", 2);
  const xs = x.dataSync() as Float32Array, dys = dy.dataSync() as Float32Array;
  const out = new Float32Array(xs.length);
  cases.push([
    "GELU fwd+bwd [384,3072]",
    () =>
      tf.dispose(tf.tidy(() => {
        const [y, gx] = [
          geluComposite(x),
          tf.grad((t: tf.Tensor) => tf.sum(tf.mul(geluComposite(t), dy)))(x),
        ];
        y.dataSync();
        gx.dataSync();
        return [y, gx];
      })),
    () => {
      native.gelu(xs, out);
      native.geluGrad(dys, xs, out);
    },
  ]);
  const s = tf.softmax(tf.randomNormal([1, 12, 384, 384], 0, 2, "float32", 3));
  const ds = tf.randomNormal([1, 12, 384, 384], 0, 1, "float32", 4);
  const ss = s.dataSync() as Float32Array, dss = ds.dataSync() as Float32Array;
  const sout = new Float32Array(ss.length);
  cases.push([
    "softmax grad [1,12,384,384]",
    () => {
      const r = softmaxGradComposite(ds, s);
      r.dataSync();
      r.dispose();
    },
    () => native.softmaxGrad(dss, ss, sout, 384),
  ]);
  console.log(
    `load average: ${Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ")}`,
  );
  console.log(
    "kernel | JS/tfjs wall ms | native wall ms | JS/tfjs CPU ms | native CPU ms | speed-up (wall)",
  );
  for (const [name, old, nat] of cases) {
    const w = [[], []] as number[][], c = [[], []] as number[][];
    for (let i = 0; i <= reps; i++) {
      for (const [k, f] of [old, nat].entries()) {
        const c0 = cpuMs(), t0 = performance.now();
        f();
        if (i > 0) {
          w[k].push(performance.now() - t0);
          c[k].push(cpuMs() - c0);
        }
      }
    }
    const [wo, wn, co, cn] = [median(w[0]), median(w[1]), median(c[0]), median(c[1])];
    console.log(
      `${name} | ${wo.toFixed(1)} | ${wn.toFixed(1)} | ${co.toFixed(0)} | ${cn.toFixed(0)} | ${
        (wo / wn).toFixed(1)
      }x`,
    );
  }
}
