/**
 * Types shared by the feature builders, collation and decoding.
 * @module
 */

import type { AdlAnswer } from "../data/mod.ts";

/**
 * A gold answer: its text and the index of its first character in the context, in UTF-16 code
 * units like every offset in memory (lib/data converts from the code points of data files).
 */
export type AnswerSpan = AdlAnswer;

/** One extractive-QA example: a question, its (single) context, optionally the gold answer. */
export interface QaInput {
  id: string;
  question: string;
  context: string;
  answer?: AnswerSpan;
}

/**
 * One QA window (a "feature" in Hugging Face's `run_qa.py`): `[CLS] question [SEP] context-window [SEP]`,
 * unpadded. `offsetMapping` holds `[start, end)` character offsets into the example's context for
 * context tokens and `null` for every other token (question, `[CLS]`, `[SEP]`), exactly like
 * `prepare_validation_features`. `startPosition`/`endPosition` are set in training mode: the
 * answer's first/last token index in this window, or 0 (`[CLS]`) when the window does not hold
 * the whole answer.
 */
export interface QaFeature {
  exampleId: string;
  exampleIndex: number;
  inputIds: number[];
  tokenTypeIds: number[];
  attentionMask: number[];
  offsetMapping: ([number, number] | null)[];
  startPosition?: number;
  endPosition?: number;
}

/**
 * One multiple-choice example: for each candidate paragraph, `[CLS] question [SEP] paragraph [SEP]`
 * (unpadded). `label` is the position of the relevant paragraph among the candidates.
 */
export interface McFeature {
  exampleId: string;
  inputIds: number[][];
  tokenTypeIds: number[][];
  attentionMask: number[][];
  label?: number;
}

/** Tokens of one text without special tokens, with `[start, end)` offsets into that text. */
export interface TokenizedText {
  tokens: string[];
  ids: number[];
  offsets: [number, number][];
}

/**
 * The part of `BertTokenizer` (lib/tokenization) that feature building needs. Declared
 * structurally so that this layer depends only on the tokenizer's contract.
 */
export interface FeatureTokenizer {
  tokenizeWithOffsets(text: string): TokenizedText;
  readonly clsTokenId: number;
  readonly sepTokenId: number;
  readonly padTokenId: number;
  readonly unkTokenId: number;
}
