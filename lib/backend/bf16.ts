/**
 * `--bf16` mixed precision on cpu and wasm, as Hugging Face's `--bf16` with `torch.autocast("cpu",
 * dtype=torch.bfloat16)`: matMuls (dense layers, attention's batched products and their
 * gradients) take their two operands rounded to bf16 (round to nearest even) and accumulate in
 * float32 through oneDNN's `dnnl_gemm_bf16bf16f32`, which runs on AMX tiles or AVX512-BF16.
 * Everything else stays float32: the master weights, AdamW's moments, the loss, softmax,
 * LayerNorm, GELU and the residual adds. Unlike autocast, activations between ops stay float32
 * (each matMul output is float32, not rounded to bf16): the rounding happens only where the bf16
 * units read their inputs, which the conversion fused into the product (`native_bf16.c`) makes
 * cheap, and there is no separate cast op to pay for.
 *
 * A variable's bf16 copy is kept while its data lives (tensors are immutable: an optimizer update
 * gives the variable a new data id), so inference converts each weight once and a training step
 * converts it once for the forward and backward products together; other operands are converted
 * in C into reused scratch buffers at every product.
 *
 * Needs the native kernels (`native.ts`, a C compiler) and oneDNN (`libdnnl.so.2`, Debian:
 * `libdnnl2`). Where the CPU lacks bf16 matrix units (no `amx_bf16` or `avx512_bf16` in
 * /proc/cpuinfo), or oneDNN or the native kernels are missing, a request falls back to float32
 * with one line on stderr; a forced request (`{ force: true }`, env `TFJS_BF16=force`) runs oneDNN's
 * bf16 path anyway when it can (slow without the units, for checking) and throws when it cannot.
 * Env `TFJS_BF16=1` requests bf16 for a whole process; `TFJS_DNNL=/path/libdnnl.so` picks the
 * library; `TFJS_BF16_UNITS=none` treats the CPU as one without the units (tests the fallback).
 * @module
 */
import { cpuFlags } from "./native_build.ts";
import { nativeKernels } from "./native.ts";
import { DNNL_CANDIDATES, isVariableData } from "./internals.ts";

/** Precision of matMuls on the cpu and wasm backends. */
export type MatmulPrecision = "fp32" | "bf16";

/** What the bf16 path found. */
export interface Bf16Info {
  /** The precision asked for. */
  requested: MatmulPrecision;
  /** Whether matMuls run in bf16 now. */
  active: boolean;
  /** The CPU's bf16 matrix units (e.g. `AMX-BF16`, `AVX512-BF16`); empty when none. */
  units: string[];
  library?: string;
  reason: string;
}

/** Raised when bf16 was forced and cannot run. */
export class Bf16Error extends Error {
  constructor(message: string) {
    super(message);
    this.name = "Bf16Error";
  }
}

/**
 * The bf16 matrix units named by a /proc/cpuinfo `flags` line.
 *
 * @example
 * ```ts
 * import { bf16Units } from "./bf16.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(bf16Units("fpu avx512f avx512_bf16 amx_bf16 amx_tile"), [
 *   "AMX-BF16",
 *   "AVX512-BF16",
 * ]);
 * assert.deepEqual(bf16Units("fpu sse2 avx2"), []);
 * ```
 */
export function bf16Units(flags: string): string[] {
  const set = new Set(flags.trim().split(/\s+/));
  const units: string[] = [];
  if (set.has("amx_bf16") && set.has("amx_tile")) units.push("AMX-BF16");
  if (set.has("avx512_bf16")) units.push("AVX512-BF16");
  return units;
}

function machineUnits(): string[] {
  return Deno.env.get("TFJS_BF16_UNITS") === "none" ? [] : bf16Units(cpuFlags());
}

let requested: MatmulPrecision = "fp32";
let forced = false;
/** setMatmulPrecision was called: env TFJS_BF16 no longer decides. */
let explicit = false;
let info: Bf16Info | undefined;
let warned = false;

/** The one line printed when a bf16 request falls back to float32. */
function fallback(reason: string, units: string[]): Bf16Info {
  const line = `[bf16] ${reason}; matMuls stay fp32`;
  if (!warned) console.error(line);
  warned = true;
  return { requested: "bf16", active: false, units, reason: line.slice(7) };
}

/** Checks oneDNN's product on a small case against float64 (catches an unimplemented ISA). */
function selfTest(): string | undefined {
  const native = nativeKernels()!;
  const m = 5, n = 7, k = 9;
  const a = Float32Array.from({ length: m * k }, (_, i) => ((i * 7) % 11) / 4 - 1);
  const b = Float32Array.from({ length: k * n }, (_, i) => ((i * 5) % 13) / 8 - 0.75);
  const c = new Float32Array(m * n);
  const status = native.gemmBf16F32(false, false, 1, { m, n, k }, a, 0, k, b, 0, n, c);
  if (status !== 0) return `oneDNN's bf16 gemm returned status ${status}`;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
      // Inputs are exact in bf16 (multiples of 1/8 below 2): the product must be exact too.
      if (Math.abs(c[i * n + j] - s) > 1e-5) {
        return `oneDNN's bf16 gemm gave ${c[i * n + j]}, not ${s}`;
      }
    }
  }
  return undefined;
}

/**
 * Opens the bf16 path for the precision requested (by {@link setMatmulPrecision} or env
 * `TFJS_BF16`); `initBackend` calls it after the native kernels are open. Returns what happened.
 */
export function openBf16(): Bf16Info {
  const env = Deno.env.get("TFJS_BF16");
  if (!explicit && requested === "fp32" && env && env !== "0" && env !== "false") {
    requested = "bf16";
    forced ||= env === "force";
  }
  const units = machineUnits();
  if (requested === "fp32") {
    return info = { requested, active: false, units, reason: "fp32 matMuls" };
  }
  if (info?.active) return info;
  const refuse = (why: string): Bf16Info => {
    if (forced) throw new Bf16Error(`bf16 was forced but cannot run: ${why}`);
    return info = fallback(why, units);
  };
  if (!units.length && !forced) {
    return refuse(
      "this CPU has no bf16 matrix units (neither amx_bf16 nor avx512_bf16 in /proc/cpuinfo)",
    );
  }
  const native = nativeKernels();
  if (!native) return refuse("the native kernels are not open (a C compiler is needed)");
  const setting = Deno.env.get("TFJS_DNNL");
  const paths = setting ? [setting] : DNNL_CANDIDATES;
  const library = paths.find((p) => native.openDnnl(p));
  if (!library) {
    return refuse(
      `oneDNN's dnnl_gemm_bf16bf16f32 not found (install libdnnl2); tried ${paths.join(", ")}`,
    );
  }
  const bad = selfTest();
  if (bad) return refuse(bad);
  const on = units.length ? units.join(" + ") : "no bf16 units (forced; emulated, slow)";
  return info = {
    requested,
    active: true,
    units,
    library,
    reason: `bf16 matMuls (oneDNN from ${library}, ${on}; fp32 accumulation)`,
  };
}

/**
 * Sets the precision of matMuls on cpu and wasm (`"bf16"`: Hugging Face's `--bf16`). Takes effect
 * at once when the backend is already initialised, else when `initBackend` runs. A `"bf16"`
 * request on a CPU without bf16 matrix units falls back to fp32 with one line on stderr;
 * `force` runs oneDNN's bf16 path anyway, throwing a {@link Bf16Error} when it cannot.
 */
export function setMatmulPrecision(
  precision: MatmulPrecision,
  opts: { force?: boolean } = {},
): Bf16Info | undefined {
  requested = precision;
  forced = Boolean(opts.force);
  explicit = true;
  clearBf16Copies();
  if (precision === "fp32") {
    info = undefined;
    return openBf16();
  }
  if (info?.active) return info;
  info = undefined;
  return nativeKernels() ? openBf16() : undefined;
}

/** The precision matMuls run in now. */
export function matmulPrecision(): MatmulPrecision {
  return info?.active ? "bf16" : "fp32";
}

/** What the last {@link openBf16} found (undefined before it ran). */
export function bf16Info(): Bf16Info | undefined {
  return info;
}

/** bf16 copies of variables' data, by data id (freed with it). */
let copies = new WeakMap<object, Uint16Array>();

/**
 * The bf16 copy of a matMul operand when it is a variable's data (converted on first use, then
 * kept while that data lives); null for other tensors (converted by the product itself).
 */
export function bf16VariableCopy(dataId: object, values: Float32Array): Uint16Array | null {
  let c = copies.get(dataId);
  if (c) return c;
  if (!isVariableData(dataId)) return null;
  c = new Uint16Array(values.length);
  nativeKernels()!.toBf16(values, c);
  copies.set(dataId, c);
  return c;
}

/** Drops every cached bf16 copy (tests; switching precision). */
export function clearBf16Copies(): void {
  copies = new WeakMap();
}
