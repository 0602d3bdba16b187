/**
 * The backend chooser's rules as a pure function of what was detected, so they can be tested
 * with stubbed adapter info. `initBackend` (mod.ts) walks the returned order and takes the first
 * candidate that loads.
 * @module
 */
import { adapterLabel, type WebGpuProbe } from "./webgpu.ts";

/** One thing the chooser can try, in the order it tries them. */
export type Candidate = "tfjs-node-gpu" | "webgpu" | "tfjs-node" | "wasm" | "cpu";

/** The automatic order and why some candidates were left out. */
export interface BackendPlan {
  order: Candidate[];
  /** One line per candidate left out, e.g. `webgpu: software adapter ... not chosen automatically`. */
  skipped: string[];
}

/**
 * Automatic order: tfjs-node-gpu (native TensorFlow with CUDA, when it loads and sees a GPU) →
 * webgpu on a hardware adapter → tfjs-node (native CPU) → wasm → cpu.
 * A software adapter (lavapipe/llvmpipe, SwiftShader, WARP) is never chosen automatically: it is
 * slower than wasm (1024×512×512 matMul on the 2-core reference machine: lavapipe 1.3–6 GFLOP/s,
 * wasm 12–17 with XNNPACK, ~70 through OpenBLAS); `TFJS_BACKEND=webgpu` forces it.
 */
export function planBackends(webgpu: WebGpuProbe): BackendPlan {
  const order: Candidate[] = ["tfjs-node-gpu"];
  const skipped: string[] = [];
  if (webgpu.adapter && !webgpu.software) order.push("webgpu");
  else if (webgpu.adapter) {
    skipped.push(
      `webgpu: ${adapterLabel(webgpu.adapter)} is a software adapter, slower than wasm; ` +
        `not chosen automatically (TFJS_BACKEND=webgpu forces it)`,
    );
  } else skipped.push(`webgpu: ${webgpu.reason}`);
  order.push("tfjs-node", "wasm", "cpu");
  return { order, skipped };
}
