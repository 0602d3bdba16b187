/**
 * The machine's matrix-product peak, measured in the bench's own run, and the FLOPs of a BERT QA
 * step counted from its shapes (`deno task bench` divides one by the other).
 *
 * - `sgemmPeakGflops`: float32 GEMM the project uses (oneDNN or OpenBLAS, `lib/backend/blas.ts`,
 *   its thread count), square matrices of 768, 1024 and 2048, the best of a few repeats.
 * - `bf16PeakGflops`: oneDNN's `dnnl_gemm_bf16bf16f32` on operands already in bf16 (what the bf16
 *   units do, conversion excluded), same sizes; null where the bf16 path does not open.
 *
 * FLOPs of a forward pass (`forwardFlops`), matrix products only (2 FLOPs per multiply-add), for
 * `L` layers, hidden `H`, intermediate `I`, batch `b`, sequence `s`, `T = b·s` tokens:
 * `L · (8·T·H² + 4·T·H·I + 4·b·s²·H) + 4·T·H` (query, key, value and output projections; the two
 * feed-forward products; attention's scores and context; the QA head's 2 outputs). A training
 * step counts 3× that (forward; backward: one product for the input gradient and one for the
 * weight gradient per forward product). Element-wise work (softmax, LayerNorm, GELU, AdamW) and
 * embedding lookups are not counted. bert-base at 1 × 384: 7.07e10 forward, 2.12e11 training.
 * @module
 */
import {
  float32Gemm,
  matmulPrecision,
  nativeKernels,
  openBlas,
  setMatmulPrecision,
} from "../lib/backend/mod.ts";
import type { BenchConfig } from "./qa_step.ts";

/** FLOPs of one forward pass of the QA model at batch `b` (see the module comment). */
export function forwardFlops(
  c: Pick<BenchConfig, "layers" | "hidden" | "inter" | "seq">,
  b: number,
): number {
  const t = b * c.seq, h = c.hidden;
  return c.layers * (8 * t * h * h + 4 * t * h * c.inter + 4 * b * c.seq * c.seq * h) + 4 * t * h;
}

/** FLOPs of one training step (forward and backward) at batch `b`. */
export function trainFlops(
  c: Pick<BenchConfig, "layers" | "hidden" | "inter" | "seq">,
  b: number,
): number {
  return 3 * forwardFlops(c, b);
}

/** The measured peaks. */
export interface Peaks {
  sgemmPeakGflops: number | null;
  bf16PeakGflops: number | null;
  /** Per size: GFLOP/s of each. */
  sizes: { n: number; sgemm: number | null; bf16: number | null }[];
  blas: string;
  threads: number | null;
  bf16: string;
}

const SIZES = [768, 1024, 2048];

function filled(n: number, seed: number): Float32Array {
  const x = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    x[i] = (s >>> 8) / 2 ** 24 - 0.5;
  }
  return x;
}

function best(reps: number, f: () => void): number {
  f(); // warm-up
  let ms = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    f();
    ms = Math.min(ms, performance.now() - t0);
  }
  return ms;
}

/**
 * Measures both peaks (call after `initBackend`, so BLAS and the native kernels are open).
 * `reps` repeats per size, the fastest kept.
 */
export function measurePeaks(reps = 3): Peaks {
  const blas = openBlas();
  const gemm = float32Gemm();
  const sgemm = gemm &&
    ((n: number, a: Float32Array, b: Float32Array, c: Float32Array) =>
      gemm(false, false, n, n, n, a, n, b, n, c, n));
  const before = matmulPrecision();
  const bf16Info = setMatmulPrecision("bf16");
  const native = nativeKernels();
  const bf16Ok = Boolean(bf16Info?.active && native);
  setMatmulPrecision(before);
  const sizes = SIZES.map((n) => {
    const a = filled(n * n, 1), b = filled(n * n, 2), c = new Float32Array(n * n);
    const flops = 2 * n * n * n;
    const s = sgemm ? flops / best(reps, () => sgemm!(n, a, b, c)) / 1e6 : null;
    let h: number | null = null;
    if (bf16Ok) {
      const ab = new Uint16Array(n * n), bb = new Uint16Array(n * n);
      native!.toBf16(a, ab);
      native!.toBf16(b, bb);
      h = flops / best(reps, () =>
        native!.gemmBf16(false, false, { m: n, n, k: n }, ab, n, bb, n, c)) /
        1e6;
    }
    return { n, sgemm: s, bf16: h };
  });
  const max = (xs: (number | null)[]) => {
    const v = xs.filter((x): x is number => x !== null);
    return v.length ? Math.max(...v) : null;
  };
  return {
    sgemmPeakGflops: max(sizes.map((s) => s.sgemm)),
    bf16PeakGflops: max(sizes.map((s) => s.bf16)),
    sizes,
    blas: blas.reason,
    threads: blas.threads ?? null,
    bf16: bf16Info?.reason ?? "bf16 path not open (no native kernels)",
  };
}

/** Runs {@link measurePeaks} in a process of its own (`deno run -A bench/peak.ts`): one JSON line. */
export async function runPeaks(): Promise<Peaks | { error: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./peak.ts", import.meta.url).pathname],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(text) as Peaks;
  } catch {
    const err = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-2).join(" | ");
    return { error: `peak measurement exited with code ${out.code}: ${err || text}` };
  }
}

if (import.meta.main) {
  const { initBackend } = await import("../lib/backend/mod.ts");
  await initBackend({ backend: "wasm", quiet: true });
  console.log(JSON.stringify(measurePeaks()));
}
