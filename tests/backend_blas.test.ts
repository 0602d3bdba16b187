import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  blasFusedBiasActive,
  denseGelu,
  gelu,
  nativeKernels,
  openBlas,
  useBackend,
} from "../lib/backend/mod.ts";
import { createRng } from "../lib/util/random.ts";
import { assertSameBits, refMatMul } from "./numeric_util.ts";
import { runDeno } from "./process_util.ts";

Deno.test("BLAS library is found here (libopenblas0-pthread is a CI dependency)", () => {
  const info = openBlas();
  assert.ok(info.enabled, info.reason);
});

Deno.test("matMul (BLAS-backed) matches a float64 reference on wasm and cpu", async () => {
  const rng = createRng(5);
  const cases = [
    { a: [7, 5], b: [5, 3], ta: false, tb: false },
    { a: [5, 7], b: [5, 3], ta: true, tb: false },
    { a: [7, 5], b: [3, 5], ta: false, tb: true },
    { a: [5, 7], b: [3, 5], ta: true, tb: true },
    { a: [2, 3, 4, 6], b: [2, 3, 6, 5], ta: false, tb: false },
    { a: [4, 9, 6], b: [6, 2], ta: false, tb: false },
    { a: [9, 6], b: [4, 2, 6], ta: false, tb: true },
    { a: [3, 0, 4], b: [3, 4, 2], ta: false, tb: false },
  ];
  for (const backend of ["wasm", "cpu"] as const) {
    await useBackend(backend);
    for (const c of cases) {
      const av = Float32Array.from({ length: c.a.reduce((x, y) => x * y, 1) }, () => rng.normal());
      const bv = Float32Array.from({ length: c.b.reduce((x, y) => x * y, 1) }, () => rng.normal());
      const before = tf.memory().numTensors;
      const got = tf.tidy(() => tf.matMul(tf.tensor(av, c.a), tf.tensor(bv, c.b), c.ta, c.tb));
      const data = await got.data();
      const expected = refMatMul(av, c.a, bv, c.b, c.ta, c.tb);
      assert.equal(data.length, expected.length, `${backend} ${JSON.stringify(c)} size`);
      for (let i = 0; i < data.length; i++) {
        assert.ok(
          Math.abs(data[i] - expected[i]) <= 1e-5 * Math.max(1, Math.abs(expected[i])),
          `${backend} ${JSON.stringify(c)} [${i}] ${data[i]} vs ${expected[i]}`,
        );
      }
      got.dispose();
      assert.equal(tf.memory().numTensors, before);
    }
    // Fused matMul with a bias (dense layers) and with an activation (falls back to tfjs).
    const x = tf.tensor2d([[1, 2], [3, 4]]);
    const w = tf.tensor2d([[1, 0, -1], [2, 1, 0]]);
    const bias = tf.tensor1d([0.5, -1, 2]);
    const y = tf.fused.matMul({ a: x, b: w, bias });
    assert.deepEqual(Array.from(await y.data()), [5.5, 1, 1, 11.5, 3, -1]);
    const r = tf.fused.matMul({ a: x, b: w, bias, activation: "relu" });
    assert.deepEqual(Array.from(await r.data()), [5.5, 1, 1, 11.5, 3, 0]);
    tf.dispose([x, w, bias, y, r]);
  }
});

Deno.test("fused matMul with a bias (transposeB) gives matMul + add's bits on wasm and cpu", async () => {
  // The model's dense layers in evaluation (lib/models/bert.ts `linear`) rely on this.
  const rng = createRng(11);
  for (const backend of ["wasm", "cpu"] as const) {
    await useBackend(backend);
    assert.ok(blasFusedBiasActive(), `${backend}: BLAS kernels registered`);
    for (const [m, k, n] of [[37, 24, 19], [300, 64, 48], [5, 130, 2]]) {
      const av = Float32Array.from({ length: m * k }, () => rng.normal());
      const wv = Float32Array.from({ length: n * k }, () => rng.normal());
      const bv = Float32Array.from({ length: n }, () => rng.normal());
      const before = tf.memory().numTensors;
      const [fused, plain] = tf.tidy(() => {
        const a = tf.tensor2d(av, [m, k]), w = tf.tensor2d(wv, [n, k]), b = tf.tensor1d(bv);
        return [
          tf.fused.matMul({ a, b: w, transposeB: true, bias: b }),
          tf.add(tf.matMul(a, w, false, true), b),
        ];
      });
      assert.deepEqual(fused.shape, [m, n]);
      const f = await fused.data(), q = await plain.data();
      const fb = new Uint32Array(f.buffer), qb = new Uint32Array(q.buffer);
      for (let i = 0; i < fb.length; i++) {
        assert.equal(fb[i], qb[i], `${backend} ${m}×${k}×${n} [${i}]: ${f[i]} vs ${q[i]}`);
      }
      tf.dispose([fused, plain]);
      assert.equal(tf.memory().numTensors, before);
    }
  }
});

Deno.test("TFJS_BLAS=0 disables the BLAS path and tfjs's own kernels still compute", async () => {
  const code = `
    import * as tf from "@tensorflow/tfjs";
    import { initBackend } from "./lib/backend/mod.ts";
    const c = await initBackend({ quiet: true });
    const y = tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]]));
    console.log(JSON.stringify({ blas: c.blas.enabled, reason: c.blas.reason, y: Array.from(await y.data()) }));
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", code],
    env: { TFJS_BLAS: "0" },
    cwd: new URL("..", import.meta.url).pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").pop()!;
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const r = JSON.parse(text);
  assert.equal(r.blas, false);
  assert.match(r.reason, /TFJS_BLAS=0/);
  assert.deepEqual(r.y, [11]);
});

Deno.test("TFJS_GEMM picks oneDNN or OpenBLAS; both match a float64 reference, 2-D and batched", async () => {
  // Each library in its own process (a process opens one); CI installs both (.ci/run) and sets
  // NATIVE_REQUIRED=1.
  const code = `
    import * as tf from "@tensorflow/tfjs";
    import { initBackend } from "./lib/backend/mod.ts";
    const c = await initBackend({ backend: "wasm", quiet: true });
    const a = Array.from({ length: 2 * 3 * 40 * 24 }, (_, i) => Math.sin(i * 0.37));
    const b = Array.from({ length: 2 * 3 * 24 * 16 }, (_, i) => Math.cos(i * 0.11));
    const y2 = tf.matMul(tf.tensor(a, [240, 24]), tf.tensor(b.slice(0, 16 * 24), [16, 24]), false, true);
    const y3 = tf.matMul(tf.tensor(a, [6, 40, 24]), tf.tensor(b, [6, 24, 16]));
    console.log(JSON.stringify({ name: c.blas.name, a, b, y2: Array.from(y2.dataSync()), y3: Array.from(y3.dataSync()) }));
  `;
  for (const gemm of ["onednn", "openblas"]) {
    const out = await runDeno(["eval", "--ext=ts", code], { TFJS_GEMM: gemm });
    assert.equal(out.code, 0, out.stderr);
    const r = JSON.parse(out.stdout.trim().split("\n").pop()!);
    // A library that is not installed is left out, except where CI installs both.
    if (r.name === undefined && Deno.env.get("NATIVE_REQUIRED") !== "1") continue;
    assert.equal(r.name, gemm === "onednn" ? "oneDNN" : "OpenBLAS");
    const f = (x: number[]) => Float32Array.from(x);
    const want2 = refMatMul(f(r.a), [240, 24], f(r.b.slice(0, 16 * 24)), [16, 24], false, true);
    const want3 = refMatMul(f(r.a), [6, 40, 24], f(r.b), [6, 24, 16], false, false);
    for (const [got, want] of [[r.y2, want2], [r.y3, want3]] as const) {
      assert.equal(got.length, want.length);
      for (let i = 0; i < got.length; i++) {
        assert.ok(Math.abs(got[i] - want[i]) <= 1e-5 * (1 + Math.abs(want[i])), `${gemm} [${i}]`);
      }
    }
  }
});

Deno.test("TFJS_GEMM with an unknown library is refused by name", async () => {
  const out = await runDeno(
    ["eval", "--ext=ts", `import { openBlas } from "./lib/backend/mod.ts"; openBlas();`],
    { TFJS_GEMM: "mkl" },
  );
  assert.notEqual(out.code, 0);
  assert.match(
    out.stderr,
    /TFJS_GEMM=mkl: expected "onednn" or "openblas"/,
  );
});

Deno.test("matMul over a variable weight: same bits as over a plain tensor, and follows assign()", async () => {
  // Evaluation's dense layers (fused matMul with a bias) and training's products with K ≥ 2N
  // (plain matMul; [16, 3, 200] here) may read a kept [in, out] copy of a variable's [out, in]
  // weight (oneDNN): it must give the product's bits and must follow the variable's new data.
  // With OpenBLAS (oneDNN not installed) there is no copy to test.
  const rng = createRng(11);
  const vals = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
  for (const backend of ["wasm", "cpu"] as const) {
    await useBackend(backend);
    if (Deno.env.get("NATIVE_REQUIRED") === "1") assert.equal(openBlas().name, "oneDNN");
    for (const [m, n, k] of [[64, 40, 48], [16, 3, 200], [300, 96, 32], [5, 8, 8]]) {
      const x = tf.tensor2d(vals(m * k), [m, k]);
      const w = tf.variable(tf.tensor2d(vals(n * k), [n, k]));
      const bias = tf.tensor1d(vals(n));
      const before = tf.memory().numTensors;
      for (let round = 0; round < 3; round++) {
        const plain = tf.tensor2d(w.dataSync(), [n, k]); // the same values, not a variable
        const what = `${backend} [${m}, ${k}]·[${n}, ${k}]ᵀ round ${round}`;
        const pairs = tf.tidy(() => [
          [tf.matMul(x, w, false, true), tf.matMul(x, plain, false, true)],
          [
            tf.fused.matMul({ a: x, b: w, transposeB: true, bias }),
            tf.add(tf.matMul(x, plain, false, true), bias),
          ],
        ]);
        for (const [got, want] of pairs) {
          assertSameBits(got.dataSync() as Float32Array, want.dataSync() as Float32Array, what);
        }
        tf.dispose([plain, ...pairs.flat()]);
        const next = tf.tidy(() => tf.mul(w, -0.5)) as tf.Tensor2D;
        w.assign(next);
        next.dispose();
      }
      assert.equal(tf.memory().numTensors, before, `${backend}: tensors`);
      tf.dispose([x, w, bias]);
    }
  }
});

Deno.test("denseGelu: the bits of matMul, bias add and gelu, far tail and chunk edges included", async () => {
  // Evaluation's feed-forward runs GELU(x·Wᵀ + b) as one product and one pass (nk_bias_gelu, in
  // chunks of 1024 per row); training composes the three ops. Both must agree bit for bit,
  // including sums below -13 (GELU's far tail, recomputed in double) and rows wider than a chunk.
  const rng = createRng(5);
  for (const backend of ["wasm", "cpu"] as const) {
    await useBackend(backend);
    if (Deno.env.get("NATIVE_REQUIRED") === "1") assert.ok(nativeKernels(), "native kernels");
    assert.ok(blasFusedBiasActive(), `${backend}: the project's matMul kernel`);
    for (const [m, n, k] of [[3, 5, 4], [17, 1024, 8], [9, 2500, 16]]) {
      const x = tf.tensor2d(Float32Array.from({ length: m * k }, () => rng.normal()), [m, k]);
      const w = tf.variable(
        tf.tensor2d(Float32Array.from({ length: n * k }, () => rng.normal()), [n, k]),
      );
      // Every third bias pulls its column far into the negative tail, some to -40.
      const bias = tf.tensor1d(
        Float32Array.from({ length: n }, (_, j) => j % 3 === 0 ? -14 - (j % 27) : rng.normal()),
      );
      const before = tf.memory().numTensors;
      const [got, want] = tf.tidy(() => [
        denseGelu(x, w, bias),
        gelu(tf.add(tf.matMul(x, w, false, true), bias) as tf.Tensor2D),
      ]);
      const g = got.dataSync() as Float32Array;
      assert.ok(g.some((v, i) => v !== 0 && (i % n) % 3 === 0), "far-tail values are not all 0");
      assertSameBits(g, want.dataSync() as Float32Array, `${backend} [${m}, ${n}, ${k}]`);
      tf.dispose([got, want]);
      assert.equal(tf.memory().numTensors, before, `${backend}: tensors`);
      tf.dispose([x, w, bias]);
    }
  }
});
