/**
 * Collation of unpadded features into flat `Int32Array` batches (row-major) ready for
 * `tf.tensor(data, shape, "int32")`.
 *
 * Padding is dynamic: to the longest sequence in the batch (optionally rounded up to a multiple).
 * Hugging Face's `run_qa.py`/`run_swag.py` pad to `max_seq_length` by default
 * (`pad_to_max_length=True`); both give identical logits on the real tokens because padded
 * positions have attention mask 0 (their keys get a large negative bias) and BERT is otherwise
 * position-wise, so only the batch's compute changes. Pass `padToLength` to get HF's fixed shape.
 * Padding values: `input_ids` → `padId`, `token_type_ids` → 0, `attention_mask` → 0.
 * @module
 */
import type { McFeature, QaFeature } from "./types.ts";

/** A flat int32 tensor payload. */
export interface IntTensorData {
  data: Int32Array;
  shape: number[];
}

/** A collated QA batch; positions present only when every feature has them. */
export interface QaBatch {
  inputIds: IntTensorData;
  tokenTypeIds: IntTensorData;
  attentionMask: IntTensorData;
  startPositions?: IntTensorData;
  endPositions?: IntTensorData;
}

/** A collated MC batch: `[batch, choices, length]`; labels `[batch]` when every feature has one. */
export interface McBatch {
  inputIds: IntTensorData;
  tokenTypeIds: IntTensorData;
  attentionMask: IntTensorData;
  labels?: IntTensorData;
}

/** Options for collation. */
export interface CollateOptions {
  /** Round the padded length up to a multiple of this (HF `pad_to_multiple_of`). */
  padToMultipleOf?: number;
  /** Pad to exactly this length instead (HF `padding="max_length"`); must fit every sequence. */
  padToLength?: number;
}

function paddedLength(longest: number, opts: CollateOptions): number {
  if (opts.padToLength !== undefined) {
    if (opts.padToLength < longest) {
      throw new RangeError(
        `padToLength ${opts.padToLength} is shorter than a sequence (${longest})`,
      );
    }
    return opts.padToLength;
  }
  const m = opts.padToMultipleOf;
  if (m !== undefined) {
    if (!Number.isInteger(m) || m < 1) {
      throw new RangeError(`padToMultipleOf must be a positive integer, got ${m}`);
    }
    return Math.ceil(longest / m) * m;
  }
  return longest;
}

function fillRows(rows: number[][], length: number, pad: number): Int32Array {
  const out = new Int32Array(rows.length * length);
  if (pad !== 0) out.fill(pad);
  rows.forEach((r, i) => out.set(r, i * length));
  return out;
}

function optionalColumn(values: (number | undefined)[], name: string): IntTensorData | undefined {
  const have = values.filter((v) => v !== undefined).length;
  if (have === 0) return undefined;
  if (have !== values.length) {
    throw new Error(
      `collate: ${name} is set on ${have} of ${values.length} features (all or none)`,
    );
  }
  return { data: Int32Array.from(values as number[]), shape: [values.length] };
}

/** Pads QA features to one `[batch, length]` batch. */
export function collateQa(
  features: readonly QaFeature[],
  padId: number,
  opts: CollateOptions = {},
): QaBatch {
  if (features.length === 0) throw new RangeError("collateQa: empty batch");
  const len = paddedLength(Math.max(...features.map((f) => f.inputIds.length)), opts);
  const shape = [features.length, len];
  const batch: QaBatch = {
    inputIds: { data: fillRows(features.map((f) => f.inputIds), len, padId), shape },
    tokenTypeIds: { data: fillRows(features.map((f) => f.tokenTypeIds), len, 0), shape },
    attentionMask: { data: fillRows(features.map((f) => f.attentionMask), len, 0), shape },
  };
  const sp = optionalColumn(features.map((f) => f.startPosition), "startPosition");
  const ep = optionalColumn(features.map((f) => f.endPosition), "endPosition");
  if (sp) batch.startPositions = sp;
  if (ep) batch.endPositions = ep;
  return batch;
}

/** Pads MC features to one `[batch, choices, length]` batch. */
export function collateMc(
  features: readonly McFeature[],
  padId: number,
  opts: CollateOptions = {},
): McBatch {
  if (features.length === 0) throw new RangeError("collateMc: empty batch");
  const choices = features[0].inputIds.length;
  for (const f of features) {
    if (f.inputIds.length !== choices) {
      throw new RangeError(
        `collateMc: example ${JSON.stringify(f.exampleId)} has ${f.inputIds.length} choices, ` +
          `the first has ${choices}`,
      );
    }
  }
  const longest = Math.max(...features.flatMap((f) => f.inputIds.map((r) => r.length)));
  const len = paddedLength(longest, opts);
  const shape = [features.length, choices, len];
  const batch: McBatch = {
    inputIds: { data: fillRows(features.flatMap((f) => f.inputIds), len, padId), shape },
    tokenTypeIds: { data: fillRows(features.flatMap((f) => f.tokenTypeIds), len, 0), shape },
    attentionMask: { data: fillRows(features.flatMap((f) => f.attentionMask), len, 0), shape },
  };
  const labels = optionalColumn(features.map((f) => f.label), "label");
  if (labels) batch.labels = labels;
  return batch;
}
