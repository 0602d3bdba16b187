/**
 * Backend choice: one call picks the fastest usable TensorFlow.js backend and says why.
 *
 * Order: `tensorflow` via `@tensorflow/tfjs-node-gpu` (when installed and a GPU is usable), then
 * `webgpu` on a hardware adapter (Deno's built-in WebGPU), then `tensorflow` via
 * `@tensorflow/tfjs-node`, then `wasm` (SIMD), then `cpu` (rules: {@link planBackends}).
 * A software WebGPU adapter (lavapipe, SwiftShader) is never picked automatically.
 * `TFJS_BACKEND=tensorflow|webgpu|wasm|cpu` forces one; forcing one that cannot load is an error,
 * never a silent fallback. Every entry point registers the project's kernels first
 * ({@link registerAll}).
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { registerProjectKernels } from "./kernels.ts";
import { type BlasInfo, linkBatchedGemm, registerBlasKernels } from "./blas.ts";
import { registerFastWasmKernels } from "./fused_wasm.ts";
import { registerAdamWKernels } from "./fused_adamw.ts";
import { registerFusedOpKernels } from "./fused_ops.ts";
import { type NativeInfo, openNative } from "./native.ts";
import { registerSoftmaxGrad } from "./fused_softmax.ts";
import { registerDropoutKernel } from "./fused_dropout.ts";
import { registerNativeOps } from "./native_ops.ts";
import { registerAttentionKernel } from "./fused_attention.ts";
import { type Bf16Info, openBf16 } from "./bf16.ts";
import { type Candidate, planBackends } from "./rules.ts";
import { adapterLabel, probeWebGpu, startWebGpu, type WebGpuProbe } from "./webgpu.ts";

/** Backends the project knows how to start. */
export type BackendName = "tensorflow" | "webgpu" | "wasm" | "cpu";
export const BACKEND_NAMES: readonly BackendName[] = ["tensorflow", "webgpu", "wasm", "cpu"];

/** What `initBackend` chose and why. */
export interface BackendChoice {
  name: BackendName;
  /** Human-readable reason, including what was tried before. */
  reason: string;
  /** Extra facts (package used, SIMD/threads for wasm, ...). */
  details: Record<string, string | boolean>;
  /** Whether matMuls go through a system BLAS (wasm and cpu only). */
  blas: BlasInfo;
  /** Whether the native multi-threaded element-wise kernels are in use (wasm and cpu only). */
  native: NativeInfo;
  /** The precision of matMuls on wasm and cpu (`--bf16`, env `TFJS_BF16`; see `bf16.ts`). */
  bf16: Bf16Info;
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
async function tryTensorflow(
  packages: readonly (typeof NODE_PACKAGES)[number][],
): Promise<Choice | string[]> {
  const failures: string[] = [];
  for (const pkg of packages) {
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

type Choice = Omit<BackendChoice, "blas" | "native" | "bf16">;

async function tryWebGpu(): Promise<Choice | string> {
  try {
    const p = await startWebGpu();
    return webgpuChoice(p, `webgpu on ${adapterLabel(p.adapter)}`);
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

function webgpuChoice(p: WebGpuProbe, reason: string): Choice {
  const a = p.adapter!;
  return {
    name: "webgpu",
    reason,
    details: { adapter: adapterLabel(a), vendor: a.vendor, software: p.software },
  };
}

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
  const { blas, native, bf16 } = await registerAll();
  let choice: Choice;
  if (forced) {
    choice = await forcedChoice(forced);
  } else {
    // Walk the rules' order; every candidate that fails or is left out is named in the reason.
    const plan = planBackends(await probeWebGpu());
    const r = await firstThatLoads(plan.order);
    const tried = [...plan.skipped, ...r.failures];
    const skipped = tried.length ? `; skipped: ${tried.join("; ")}` : "";
    choice = r.found
      ? { ...r.found, reason: `${r.found.reason}${skipped}` }
      : { name: "cpu", reason: `fallback${skipped}`, details: {} };
  }
  await tf.ready();
  chosen = { ...choice, blas, native, bf16 };
  if (!opts.quiet) {
    const note = chosen.name === "tensorflow" || chosen.name === "webgpu"
      ? ""
      : `; matMul: ${blas.reason}${
        bf16.active ? `; ${bf16.reason}` : ""
      }; element-wise: ${native.reason}`;
    console.error(`[backend] ${chosen.name}: ${chosen.reason}${note}`);
  }
  return chosen;
}

/** Registers every project kernel (idempotent), opening BLAS and the native kernels first. */
async function registerAll(): Promise<{ blas: BlasInfo; native: NativeInfo; bf16: Bf16Info }> {
  registerProjectKernels();
  const blas = registerBlasKernels();
  const native = await openNative();
  registerFastWasmKernels();
  registerAdamWKernels();
  registerFusedOpKernels();
  registerSoftmaxGrad();
  registerDropoutKernel();
  registerNativeOps();
  registerAttentionKernel();
  linkBatchedGemm();
  const bf16 = openBf16();
  muteCpuBanner();
  return { blas, native, bf16 };
}

/** What `TFJS_BACKEND` may name, and the candidates that load each (in order). */
const FORCED: Record<BackendName, Candidate[]> = {
  tensorflow: ["tfjs-node-gpu", "tfjs-node"],
  webgpu: ["webgpu"],
  wasm: ["wasm"],
  cpu: ["cpu"],
};

/** Tries `candidates` in order; the first that loads, and why each before it did not. */
async function firstThatLoads(
  candidates: readonly Candidate[],
): Promise<{ found?: Choice; failures: string[] }> {
  const failures: string[] = [];
  for (const c of candidates) {
    const r = await tryCandidate(c);
    if (typeof r !== "string") return { found: r, failures };
    failures.push(r);
  }
  return { failures };
}

/** The forced backend (`TFJS_BACKEND` or `initBackend({ backend })`), or a `BackendError`. */
async function forcedChoice(forced: string): Promise<Choice> {
  if (!(BACKEND_NAMES as readonly string[]).includes(forced)) {
    throw new BackendError(
      `TFJS_BACKEND=${forced} is not a known backend; use one of ${BACKEND_NAMES.join(", ")}`,
    );
  }
  const { found, failures } = await firstThatLoads(FORCED[forced as BackendName]);
  if (found) {
    return {
      ...found,
      reason: `forced by TFJS_BACKEND${found.name === "cpu" ? "" : `; ${found.reason}`}`,
    };
  }
  if (forced === "tensorflow") {
    throw new BackendError(
      `TFJS_BACKEND=tensorflow was requested but no TensorFlow native binding could load:\n  ` +
        failures.join("\n  ") + `\n${INSTALL_HINT}`,
    );
  }
  throw new BackendError(`TFJS_BACKEND=${forced} failed: ${failures.join("; ")}`);
}

/** Tries one candidate; a string says why it did not load. */
async function tryCandidate(c: Candidate): Promise<Choice | string> {
  switch (c) {
    case "tfjs-node-gpu":
    case "tfjs-node": {
      const r = await tryTensorflow([`@tensorflow/${c}`]);
      return Array.isArray(r) ? r.join("; ") : r;
    }
    case "webgpu":
      return await tryWebGpu();
    case "wasm":
      return await tryWasm();
    case "cpu":
      if (!(await tf.setBackend("cpu"))) return "cpu: setBackend failed";
      return { name: "cpu", reason: "cpu", details: {} };
  }
}

/**
 * Switches to a named backend without the auto rules (tests compare backends with this).
 * `webgpu` takes any adapter, software ones included, and throws when there is none.
 */
export async function useBackend(name: "webgpu" | "wasm" | "cpu"): Promise<void> {
  await registerAll();
  if (name === "webgpu") {
    try {
      await startWebGpu();
    } catch (e) {
      throw new BackendError(e instanceof Error ? e.message : String(e));
    }
    return;
  }
  if (!(await tf.setBackend(name))) throw new BackendError(`could not start backend ${name}`);
  await tf.ready();
}

/**
 * A label for benchmark tables and logs: the backend name plus what it runs on, e.g.
 * `webgpu (NVIDIA H200)`, `webgpu (llvmpipe (LLVM 15.0.6, 256 bits) [software])`,
 * `wasm (SIMD, threads)`, `tensorflow (@tensorflow/tfjs-node-gpu)`, `cpu`.
 */
export function backendLabel(choice: Pick<BackendChoice, "name" | "details">): string {
  const d = choice.details;
  switch (choice.name) {
    case "webgpu":
      return `webgpu (${d.adapter ?? "unknown adapter"})`;
    case "wasm":
      return `wasm (${d.simd ? "SIMD" : "no SIMD"}, ${d.threads ? "threads" : "1 thread"})`;
    case "tensorflow":
      return `tensorflow (${d.package ?? "tfjs-node"})`;
    default:
      return choice.name;
  }
}

/**
 * The webgpu backend as a benchmark target when an adapter exists (software ones included; the
 * label says so): switches to it and returns its label, e.g. `webgpu (NVIDIA H200)`. Returns null
 * and leaves the current backend alone when there is no adapter.
 */
export async function useWebGpuIfAvailable(): Promise<string | null> {
  const p = await probeWebGpu();
  if (!p.adapter) return null;
  await useBackend("webgpu");
  return backendLabel(webgpuChoice(p, "benchmark"));
}
