/**
 * The one line a command prints about the TensorFlow.js backend it runs on: short by default, with
 * every reason (candidates left out, the matMul route) under `--verbose` or env `DEBUG`.
 * @module
 */
import { type BackendChoice, initBackend } from "../backend/mod.ts";

/** The facts of a backend choice that the line shows. */
export interface BackendFacts {
  name: string;
  reason: string;
  blas?: { enabled: boolean; name?: string; reason: string };
  /** The bf16 matMul path (`--bf16`), when it was asked for. */
  bf16?: { active: boolean; requested: string; reason: string };
}

/**
 * `[backend] wasm: wasm (SIMD on, threads off); matMul: oneDNN (--verbose or DEBUG=1 for why)`;
 * with `verbose`, the full reason (every candidate skipped and why) and the matMul route.
 */
export function backendLine(c: BackendFacts, verbose: boolean): string {
  const cpuSide = c.name !== "tensorflow" && c.name !== "webgpu" && c.blas !== undefined;
  const bf16 = cpuSide && c.bf16?.requested === "bf16"
    ? `; ${verbose || !c.bf16.active ? c.bf16.reason : "bf16 matMuls (oneDNN)"}`
    : "";
  if (verbose) {
    return `[backend] ${c.name}: ${c.reason}${cpuSide ? `; matMul: ${c.blas!.reason}` : ""}${bf16}`;
  }
  const why = c.reason.split("; skipped:")[0];
  const matMul = cpuSide
    ? `; matMul: ${
      c.blas!.enabled ? c.blas!.name ?? "BLAS" : "tfjs (no oneDNN or OpenBLAS)"
    }${bf16}`
    : "";
  return `[backend] ${c.name}: ${why}${matMul} (--verbose or DEBUG=1 for why)`;
}

/** Initialises the backend and prints its line on stderr (verbose when env `DEBUG` is set). */
export async function announceBackend(): Promise<BackendChoice> {
  const choice = await initBackend({ quiet: true });
  console.error(backendLine(choice, Boolean(Deno.env.get("DEBUG"))));
  return choice;
}
