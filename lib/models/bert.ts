/**
 * BERT encoder and task heads in TensorFlow.js, with Hugging Face's parameter names, shapes
 * (PyTorch layout: Linear weights are `[out, in]`) and initialisation.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { createRng, deriveSeed } from "../util/random.ts";
// One forward and one backward kernel each on cpu/wasm once the backend registered them
// (initBackend/useBackend); tfjs ops otherwise. ~12% off an M-size training step on wasm.
import { addLayerNorm, gelu, geluFusedHere, layerNorm } from "../backend/fused_ops.ts";
import { dropout } from "../backend/fused_dropout.ts";
import { blasFusedBiasActive, denseGelu } from "../backend/blas.ts";
import { attention } from "../backend/fused_attention.ts";
import type { BertConfig } from "./config.ts";

/** Which head sits on the encoder. */
export type Task = "base" | "mc" | "qa" | "mlm";

/** All tasks. */
export const TASKS: readonly Task[] = ["base", "mc", "qa", "mlm"];

/** Hugging Face class name for each task (used in `architectures` and messages). */
export const TASK_ARCHITECTURES: Record<Task, string> = {
  base: "BertModel",
  mc: "BertForMultipleChoice",
  qa: "BertForQuestionAnswering",
  mlm: "BertForMaskedLM",
};

/** Model inputs: int32 `[B,T]` (or `[B,C,T]` for multiple choice). */
export interface ModelInputs {
  inputIds: tf.Tensor;
  tokenTypeIds?: tf.Tensor;
  attentionMask?: tf.Tensor;
}

/** Options of {@link BertModel.forward}. */
export interface ForwardOptions {
  /** Apply dropout (default false). */
  training?: boolean;
  /** Seed for the dropout masks of this call (default 0). */
  seed?: number;
  /** MLM only: flat indices into `B*T` of the rows whose logits are wanted (int32 `[N]`). */
  maskedPositions?: tf.Tensor;
}

/**
 * Output of the bare encoder (`task` "base"; HF `BaseModelOutputWithPooling`): the last hidden
 * state `[B,T,H]` and the pooler's tanh(dense(first token)) `[B,H]`.
 */
export interface BaseOutput {
  lastHiddenState: tf.Tensor;
  poolerOutput: tf.Tensor;
}

/** Output of the multiple-choice head (HF `MultipleChoiceModelOutput`): `logits [B,C]`. */
export interface McOutput {
  logits: tf.Tensor;
}

/**
 * Output of the extractive-QA head (HF `QuestionAnsweringModelOutput`): `startLogits` and
 * `endLogits`, each `[B,T]`.
 */
export interface QaOutput {
  startLogits: tf.Tensor;
  endLogits: tf.Tensor;
}

/**
 * Output of the masked-LM head (HF `MaskedLMOutput`): `logits [B,T,V]`, or `[N,V]` for the
 * rows at `maskedPositions` when given.
 */
export interface MlmOutput {
  logits: tf.Tensor;
}

/** The output type of each head. */
export interface TaskOutputs {
  base: BaseOutput;
  mc: McOutput;
  qa: QaOutput;
  mlm: MlmOutput;
}

/**
 * What {@link BertModel.forward} returns for task `T` (for a model whose task is only known at
 * run time, the union of the four).
 */
export type ModelOutput<T extends Task = Task> = TaskOutputs[T];

/** How a parameter is initialised (Hugging Face `_init_weights`). */
export type InitKind = "normal" | "zeros" | "ones" | "embedding";

/** One expected parameter: Hugging Face name (with `bert.` prefix), shape, initialisation. */
export interface ParamSpec {
  name: string;
  shape: number[];
  init: InitKind;
}

/** Whether a task's Hugging Face class has the pooler (BertForQA / BertForMaskedLM do not). */
export function hasPooler(task: Task): boolean {
  return task === "base" || task === "mc";
}

/** The parameters a model of `config` and `task` has, in Hugging Face state-dict order. */
export function parameterSpecs(config: BertConfig, task: Task): ParamSpec[] {
  const H = config.hidden_size, I = config.intermediate_size;
  const out: ParamSpec[] = [];
  const linear = (prefix: string, o: number, i: number) => {
    out.push({ name: `${prefix}.weight`, shape: [o, i], init: "normal" });
    out.push({ name: `${prefix}.bias`, shape: [o], init: "zeros" });
  };
  const ln = (prefix: string) => {
    out.push({ name: `${prefix}.weight`, shape: [H], init: "ones" });
    out.push({ name: `${prefix}.bias`, shape: [H], init: "zeros" });
  };
  out.push({
    name: "bert.embeddings.word_embeddings.weight",
    shape: [config.vocab_size, H],
    init: "embedding",
  });
  out.push({
    name: "bert.embeddings.position_embeddings.weight",
    shape: [config.max_position_embeddings, H],
    init: "normal",
  });
  out.push({
    name: "bert.embeddings.token_type_embeddings.weight",
    shape: [config.type_vocab_size, H],
    init: "normal",
  });
  ln("bert.embeddings.LayerNorm");
  for (let l = 0; l < config.num_hidden_layers; l++) {
    const p = `bert.encoder.layer.${l}`;
    linear(`${p}.attention.self.query`, H, H);
    linear(`${p}.attention.self.key`, H, H);
    linear(`${p}.attention.self.value`, H, H);
    linear(`${p}.attention.output.dense`, H, H);
    ln(`${p}.attention.output.LayerNorm`);
    linear(`${p}.intermediate.dense`, I, H);
    linear(`${p}.output.dense`, H, I);
    ln(`${p}.output.LayerNorm`);
  }
  if (hasPooler(task)) linear("bert.pooler.dense", H, H);
  if (task === "mc") linear("classifier", 1, H);
  if (task === "qa") linear("qa_outputs", 2, H);
  if (task === "mlm") {
    // The decoder weight is tied to the word embeddings (not a separate parameter).
    linear("cls.predictions.transform.dense", H, H);
    ln("cls.predictions.transform.LayerNorm");
    out.push({ name: "cls.predictions.bias", shape: [config.vocab_size], init: "zeros" });
  }
  return out;
}

/**
 * Values of one parameter initialised as Hugging Face does: Linear/Embedding weights
 * normal(0, initializer_range), the word-embedding row of `pad_token_id` zero (nn.Embedding
 * padding_idx), biases zero, LayerNorm weight one. `seed` is the parameter's own seed.
 */
export function initialValues(spec: ParamSpec, config: BertConfig, seed: number): Float32Array {
  const size = spec.shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(size);
  if (spec.init === "ones") v.fill(1);
  else if (spec.init === "normal" || spec.init === "embedding") {
    const rng = createRng(seed);
    const std = config.initializer_range;
    // Marsaglia's polar method: two normals per accepted pair, no trigonometry.
    for (let i = 0; i < size; i += 2) {
      let x = 0, y = 0, q = 0;
      do {
        x = 2 * rng.next() - 1;
        y = 2 * rng.next() - 1;
        q = x * x + y * y;
      } while (q >= 1 || q === 0);
      const f = Math.sqrt((-2 * Math.log(q)) / q) * std;
      v[i] = x * f;
      if (i + 1 < size) v[i + 1] = y * f;
    }
    if (spec.init === "embedding") {
      const H = spec.shape[1];
      v.fill(0, config.pad_token_id * H, (config.pad_token_id + 1) * H);
    }
  }
  return v;
}

/** Mask value added to attention scores of padded keys: float32's lowest value, as HF uses
 * `torch.finfo(dtype).min`. Softmax subtracts the row max first, so it never yields NaN while a
 * row has at least one real token; a fully padded row becomes uniform, as in PyTorch. */
const MASK_VALUE = -3.4028234663852886e38;

/** Row lookup `table[ids]` whose gradient is a scatter-add (ScatterNd sums duplicates); tfjs's
 * own Gather gradient needs UnsortedSegmentSum, which the wasm backend lacks. Rows looked up at
 * `paddingIdx` get no gradient, like `nn.Embedding(padding_idx=...)`. */
function lookupRows(table: tf.Tensor, ids: tf.Tensor, paddingIdx?: number): tf.Tensor2D {
  const shape = table.shape;
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const t = args[0] as tf.Tensor;
    const save = args[1] as tf.GradSaveFunc;
    const idx = tf.cast(ids, "int32");
    save([idx]);
    return {
      value: tf.gather(t, idx),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const g = paddingIdx === undefined
          ? dy
          : tf.mul(dy, tf.expandDims(tf.cast(tf.notEqual(saved[0], paddingIdx), "float32"), 1));
        return tf.scatterND(tf.expandDims(saved[0], 1), g, shape);
      },
    };
  });
  return f(table) as tf.Tensor2D;
}

/** `x W^T + b` for a PyTorch-layout Linear weight `[out, in]`. `x` is 2-D.
 * `fuseBias` (evaluation, on the project's BLAS kernels only: {@link blasFusedBiasActive}): one
 * `tf.fused.matMul` whose kernel adds the bias in place to the product, with the same float32 adds
 * as the separate `tf.add` (same bits), one pass and one tensor fewer per dense layer. Otherwise,
 * and always in training, `matMul` then `add`: tfjs-backend-wasm 4.22's own fused kernel broadcasts
 * the bias wrongly when `transposeB` is set (rows after the first get wrong values). */
function linear(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, fuseBias = false): tf.Tensor2D {
  if (fuseBias) {
    return tf.fused.matMul({
      a: x as tf.Tensor2D,
      b: w as tf.Tensor2D,
      transposeB: true,
      bias: b,
    }) as tf.Tensor2D;
  }
  return tf.add(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D, false, true), b) as tf.Tensor2D;
}

/** `gelu(linear(x, w, b, fuseBias))`; with `fuseBias` where GELU is the fused kernel's
 * ({@link geluFusedHere}) the bias add and GELU run as one pass after the product
 * ({@link denseGelu}, same bits). */
function linearGelu(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, fuseBias = false): tf.Tensor2D {
  if (fuseBias && geluFusedHere()) {
    return denseGelu(x as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D);
  }
  return gelu(linear(x, w, b, fuseBias));
}

/** {@link dropout} with the mask seeded by `seed` and a tag naming the place (layer, sublayer),
 * so each place draws its own mask and a recomputation draws the same one; a no-op at rate 0
 * (evaluation passes rate 0). */
function dropoutAt<T extends tf.Tensor>(
  x: T,
  rate: number,
  seed: number,
  ...tag: (string | number)[]
): T {
  return rate > 0 ? dropout(x, rate, deriveSeed(seed, ...tag)) : x;
}

/** What each piece of an encoder layer needs besides its weights. */
interface LayerContext {
  /** Sequences in the batch (questions × candidates for MC). */
  N: number;
  /** Tokens per sequence. */
  T: number;
  /** `num_attention_heads`. */
  heads: number;
  /** `layer_norm_eps`. */
  eps: number;
  /** `hidden_dropout_prob` in training, 0 in evaluation. */
  hiddenDropout: number;
  /** `attention_probs_dropout_prob` in training, 0 in evaluation. */
  attentionDropout: number;
  /** Seed of this forward pass's dropout masks. */
  seed: number;
  /** `[N, 1, 1, T]`: 0 at tokens, {@link MASK_VALUE} at padding; null without a mask. */
  additiveMask: tf.Tensor | null;
  /** Dense layers add their bias inside the matMul kernel (evaluation only; see `linear`). */
  fuseBias: boolean;
  /** Evaluation: self-attention as one kernel, and each residual add with its LayerNorm, where
   * they run (neither has a gradient). */
  fuseAttention: boolean;
}

/** A layer's parameter by its name under `bert.encoder.layer.<l>.` (e.g. `output.dense.bias`). */
type LayerWeights = (name: string) => tf.Tensor;

/**
 * Multi-head self-attention (HF `BertSelfAttention`): `softmax(q kᵀ / √d + mask) v` per head
 * (`attention` in lib/backend: one fused kernel in evaluation where it runs, the composed ops
 * otherwise). Three matMuls rather than one fused QKV matMul: splitting the fused result (or
 * slicing a 5-D transpose) costs more than it saves — tf.split is very slow on cpu, 5-D
 * transposes on wasm.
 */
function selfAttention(w: LayerWeights, x: tf.Tensor2D, c: LayerContext, l: number): tf.Tensor2D {
  const proj = (name: string) =>
    linear(
      x,
      w(`attention.self.${name}.weight`),
      w(`attention.self.${name}.bias`),
      c.fuseBias,
    ); // [N*T, H]
  return attention(
    proj("query"), // [N*T, H]
    proj("key"), // [N*T, H]
    proj("value"), // [N*T, H]
    c.additiveMask, // [N, 1, 1, T]
    { n: c.N, t: c.T, heads: c.heads },
    {
      fused: c.fuseAttention,
      dropProbs: c.attentionDropout > 0
        ? (probs) => dropoutAt(probs, c.attentionDropout, c.seed, l, "attn") // [N, heads, T, T]
        : undefined,
    },
  ); // [N*T, H]
}

/**
 * Dense, dropout, residual, LayerNorm: HF's `BertSelfOutput` (`prefix` "attention.output", after
 * the attention) and `BertOutput` ("output", after the feed-forward).
 */
function addAndNorm(
  w: LayerWeights,
  prefix: string,
  h: tf.Tensor2D,
  residual: tf.Tensor2D,
  c: LayerContext,
  tag: (string | number)[],
): tf.Tensor2D {
  const out = dropoutAt(
    linear(h, w(`${prefix}.dense.weight`), w(`${prefix}.dense.bias`), c.fuseBias), // [N*T, H]
    c.hiddenDropout,
    c.seed,
    ...tag,
  ); // [N*T, H]
  return addLayerNorm(
    out, // [N*T, H]
    residual, // [N*T, H]
    w(`${prefix}.LayerNorm.weight`),
    w(`${prefix}.LayerNorm.bias`),
    c.eps,
    c.fuseAttention, // evaluation: the add and the norm in one pass
  ); // [N*T, H]
}

/** One encoder layer (HF `BertLayer`): self-attention, then the feed-forward, each with its
 * residual LayerNorm. `x`: `[N*T, H]` → `[N*T, H]`. */
function encoderLayer(w: LayerWeights, x: tf.Tensor2D, c: LayerContext, l: number): tf.Tensor2D {
  const context = selfAttention(w, x, c, l); // [N*T, H]
  const attn = addAndNorm(w, "attention.output", context, x, c, [l, "attn_out"]); // [N*T, H]
  const inter = linearGelu(
    attn,
    w("intermediate.dense.weight"),
    w("intermediate.dense.bias"),
    c.fuseBias,
  ); // [N*T, I]
  return addAndNorm(w, "output", inter, attn, c, [l, "ffn"]); // [N*T, H]
}

/**
 * BERT encoder plus one task head. Parameters live in `variables`, keyed by HF names. `T` is the
 * head, as Hugging Face's class is (`BertModel<"qa">` ~ `BertForQuestionAnswering`): it types
 * the outputs of {@link BertModel.forward}.
 */
export class BertModel<T extends Task = Task> {
  /** Model configuration. */
  readonly config: BertConfig;
  /** Task head. */
  readonly task: T;
  /** Trainable parameters keyed by Hugging Face state-dict names, PyTorch layout. */
  readonly variables: Map<string, tf.Variable>;
  /** Recompute each encoder layer's activations in the backward pass instead of keeping them
   *  (Hugging Face `--gradient_checkpointing`): same gradients, far less memory, one more
   *  forward pass per step. */
  gradientCheckpointing = false;
  private disposed = false;

  /** Wraps existing variables (use {@link createFromConfig} or `loadPretrained` instead). */
  constructor(config: BertConfig, task: T, variables: Map<string, tf.Variable>) {
    this.config = config;
    this.task = task;
    this.variables = variables;
    for (const spec of parameterSpecs(config, task)) {
      const v = variables.get(spec.name);
      if (!v) throw new Error(`BertModel: missing parameter ${spec.name}`);
      if (v.shape.join(",") !== spec.shape.join(",")) {
        throw new Error(
          `BertModel: parameter ${spec.name} has shape [${v.shape}], expected [${spec.shape}]`,
        );
      }
    }
  }

  /** Hugging Face class name of this model (e.g. "BertForQuestionAnswering"). */
  get architecture(): string {
    return TASK_ARCHITECTURES[this.task];
  }

  private p(name: string): tf.Variable {
    const v = this.variables.get(name);
    if (!v) throw new Error(`BertModel: missing parameter ${name}`);
    return v;
  }

  /**
   * Runs the model; every intermediate tensor is released (only the outputs stay).
   *
   * @example QA logits for two sequences of five tokens
   * ```ts
   * import * as tf from "@tensorflow/tfjs";
   * import { createFromConfig, makeBertConfig } from "./mod.ts";
   * import assert from "node:assert/strict";
   *
   * await tf.setBackend("cpu");
   * const config = makeBertConfig({
   *   vocab_size: 30, hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2,
   *   intermediate_size: 32, max_position_embeddings: 8,
   * });
   * const model = createFromConfig(config, "qa", 42);
   * const inputIds = tf.tensor2d([[2, 7, 3, 9, 3], [2, 8, 3, 5, 0]], undefined, "int32");
   * const attentionMask = tf.tensor2d([[1, 1, 1, 1, 1], [1, 1, 1, 1, 0]], undefined, "int32");
   * const out = model.forward({ inputIds, attentionMask });
   * assert.deepEqual(out.startLogits.shape, [2, 5]); // [batch, tokens]
   * assert.deepEqual(out.endLogits.shape, [2, 5]);
   * tf.dispose([inputIds, attentionMask, out.startLogits, out.endLogits]);
   * model.dispose();
   * ```
   */
  forward(inputs: ModelInputs, opts: ForwardOptions = {}): ModelOutput<T> {
    if (this.disposed) throw new Error("BertModel.forward: model was disposed");
    // forwardImpl switches on `this.task`, which TypeScript cannot relate to `T`: the head's
    // own output type is restored here.
    return tf.tidy(() =>
      this.forwardImpl(inputs, opts) as unknown as tf.TensorContainer
    ) as unknown as ModelOutput<T>;
  }

  private forwardImpl(inputs: ModelInputs, opts: ForwardOptions): ModelOutput {
    const cfg = this.config;
    const training = opts.training ?? false;
    const seed = opts.seed ?? 0;
    const shape = inputs.inputIds.shape;
    const wantRank = this.task === "mc" ? 3 : 2;
    if (shape.length !== wantRank) {
      throw new Error(
        `BertModel.forward(${this.task}): inputIds must have rank ${wantRank}, got [${shape}]`,
      );
    }
    const T = shape[shape.length - 1];
    const N = shape.slice(0, -1).reduce((a, b) => a * b, 1);
    if (T > cfg.max_position_embeddings) {
      throw new Error(
        `BertModel.forward: sequence length ${T} exceeds max_position_embeddings ${cfg.max_position_embeddings}`,
      );
    }
    for (
      const [k, t] of [["tokenTypeIds", inputs.tokenTypeIds], [
        "attentionMask",
        inputs.attentionMask,
      ]] as const
    ) {
      if (t && t.shape.join(",") !== shape.join(",")) {
        throw new Error(`BertModel.forward: ${k} has shape [${t.shape}], inputIds [${shape}]`);
      }
    }
    const ids = tf.reshape(inputs.inputIds, [N * T]) as tf.Tensor1D;
    const types = inputs.tokenTypeIds
      ? tf.reshape(inputs.tokenTypeIds, [N * T]) as tf.Tensor1D
      : tf.zeros([N * T], "int32") as tf.Tensor1D;
    const mask = inputs.attentionMask
      ? tf.reshape(tf.cast(inputs.attentionMask, "float32"), [N, 1, 1, T])
      : null;
    const fuseBias = !training && blasFusedBiasActive();
    const hidden = this.encode(ids, types, mask, N, T, training, seed, fuseBias); // [N*T, H]
    const H = cfg.hidden_size;

    switch (this.task) {
      case "base":
      case "mc": {
        const first = tf.reshape(
          tf.slice(tf.reshape(hidden, [N, T, H]), [0, 0, 0], [N, 1, H]),
          [N, H],
        ) as tf.Tensor2D;
        const pooled = tf.tanh(
          linear(
            first,
            this.p("bert.pooler.dense.weight"),
            this.p("bert.pooler.dense.bias"),
            fuseBias,
          ),
        );
        if (this.task === "base") {
          return { lastHiddenState: tf.reshape(hidden, [...shape, H]), poolerOutput: pooled };
        }
        const rate = training ? cfg.classifier_dropout ?? cfg.hidden_dropout_prob : 0;
        const logits = linear(
          dropoutAt(pooled, rate, seed, "classifier"),
          this.p("classifier.weight"),
          this.p("classifier.bias"),
          fuseBias,
        );
        return { logits: tf.reshape(logits, shape.slice(0, -1)) };
      }
      case "qa": {
        const logits = linear(
          hidden,
          this.p("qa_outputs.weight"),
          this.p("qa_outputs.bias"),
          fuseBias,
        );
        // Columns through one transpose and two contiguous slices: the same values as
        // tf.split(logits, 2, 1), whose strided slices take ~0.6 ms of S's 21 ms forward on wasm.
        const [s, e] = tf.unstack(tf.transpose(logits)); // [N*T] each
        return { startLogits: tf.reshape(s, [N, T]), endLogits: tf.reshape(e, [N, T]) };
      }
      case "mlm": {
        let rows: tf.Tensor2D = hidden;
        if (opts.maskedPositions) {
          rows = lookupRows(hidden, tf.reshape(opts.maskedPositions, [-1]) as tf.Tensor1D);
        }
        const p = "cls.predictions.transform";
        const t = layerNorm(
          linearGelu(rows, this.p(`${p}.dense.weight`), this.p(`${p}.dense.bias`), fuseBias),
          this.p(`${p}.LayerNorm.weight`),
          this.p(`${p}.LayerNorm.bias`),
          cfg.layer_norm_eps,
        );
        const logits = linear(
          t,
          this.p("bert.embeddings.word_embeddings.weight"),
          this.p("cls.predictions.bias"),
          fuseBias,
        );
        if (opts.maskedPositions) return { logits };
        return { logits: tf.reshape(logits, [...shape, cfg.vocab_size]) };
      }
    }
  }

  /** Embeddings + encoder layers; returns the last hidden state as `[N*T, H]`. */
  private encode(
    ids: tf.Tensor1D,
    types: tf.Tensor1D,
    mask: tf.Tensor | null,
    N: number,
    T: number,
    training: boolean,
    seed: number,
    fuseBias: boolean,
  ): tf.Tensor2D {
    const cfg = this.config;
    const H = cfg.hidden_size;
    const eps = cfg.layer_norm_eps;
    const hRate = training ? cfg.hidden_dropout_prob : 0;

    // nn.Embedding(vocab, hidden, padding_idx=pad_token_id): the pad row is never trained.
    const words = lookupRows(
      this.p("bert.embeddings.word_embeddings.weight"),
      ids,
      cfg.pad_token_id,
    );
    const tt = lookupRows(this.p("bert.embeddings.token_type_embeddings.weight"), types);
    const pos = tf.slice(this.p("bert.embeddings.position_embeddings.weight"), [0, 0], [T, H]);
    let emb = tf.add(
      tf.reshape(tf.add(words, tt), [N, T, H]),
      tf.reshape(pos, [1, T, H]),
    );
    emb = tf.reshape(emb, [N * T, H]);
    let x = layerNorm(
      emb as tf.Tensor2D,
      this.p("bert.embeddings.LayerNorm.weight"),
      this.p("bert.embeddings.LayerNorm.bias"),
      eps,
    );
    x = dropoutAt(x, hRate, seed, "emb");
    const ctx: LayerContext = {
      N,
      T,
      heads: cfg.num_attention_heads,
      eps,
      hiddenDropout: hRate,
      attentionDropout: training ? cfg.attention_probs_dropout_prob : 0,
      seed,
      additiveMask: mask ? tf.mul(tf.sub(1, mask), MASK_VALUE) : null, // [N, 1, 1, T]
      fuseBias,
      fuseAttention: !training,
    };

    for (let l = 0; l < cfg.num_hidden_layers; l++) {
      // One tidy per layer: a layer's temporaries are released as soon as it is done (what the
      // backward pass needs is kept by the gradient tape). With a single tidy around the whole
      // forward, bert-base at batch 8 × 384 outgrew the 4 GB wasm heap.
      const w: LayerWeights = (name) => this.p(`bert.encoder.layer.${l}.${name}`);
      const run = (h: tf.Tensor2D, m: tf.Tensor | null) =>
        encoderLayer(w, h, { ...ctx, additiveMask: m }, l);
      x = tf.tidy(() =>
        this.gradientCheckpointing
          ? this.checkpointed(l, run, x, ctx.additiveMask)
          : run(x, ctx.additiveMask)
      ); // [N*T, H]
    }
    return x;
  }

  /**
   * Gradient checkpointing of one encoder layer (Hugging Face's `gradient_checkpointing`): the
   * forward keeps only the layer's input; the backward runs the layer again (same dropout seed,
   * so the same masks) under a fresh tape and back-propagates `dy` through it. Only one layer's
   * activations are alive at a time, at the cost of a second forward pass.
   */
  private checkpointed(
    l: number,
    run: (h: tf.Tensor2D, m: tf.Tensor | null) => tf.Tensor2D,
    x: tf.Tensor2D,
    additiveMask: tf.Tensor | null,
  ): tf.Tensor2D {
    const prefix = `bert.encoder.layer.${l}.`;
    const params = [...this.variables.entries()]
      .filter(([name, v]) => name.startsWith(prefix) && v.trainable)
      .map(([, v]) => v);
    const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const save = args[args.length - 1] as tf.GradSaveFunc;
      const input = args[0] as tf.Tensor2D;
      save(additiveMask ? [input, additiveMask] : [input]);
      return {
        value: run(input, additiveMask),
        gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
          // tfjs's engine.gradients() called during a backward pass replaces the outer pass's
          // tape and then sets it to null when done; restore it so the outer pass can finish.
          const state = tf.engine().state as unknown as { activeTape: unknown };
          const outerTape = state.activeTape;
          try {
            return tf.grads((h: tf.Tensor, ..._p: tf.Tensor[]) =>
              run(h as tf.Tensor2D, saved[1] ?? null)
            )([saved[0], ...params], dy as tf.Tensor);
          } finally {
            state.activeTape = outerTape;
          }
        },
      };
    });
    return f(x, ...params) as tf.Tensor2D;
  }

  /** Number of parameters. */
  numParameters(): number {
    let n = 0;
    for (const v of this.variables.values()) n += v.size;
    return n;
  }

  /** Releases every variable. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const v of this.variables.values()) v.dispose();
  }
}

/**
 * A model with every weight freshly initialised as Hugging Face does (see {@link initialValues}),
 * reproducible from `seed` (each parameter draws from `deriveSeed(seed, name)`).
 */
export function createFromConfig<T extends Task>(
  config: BertConfig,
  task: T,
  seed: number,
): BertModel<T> {
  if (!TASKS.includes(task)) throw new Error(`createFromConfig: unknown task ${task}`);
  const vars = new Map<string, tf.Variable>();
  try {
    for (const spec of parameterSpecs(config, task)) {
      const values = initialValues(spec, config, deriveSeed(seed, spec.name));
      vars.set(spec.name, makeVariable(values, spec.shape));
    }
  } catch (e) {
    for (const v of vars.values()) v.dispose();
    throw e;
  }
  return new BertModel(config, task, vars);
}

/** A trainable float32 variable holding `values` (the temporary tensor is released). */
export function makeVariable(values: Float32Array, shape: number[]): tf.Variable {
  const t = tf.tensor(values, shape, "float32");
  const v = tf.variable(t, true);
  t.dispose();
  return v;
}
