/**
 * WebGPU through Deno's built-in `navigator.gpu` (wgpu: Vulkan on Linux, Metal on macOS, D3D12 on
 * Windows) and `@tensorflow/tfjs-backend-webgpu`.
 *
 * - {@link probeWebGpu} asks for the adapter tfjs would get and describes it;
 * - {@link isSoftwareAdapter} tells a CPU rasteriser (lavapipe/llvmpipe, SwiftShader, WARP) from a
 *   real GPU: the chooser never picks those automatically (they are slower than wasm, see
 *   rules.ts), but `TFJS_BACKEND=webgpu` still forces them (the CI tests do);
 * - {@link startWebGpu} starts the backend, replaces the kernels listed in webgpu_kernels.ts and
 *   installs {@link guardReadSync}: Deno has no
 *   synchronous GPU read-back, so tfjs's `dataSync()`/`arraySync()` path (an OffscreenCanvas 2D
 *   context) dies with "Cannot read properties of null (reading 'clearRect')"; the guard turns
 *   that into an error that says what to do (`await t.data()`).
 *
 * Deno 2.9.6 exposes `navigator.gpu` without flags (checked); older releases need
 * `--unstable-webgpu` (or `"unstable": ["webgpu"]` in deno.json), which 2.9.6 still accepts.
 *
 * `@tensorflow/tfjs-backend-webgpu` is imported only when webgpu is started: it registers itself
 * with a higher priority than wasm and cpu, so a static import would make any tensor created
 * before `initBackend()` land on whatever adapter exists, lavapipe included.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { registerWebGpuKernels } from "./webgpu_kernels.ts";

/** The adapter facts the rules look at (a subset of `GPUAdapterInfo`). */
export interface GpuAdapterFacts {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** wgpu sets it for CPU-emulated adapters (true for lavapipe). */
  isFallbackAdapter?: boolean;
}

/** What {@link probeWebGpu} found. */
export interface WebGpuProbe {
  /** The adapter, or null when there is none (or `navigator.gpu` is missing). */
  adapter: GpuAdapterFacts | null;
  /** True for CPU rasterisers (see {@link isSoftwareAdapter}). */
  software: boolean;
  /** Why there is no adapter, or a one-line description of it. */
  reason: string;
}

/** Adapter names of known CPU implementations of Vulkan/Metal/D3D12. */
const SOFTWARE_NAME =
  /\b(llvmpipe|lavapipe|softpipe|swiftshader|microsoft basic render|warp)\b|software (rasterizer|renderer)/i;
/** PCI-style vendor ids of software stacks: Mesa's (0x10005, lavapipe), Google's (SwiftShader). */
const SOFTWARE_VENDOR_IDS = new Set([0x10005, 0x1ae0]);
/** SwiftShader's Vulkan device id under Google's vendor id. */
const SWIFTSHADER_DEVICE = 0xc0de;

function parseId(s: string): number | null {
  const t = s.trim();
  if (/^0x[0-9a-f]+$/i.test(t)) return parseInt(t, 16);
  if (/^\d+$/.test(t)) return Number(t);
  return null;
}

/**
 * True when the adapter is a software (CPU) implementation: wgpu's `isFallbackAdapter`, a known
 * name (llvmpipe/lavapipe, SwiftShader, WARP, "Microsoft Basic Render Driver") in any text field,
 * or a software vendor id (Mesa 0x10005; Google 0x1AE0 with SwiftShader's device 0xC0DE).
 * Pure: tests call it with stubbed adapter info.
 */
export function isSoftwareAdapter(info: GpuAdapterFacts): boolean {
  if (info.isFallbackAdapter) return true;
  const text = `${info.description} ${info.architecture} ${info.device} ${info.vendor}`;
  if (SOFTWARE_NAME.test(text)) return true;
  const vendor = parseId(info.vendor);
  if (vendor === 0x10005) return true;
  if (
    vendor !== null && SOFTWARE_VENDOR_IDS.has(vendor) &&
    parseId(info.device) === SWIFTSHADER_DEVICE
  ) {
    return true;
  }
  return false;
}

/** A short human label for an adapter, e.g. `NVIDIA H200` or `llvmpipe (LLVM 15.0.6) [software]`. */
export function adapterLabel(info: GpuAdapterFacts): string {
  const name = info.description.trim() ||
    [info.vendor, info.architecture, info.device].filter((s) => s.trim()).join(" ") ||
    "unnamed adapter";
  return isSoftwareAdapter(info) ? `${name} [software]` : name;
}

/** The request tfjs-backend-webgpu makes (it asks for the high-performance adapter by default). */
function adapterOptions(): GPURequestAdapterOptions {
  // The flag exists only once the package is loaded; it is false unless someone set it.
  const lowPower = tf.env().getFlags()["WEBGPU_USE_LOW_POWER_GPU"] === true;
  return { powerPreference: lowPower ? "low-power" : "high-performance" };
}

/** How to get `navigator.gpu` and an adapter; used in error messages. */
export const WEBGPU_HINT =
  "WebGPU needs navigator.gpu (Deno 2.9.6 has it; older Deno needs --unstable-webgpu) and a " +
  "GPU driver wgpu can use: Vulkan on Linux (Debian/Ubuntu: apt-get install libvulkan1 plus the " +
  "vendor's Vulkan driver, or mesa-vulkan-drivers for the lavapipe software GPU; headless hosts " +
  "also want XDG_RUNTIME_DIR set), Metal on macOS, D3D12 on Windows.";

/**
 * Mesa's Vulkan drivers print "XDG_RUNTIME_DIR is invalid or not set" twice when the variable is
 * missing (headless hosts, containers, CI). On Linux, a missing or invalid one is replaced by a
 * fresh private temp dir for this process (removed at exit) before the first adapter request. Best effort: without
 * env/write permission nothing changes.
 */
function ensureRuntimeDir(): void {
  if (Deno.build.os !== "linux") return;
  try {
    const cur = Deno.env.get("XDG_RUNTIME_DIR");
    if (cur && Deno.statSync(cur).isDirectory) return;
  } catch {
    // invalid: replaced below
  }
  try {
    const dir = Deno.makeTempDirSync({ prefix: "xdg-runtime-" });
    Deno.env.set("XDG_RUNTIME_DIR", dir);
    globalThis.addEventListener("unload", () => {
      try {
        Deno.removeSync(dir, { recursive: true });
      } catch {
        // already gone
      }
    });
  } catch {
    // no permission: Mesa only prints a warning
  }
}

let probed: Promise<WebGpuProbe> | undefined;

/**
 * Asks `navigator.gpu` for the adapter tfjs would use and describes it. Never throws; the result
 * is cached for the process.
 */
export function probeWebGpu(): Promise<WebGpuProbe> {
  probed ??= (async (): Promise<WebGpuProbe> => {
    const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
    if (!gpu) {
      return {
        adapter: null,
        software: false,
        reason: "navigator.gpu is missing (older Deno releases need --unstable-webgpu)",
      };
    }
    ensureRuntimeDir();
    try {
      const a = await gpu.requestAdapter(adapterOptions());
      if (!a) {
        return { adapter: null, software: false, reason: "no WebGPU adapter (no usable driver)" };
      }
      const i = a.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
      const adapter: GpuAdapterFacts = {
        vendor: String(i.vendor ?? ""),
        architecture: String(i.architecture ?? ""),
        device: String(i.device ?? ""),
        description: String(i.description ?? ""),
        isFallbackAdapter: Boolean(i.isFallbackAdapter),
      };
      const software = isSoftwareAdapter(adapter);
      return { adapter, software, reason: adapterLabel(adapter) };
    } catch (e) {
      return {
        adapter: null,
        software: false,
        reason: `requestAdapter failed: ${e instanceof Error ? e.message : String(e)}`,
      };
    }
  })();
  return probed;
}

/** Raised by the guarded `readSync` on webgpu. */
export class WebGpuSyncReadError extends Error {
  constructor() {
    super(
      "dataSync()/arraySync()/bufferSync() cannot read a tensor that lives on the GPU under Deno's " +
        "WebGPU (there is no synchronous read-back): use `await t.data()` / `await t.array()`.",
    );
    this.name = "WebGpuSyncReadError";
  }
}

// The backend's internals are not in tfjs's public types; these are the members used.
interface WebGpuBackendLike {
  readSync(dataId: tf.DataId): unknown;
  tensorMap: { get(id: tf.DataId): { values?: unknown; dtype: string } | undefined };
  __projectGuard?: boolean;
}

/**
 * Replaces the webgpu backend's `readSync` so that data already on the CPU is still returned but a
 * GPU-resident tensor raises {@link WebGpuSyncReadError} instead of crashing inside tfjs. Idempotent.
 */
export function guardReadSync(backend: tf.KernelBackend): void {
  const b = backend as unknown as WebGpuBackendLike;
  if (b.__projectGuard) return;
  const original = b.readSync.bind(b);
  b.readSync = (dataId: tf.DataId) => {
    const d = b.tensorMap.get(dataId);
    if (d && (d.values != null || d.dtype === "string")) return original(dataId);
    throw new WebGpuSyncReadError();
  };
  b.__projectGuard = true;
}

/**
 * Starts tfjs's `webgpu` backend (any adapter, software included) and guards `readSync`.
 * Throws with {@link WEBGPU_HINT} when there is no adapter.
 */
export async function startWebGpu(): Promise<WebGpuProbe & { adapter: GpuAdapterFacts }> {
  const p = await probeWebGpu();
  if (!p.adapter) throw new Error(`webgpu: ${p.reason}. ${WEBGPU_HINT}`);
  await import("@tensorflow/tfjs-backend-webgpu");
  registerWebGpuKernels();
  if (!(await tf.setBackend("webgpu"))) {
    throw new Error(`webgpu: tf.setBackend("webgpu") failed on ${adapterLabel(p.adapter)}`);
  }
  await tf.ready();
  guardReadSync(tf.backend());
  return p as WebGpuProbe & { adapter: GpuAdapterFacts };
}
