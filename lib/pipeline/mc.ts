/**
 * Multiple choice: pick the relevant paragraph of each question, and score that choice.
 * @module
 */
import type { AdlExample } from "../data/mod.ts";
import { type FeatureTokenizer, type McFeature, prepareMcFeatures } from "../features/mod.ts";
import {
  assertMcAlignment,
  type ForwardModel,
  type InferenceOptions,
  mcLogits,
} from "./inference.ts";
import type { McOutput } from "../models/mod.ts";

/** The choice made for one question. */
export interface McPrediction {
  id: string;
  /** Index among the example's candidates. */
  choice: number;
  /** The chosen paragraph (index into the context list). */
  paragraph: number;
  /** Softmax over the candidates. */
  probs: number[];
}

/** Options of {@link predictParagraphs}. */
export interface McPredictOptions extends InferenceOptions {
  /** Tokens per candidate (HF `max_seq_length`). */
  maxSeqLength: number;
}

/** Numerically stable softmax in float64. */
export function softmax(logits: ArrayLike<number>): number[] {
  let m = -Infinity;
  for (let i = 0; i < logits.length; i++) m = Math.max(m, logits[i]);
  const e = Array.from(logits, (x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

/** Index of the largest value (first on ties, like argmax). */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/**
 * Picks a paragraph for every example, in example order (one prediction per example, same id).
 * `features` may be passed when already built for these examples.
 */
export async function predictParagraphs(
  model: ForwardModel<McOutput>,
  tokenizer: FeatureTokenizer,
  examples: readonly AdlExample[],
  contexts: readonly string[],
  opts: McPredictOptions,
  features?: readonly McFeature[],
): Promise<McPrediction[]> {
  const feats = features ??
    prepareMcFeatures(examples, contexts, tokenizer, { maxSeqLength: opts.maxSeqLength });
  assertMcAlignment(examples, feats);
  const logits = await mcLogits(model, feats, tokenizer.padTokenId, opts);
  return examples.map((ex, i) => {
    const l = logits[i];
    if (l.length !== ex.paragraphs.length) {
      throw new Error(
        `MC example ${i} (0-based, id ${JSON.stringify(ex.id)}): ${l.length} logits for ` +
          `${ex.paragraphs.length} paragraphs`,
      );
    }
    const choice = argmax(l);
    return { id: ex.id, choice, paragraph: ex.paragraphs[choice], probs: softmax(l) };
  });
}

/**
 * Accuracy (percent, 0–100, the project's scale) and mean cross-entropy of MC predictions against
 * the examples' `relevant`.
 */
export function mcMetrics(
  examples: readonly AdlExample[],
  predictions: readonly McPrediction[],
): { accuracy: number; loss: number } {
  if (examples.length !== predictions.length) {
    throw new Error(`MC: ${predictions.length} predictions for ${examples.length} examples`);
  }
  let correct = 0;
  let loss = 0;
  examples.forEach((ex, i) => {
    const p = predictions[i];
    if (p.id !== ex.id) {
      throw new Error(`MC prediction ${i} has id ${JSON.stringify(p.id)}, example is ${ex.id}`);
    }
    if (ex.relevant === undefined) {
      throw new Error(
        `MC example ${i} (0-based, id ${JSON.stringify(ex.id)}) has no "relevant" to score`,
      );
    }
    const gold = ex.paragraphs.indexOf(ex.relevant);
    if (p.choice === gold) correct++;
    loss += -Math.log(Math.max(p.probs[gold], 1e-45));
  });
  const n = Math.max(examples.length, 1);
  return { accuracy: (100 * correct) / n, loss: loss / n };
}
