/**
 * AdamW with decoupled weight decay, following `torch.optim.AdamW` (the optimizer of Hugging
 * Face's `run_*_no_trainer.py` scripts):
 *
 *     p ← p − lr·wd·p                      (decoupled decay, only for parameters that decay)
 *     m ← β1·m + (1 − β1)·g
 *     v ← β2·v + (1 − β2)·g²
 *     p ← p − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + ε)
 *
 * As in PyTorch, every parameter keeps its own step count `t`, and a parameter that received
 * no gradient in an update (absent from the gradient map) is skipped entirely: no decay, no
 * moment update, no step. That is also what makes a sparse update (only touched rows) possible
 * later without changing the semantics of the dense path.
 *
 * Parameters are grouped like the scripts do:
 * `no_decay = ["bias", "LayerNorm.weight"]; any(nd in name for nd in no_decay)` — a substring
 * test on the Hugging Face parameter name.
 *
 * Where the algorithm lives, from the learning rate to the arithmetic:
 * - here, `AdamW.step(grads, lr)`: the state (each parameter's step `t`, its moments as tensors or,
 *   with `momentsOnHost`, as JavaScript arrays), the decay group ({@link AdamW.decayFor}) and
 *   one update per parameter with the attributes `{ lr, beta1, beta2, epsilon, weightDecay,
 *   step }`;
 * - lib/backend/fused_adamw.ts, the update itself: `adamwCoefficients` turns those attributes
 *   into the update's scalars (`stepSize = lr / (1 − β1^t)`, `bc2Sqrt`, `keep = 1 − lr·wd`);
 *   `adamwUpdate` (moments as tensors) and `adamwUpdateHostMoments` (moments on the host) run
 *   the `ProjectAdamW` / `ProjectAdamWHostMoments` kernels, whose loop is `adamwValues`, or
 *   the same loop in C (`nk_adamw`, the native kernels of lib/backend/native.ts) when the native
 *   library is loaded; on webgpu a WGSL kernel (webgpu_kernels.ts), and on any other backend
 *   `adamwComposite` (tfjs ops, also the tests' reference);
 * - lib/training/checkpoint.ts: the state in a checkpoint (`exportState` / `importState` here).
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { adamwUpdate, adamwUpdateHostMoments } from "../backend/mod.ts";

/** Hugging Face's rule: no weight decay for biases and LayerNorm weights (substring match). */
export function defaultNoDecay(name: string): boolean {
  return name.includes("bias") || name.includes("LayerNorm.weight");
}

/**
 * AdamW's defaults: β1, β2 and ε of `torch.optim.AdamW`, weight decay 0 as the scripts'
 * `--weight_decay`. The report's optimizer text reads them from here.
 */
export const ADAMW_DEFAULTS = { weightDecay: 0, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 } as const;

/** AdamW hyper-parameters. */
export interface AdamWOptions {
  /** Decoupled weight decay coefficient for decaying parameters (default 0, as the scripts). */
  weightDecay?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** Returns true for parameter names exempt from weight decay (default `defaultNoDecay`). */
  noDecay?: (name: string) => boolean;
  /**
   * Keep the moments in JavaScript arrays instead of backend tensors (default false). On wasm
   * this takes 8 bytes per parameter out of the 4 GiB heap (0.78 GiB for bert-base). On cpu and
   * wasm one kernel reads the parameter and its gradient where they are and writes the new
   * parameter into the heap (`adamwUpdateHostMoments`). Same arithmetic as the fused kernel.
   */
  momentsOnHost?: boolean;
}

/** Per-parameter optimizer state. */
export interface AdamWParamState {
  /** Number of updates this parameter received. */
  step: number;
  /** First moment (exp_avg): a variable, or an array with `momentsOnHost`. */
  m: tf.Variable | Float32Array;
  /** Second moment (exp_avg_sq). */
  v: tf.Variable | Float32Array;
}

/** Plain-data form of the state, for checkpoints (moments as float32 arrays). */
export interface AdamWStateData {
  step: number;
  hyper: { weightDecay: number; beta1: number; beta2: number; epsilon: number };
  params: Record<string, { step: number; shape: number[]; m: Float32Array; v: Float32Array }>;
}

/** AdamW over a map of named variables (names are Hugging Face state-dict names). */
export class AdamW {
  readonly weightDecay: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly noDecay: (name: string) => boolean;
  /** Number of `step` calls so far. */
  stepCount = 0;
  /** Moments kept in JavaScript arrays (see {@link AdamWOptions.momentsOnHost}). */
  readonly momentsOnHost: boolean;
  private readonly params: Map<string, tf.Variable>;
  private readonly state = new Map<string, AdamWParamState>();

  constructor(params: Map<string, tf.Variable>, opts: AdamWOptions = {}) {
    this.params = params;
    this.weightDecay = opts.weightDecay ?? ADAMW_DEFAULTS.weightDecay;
    this.beta1 = opts.beta1 ?? ADAMW_DEFAULTS.beta1;
    this.beta2 = opts.beta2 ?? ADAMW_DEFAULTS.beta2;
    this.epsilon = opts.epsilon ?? ADAMW_DEFAULTS.epsilon;
    this.noDecay = opts.noDecay ?? defaultNoDecay;
    this.momentsOnHost = opts.momentsOnHost ?? false;
    if (!(this.beta1 >= 0 && this.beta1 < 1 && this.beta2 >= 0 && this.beta2 < 1)) {
      throw new Error(`AdamW: betas must be in [0, 1), got ${this.beta1}, ${this.beta2}`);
    }
    if (!(this.weightDecay >= 0)) {
      throw new Error(`AdamW: weight_decay must be >= 0, got ${this.weightDecay}`);
    }
  }

  /** Weight decay applied to the named parameter (0 for biases / LayerNorm weights). */
  decayFor(name: string): number {
    return this.noDecay(name) ? 0 : this.weightDecay;
  }

  /** Names of parameters in the decay group and in the no-decay group. */
  groups(): { decay: string[]; noDecay: string[] } {
    const decay: string[] = [];
    const noDecay: string[] = [];
    for (const name of this.params.keys()) (this.noDecay(name) ? noDecay : decay).push(name);
    return { decay, noDecay };
  }

  /** The state of one parameter (undefined until its first update). */
  paramState(name: string): AdamWParamState | undefined {
    return this.state.get(name);
  }

  /**
   * One update with learning rate `lr`. `grads` maps parameter names to gradients (same shape as
   * the parameter); parameters without an entry are not touched. Gradients are not disposed.
   */
  step(grads: Map<string, tf.Tensor>, lr: number): void {
    this.stepCount++;
    for (const [name, g] of grads) {
      const p = this.params.get(name);
      if (!p) throw new Error(`AdamW: gradient for unknown parameter '${name}'`);
      if (!sameShape(p.shape, g.shape)) {
        throw new Error(
          `AdamW: gradient shape [${g.shape}] differs from parameter '${name}' [${p.shape}]`,
        );
      }
      let s = this.state.get(name);
      if (!s) {
        s = this.momentsOnHost
          ? { step: 0, m: new Float32Array(p.size), v: new Float32Array(p.size) }
          : {
            // The variable shares the zeros' data; tidy releases the temporary handle.
            step: 0,
            m: tf.tidy(() => tf.variable(tf.zerosLike(p), false)),
            v: tf.tidy(() => tf.variable(tf.zerosLike(p), false)),
          };
        this.state.set(name, s);
      }
      s.step++;
      const attrs = {
        lr,
        beta1: this.beta1,
        beta2: this.beta2,
        epsilon: this.epsilon,
        weightDecay: this.decayFor(name),
        step: s.step,
      };
      if (s.m instanceof Float32Array) {
        // Moments updated in place (each element is read before it is written), by the
        // ProjectAdamWHostMoments kernel of lib/backend/fused_adamw.ts.
        const np = adamwUpdateHostMoments(p, g, s.m, s.v as Float32Array, attrs);
        p.assign(np);
        np.dispose();
        continue;
      }
      // One fused pass per parameter on cpu/wasm/webgpu (the ProjectAdamW kernel of
      // lib/backend/fused_adamw.ts, when registered by initBackend), else the same update
      // composed from tfjs ops (adamwComposite).
      const r = adamwUpdate(p, s.m, s.v as tf.Variable, g, attrs);
      p.assign(r.p);
      s.m.assign(r.m);
      (s.v as tf.Variable).assign(r.v);
      tf.dispose([r.p, r.m, r.v]);
    }
  }

  /** Copies the state out as plain arrays (for a checkpoint). */
  async exportState(): Promise<AdamWStateData> {
    const params: AdamWStateData["params"] = {};
    for (const [name, s] of this.state) {
      const read = async (t: tf.Variable | Float32Array) =>
        t instanceof Float32Array ? t.slice() : (await t.data()) as Float32Array;
      params[name] = {
        step: s.step,
        shape: this.params.get(name)!.shape.slice(),
        m: await read(s.m),
        v: await read(s.v),
      };
    }
    return {
      step: this.stepCount,
      hyper: {
        weightDecay: this.weightDecay,
        beta1: this.beta1,
        beta2: this.beta2,
        epsilon: this.epsilon,
      },
      params,
    };
  }

  /** Replaces the state with one from `exportState` (hyper-parameters must match). */
  importState(data: AdamWStateData): void {
    const h = data.hyper;
    if (
      h.weightDecay !== this.weightDecay || h.beta1 !== this.beta1 || h.beta2 !== this.beta2 ||
      h.epsilon !== this.epsilon
    ) {
      throw new Error(
        `AdamW: checkpoint hyper-parameters ${JSON.stringify(h)} differ from this optimizer's ` +
          JSON.stringify({
            weightDecay: this.weightDecay,
            beta1: this.beta1,
            beta2: this.beta2,
            epsilon: this.epsilon,
          }),
      );
    }
    for (const [name, ps] of Object.entries(data.params)) {
      const p = this.params.get(name);
      if (!p) throw new Error(`AdamW: checkpoint has state for unknown parameter '${name}'`);
      if (!sameShape(p.shape, ps.shape)) {
        throw new Error(
          `AdamW: checkpoint state for '${name}' has shape [${ps.shape}], parameter is [${p.shape}]`,
        );
      }
    }
    this.disposeState();
    const load = (a: Float32Array, shape: number[]) =>
      this.momentsOnHost
        ? Float32Array.from(a)
        : tf.tidy(() => tf.variable(tf.tensor(a, shape, "float32"), false));
    for (const [name, ps] of Object.entries(data.params)) {
      this.state.set(name, { step: ps.step, m: load(ps.m, ps.shape), v: load(ps.v, ps.shape) });
    }
    this.stepCount = data.step;
  }

  private disposeState(): void {
    for (const s of this.state.values()) {
      if (!(s.m instanceof Float32Array)) s.m.dispose();
      if (!(s.v instanceof Float32Array)) s.v.dispose();
    }
    this.state.clear();
  }

  /** Releases the moment tensors. */
  dispose(): void {
    this.disposeState();
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
