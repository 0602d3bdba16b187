/**
 * bf16 mixed precision (lib/backend/bf16.ts): detection, the fused bf16 conversion, matMuls against
 * a float64 reference, parity-fixture logits against fp32, a 50-update QA run against fp32, and
 * the fallback where the CPU lacks bf16 matrix units. Tests that need oneDNN and bf16 units are
 * ignored (and say so in their names' condition) on machines without them; BF16_REQUIRED=1 makes
 * their absence a failure.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  bf16Units,
  initBackend,
  matmulPrecision,
  nativeKernels,
  setMatmulPrecision,
  useBackend,
} from "../lib/backend/mod.ts";
import { loadPretrained } from "../lib/models/mod.ts";
import { createFromConfig } from "../lib/models/mod.ts";
import { AdamW, qaLoss } from "../lib/training/mod.ts";
import { type BenchConfig, bertConfigOf, disposeBatch, randomBatch } from "../bench/qa_step.ts";
import { runDeno } from "./process_util.ts";

await initBackend({ backend: "wasm", quiet: true });
const available = setMatmulPrecision("bf16")?.active === true;
setMatmulPrecision("fp32");
if (!available) {
  assert.notEqual(Deno.env.get("BF16_REQUIRED"), "1", "bf16 path required but not available");
}

/** Round to nearest even float32 → bf16 → float32, in JavaScript (the reference). */
function bf16Round(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer);
  if ((u[0] & 0x7fffffff) > 0x7f800000) return NaN;
  u[0] = ((u[0] + 0x7fff + ((u[0] >>> 16) & 1)) >>> 16) << 16;
  return f[0];
}

Deno.test("bf16 units are read from the CPU flags", () => {
  assert.deepEqual(bf16Units("fpu avx512f amx_bf16 amx_tile avx512_bf16"), [
    "AMX-BF16",
    "AVX512-BF16",
  ]);
  assert.deepEqual(bf16Units("avx512f avx512_bf16"), ["AVX512-BF16"]);
  assert.deepEqual(bf16Units("amx_bf16"), [], "AMX bf16 without tiles is not usable");
  assert.deepEqual(bf16Units("fpu sse2 avx2 fma"), []);
});

Deno.test("the native bf16 conversion rounds to nearest even", () => {
  const native = nativeKernels();
  assert.ok(native, "native kernels");
  const xs = [
    1,
    1 + 2 ** -8, // a tie: stays 1 (even)
    1 + 3 * 2 ** -8, // a tie: rounds up to 1 + 2^-6
    1 + 2 ** -8 + 2 ** -20, // above the tie: up
    -3.1415927,
    65504.5,
    3.4e38, // rounds to infinity, as torch's conversion does
    1e-40, // a denormal, kept (not flushed)
    0,
    -0,
    Infinity,
    -Infinity,
    NaN,
  ];
  const x = Float32Array.from(xs);
  const bits = new Uint16Array(x.length);
  native.toBf16(x, bits);
  const back = new Float32Array(x.length);
  native.bf16ToF32(bits, back);
  for (let i = 0; i < xs.length; i++) {
    assert.ok(Object.is(back[i], bf16Round(x[i])), `${xs[i]}: ${back[i]} vs ${bf16Round(x[i])}`);
  }
  assert.equal(back[1], 1);
  assert.equal(back[2], 1 + 2 ** -6);
  assert.equal(back[6], Infinity);
  assert.ok(back[7] > 0);
});

/** float64 product of the bf16-rounded operands (what bf16 inputs with exact accumulation give). */
function refBf16MatMul(a: tf.Tensor, b: tf.Tensor, ta: boolean, tb: boolean): Float64Array {
  const [batch, r0, c0] = a.shape.length === 3 ? a.shape : [1, ...a.shape];
  const [batchB, r1, c1] = b.shape.length === 3 ? b.shape : [1, ...b.shape];
  const av = a.dataSync(), bv = b.dataSync();
  const m = ta ? c0 : r0, k = ta ? r0 : c0, n = tb ? r1 : c1;
  const out = new Float64Array(Math.max(batch, batchB) * m * n);
  for (let z = 0; z < Math.max(batch, batchB); z++) {
    const oa = (batch === 1 ? 0 : z) * r0 * c0, ob = (batchB === 1 ? 0 : z) * r1 * c1;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) {
          const x = av[oa + (ta ? p * c0 + i : i * c0 + p)];
          const y = bv[ob + (tb ? j * c1 + p : p * c1 + j)];
          s += bf16Round(x) * bf16Round(y);
        }
        out[(z * m + i) * n + j] = s;
      }
    }
  }
  return out;
}

Deno.test({
  name: "bf16 matMuls equal the float64 product of bf16-rounded operands (2D, batched, T)",
  ignore: !available,
  fn: () => {
    const cases: [number[], number[], boolean, boolean][] = [
      [[37, 65], [65, 23], false, false],
      [[65, 37], [65, 23], true, false],
      [[37, 65], [23, 65], false, true],
      [[6, 17, 32], [6, 32, 19], false, false],
      [[6, 17, 32], [6, 19, 32], false, true],
      [[6, 32, 17], [1, 32, 19], true, false],
    ];
    setMatmulPrecision("bf16");
    try {
      for (const [sa, sb, ta, tb] of cases) {
        const a = tf.randomNormal(sa, 0, 1, "float32", 5);
        const b = tf.randomNormal(sb, 0, 1, "float32", 6);
        const c = tf.tidy(() => tf.matMul(a, b, ta, tb)).dataSync();
        const ref = refBf16MatMul(a, b, ta, tb);
        assert.equal(c.length, ref.length);
        let worst = 0;
        for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(c[i] - ref[i]));
        // float32 accumulation of at most 65 products of size ~1: well under 1e-4.
        assert.ok(worst < 1e-4, `${sa} × ${sb}: ${worst}`);
        tf.dispose([a, b]);
      }
    } finally {
      setMatmulPrecision("fp32");
    }
  },
});

const FIX = new URL("./fixtures/parity/", import.meta.url).pathname;
const ref = JSON.parse(await Deno.readTextFile(`${FIX}reference.json`));

/** Stated tolerance of bf16 logits against fp32 on the parity fixture (|logits| up to ~2;
 * measured: 7e-3 QA, 2e-3 MC). */
const LOGIT_TOLERANCE = 0.02;

Deno.test({
  name: "bf16 QA and MC logits of the parity fixture stay within 0.02 of fp32",
  ignore: !available,
  fn: async () => {
    await useBackend("wasm");
    const dir = await Deno.makeTempDir({ prefix: "bf16_parity_" });
    for (const f of ["config.json", "model.safetensors"]) {
      await Deno.copyFile(`${FIX}${f}`, `${dir}/${f}`);
    }
    const before = tf.memory().numTensors;
    for (const task of ["qa", "mc"] as const) {
      const model = await loadPretrained(dir, task, { log: () => {} });
      const r = ref[task === "mc" ? "mc_inputs" : "inputs"];
      const x = {
        inputIds: tf.tensor(r.input_ids, undefined, "int32"),
        tokenTypeIds: tf.tensor(r.token_type_ids, undefined, "int32"),
        attentionMask: tf.tensor(r.attention_mask, undefined, "int32"),
      };
      const logits = (): Float32Array => {
        const out = model.forward(x);
        const parts = "startLogits" in out ? [out.startLogits, out.endLogits] : [out.logits];
        const v = Float32Array.from(parts.flatMap((t) => [...t.dataSync()]));
        tf.dispose(parts);
        return v;
      };
      const fp32 = logits();
      setMatmulPrecision("bf16");
      const bf16 = logits();
      setMatmulPrecision("fp32");
      let worst = 0, scale = 0;
      for (let i = 0; i < fp32.length; i++) {
        worst = Math.max(worst, Math.abs(bf16[i] - fp32[i]));
        scale = Math.max(scale, Math.abs(fp32[i]));
      }
      assert.ok(worst > 0, `${task}: bf16 changed nothing (the bf16 path did not run)`);
      assert.ok(
        worst <= LOGIT_TOLERANCE,
        `${task}: max |bf16 - fp32| ${worst} (max |fp32| ${scale})`,
      );
      console.log(`${task}: max |bf16 - fp32| = ${worst.toExponential(2)}, max |logit| ${scale}`);
      tf.dispose(Object.values(x));
      model.dispose();
    }
    assert.equal(tf.memory().numTensors, before);
    await Deno.remove(dir, { recursive: true });
  },
});

const SMALL: BenchConfig = {
  name: "small",
  layers: 2,
  hidden: 64,
  heads: 2,
  inter: 128,
  seq: 32,
  batches: [8],
  train: true,
  vocab: 200,
};

/** Stated bound: every one of the 50 bf16 losses within 0.02 of fp32's (measured: ~1e-3). */
const LOSS_BOUND = 0.02;

Deno.test({
  name: "a 50-update QA run in bf16 follows the fp32 loss curve within 0.02",
  ignore: !available,
  fn: async () => {
    await useBackend("wasm");
    const run = async (precision: "fp32" | "bf16") => {
      setMatmulPrecision(precision);
      assert.equal(matmulPrecision(), precision);
      // The QA training step of the bench (lib/models BERT, qaLoss, AdamW) at a learning rate
      // that moves a small model in 50 updates.
      const model = createFromConfig(bertConfigOf(SMALL), "qa", 11);
      const optimizer = new AdamW(model.variables, { weightDecay: 0.01 });
      const vars = [...model.variables.values()];
      const names = new Map([...model.variables].map(([k, v]) => [v.name, k]));
      // Four fixed batches in turn: the loss falls as the model fits them.
      const batches = [0, 1, 2, 3].map((i) => randomBatch(SMALL, 8, 100 + i));
      const losses: number[] = [];
      for (let step = 0; step < 50; step++) {
        const b = batches[step % 4];
        const { value, grads } = tf.variableGrads(() => {
          const out = model.forward(b, { training: true, seed: step });
          return qaLoss(out.startLogits!, out.endLogits!, b.startPositions, b.endPositions);
        }, vars);
        losses.push((await value.data())[0]);
        const named = new Map(Object.entries(grads).map(([k, g]) => [names.get(k) ?? k, g]));
        optimizer.step(named, 1e-3);
        tf.dispose([value, ...Object.values(grads)]);
      }
      batches.forEach(disposeBatch);
      optimizer.dispose();
      model.dispose();
      setMatmulPrecision("fp32");
      return losses;
    };
    const fp32 = await run("fp32");
    const bf16 = await run("bf16");
    const diffs = fp32.map((l, i) => Math.abs(l - bf16[i]));
    const worst = Math.max(...diffs);
    console.log(
      `loss fp32 ${fp32[0].toFixed(3)} → ${fp32[49].toFixed(3)}, bf16 ${bf16[0].toFixed(3)} → ` +
        `${bf16[49].toFixed(3)}; max |diff| ${worst.toFixed(4)}`,
    );
    assert.ok(fp32[49] < fp32[0] - 0.5, "fp32 learns");
    assert.ok(bf16[49] < bf16[0] - 0.5, "bf16 learns");
    assert.ok(worst <= LOSS_BOUND, `max |bf16 - fp32| loss ${worst}`);
    assert.ok(worst > 0, "bf16 changed nothing");
  },
});

/** Runs a snippet in a fresh process (the precision setting is per process) with `env`. */
function inProcess(code: string, env: Record<string, string>) {
  return runDeno(["eval", "--ext=ts", code], env);
}

const PROBE = `
import { initBackend, matmulPrecision } from "./lib/backend/mod.ts";
const c = await initBackend({ backend: "wasm", quiet: true });
console.log(JSON.stringify({ precision: matmulPrecision(), active: c.bf16.active, reason: c.bf16.reason }));`;

Deno.test("without bf16 units a bf16 request falls back to fp32 with one line", async () => {
  const r = await inProcess(PROBE, { TFJS_BF16: "1", TFJS_BF16_UNITS: "none" });
  assert.equal(r.code, 0, r.stderr);
  const got = JSON.parse(r.stdout.trim().split("\n").pop()!);
  assert.equal(got.precision, "fp32");
  assert.equal(got.active, false);
  const lines = r.stderr.split("\n").filter((l) => l.startsWith("[bf16]"));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /no bf16 matrix units .*matMuls stay fp32/);
});

Deno.test("a forced bf16 request refuses when oneDNN cannot be opened", async () => {
  const r = await inProcess(PROBE, { TFJS_BF16: "force", TFJS_DNNL: "/nonexistent/libdnnl.so" });
  assert.notEqual(r.code, 0);
  assert.match(
    r.stderr,
    /Bf16Error: bf16 was forced but cannot run: oneDNN's dnnl_gemm_bf16bf16f32 not found/,
  );
});

Deno.test({
  name: "a forced bf16 request runs oneDNN's bf16 path even where the units are not reported",
  ignore: !available,
  fn: async () => {
    const r = await inProcess(PROBE, { TFJS_BF16: "force", TFJS_BF16_UNITS: "none" });
    assert.equal(r.code, 0, r.stderr);
    const got = JSON.parse(r.stdout.trim().split("\n").pop()!);
    assert.equal(got.precision, "bf16");
    assert.match(got.reason, /forced; emulated, slow/);
  },
});
