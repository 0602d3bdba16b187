/**
 * Extractive QA over one paragraph per question: windows → logits → best span per question,
 * plus EM / F1 and the loss on gold positions.
 * @module
 */
import { QA_ARGS } from "../args/mod.ts";
import {
  computeQaMetrics,
  type FeatureTokenizer,
  postprocessQaPredictions,
  prepareQaFeatures,
  type QaFeature,
  type QaInput,
  type QaPrediction,
} from "../features/mod.ts";
import {
  assertQaAlignment,
  type ForwardModel,
  type InferenceOptions,
  type QaLogits,
  qaLogits,
} from "./inference.ts";
import type { QaOutput } from "../models/mod.ts";

/** Options of {@link predictAnswers}. */
export interface QaPredictOptions extends InferenceOptions {
  maxSeqLength: number;
  docStride: number;
  /** HF `n_best_size` (default 20). */
  nBestSize?: number;
  /** HF `max_answer_length` (default 30). */
  maxAnswerLength?: number;
}

/** Answers with the features and logits they were decoded from. */
export interface QaPredictResult {
  predictions: QaPrediction[];
  features: QaFeature[];
  logits: QaLogits;
}

/**
 * Predicts one answer per input, in input order (each prediction's id is checked against its
 * input). Features are built in training mode when every input has a gold answer, so that the
 * gold positions are available for the loss; the windows and offsets are the same either way.
 */
export async function predictAnswers(
  model: ForwardModel<QaOutput>,
  tokenizer: FeatureTokenizer,
  inputs: readonly QaInput[],
  opts: QaPredictOptions,
  features?: readonly QaFeature[],
): Promise<QaPredictResult> {
  const withGold = inputs.length > 0 && inputs.every((i) => i.answer !== undefined);
  const feats = features ? [...features] : prepareQaFeatures(inputs, tokenizer, {
    maxSeqLength: opts.maxSeqLength,
    docStride: opts.docStride,
    training: withGold,
  });
  assertQaAlignment(inputs, feats);
  const logits = await qaLogits(model, feats, tokenizer.padTokenId, opts);
  const predictions = postprocessQaPredictions(inputs, feats, logits.start, logits.end, {
    nBestSize: opts.nBestSize ?? QA_ARGS.args.n_best_size.default,
    maxAnswerLength: opts.maxAnswerLength ?? QA_ARGS.args.max_answer_length.default,
  });
  if (predictions.length !== inputs.length) {
    throw new Error(`QA: ${predictions.length} predictions for ${inputs.length} inputs`);
  }
  predictions.forEach((p, i) => {
    if (p.id !== inputs[i].id) {
      throw new Error(
        `QA prediction ${i} has id ${JSON.stringify(p.id)}, input is ${inputs[i].id}`,
      );
    }
  });
  return { predictions, features: feats, logits };
}

function logSoftmaxAt(row: ArrayLike<number>, i: number): number {
  let m = -Infinity;
  for (let k = 0; k < row.length; k++) m = Math.max(m, row[k]);
  let s = 0;
  for (let k = 0; k < row.length; k++) s += Math.exp(row[k] - m);
  return row[i] - m - Math.log(s);
}

/**
 * Mean QA loss over features with gold positions: per feature (start CE + end CE) / 2, as
 * `BertForQuestionAnswering` (positions at or beyond the sequence are ignored per head).
 * Returns NaN when no feature has positions.
 */
export function qaLossFromLogits(features: readonly QaFeature[], logits: QaLogits): number {
  let sSum = 0, sN = 0, eSum = 0, eN = 0;
  features.forEach((f, i) => {
    const t = logits.start[i].length;
    if (f.startPosition !== undefined && f.startPosition >= 0 && f.startPosition < t) {
      sSum -= logSoftmaxAt(logits.start[i], f.startPosition);
      sN++;
    }
    if (f.endPosition !== undefined && f.endPosition >= 0 && f.endPosition < t) {
      eSum -= logSoftmaxAt(logits.end[i], f.endPosition);
      eN++;
    }
  });
  if (sN === 0 && eN === 0) return NaN;
  return ((sN ? sSum / sN : 0) + (eN ? eSum / eN : 0)) / 2;
}

/** EM / F1 (0..100) of predictions against the inputs' gold answers, and the loss. */
export function qaMetrics(
  inputs: readonly QaInput[],
  result: QaPredictResult,
): { exact_match: number; f1: number; loss: number } {
  const golds = inputs.map((inp, i) => {
    if (!inp.answer) {
      throw new Error(`QA input ${i} (id ${JSON.stringify(inp.id)}) has no gold answer to score`);
    }
    return { id: inp.id, text: inp.answer.text };
  });
  const m = computeQaMetrics(result.predictions, golds);
  return { ...m, loss: qaLossFromLogits(result.features, result.logits) };
}
