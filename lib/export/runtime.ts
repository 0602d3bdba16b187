/**
 * Logits of an exported model for QA windows or MC features, through any onnxruntime session
 * (onnxruntime-node or onnxruntime-web: both take the same feeds); the counterpart of
 * `lib/pipeline/inference.ts`'s `qaLogits` / `mcLogits`, in feature order.
 * @module
 */
import { collateMc, collateQa, type McFeature, type QaFeature } from "../features/mod.ts";
import { onnxFeeds } from "./feeds.ts";

/** What is used of an onnxruntime `InferenceSession`. */
export interface OnnxSession {
  run(feeds: Record<string, unknown>): Promise<Record<string, { data: unknown }>>;
}

/** Makes an int64 tensor of the session's onnxruntime package. */
export type Int64Tensor = (data: BigInt64Array, dims: number[]) => unknown;

function batches(n: number, size: number): number[][] {
  if (!(Number.isInteger(size) && size > 0)) {
    throw new Error(`batch size must be a positive integer, got ${size}`);
  }
  const out: number[][] = [];
  for (let i = 0; i < n; i += size) {
    out.push(Array.from({ length: Math.min(size, n - i) }, (_, k) => i + k));
  }
  return out;
}

/** Start/end logits of each QA window, trimmed to the window's length. */
export async function onnxQaLogits(
  session: OnnxSession,
  features: readonly QaFeature[],
  padId: number,
  tensor: Int64Tensor,
  batchSize: number,
): Promise<{ start: Float32Array[]; end: Float32Array[] }> {
  const start: Float32Array[] = [], end: Float32Array[] = [];
  for (const ids of batches(features.length, batchSize)) {
    const batch = collateQa(ids.map((i) => features[i]), padId);
    const out = await session.run(onnxFeeds(batch, tensor));
    const s = out.start_logits.data as Float32Array, e = out.end_logits.data as Float32Array;
    const t = batch.inputIds.shape[1];
    ids.forEach((fi, r) => {
      const n = features[fi].inputIds.length;
      start.push(s.slice(r * t, r * t + n));
      end.push(e.slice(r * t, r * t + n));
    });
  }
  return { start, end };
}

/** Multiple-choice logits `[choices]` of each feature. */
export async function onnxMcLogits(
  session: OnnxSession,
  features: readonly McFeature[],
  padId: number,
  tensor: Int64Tensor,
  batchSize: number,
): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const ids of batches(features.length, batchSize)) {
    const batch = collateMc(ids.map((i) => features[i]), padId);
    const logits = (await session.run(onnxFeeds(batch, tensor))).logits.data as Float32Array;
    const c = batch.inputIds.shape[1];
    ids.forEach((_, r) => out.push(logits.slice(r * c, (r + 1) * c)));
  }
  return out;
}
