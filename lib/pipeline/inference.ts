/**
 * Batched inference for multiple choice and QA that cannot mix up rows.
 *
 * Every batch carries the indices of its features; logits are written into a slot per feature
 * index and each slot must be filled exactly once, so the batch order (sorted by length for
 * speed, shuffled in tests, or plain) cannot change which feature a logit belongs to. Callers
 * then check the feature → example links (`exampleId` / `exampleIndex`) before decoding.
 * @module
 */
import { INFERENCE_ARGS } from "../args/mod.ts";
import * as tf from "@tensorflow/tfjs";
import {
  collateMc,
  collateQa,
  type IntTensorData,
  type McFeature,
  type QaFeature,
} from "../features/mod.ts";
import {
  BertModel,
  type ForwardOptions,
  type McOutput,
  type ModelInputs,
  type ModelOutput,
  type QaOutput,
} from "../models/mod.ts";
import { backendMemoryLimit, planMemory } from "../training/mod.ts";
import { createRng } from "../util/random.ts";

/**
 * Anything with BERT's forward signature (a `BertModel`, or a test double) whose outputs are
 * `O`: `ForwardModel<McOutput>` for a multiple-choice head (a `BertModel<"mc">`),
 * `ForwardModel<QaOutput>` for a QA head.
 */
export interface ForwardModel<O = ModelOutput> {
  forward(inputs: ModelInputs, opts?: ForwardOptions): O;
}

/**
 * Order in which features are batched: `"length"` (longest first, least padding), `"input"`,
 * or `{ shuffleSeed }` (a seeded random order, for tests).
 */
export type BatchOrder = "length" | "input" | { shuffleSeed: number };

/** Options for batched inference. */
export interface InferenceOptions {
  /** Rows per batch (default 16). */
  batchSize?: number;
  /** Default "length". */
  order?: BatchOrder;
  /** Pad every batch to this length (HF `pad_to_max_length`); default dynamic padding. */
  padToLength?: number;
  /** Called after each batch with (done, total) rows. */
  onProgress?: (done: number, total: number) => void;
}

/** Splits `0..n-1` into batches in the requested order. */
export function batchIndices(
  lengths: readonly number[],
  batchSize: number,
  order: BatchOrder = "length",
): number[][] {
  if (!(Number.isInteger(batchSize) && batchSize > 0)) {
    throw new Error(`batch size must be a positive integer, got ${batchSize}`);
  }
  const idx = lengths.map((_, i) => i);
  if (order === "length") idx.sort((a, b) => lengths[b] - lengths[a] || a - b);
  else if (order !== "input") createRng(order.shuffleSeed).shuffle(idx);
  const out: number[][] = [];
  for (let i = 0; i < idx.length; i += batchSize) out.push(idx.slice(i, i + batchSize));
  return out;
}

/**
 * The inference batch to use: the requested one, or the largest smaller one whose memory plan
 * fits the backend (as training splits its micro-batches), for sequences up to `seqLength`
 * tokens and `perExample` sequences per row. Models other than `BertModel` (test doubles) get
 * the requested size.
 */
export function inferenceBatchSize(
  model: ForwardModel<unknown>,
  requested: number,
  seqLength: number,
  perExample = 1,
): number {
  if (!(model instanceof BertModel)) return requested;
  const backend = tf.getBackend();
  const limit = backendMemoryLimit(backend);
  const plan = planMemory({
    config: model.config,
    task: model.task,
    numParameters: model.numParameters(),
    seqLength,
    sequencesPerExample: perExample,
    batchSize: requested,
    gradientCheckpointing: false,
    training: false,
    backend,
    limitBytes: limit.bytes,
    limitName: limit.name,
  });
  return Math.max(1, plan.microBatch);
}

/** Turns collated int data into int32 tensors. */
export function toTensor(d: IntTensorData): tf.Tensor {
  return tf.tensor(d.data, d.shape, "int32");
}

/** The three model inputs of a collated MC or QA batch. */
export interface CollatedInputs {
  inputIds: IntTensorData;
  tokenTypeIds: IntTensorData;
  attentionMask: IntTensorData;
}

/** Runs the model on a collated batch (call inside `tf.tidy` or a loss function). */
export function forwardCollated<O>(
  model: ForwardModel<O>,
  batch: CollatedInputs,
  opts: ForwardOptions = {},
): O {
  return model.forward({
    inputIds: toTensor(batch.inputIds),
    tokenTypeIds: toTensor(batch.tokenTypeIds),
    attentionMask: toTensor(batch.attentionMask),
  }, opts);
}

function fillOnce<T>(slots: (T | undefined)[], i: number, value: T, what: string) {
  if (slots[i] !== undefined) throw new Error(`${what}: feature ${i} was computed twice`);
  slots[i] = value;
}

function allFilled<T>(slots: (T | undefined)[], what: string): T[] {
  const missing = slots.findIndex((s) => s === undefined);
  if (missing >= 0) throw new Error(`${what}: feature ${missing} got no logits`);
  return slots as T[];
}

/**
 * Multiple-choice logits `[choices]` for each feature, in feature order (eval mode, no dropout).
 */
export async function mcLogits(
  model: ForwardModel<McOutput>,
  features: readonly McFeature[],
  padId: number,
  opts: InferenceOptions = {},
): Promise<Float32Array[]> {
  const lengths = features.map((f) => Math.max(...f.inputIds.map((r) => r.length)));
  const size = inferenceBatchSize(
    model,
    opts.batchSize ?? INFERENCE_ARGS.args.per_device_eval_batch_size.default,
    opts.padToLength ?? lengths.reduce((m, n) => Math.max(m, n), 1),
    features[0]?.inputIds.length ?? 1,
  );
  const batches = batchIndices(lengths, size, opts.order ?? "length");
  const slots: (Float32Array | undefined)[] = new Array(features.length);
  let done = 0;
  for (const ids of batches) {
    const batch = collateMc(ids.map((i) => features[i]), padId, { padToLength: opts.padToLength });
    const logits = tf.tidy(() => {
      const out = forwardCollated(model, batch, { training: false });
      if (!out.logits) throw new Error("mcLogits: the model returned no logits (not an MC head?)");
      return out.logits;
    });
    const data = (await logits.data()) as Float32Array;
    const c = logits.shape[1]!;
    logits.dispose();
    if (logits.shape[0] !== ids.length) {
      throw new Error(`mcLogits: ${logits.shape[0]} rows of logits for a batch of ${ids.length}`);
    }
    ids.forEach((fi, r) => fillOnce(slots, fi, data.slice(r * c, (r + 1) * c), "mcLogits"));
    done += ids.length;
    opts.onProgress?.(done, features.length);
  }
  return allFilled(slots, "mcLogits");
}

/** Start/end logits of QA features, in feature order, each trimmed to the feature's length. */
export interface QaLogits {
  start: Float32Array[];
  end: Float32Array[];
}

/** QA start/end logits for each feature, in feature order (eval mode, no dropout). */
export async function qaLogits(
  model: ForwardModel<QaOutput>,
  features: readonly QaFeature[],
  padId: number,
  opts: InferenceOptions = {},
): Promise<QaLogits> {
  const lengths = features.map((f) => f.inputIds.length);
  const size = inferenceBatchSize(
    model,
    opts.batchSize ?? INFERENCE_ARGS.args.per_device_eval_batch_size.default,
    opts.padToLength ?? lengths.reduce((m, n) => Math.max(m, n), 1),
  );
  const batches = batchIndices(lengths, size, opts.order ?? "length");
  const start: (Float32Array | undefined)[] = new Array(features.length);
  const end: (Float32Array | undefined)[] = new Array(features.length);
  let done = 0;
  for (const ids of batches) {
    const feats = ids.map((i) => features[i]);
    const batch = collateQa(feats, padId, { padToLength: opts.padToLength });
    const [s, e] = tf.tidy(() => {
      const out = forwardCollated(model, batch, { training: false });
      if (!out.startLogits || !out.endLogits) {
        throw new Error("qaLogits: the model returned no start/end logits (not a QA head?)");
      }
      return [out.startLogits, out.endLogits];
    });
    const t = s.shape[1]!;
    const sd = (await s.data()) as Float32Array;
    const ed = (await e.data()) as Float32Array;
    const rows = s.shape[0];
    tf.dispose([s, e]);
    if (rows !== ids.length) {
      throw new Error(`qaLogits: ${rows} rows of logits for a batch of ${ids.length}`);
    }
    ids.forEach((fi, r) => {
      const n = features[fi].inputIds.length;
      fillOnce(start, fi, sd.slice(r * t, r * t + n), "qaLogits");
      fillOnce(end, fi, ed.slice(r * t, r * t + n), "qaLogits");
    });
    done += ids.length;
    opts.onProgress?.(done, features.length);
  }
  return { start: allFilled(start, "qaLogits"), end: allFilled(end, "qaLogits") };
}

/**
 * Checks that QA features point at their inputs: `features[i].exampleIndex` is a valid input
 * index whose id equals `features[i].exampleId`, every input has at least one feature, and the
 * windows of an input are consecutive. Throws naming the first mismatch.
 */
export function assertQaAlignment(
  inputs: readonly { id: string }[],
  features: readonly QaFeature[],
): void {
  const seen = new Set<number>();
  let last = -1;
  features.forEach((f, i) => {
    const inp = inputs[f.exampleIndex];
    if (!inp || inp.id !== f.exampleId) {
      throw new Error(
        `QA feature ${i} says example ${f.exampleIndex} (id ${JSON.stringify(f.exampleId)}) but ` +
          `that input is ${inp ? `id ${JSON.stringify(inp.id)}` : "missing"}`,
      );
    }
    if (f.exampleIndex !== last) {
      if (seen.has(f.exampleIndex)) {
        throw new Error(
          `QA features of example ${JSON.stringify(f.exampleId)} are not consecutive`,
        );
      }
      seen.add(f.exampleIndex);
      last = f.exampleIndex;
    }
  });
  if (seen.size !== inputs.length) {
    const i = inputs.findIndex((_, k) => !seen.has(k));
    throw new Error(`QA input ${i} (id ${JSON.stringify(inputs[i].id)}) has no feature`);
  }
}

/** Checks that MC features are one per example, same ids, same order. */
export function assertMcAlignment(
  examples: readonly { id: string }[],
  features: readonly McFeature[],
): void {
  if (examples.length !== features.length) {
    throw new Error(`MC: ${features.length} features for ${examples.length} examples`);
  }
  features.forEach((f, i) => {
    if (f.exampleId !== examples[i].id) {
      throw new Error(
        `MC feature ${i} has id ${JSON.stringify(f.exampleId)}, example ${i} is ` +
          JSON.stringify(examples[i].id),
      );
    }
  });
}
