/**
 * TensorFlow.js initialisation: one call picks the fastest usable backend and says why.
 *
 * Order: `tensorflow` via `@tensorflow/tfjs-node-gpu` (when installed and a GPU is usable), then
 * `tensorflow` via `@tensorflow/tfjs-node`, then `wasm` (SIMD), then `cpu`.
 * `TFJS_BACKEND=tensorflow|wasm|cpu` forces one; forcing one that cannot load is an error, never a
 * silent fallback.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { registerProjectKernels } from "./kernels.ts";
import { type BlasInfo, registerBlasKernels } from "./blas.ts";

export { type BlasInfo, openBlas, registerBlasKernels } from "./blas.ts";
export { projectKernelNames, registerProjectKernels, segmentSumValues } from "./kernels.ts";

/** Backends the project knows how to start. */
export type BackendName = "tensorflow" | "wasm" | "cpu";
export const BACKEND_NAMES: readonly BackendName[] = ["tensorflow", "wasm", "cpu"];

/** What `initBackend` chose and why. */
export interface BackendChoice {
  name: BackendName;
  /** Human-readable reason, including what was tried before. */
  reason: string;
  /** Extra facts (package used, SIMD/threads for wasm, ...). */
  details: Record<string, string | boolean>;
  /** Whether matMuls go through a system BLAS (wasm and cpu only). */
  blas: BlasInfo;
}

/** Raised when a forced backend cannot be loaded. */
export class BackendError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BackendError";
  }
}

const NODE_PACKAGES = ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"] as const;

const INSTALL_HINT =
  "tfjs-node-gpu downloads libtensorflow (CUDA 11.2, cuDNN 8.1) at install time. On a host with " +
  "internet access run: deno install --allow-scripts=npm:@tensorflow/tfjs-node-gpu " +
  "npm:@tensorflow/tfjs-node-gpu@4.22.0 (or npm:@tensorflow/tfjs-node@4.22.0 for CPU-only). " +
  "Unset TFJS_BACKEND (or set it to wasm or cpu) to run without it.";

function gpuVisible(): boolean {
  try {
    const out = new Deno.Command("nvidia-smi", { args: ["-L"], stdout: "piped", stderr: "null" })
      .outputSync();
    return out.success && new TextDecoder().decode(out.stdout).includes("GPU");
  } catch {
    return false;
  }
}

/** Tries the tfjs-node packages; returns the choice or the list of failures. */
async function tryTensorflow(): Promise<Choice | string[]> {
  const failures: string[] = [];
  for (const pkg of NODE_PACKAGES) {
    if (pkg === "@tensorflow/tfjs-node-gpu" && !gpuVisible()) {
      failures.push(`${pkg}: no usable NVIDIA GPU (nvidia-smi found none)`);
      continue;
    }
    try {
      // A variable specifier: the package is optional and absent from the default import map.
      const specifier: string = pkg;
      await import(specifier);
      if (!(await tf.setBackend("tensorflow"))) throw new Error("setBackend('tensorflow') failed");
      return {
        name: "tensorflow",
        reason: `${pkg} loaded`,
        details: { package: pkg, gpu: pkg.endsWith("-gpu") },
      };
    } catch (e) {
      const msg = (e instanceof Error ? e.message : String(e)).split("\n")[0];
      failures.push(
        `${pkg}: ${
          /not a dependency|not in import map|Cannot find module/.test(msg)
            ? "not installed (absent from deno.json imports / node_modules)"
            : msg
        }`,
      );
    }
  }
  return failures;
}

async function tryWasm(): Promise<Choice | string> {
  try {
    if (!(await tf.setBackend("wasm"))) return "wasm: setBackend failed";
    await tf.ready();
    const simd = Boolean(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT"));
    const threads = Boolean(await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT"));
    return {
      name: "wasm",
      reason: `wasm (SIMD ${simd ? "on" : "off"}, threads ${threads ? "on" : "off"})`,
      details: { simd, threads },
    };
  } catch (e) {
    return `wasm: ${e instanceof Error ? e.message : String(e)}`;
  }
}

type Choice = Omit<BackendChoice, "blas">;

let chosen: BackendChoice | undefined;

/**
 * The cpu backend prints a banner recommending tfjs-node on its first tensor in Node-like
 * runtimes; the chooser has already said what it picked and why, so the banner is muted.
 */
function muteCpuBanner(): void {
  const cpu = tf.findBackend("cpu") as unknown as { firstUse?: boolean } | null;
  if (cpu && "firstUse" in cpu) cpu.firstUse = false;
}

/**
 * Initialises TensorFlow.js once and returns the chosen backend. Later calls return the first
 * choice. `opts.backend` (or env `TFJS_BACKEND`) forces one. Prints the choice once unless
 * `opts.quiet`.
 */
export async function initBackend(
  opts: { backend?: string; quiet?: boolean } = {},
): Promise<BackendChoice> {
  const forced = opts.backend ?? Deno.env.get("TFJS_BACKEND") ?? undefined;
  if (chosen && (!forced || forced === chosen.name)) return chosen;
  registerProjectKernels();
  const blas = registerBlasKernels();
  muteCpuBanner();
  let choice: Choice;
  if (forced) {
    if (!(BACKEND_NAMES as readonly string[]).includes(forced)) {
      throw new BackendError(
        `TFJS_BACKEND=${forced} is not a known backend; use one of ${BACKEND_NAMES.join(", ")}`,
      );
    }
    if (forced === "tensorflow") {
      const r = await tryTensorflow();
      if (Array.isArray(r)) {
        throw new BackendError(
          `TFJS_BACKEND=tensorflow was requested but no TensorFlow native binding could load:\n  ` +
            r.join("\n  ") + `\n${INSTALL_HINT}`,
        );
      }
      choice = { ...r, reason: `forced by TFJS_BACKEND; ${r.reason}` };
    } else if (forced === "wasm") {
      const r = await tryWasm();
      if (typeof r === "string") throw new BackendError(`TFJS_BACKEND=wasm failed: ${r}`);
      choice = { ...r, reason: `forced by TFJS_BACKEND; ${r.reason}` };
    } else {
      if (!(await tf.setBackend("cpu"))) throw new BackendError("TFJS_BACKEND=cpu failed");
      choice = { name: "cpu", reason: "forced by TFJS_BACKEND", details: {} };
    }
  } else {
    const tried: string[] = [];
    const t = await tryTensorflow();
    if (!Array.isArray(t)) choice = t;
    else {
      tried.push(...t);
      const w = await tryWasm();
      if (typeof w !== "string") {
        choice = { ...w, reason: `${w.reason}; skipped: ${tried.join("; ")}` };
      } else {
        tried.push(w);
        await tf.setBackend("cpu");
        choice = { name: "cpu", reason: `fallback; skipped: ${tried.join("; ")}`, details: {} };
      }
    }
  }
  await tf.ready();
  chosen = { ...choice, blas };
  if (!opts.quiet) {
    const note = chosen.name === "tensorflow" ? "" : `; matMul: ${blas.reason}`;
    console.error(`[backend] ${chosen.name}: ${chosen.reason}${note}`);
  }
  return chosen;
}

/** Switches to a named backend without the auto rules (tests compare backends with this). */
export async function useBackend(name: "wasm" | "cpu"): Promise<void> {
  registerProjectKernels();
  registerBlasKernels();
  muteCpuBanner();
  if (!(await tf.setBackend(name))) throw new BackendError(`could not start backend ${name}`);
  await tf.ready();
}
