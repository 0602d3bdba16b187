/** What the command line prints about itself: the backend line. */
import assert from "node:assert/strict";
import { backendLine } from "../lib/cli/backend_line.ts";

Deno.test("backendLine: one short line; every reason only when verbose", () => {
  const c = {
    name: "wasm",
    reason: "wasm (SIMD on, threads off); skipped: webgpu: llvmpipe is a software adapter, " +
      "slower than wasm; @tensorflow/tfjs-node-gpu: no usable NVIDIA GPU (nvidia-smi found " +
      "none); @tensorflow/tfjs-node: not installed (absent from deno.json imports)",
    blas: { enabled: true, name: "OpenBLAS", reason: "cblas_sgemm from libopenblas.so.0" },
  };
  const short = backendLine(c, false);
  assert.equal(
    short,
    "[backend] wasm: wasm (SIMD on, threads off); matMul: OpenBLAS (--verbose or DEBUG=1 for why)",
  );
  assert.ok(short.length <= 100, short);
  const long = backendLine(c, true);
  assert.match(long, /skipped: webgpu: llvmpipe/);
  assert.match(long, /matMul: cblas_sgemm from libopenblas\.so\.0$/);
});
