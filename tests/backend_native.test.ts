import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  adamwComposite,
  adamwUpdate,
  gelu,
  geluComposite,
  linkBatchedGemm,
  nativeInfo,
  nativeKernels,
  SOFTMAX_GRAD_KERNEL,
  softmaxGradComposite,
  useBackend,
} from "../lib/backend/mod.ts";
import { layerNormGradValues, layerNormValues } from "../lib/backend/fused_ops.ts";
import { sumLeadingRows } from "../lib/backend/fused_wasm.ts";
import { assertSameBits, maxRelErr, randn, refMatMul, values } from "./numeric_util.ts";

// The native kernels need a C compiler (.ci/run installs gcc). Without one they are absent and
// the project falls back to the JavaScript / tfjs kernels: these tests then check that fallback
// is reported, and NATIVE_REQUIRED=1 turns the absence into a failure.

async function nativeOn(backend: "cpu" | "wasm"): Promise<boolean> {
  await useBackend(backend);
  const info = nativeInfo()!;
  if (!info.enabled) {
    assert.notEqual(Deno.env.get("NATIVE_REQUIRED"), "1", info.reason);
    assert.match(info.reason, /native kernels unavailable|TFJS_NATIVE=0/);
    assert.equal(nativeKernels(), undefined);
    return false;
  }
  assert.ok(nativeKernels());
  return true;
}

Deno.test("native AdamW matches the composed update (wasm and cpu, multi-threaded sizes)", async () => {
  const n = 300 * 700; // above the single-thread cutoff
  const shape = [300, 700];
  const p = randn(n, 1), m = randn(n, 2, 0.01), g = randn(n, 4, 0.1);
  const v = randn(n, 3, 1e-3).map(Math.abs);
  const attrs = { lr: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-6, weightDecay: 0.01, step: 5 };
  for (const backend of ["wasm", "cpu"] as const) {
    if (!(await nativeOn(backend))) continue;
    const [ours, ref] = tf.tidy(() => {
      const ts = [p, m, v, g].map((x) => tf.tensor(x, shape));
      const a = adamwUpdate(ts[0], ts[1], ts[2], ts[3], attrs);
      const b = adamwComposite(ts[0], ts[1], ts[2], ts[3], attrs);
      return [[a.p, a.m, a.v], [b.p, b.m, b.v]];
    });
    const got = await values(ours), want = await values(ref);
    for (let i = 0; i < 3; i++) {
      const err = maxRelErr(got[i], want[i]);
      assert.ok(err < 1e-5, `${backend} output ${i}: max rel err ${err}`);
    }
  }
});

Deno.test("native GELU on wasm: value and gradient match the composed ops", async () => {
  if (!(await nativeOn("wasm"))) return;
  const shape = [96, 1024];
  const xs = randn(96 * 1024, 5, 2.5), ws = randn(96 * 1024, 6);
  const run = (f: (x: tf.Tensor) => tf.Tensor) =>
    tf.tidy(() => {
      const x = tf.tensor(xs, shape), w = tf.tensor(ws, shape);
      return [f(x), tf.grad((a: tf.Tensor) => tf.sum(tf.mul(f(a), w)))(x)];
    });
  const got = await values(run((x) => gelu(x)));
  const want = await values(run((x) => geluComposite(x)));
  assert.ok(maxRelErr(got[0], want[0]) < 1e-5, `forward ${maxRelErr(got[0], want[0])}`);
  assert.ok(maxRelErr(got[1], want[1]) < 1e-5, `gradient ${maxRelErr(got[1], want[1])}`);
});

Deno.test("softmax gradient: the fused kernel matches tfjs's composition (wasm and cpu)", async () => {
  const shape = [2, 4, 48, 48];
  const n = 2 * 4 * 48 * 48;
  const xs = randn(n, 7, 3), ws = randn(n, 8);
  for (const backend of ["wasm", "cpu"] as const) {
    if (!(await nativeOn(backend))) continue;
    assert.ok(tf.getKernel(SOFTMAX_GRAD_KERNEL, backend), "kernel registered");
    const [got, want] = tf.tidy(() => {
      const x = tf.tensor(xs, shape), w = tf.tensor(ws, shape);
      const viaGrad = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.softmax(a), w)))(x);
      return [viaGrad, softmaxGradComposite(w, tf.softmax(x))];
    });
    const [a, b] = await values([got, want]);
    // Float64 reference: dx = y·(dy − Σ dy·y). The composition itself is ~2e-5 from it (its
    // Σ cancels), so both are held to the reference and to each other at 5e-5.
    const ref = new Float64Array(n);
    for (let r = 0; r < n / 48; r++) {
      const row = Array.from(xs.subarray(r * 48, (r + 1) * 48));
      const mx = Math.max(...row);
      const e = row.map((v) => Math.exp(v - mx));
      const sum = e.reduce((p, q) => p + q, 0);
      const y = e.map((v) => v / sum);
      const d = y.reduce((p, q, j) => p + q * ws[r * 48 + j], 0);
      for (let j = 0; j < 48; j++) ref[r * 48 + j] = y[j] * (ws[r * 48 + j] - d);
    }
    for (const [what, v] of [["kernel", a], ["composition", b]] as const) {
      const err = maxRelErr(v, ref);
      assert.ok(err < 5e-5, `${backend} ${what} vs float64: max rel err ${err}`);
    }
    assert.ok(maxRelErr(a, b) < 5e-5, `${backend}: kernel vs composition ${maxRelErr(a, b)}`);
  }
});

Deno.test("native LayerNorm matches the JavaScript loops (y, mean, rstd, dx, dγ, dβ)", async () => {
  if (!(await nativeOn("cpu"))) return;
  const native = nativeKernels()!;
  // 100 rows: several 32-row blocks of the parameter-gradient sums plus a partial one.
  for (const [rows, h] of [[100, 768], [3, 5]]) {
    const n = rows * h;
    const x = randn(n, 11, 2, 0.5), dy = randn(n, 12), gamma = randn(h, 13), beta = randn(h, 14);
    const out = () => [new Float32Array(n), new Float32Array(rows), new Float32Array(rows)];
    const [y, mean, rstd] = out(), [yJs, meanJs, rstdJs] = out();
    native.layerNorm(x, gamma, beta, h, 1e-12, y, mean, rstd);
    layerNormValues(x, gamma, beta, rows, h, 1e-12, yJs, meanJs, rstdJs);
    for (const [a, b, what] of [[y, yJs, "y"], [mean, meanJs, "mean"], [rstd, rstdJs, "rstd"]]) {
      const err = maxRelErr(a as Float32Array, b as Float32Array);
      assert.ok(err < 1e-6, `${rows}×${h} ${what}: max rel err ${err}`);
    }
    const grads = () => [new Float32Array(n), new Float32Array(h), new Float32Array(h)];
    const [dx, dg, db] = grads(), [dxJs, dgJs, dbJs] = grads();
    assert.ok(native.layerNormGrad(dy, x, gamma, mean, rstd, dx, dg, db));
    layerNormGradValues(dy, x, gamma, mean, rstd, rows, h, dxJs, dgJs, dbJs);
    for (const [a, b, what] of [[dx, dxJs, "dx"], [dg, dgJs, "dγ"], [db, dbJs, "dβ"]]) {
      const err = maxRelErr(a as Float32Array, b as Float32Array);
      assert.ok(err < 1e-5, `${rows}×${h} ${what}: max rel err ${err}`);
    }
  }
});

Deno.test("native column sums give the JavaScript loop's bits (bias-gradient shapes)", async () => {
  if (!(await nativeOn("cpu"))) return;
  for (const [rows, cols] of [[2048, 128], [7, 3], [300, 200], [1, 1]]) {
    const x = randn(rows * cols, rows + cols, 3);
    const got = new Float32Array(cols), want = new Float32Array(cols);
    sumLeadingRows(x, rows, cols, got, nativeKernels()!);
    sumLeadingRows(x, rows, cols, want, null);
    assertSameBits(got, want, `${rows}×${cols}`);
  }
});

Deno.test("TFJS_NATIVE=0 turns the native kernels off and says so", async () => {
  const code = `
    import { initBackend } from "${new URL("../lib/backend/mod.ts", import.meta.url).href}";
    const c = await initBackend({ backend: "wasm", quiet: true });
    console.log(JSON.stringify(c.native));`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    env: { TFJS_NATIVE: "0" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").pop()!);
  assert.equal(info.enabled, false);
  assert.match(info.reason, /TFJS_NATIVE=0/);
});

Deno.test("native Add and Multiply give tfjs's bits for every broadcast", async () => {
  const ops: [
    string,
    (a: tf.Tensor, b: tf.Tensor) => tf.Tensor,
    (x: number, y: number) => number,
  ][] = [["+", tf.add, (x, y) => x + y], ["*", tf.mul, (x, y) => x * y]];
  for (const backend of ["wasm", "cpu"] as const) {
    if (!(await nativeOn(backend))) continue;
    for (const [name, op, scalarOp] of ops) {
      const cases: [number[], number[]][] = [
        [[300, 200], [300, 200]], // same shape, multi-threaded size
        [[2048, 128], [128]], // bias
        [[128], [2048, 128]], // bias first
        [[4, 3, 5], [1, 3, 5]], // trailing block with a leading 1
        [[1000, 40], []], // scalar
        [[6, 1, 4], [6, 5, 4]], // middle broadcast: the strided kernel
        [[2, 3], [2, 1]], // not a trailing block: the strided kernel
        [[8, 4, 64, 64], [8, 1, 1, 64]], // the attention mask on the scores, multi-threaded size
        [[3, 1], [1, 5]], // both broadcast
        [[6], [1, 6]], // the smaller operand has the higher rank: output [1, 6]
        [[], [1]], // likewise: output [1]
      ];
      for (const [sa, sb] of cases) {
        const na = sa.reduce((p, d) => p * d, 1), nb = sb.reduce((p, d) => p * d, 1);
        const av = randn(na, na + 1), bv = randn(nb, nb + 2);
        const out = tf.broadcast_util.assertAndGetBroadcastShape(sa, sb);
        const got = tf.tidy(() => {
          const y = op(tf.tensor(av, sa), tf.tensor(bv, sb));
          assert.deepEqual(y.shape, out, `${backend} [${sa}] ${name} [${sb}]: shape`);
          return y.dataSync();
        });
        // Reference: broadcast by index arithmetic, one float32 rounding per element.
        const want = new Float32Array(out.reduce((p, d) => p * d, 1));
        const index = (shape: number[], flat: number) => {
          let idx = 0, stride = 1, rest = flat;
          const coords: number[] = [];
          for (let d = out.length - 1; d >= 0; d--) {
            coords[d] = rest % out[d];
            rest = Math.floor(rest / out[d]);
          }
          for (let d = shape.length - 1; d >= 0; d--) {
            const c = coords[d + out.length - shape.length];
            idx += (shape[d] === 1 ? 0 : c) * stride;
            stride *= shape[d];
          }
          return idx;
        };
        for (let i = 0; i < want.length; i++) {
          want[i] = scalarOp(av[index(sa, i)], bv[index(sb, i)]);
        }
        assertSameBits(Float32Array.from(got), want, `${backend} [${sa}] ${name} [${sb}]`);
      }
    }
  }
});

Deno.test("native Transpose copies exactly (attention's head split and merge, other perms)", async () => {
  for (const backend of ["wasm", "cpu"] as const) {
    if (!(await nativeOn(backend))) continue;
    const cases: [number[], number[]][] = [
      [[8, 64, 4, 32], [0, 2, 1, 3]],
      [[8, 4, 64, 32], [0, 2, 1, 3]],
      [[300, 200], [1, 0]], // 2-D: by 16 × 16 tiles, ragged at both edges, on both threads
      [[37, 21], [1, 0]],
      [[1, 70], [1, 0]],
      [[3, 4, 5], [2, 0, 1]],
      [[2, 3, 4, 5, 6], [4, 3, 2, 1, 0]],
    ];
    for (const [shape, perm] of cases) {
      const n = shape.reduce((p, d) => p * d, 1);
      const xv = randn(n, n + 3);
      const got = tf.tidy(() => tf.transpose(tf.tensor(xv, shape), perm).dataSync());
      const outShape = perm.map((p) => shape[p]);
      const want = new Float32Array(n);
      const inStride = shape.map((_, d) => shape.slice(d + 1).reduce((p, x) => p * x, 1));
      for (let i = 0; i < n; i++) {
        let rest = i, src = 0;
        for (let d = outShape.length - 1; d >= 0; d--) {
          src += (rest % outShape[d]) * inStride[perm[d]];
          rest = Math.floor(rest / outShape[d]);
        }
        want[i] = xv[src];
      }
      assertSameBits(Float32Array.from(got), want, `${backend} transpose [${shape}] by [${perm}]`);
    }
  }
});

Deno.test("native Softmax matches a float64 reference, masked entries are exactly 0", async () => {
  const rows = 64, h = 130;
  const xs = randn(rows * h, 21, 4);
  for (let j = 100; j < h; j++) xs[j] = -3.4028234663852886e38; // row 0: masked tail
  for (let j = 0; j < h; j++) xs[h + j] = -3.4028234663852886e38; // row 1: all masked
  const want = new Float32Array(rows * h);
  for (let r = 0; r < rows; r++) {
    const row = xs.subarray(r * h, (r + 1) * h);
    const mx = Math.max(...row);
    const e = Array.from(row, (v) => Math.exp(v - mx));
    const s = e.reduce((a, b) => a + b, 0);
    for (let j = 0; j < h; j++) want[r * h + j] = e[j] / s;
  }
  for (const backend of ["wasm", "cpu"] as const) {
    if (!(await nativeOn(backend))) continue;
    const got = tf.tidy(() => tf.softmax(tf.tensor(xs, [4, 16, h])).dataSync()) as Float32Array;
    const err = maxRelErr(got, want);
    assert.ok(err < 2e-6, `${backend}: max rel err ${err}`);
    for (let j = 100; j < h; j++) assert.equal(got[j], 0, `${backend}: masked entry ${j}`);
    for (let j = 0; j < h; j++) assert.ok(Math.abs(got[h + j] - 1 / h) < 1e-7);
  }
});

Deno.test("batched matMul with the items over the threads matches a float64 reference", async () => {
  for (const backend of ["wasm", "cpu"] as const) {
    if (!(await nativeOn(backend))) continue;
    // Linked with a pthread OpenBLAS (CI's libopenblas0-pthread); an OpenMP build is refused.
    const linked = linkBatchedGemm();
    if (Deno.env.get("NATIVE_REQUIRED") === "1") assert.ok(linked, "batched matMul linked");
    // [batch…, m, k] · [batch…, k, n], transposes and one-matrix broadcasts.
    const cases: [number[], number[], boolean, boolean][] = [
      [[4, 3, 17, 8], [4, 3, 8, 9], false, false],
      [[2, 5, 16, 12], [2, 5, 20, 12], false, true],
      [[6, 12, 7], [6, 12, 5], true, false],
      [[1, 9, 4], [5, 4, 3], false, false],
      [[5, 9, 4], [4, 3], false, false],
    ];
    for (const [sa, sb, ta, tb] of cases) {
      const na = sa.reduce((p, d) => p * d, 1), nb = sb.reduce((p, d) => p * d, 1);
      const av = randn(na, na), bv = randn(nb, nb + 1);
      const got = tf.tidy(() =>
        tf.matMul(tf.tensor(av, sa), tf.tensor(bv, sb), ta, tb).dataSync()
      ) as Float32Array;
      const want = refMatMul(av, sa, bv, sb, ta, tb);
      const err = maxRelErr(got, want);
      assert.ok(err < 1e-5, `${backend} [${sa}]·[${sb}] ta=${ta} tb=${tb}: max rel err ${err}`);
    }
  }
});

Deno.test("native Softmax leaves rank 0 to tfjs; BLAS matMul computes every item of crossed batch broadcasts", async () => {
  for (const backend of ["wasm", "cpu"] as const) {
    if (!(await nativeOn(backend))) continue;
    if (backend === "wasm") {
      const y = tf.tidy(() => tf.softmax(tf.scalar(2)).dataSync());
      assert.equal(y.length, 1);
    }
    // [2, 1] and [1, 2] batches broadcast to [2, 2]: four products (tfjs 4.22's own kernels
    // compute two and leave the rest unset).
    const av = randn(2 * 3 * 4, 31), bv = randn(2 * 4 * 5, 32);
    const got = tf.tidy(() => {
      const y = tf.matMul(tf.tensor(av, [2, 1, 3, 4]), tf.tensor(bv, [1, 2, 4, 5]));
      assert.deepEqual(y.shape, [2, 2, 3, 5]);
      return y.dataSync() as Float32Array;
    });
    const want = refMatMul(av, [2, 1, 3, 4], bv, [1, 2, 4, 5], false, false);
    assert.ok(maxRelErr(got, want) < 1e-5, `${backend}: max rel err ${maxRelErr(got, want)}`);
  }
});

Deno.test("native kernels on cpu read float32 tensors cast from int32 or bool (shared integer data)", async () => {
  if (!(await nativeOn("cpu"))) return;
  tf.tidy(() => {
    const ints = tf.cast(tf.tensor2d([[1, 0, 3], [4, 5, 0]], undefined, "int32"), "float32");
    const bools = tf.cast(tf.tensor2d([[true, false, true], [false, true, true]]), "float32");
    const x = tf.tensor2d([[1.5, 2, 3], [4, 5, 6]]);
    assert.deepEqual([...tf.mul(x, ints).dataSync()], [1.5, 0, 9, 16, 25, 0]);
    assert.deepEqual([...tf.add(x, bools).dataSync()], [2.5, 2, 4, 4, 6, 7]);
    assert.deepEqual([...tf.transpose(ints).dataSync()], [1, 4, 0, 5, 3, 0]);
    assert.deepEqual([...tf.matMul(x, ints, false, true).dataSync()], [10.5, 16, 22, 41]);
  });
});

Deno.test("native GELU: huge and infinite inputs, the far negative tail, against double erfc", async () => {
  if (!(await nativeOn("cpu"))) return;
  const native = nativeKernels()!;
  // Beyond |x| ≈ 1.8e19 x² overflows float: GELU(x) is x there, and 0 (-0) far below zero.
  const x = Float32Array.from([Infinity, 3e19, 1e10, 40, -40, -1e10, -14, -13.5, -7, -3, 0.5]);
  const y = new Float32Array(x.length), dx = new Float32Array(x.length);
  native.gelu(x, y);
  native.geluGrad(new Float32Array(x.length).fill(1), x, dx);
  assert.deepEqual(Array.from(y.slice(0, 4)), Array.from(x.slice(0, 4)));
  assert.deepEqual(Array.from(dx.slice(1, 4)), [1, 1, 1]); // at +inf: inf · 0, NaN as in torch
  for (let i = 4; i < 6; i++) {
    assert.ok(y[i] === 0 && dx[i] === 0, `x = ${x[i]}: ${y[i]}, ${dx[i]}`);
  }
  // x·Φ(x) and Φ(x) + x·φ(x) in double (erfc by its continued fraction, fine for x ≤ -3).
  const phi = (v: number) => Math.exp(-v * v / 2) / Math.sqrt(2 * Math.PI);
  const tailPhi = (v: number) => {
    const a = -v;
    let f = a;
    for (let k = 60; k >= 1; k--) f = a + k / f; // Φ(-a) = φ(a) / (a + 1/(a + 2/(a + …)))
    return phi(a) / f;
  };
  // Float32 denormals below 1.2e-38 have a step of 2^-149: that much absolute error is rounding.
  const ulp = 2 ** -149;
  for (let i = 6; i < 10; i++) {
    const v = x[i], P = tailPhi(v);
    assert.ok(
      Math.abs(y[i] - v * P) <= Math.max(1e-6 * Math.abs(v * P), ulp),
      `gelu(${v}) = ${y[i]}, want ${v * P}`,
    );
    const g = P + v * phi(v);
    assert.ok(
      Math.abs(dx[i] - g) <= Math.max(1e-5 * Math.abs(g), ulp),
      `gelu'(${v}) = ${dx[i]}, want ${g}`,
    );
  }
});
