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

function fillRows(rows: readonly (readonly number[])[], length: number, pad: number): Int32Array {
  const out = new Int32Array(rows.length * length);
  if (pad !== 0) out.fill(pad);
  rows.forEach((r, i) => out.set(r, i * length));
  return out;
}

/** One encoded sequence: a QA window, or one choice of an MC example. */
interface Encoding {
  inputIds: readonly number[];
  tokenTypeIds: readonly number[];
  attentionMask: readonly number[];
}

/**
 * The three encoding tensors of a batch, every sequence padded to one length (padding values in
 * the module doc); `lead` is the shape before the length, `name` the caller (for errors).
 */
function padEncodings(
  name: string,
  seqs: readonly Encoding[],
  lead: number[],
  padId: number,
  opts: CollateOptions,
): Record<keyof Encoding, IntTensorData> {
  if (seqs.length === 0) throw new RangeError(`${name}: empty batch`);
  const len = paddedLength(Math.max(...seqs.map((q) => q.inputIds.length)), opts);
  const shape = [...lead, len];
  const column = (key: keyof Encoding, pad: number): IntTensorData => ({
    data: fillRows(seqs.map((q) => q[key]), len, pad),
    shape,
  });
  return {
    inputIds: column("inputIds", padId),
    tokenTypeIds: column("tokenTypeIds", 0),
    attentionMask: column("attentionMask", 0),
  };
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
  const batch: QaBatch = padEncodings("collateQa", features, [features.length], padId, opts);
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
  const choices = features[0]?.inputIds.length;
  for (const f of features) {
    if (f.inputIds.length !== choices) {
      throw new RangeError(
        `collateMc: example ${JSON.stringify(f.exampleId)} has ${f.inputIds.length} choices, ` +
          `the first has ${choices}`,
      );
    }
  }
  const seqs = features.flatMap((f) =>
    f.inputIds.map((inputIds, c) => ({
      inputIds,
      tokenTypeIds: f.tokenTypeIds[c],
      attentionMask: f.attentionMask[c],
    }))
  );
  const batch: McBatch = padEncodings("collateMc", seqs, [features.length, choices], padId, opts);
  const labels = optionalColumn(features.map((f) => f.label), "label");
  if (labels) batch.labels = labels;
  return batch;
}
