/**
 * A {@link BertModel} written as an ONNX graph with the math of `lib/models/bert.ts` (itself
 * Hugging Face's `modeling_bert.py`): exact GELU through `Erf`, LayerNorm with the config's
 * `layer_norm_eps`, the attention mask added as HF's extended mask `(1 − mask) · float32 min`.
 *
 * Inputs and outputs are named as Hugging Face's ONNX exports (optimum) name them, so
 * transformers.js and onnxruntime users find what they expect: int64 `input_ids`,
 * `attention_mask`, `token_type_ids` of `[batch_size, sequence_length]` (`[batch_size,
 * num_choices, sequence_length]` for multiple choice), every axis dynamic; outputs
 * `start_logits`/`end_logits` (QA), `logits` `[batch_size, num_choices]` (MC) or
 * `[batch_size, sequence_length, vocab_size]` (MLM).
 *
 * Opset 17 (first with `LayerNormalization`), IR version 8: onnxruntime's CPU provider and
 * onnxruntime-web's wasm backend both run every operator used.
 * @module
 */
import type { BertModel, Task } from "../models/mod.ts";
import { ONNX_INPUT_NAMES } from "./feeds.ts";
import { GraphBuilder } from "./graph.ts";
import { DataType, type ModelProto } from "./onnx_proto.ts";
import { quantizeColumns } from "./quantize.ts";

/** Operator set version of the exported graphs. */
export const ONNX_OPSET = 17;
/** IR version that goes with {@link ONNX_OPSET}. */
export const ONNX_IR_VERSION = 8;
/** `producer_name` of the exported models. */
export const ONNX_PRODUCER = "bert-qa-zh";

/** The heads an ONNX export can carry. */
export const EXPORT_TASKS: readonly Task[] = ["qa", "mc", "mlm"];

/** Options of {@link bertToOnnx}. */
export interface BertOnnxOptions {
  /** `"int8"`: dynamic quantization of the encoder's and pooler's Linear weights. */
  quantize?: "int8";
}

/** Same value as bert.ts's attention mask value (`torch.finfo(float32).min`). */
const MASK_VALUE = -3.4028234663852886e38;

/** A Linear layer `x W^T + b` over the last axis, fp32 or int8-quantized. */
type Linear = (x: string, prefix: string) => string;

/** The graph's weights: read from the model's variables, PyTorch layout `[out, in]`. */
function weights(model: BertModel) {
  const get = (name: string): Float32Array => {
    const v = model.variables.get(name);
    if (!v) throw new Error(`bertToOnnx: the model has no parameter ${name}`);
    return v.dataSync() as Float32Array;
  };
  const shape = (name: string): number[] => model.variables.get(name)!.shape;
  /** `[out, in]` → `[in, out]` (ONNX MatMul's right operand). */
  const transposed = (name: string): { values: Float32Array; K: number; N: number } => {
    const [N, K] = shape(name);
    const w = get(name);
    const t = new Float32Array(K * N);
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) t[k * N + n] = w[n * K + k];
    return { values: t, K, N };
  };
  return { get, shape, transposed };
}

/** Linear layers: MatMul + Add, or DynamicQuantizeLinear → MatMulInteger → rescale + Add. */
function linears(g: GraphBuilder, model: BertModel) {
  const w = weights(model);
  const fp32: Linear = (x, prefix) => {
    const { values, K, N } = w.transposed(`${prefix}.weight`);
    const W = g.initializer(`${prefix}.weight`, values, [K, N]);
    const b = g.initializer(`${prefix}.bias`, w.get(`${prefix}.bias`), [N]);
    return g.op("Add", [g.op("MatMul", [x, W]), b]);
  };
  // The pattern of onnxruntime's quantize_dynamic: activations to uint8 per call, weights int8
  // per output column, the int32 product scaled back by (activation scale × column scale).
  const int8: Linear = (x, prefix) => {
    const { values, K, N } = w.transposed(`${prefix}.weight`);
    const { q, scales } = quantizeColumns(values, K, N);
    const W = g.initializer(`${prefix}.weight_quantized`, q, [K, N]);
    const s = g.initializer(`${prefix}.weight_scale`, scales, [N]);
    const b = g.initializer(`${prefix}.bias`, w.get(`${prefix}.bias`), [N]);
    const [xq, xScale, xZero] = g.opN("DynamicQuantizeLinear", [x], 3);
    const product = g.op("Cast", [g.op("MatMulInteger", [xq, W, xZero])], {
      to: { int: DataType.FLOAT },
    });
    return g.op("Add", [g.op("Mul", [product, g.op("Mul", [xScale, s])]), b]);
  };
  return { fp32, int8, w };
}

/** Exact GELU: x · (1 + erf(x / √2)) / 2. */
function gelu(g: GraphBuilder, x: string): string {
  const erf = g.op("Erf", [g.op("Mul", [x, g.float(Math.SQRT1_2)])]);
  return g.op("Mul", [g.op("Mul", [x, g.float(0.5)]), g.op("Add", [erf, g.float(1)])]);
}

/**
 * Builds the ONNX model of `model` (every head but `base`). Weights are read from the model's
 * variables; the model is not changed.
 *
 * @example A two-layer QA model's graph, its inputs and outputs named as Hugging Face's exports
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { createFromConfig, makeBertConfig } from "../models/mod.ts";
 * import { bertToOnnx } from "./bert_onnx.ts";
 * import assert from "node:assert/strict";
 *
 * await tf.setBackend("cpu");
 * const config = makeBertConfig({
 *   vocab_size: 30, hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 2,
 *   intermediate_size: 32, max_position_embeddings: 8,
 * });
 * const model = createFromConfig(config, "qa", 42);
 * const onnx = bertToOnnx(model);
 * assert.deepEqual(onnx.graph.inputs.map((i) => i.name), ["input_ids", "attention_mask", "token_type_ids"]);
 * assert.deepEqual(onnx.graph.outputs.map((o) => o.name), ["start_logits", "end_logits"]);
 * model.dispose();
 * ```
 */
export function bertToOnnx(model: BertModel, opts: BertOnnxOptions = {}): ModelProto {
  const task = model.task;
  if (!EXPORT_TASKS.includes(task)) {
    throw new Error(
      `bertToOnnx: no ONNX export for the ${task} head (exportable: ${EXPORT_TASKS.join(", ")})`,
    );
  }
  const cfg = model.config;
  const H = cfg.hidden_size, heads = cfg.num_attention_heads, dh = H / heads;
  const g = new GraphBuilder();
  const { fp32, int8, w } = linears(g, model);
  const encoderLinear = opts.quantize === "int8" ? int8 : fp32;
  const eps = { epsilon: { float: cfg.layer_norm_eps }, axis: { int: -1 } };
  const layerNorm = (x: string, prefix: string) =>
    g.op("LayerNormalization", [
      x,
      g.initializer(`${prefix}.weight`, w.get(`${prefix}.weight`), [H]),
      g.initializer(`${prefix}.bias`, w.get(`${prefix}.bias`), [H]),
    ], eps);

  const dims = task === "mc"
    ? ["batch_size", "num_choices", "sequence_length"]
    : ["batch_size", "sequence_length"];
  const [idsIn, maskIn, typesIn] = ONNX_INPUT_NAMES.map((n) => g.input(n, DataType.INT64, dims));

  // Multiple choice runs the encoder on [batch · choices, tokens], as BertForMultipleChoice does.
  const inputShape = g.op("Shape", [idsIn]);
  const T = g.op("Shape", [idsIn], { start: { int: -1 } }); // [1]
  const flatShape = g.op("Concat", [g.int64s([-1]), T], { axis: { int: 0 } });
  const flat = (x: string) => task === "mc" ? g.op("Reshape", [x, flatShape]) : x;
  const ids = flat(idsIn), mask = flat(maskIn), types = flat(typesIn); // [N, T]

  // Embeddings: words + token types + positions 0..T-1, LayerNorm.
  const table = (name: string) => g.initializer(name, w.get(name), w.shape(name));
  const words = g.op("Gather", [table("bert.embeddings.word_embeddings.weight"), ids]);
  const tt = g.op("Gather", [table("bert.embeddings.token_type_embeddings.weight"), types]);
  const pos = g.op("Slice", [
    table("bert.embeddings.position_embeddings.weight"),
    g.int64s([0]),
    T,
    g.int64s([0]),
  ]); // [T, H]
  let x = layerNorm(g.op("Add", [g.op("Add", [words, tt]), pos]), "bert.embeddings.LayerNorm");

  // Extended attention mask [N, 1, 1, T]: 0 at tokens, float32 min at padding.
  const maskF = g.op("Cast", [mask], { to: { int: DataType.FLOAT } });
  const additive = g.op("Unsqueeze", [
    g.op("Mul", [g.op("Sub", [g.float(1), maskF]), g.float(MASK_VALUE)]),
    g.int64s([1, 2]),
  ]);

  const splitHeads = g.int64s([0, 0, heads, dh]);
  const mergeHeads = g.int64s([0, 0, H]);
  for (let l = 0; l < cfg.num_hidden_layers; l++) {
    const p = `bert.encoder.layer.${l}`;
    const project = (name: string, perm: number[]) =>
      g.op("Transpose", [
        g.op("Reshape", [encoderLinear(x, `${p}.attention.self.${name}`), splitHeads]),
      ], { perm: { ints: perm } });
    const q = project("query", [0, 2, 1, 3]); // [N, heads, T, dh]
    const kT = project("key", [0, 2, 3, 1]); // [N, heads, dh, T]
    const v = project("value", [0, 2, 1, 3]); // [N, heads, T, dh]
    const scores = g.op("Add", [
      g.op("MatMul", [g.op("Mul", [q, g.float(1 / Math.sqrt(dh))]), kT]),
      additive,
    ]); // [N, heads, T, T]
    const probs = g.op("Softmax", [scores], { axis: { int: -1 } });
    const context = g.op("Reshape", [
      g.op("Transpose", [g.op("MatMul", [probs, v])], { perm: { ints: [0, 2, 1, 3] } }),
      mergeHeads,
    ]); // [N, T, H]
    const attn = layerNorm(
      g.op("Add", [encoderLinear(context, `${p}.attention.output.dense`), x]),
      `${p}.attention.output.LayerNorm`,
    );
    const inter = gelu(g, encoderLinear(attn, `${p}.intermediate.dense`)); // [N, T, I]
    x = layerNorm(
      g.op("Add", [encoderLinear(inter, `${p}.output.dense`), attn]),
      `${p}.output.LayerNorm`,
    );
  }

  const F = DataType.FLOAT;
  if (task === "qa") {
    // The two-output head is tiny; it stays fp32 in the quantized model too.
    const logits = fp32(x, "qa_outputs"); // [N, T, 2]
    const pick = (k: number) => g.op("Gather", [logits, g.int64s([k], true)], { axis: { int: 2 } });
    g.output(pick(0), "start_logits", F, ["batch_size", "sequence_length"]);
    g.output(pick(1), "end_logits", F, ["batch_size", "sequence_length"]);
  } else if (task === "mc") {
    const first = g.op("Gather", [x, g.int64s([0], true)], { axis: { int: 1 } }); // [N, H]
    const pooled = g.op("Tanh", [encoderLinear(first, "bert.pooler.dense")]);
    const scores = fp32(pooled, "classifier"); // [N, 1]
    const batchChoices = g.op("Slice", [inputShape, g.int64s([0]), g.int64s([2])]);
    g.output(g.op("Reshape", [scores, batchChoices]), "logits", F, ["batch_size", "num_choices"]);
  } else {
    const t = "cls.predictions.transform";
    const h = layerNorm(gelu(g, encoderLinear(x, `${t}.dense`)), `${t}.LayerNorm`); // [N, T, H]
    // The decoder is tied to the word embeddings: Gemm with transB reads the same initializer.
    const rows = g.op("Reshape", [h, g.int64s([-1, H])]);
    const logits = g.op("Gemm", [
      rows,
      "bert.embeddings.word_embeddings.weight",
      g.initializer("cls.predictions.bias", w.get("cls.predictions.bias"), [cfg.vocab_size]),
    ], { transB: { int: 1 } }); // [N*T, V]
    const outShape = g.op("Concat", [inputShape, g.int64s([cfg.vocab_size])], { axis: { int: 0 } });
    g.output(g.op("Reshape", [logits, outShape]), "logits", F, [
      "batch_size",
      "sequence_length",
      cfg.vocab_size,
    ]);
  }

  return {
    irVersion: ONNX_IR_VERSION,
    opsetImports: [{ domain: "", version: ONNX_OPSET }],
    producerName: ONNX_PRODUCER,
    producerVersion: "1",
    docString: `${model.architecture}${
      opts.quantize ? ` (${opts.quantize} dynamic quantization)` : ""
    }`,
    graph: g.build(model.architecture),
  };
}
