import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  ADAMW_KERNEL,
  adamwComposite,
  adamwUpdate,
  adapterLabel,
  backendLabel,
  type GpuAdapterFacts,
  initBackend,
  isSoftwareAdapter,
  planBackends,
  useBackend,
  webgpuKernelNames,
  WebGpuSyncReadError,
} from "../lib/backend/mod.ts";
import { createRng } from "../lib/util/random.ts";
import { adapterPresenceTest, IGNORE, probe, relErr } from "./webgpu_support.ts";

// ---- The chooser's rules, with stubbed adapter info (no GPU needed) ----

/** As Deno 2.9.6 reports Debian 12's lavapipe. */
const LAVAPIPE: GpuAdapterFacts = {
  vendor: "65541",
  architecture: "",
  device: "0",
  description: "llvmpipe (LLVM 15.0.6, 256 bits)",
  isFallbackAdapter: true,
};
const SOFTWARE: Record<string, GpuAdapterFacts> = {
  lavapipe: LAVAPIPE,
  "lavapipe without the fallback flag": { ...LAVAPIPE, isFallbackAdapter: false },
  "Mesa vendor id only": { vendor: "0x10005", architecture: "", device: "0", description: "" },
  SwiftShader: {
    vendor: "6880",
    architecture: "",
    device: "49374",
    description: "SwiftShader Device (Subzero)",
  },
  "SwiftShader ids only": { vendor: "0x1ae0", architecture: "", device: "0xc0de", description: "" },
  WARP: {
    vendor: "5140",
    architecture: "",
    device: "140",
    description: "Microsoft Basic Render Driver",
  },
};
const HARDWARE: Record<string, GpuAdapterFacts> = {
  "NVIDIA H200": { vendor: "4318", architecture: "", device: "8997", description: "NVIDIA H200" },
  "AMD RADV": {
    vendor: "4098",
    architecture: "",
    device: "29772",
    description: "AMD Radeon RX 7900 XTX (RADV NAVI31)",
  },
  "Intel ANV": {
    vendor: "32902",
    architecture: "",
    device: "16018",
    description: "Intel(R) UHD Graphics 630 (CFL GT2)",
  },
  "Apple Metal": { vendor: "", architecture: "", device: "", description: "Apple M2 Max" },
  "Google vendor, not SwiftShader": {
    vendor: "6880",
    architecture: "",
    device: "1",
    description: "Virtual GPU",
  },
};

Deno.test("isSoftwareAdapter tells CPU rasterisers from GPUs", () => {
  for (const [name, info] of Object.entries(SOFTWARE)) assert.ok(isSoftwareAdapter(info), name);
  for (const [name, info] of Object.entries(HARDWARE)) assert.ok(!isSoftwareAdapter(info), name);
  assert.equal(adapterLabel(LAVAPIPE), "llvmpipe (LLVM 15.0.6, 256 bits) [software]");
  assert.equal(adapterLabel(HARDWARE["NVIDIA H200"]), "NVIDIA H200");
  assert.equal(adapterLabel(SOFTWARE["SwiftShader ids only"]), "0x1ae0 0xc0de [software]");
});

Deno.test("planBackends: webgpu only on a hardware adapter, after tfjs-node-gpu", () => {
  const hw = planBackends({ adapter: HARDWARE["NVIDIA H200"], software: false, reason: "" });
  assert.deepEqual(hw.order, ["tfjs-node-gpu", "webgpu", "tfjs-node", "wasm", "cpu"]);
  assert.deepEqual(hw.skipped, []);
  const sw = planBackends({ adapter: LAVAPIPE, software: true, reason: "" });
  assert.deepEqual(sw.order, ["tfjs-node-gpu", "tfjs-node", "wasm", "cpu"]);
  assert.equal(sw.skipped.length, 1);
  assert.match(sw.skipped[0], /llvmpipe.*software adapter.*TFJS_BACKEND=webgpu forces it/);
  const none = planBackends({ adapter: null, software: false, reason: "no WebGPU adapter" });
  assert.deepEqual(none.order, ["tfjs-node-gpu", "tfjs-node", "wasm", "cpu"]);
  assert.deepEqual(none.skipped, ["webgpu: no WebGPU adapter"]);
});

Deno.test("backendLabel names the adapter for webgpu", () => {
  assert.equal(
    backendLabel({ name: "webgpu", details: { adapter: "NVIDIA H200", software: false } }),
    "webgpu (NVIDIA H200)",
  );
  assert.equal(
    backendLabel({ name: "wasm", details: { simd: true, threads: false } }),
    "wasm (SIMD, 1 thread)",
  );
  assert.equal(backendLabel({ name: "cpu", details: {} }), "cpu");
});

// ---- On the adapter this machine has (lavapipe in CI) ----

adapterPresenceTest("webgpu_backend");

const gpuTest = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name: `webgpu: ${name}`, ignore: IGNORE, fn });

gpuTest("the chooser skips a software adapter and TFJS_BACKEND=webgpu forces it", async () => {
  if (!Deno.env.get("TFJS_BACKEND")) {
    const auto = await initBackend({ quiet: true });
    if (probe.software) {
      assert.notEqual(auto.name, "webgpu");
      assert.match(auto.reason, /software adapter, slower than wasm/);
    } else if (auto.name !== "tensorflow") {
      assert.equal(auto.name, "webgpu", "a hardware adapter wins over wasm");
    }
  }
  const forced = await initBackend({ backend: "webgpu", quiet: true });
  assert.equal(forced.name, "webgpu");
  assert.equal(forced.details.adapter, adapterLabel(probe.adapter!));
  assert.equal(tf.getBackend(), "webgpu");
  assert.deepEqual(webgpuKernelNames().map((k) => k.kernelName), [
    "UnsortedSegmentSum",
    ADAMW_KERNEL,
  ]);
  for (const k of webgpuKernelNames()) assert.ok(tf.getKernel(k.kernelName, "webgpu"));
});

/** Runs `f` on a backend and returns every output's values (awaited, never dataSync). */
async function on(backend: "cpu" | "webgpu", f: () => tf.Tensor[]): Promise<Float32Array[]> {
  await useBackend(backend);
  const before = tf.memory().numTensors;
  const outs = tf.tidy(f);
  const vals = await Promise.all(outs.map((t) => t.data() as Promise<Float32Array>));
  tf.dispose(outs);
  assert.equal(tf.memory().numTensors, before, `${backend}: tensors leaked`);
  return vals;
}

/**
 * The ops of a BERT layer and its loss, forward and backward: embedding gather (its gradient is
 * UnsortedSegmentSum), multi-head attention with batched matMuls and an additive padding mask,
 * softmax, erf GELU, LayerNorm through moments, tanh pooler, log-softmax cross-entropy.
 */
function bertLikeGrads(seed: number, maskValue: number): () => tf.Tensor[] {
  const rng = createRng(seed);
  const B = 2, T = 12, H = 32, NH = 4, V = 97;
  const rand = (n: number, s: number) => Float32Array.from({ length: n }, () => rng.normal() * s);
  const d = {
    emb: rand(V * H, 0.5),
    w: [0, 1, 2, 3].map(() => rand(H * H, 0.2)),
    g: rand(H, 0.1).map((x) => 1 + x),
    beta: rand(H, 0.1),
    out: rand(H * 3, 0.3),
    ids: Int32Array.from({ length: B * T }, (_, i) => (i % 5 === 0 ? 0 : rng.int(V))),
    mask: Int32Array.from({ length: B * T }, (_, i) => (i % T < (i < T ? 9 : 12) ? 1 : 0)),
    labels: Int32Array.from({ length: B }, () => rng.int(3)),
  };
  return () => {
    const params = [
      tf.tensor2d(d.emb, [V, H]),
      ...d.w.map((w) => tf.tensor2d(w, [H, H])),
      tf.tensor1d(d.g),
      tf.tensor1d(d.beta),
      tf.tensor2d(d.out, [H, 3]),
    ];
    const loss = (...p: tf.Tensor[]) => {
      const [emb, wq, wk, wv, wf, g, beta, out] = p;
      const x = tf.gather(emb, tf.tensor2d(d.ids, [B, T], "int32")).reshape([B * T, H]);
      const heads = (t: tf.Tensor) => t.reshape([B, T, NH, H / NH]).transpose([0, 2, 1, 3]);
      const [q, k, v] = [wq, wk, wv].map((w) => heads(tf.matMul(x, w)));
      const m = tf.tensor2d(d.mask, [B, T], "int32").reshape([B, 1, 1, T]).cast("float32");
      const scores = tf.matMul(q, k, false, true).div(Math.sqrt(H / NH))
        .add(tf.sub(1, m).mul(maskValue));
      const ctx = tf.matMul(tf.softmax(scores), v).transpose([0, 2, 1, 3]).reshape([B * T, H]);
      const inner = tf.matMul(ctx, wf);
      const gelu = inner.mul(tf.erf(inner.mul(Math.SQRT1_2)).add(1)).mul(0.5);
      const y = x.add(gelu);
      const { mean, variance } = tf.moments(y, -1, true);
      const ln = y.sub(mean).mul(tf.rsqrt(variance.add(1e-12))).mul(g).add(beta);
      const pooled = tf.tanh(ln.reshape([B, T, H]).slice([0, 0, 0], [B, 1, H]).reshape([B, H]));
      const logp = tf.logSoftmax(tf.matMul(pooled, out));
      const onehot = tf.oneHot(tf.tensor1d(d.labels, "int32"), 3);
      return tf.neg(tf.mean(tf.sum(logp.mul(onehot), -1))) as tf.Scalar;
    };
    const { value, grads } = tf.valueAndGrads(loss)(params);
    return [value, ...grads];
  };
}

gpuTest("a BERT layer's loss and gradients match cpu (rel err <= 1e-5)", async () => {
  // Hugging Face masks with finfo(float32).min; -1e4 is the older convention.
  for (const maskValue of [-3.4028234663852886e38, -1e4]) {
    const f = bertLikeGrads(3, maskValue);
    const want = await on("cpu", f);
    const got = await on("webgpu", f);
    const names = ["loss", "emb", "wq", "wk", "wv", "wf", "gamma", "beta", "out"];
    for (let i = 0; i < want.length; i++) {
      const e = relErr(got[i], want[i]);
      assert.ok(e <= 1e-5, `mask ${maskValue}, ${names[i]}: rel err ${e}`);
    }
  }
});

gpuTest("elementwise math matches cpu over wide ranges (rel err <= 1e-5)", async () => {
  // GPU transcendentals are not correctly rounded (WGSL allows exp/log errors of several ulp):
  // lavapipe's exp is off by up to ~2e-6 relative; 1e-5 leaves room for other drivers.
  const xs = Float32Array.from({ length: 4001 }, (_, i) => -20 + i * 0.01);
  const f = () => {
    const x = tf.tensor1d(xs);
    const pos = tf.abs(x).add(1e-3);
    return [tf.erf(x), tf.exp(x.mul(4)), tf.tanh(x), tf.log(pos), tf.sqrt(pos), tf.rsqrt(pos)];
  };
  const want = await on("cpu", f);
  const got = await on("webgpu", f);
  ["erf", "exp", "tanh", "log", "sqrt", "rsqrt"].forEach((n, i) => {
    const e = relErr(got[i], want[i]);
    assert.ok(e <= 1e-5, `${n}: rel err ${e}`);
  });
});

gpuTest("UnsortedSegmentSum: bit-identical to cpu, deterministic, TF edge cases", async () => {
  const rng = createRng(9);
  const cases = [
    { xShape: [300, 16], idsShape: [300], n: 21128 }, // a vocabulary-sized embedding gradient
    { xShape: [4, 12, 8], idsShape: [4, 12], n: 7 }, // many repeats per segment
    { xShape: [9], idsShape: [9], n: 4 },
  ];
  for (const c of cases) {
    const size = c.xShape.reduce((a, b) => a * b, 1);
    const nIds = c.idsShape.reduce((a, b) => a * b, 1);
    const xs = Float32Array.from({ length: size }, () => rng.normal());
    const ids = Int32Array.from({ length: nIds }, (_, i) => (i % 3 === 0 ? 1 : rng.int(c.n)));
    const f = () => [
      tf.unsortedSegmentSum(
        tf.tensor(xs, c.xShape),
        tf.tensor(ids, c.idsShape, "int32") as unknown as tf.Tensor1D,
        c.n,
      ),
    ];
    const [want] = await on("cpu", f);
    const [a] = await on("webgpu", f);
    const [b] = await on("webgpu", f);
    assert.deepEqual(a, want, `${JSON.stringify(c)}: differs from cpu`);
    assert.deepEqual(b, a, "two runs differ");
  }
  // TensorFlow semantics: ids outside [0, numSegments) are dropped; int32 data stays int32.
  await useBackend("webgpu");
  const r = tf.unsortedSegmentSum(
    tf.tensor1d([1, 2, 3, 4, 5], "int32"),
    tf.tensor1d([2, 0, 2, 7, -1], "int32"),
    3,
  );
  assert.equal(r.dtype, "int32");
  assert.deepEqual(Array.from(await r.data()), [2, 0, 4]);
  r.dispose();
});

gpuTest(
  "dataSync on a GPU tensor fails with a clear error; CPU-resident data still reads",
  async () => {
    await useBackend("webgpu");
    // Small ops on CPU-resident inputs are handed to tfjs's CPU code; a matMul this size is not.
    const values = Float32Array.from({ length: 64 * 64 }, (_, i) => i % 7);
    const onCpu = tf.tensor2d(values, [64, 64]);
    assert.deepEqual(onCpu.dataSync(), values);
    const onGpu = tf.matMul(onCpu, onCpu);
    assert.throws(() => onGpu.dataSync(), WebGpuSyncReadError);
    assert.throws(() => onGpu.arraySync(), /use `await t.data\(\)`/);
    const got = await onGpu.data();
    let want = 0;
    for (let k = 0; k < 64; k++) want += values[k] * values[k * 64];
    assert.equal(got[0], want);
    tf.dispose([onCpu, onGpu]);
  },
);

gpuTest("a toy encoder trains on webgpu without leaking tensors", async () => {
  await useBackend("webgpu");
  const rng = createRng(11);
  const h = 16;
  const init = (r: number, c: number) =>
    tf.variable(
      tf.tensor2d(Float32Array.from({ length: r * c }, () => rng.normal() * 0.3), [r, c]),
    );
  const vars = { emb: init(30, h), q: init(h, h), k: init(h, h), f: init(h, h), out: init(h, 3) };
  const idsData = Int32Array.from({ length: 8 * 10 }, () => rng.int(30));
  const ids = tf.tensor2d(idsData, [8, 10], "int32");
  const labels = tf.oneHot(
    tf.tensor1d(Int32Array.from({ length: 8 }, (_, i) => idsData[i * 10] % 3), "int32"),
    3,
  );
  const opt = tf.train.adam(0.02);
  const step = async () => {
    const loss = opt.minimize(() => {
      const x = tf.gather(vars.emb, ids.reshape([-1])); // [80, h]
      const q = tf.matMul(x, vars.q).reshape([8, 10, h]);
      const k = tf.matMul(x, vars.k).reshape([8, 10, h]);
      const att = tf.softmax(tf.matMul(q, k, false, true));
      const ctx = tf.matMul(att, x.reshape([8, 10, h])).reshape([80, h]);
      const inner = tf.matMul(ctx, vars.f);
      const gelu = inner.mul(tf.erf(inner.mul(Math.SQRT1_2)).add(1)).mul(0.5);
      const { mean, variance } = tf.moments(x.add(gelu), -1, true);
      const y = x.add(gelu).sub(mean).mul(tf.rsqrt(variance.add(1e-12))).reshape([8, 10, h]);
      return tf.losses.softmaxCrossEntropy(labels, tf.matMul(y.mean(1), vars.out)) as tf.Scalar;
    }, true)!;
    const v = (await loss.data())[0];
    loss.dispose();
    return v;
  };
  const first = await step();
  const before = tf.memory().numTensors;
  let last = first;
  for (let s = 0; s < 20; s++) last = await step();
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
  assert.ok(last < first * 0.5, `loss ${first} -> ${last} did not go down`);
  opt.dispose();
  tf.dispose([ids, labels, ...Object.values(vars)]);
});

gpuTest("fused AdamW matches the composed update and cpu's kernel", async () => {
  const rng = createRng(21);
  // 4.2 M elements: more than 65,535 workgroups of 64, so the dispatch is folded into 2-D.
  for (const shape of [[37, 5], [66_000, 64]]) {
    const n = shape[0] * shape[1];
    const rand = (s: number) => Float32Array.from({ length: n }, () => (rng.next() - 0.5) * s);
    const [p0, m0, v0] = [rand(1), rand(0.01), rand(1e-4).map(Math.abs)];
    const grads = [rand(0.1), rand(0.1), rand(0.1)];
    const run = async (backend: "cpu" | "webgpu", composite: boolean) => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      let p = tf.tensor(p0, shape), m = tf.tensor(m0, shape), v = tf.tensor(v0, shape);
      for (let step = 1; step <= grads.length; step++) {
        const g = tf.tensor(grads[step - 1], shape);
        const attrs = {
          lr: 1e-3,
          beta1: 0.9,
          beta2: 0.999,
          epsilon: 1e-8,
          weightDecay: 0.01,
          step,
        };
        const r = (composite ? adamwComposite : adamwUpdate)(p, m, v, g, attrs);
        tf.dispose([p, m, v, g]);
        ({ p, m, v } = r);
      }
      const out = await Promise.all([p, m, v].map((t) => t.data() as Promise<Float32Array>));
      tf.dispose([p, m, v]);
      assert.equal(tf.memory().numTensors, before, `${backend}: tensors leaked`);
      return out;
    };
    const fused = await run("webgpu", false);
    const cpu = await run("cpu", false);
    const composed = n < 1e5 ? await run("webgpu", true) : null;
    ["p", "m", "v"].forEach((name, i) => {
      const e1 = relErr(fused[i], cpu[i]);
      assert.ok(e1 <= 1e-6, `${shape} ${name}: webgpu vs cpu kernel, rel err ${e1}`);
      if (composed) {
        const e2 = relErr(fused[i], composed[i]);
        assert.ok(e2 <= 1e-6, `${shape} ${name}: fused vs composed on webgpu, rel err ${e2}`);
      }
    });
  }
});
