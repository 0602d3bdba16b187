/**
 * Inputs of an exported model for onnxruntime (node or web): a collated QA or MC batch
 * (`lib/features/collate.ts`) as the three int64 tensors the graph takes.
 * @module
 */
import type { IntTensorData } from "../features/mod.ts";

/** The graph's input names, in the order Hugging Face's exports list them. */
export const ONNX_INPUT_NAMES = ["input_ids", "attention_mask", "token_type_ids"] as const;

/** A collated batch: the three inputs, each `[batch, tokens]` or `[batch, choices, tokens]`. */
export interface CollatedBatch {
  inputIds: IntTensorData;
  tokenTypeIds: IntTensorData;
  attentionMask: IntTensorData;
}

/**
 * The batch as onnxruntime feeds, each made by `tensor` (e.g.
 * `(data, dims) => new ort.Tensor("int64", data, dims)` for either onnxruntime package).
 *
 * @example
 * ```ts
 * import { onnxFeeds } from "./feeds.ts";
 * import assert from "node:assert/strict";
 *
 * const d = (v: number[]) => ({ data: Int32Array.from(v), shape: [1, v.length] });
 * const feeds = onnxFeeds(
 *   { inputIds: d([2, 7, 3]), tokenTypeIds: d([0, 0, 0]), attentionMask: d([1, 1, 1]) },
 *   (data, dims) => ({ data, dims }),
 * );
 * assert.deepEqual(feeds.input_ids.data, BigInt64Array.from([2n, 7n, 3n]));
 * assert.deepEqual(feeds.attention_mask.dims, [1, 3]);
 * ```
 */
export function onnxFeeds<T>(
  batch: CollatedBatch,
  tensor: (data: BigInt64Array, dims: number[]) => T,
): Record<(typeof ONNX_INPUT_NAMES)[number], T> {
  const t = (d: IntTensorData) => tensor(BigInt64Array.from(d.data, BigInt), d.shape);
  return {
    input_ids: t(batch.inputIds),
    attention_mask: t(batch.attentionMask),
    token_type_ids: t(batch.tokenTypeIds),
  };
}
