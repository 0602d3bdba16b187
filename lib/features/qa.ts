/**
 * Extractive-QA features with the semantics of Hugging Face's `run_qa.py`
 * (`prepare_train_features` / `prepare_validation_features`).
 *
 * Each input becomes one or more windows `[CLS] question [SEP] context-window [SEP]`:
 * the question comes first, only the context is truncated (`only_second`), consecutive windows
 * overlap by `docStride` tokens (the fast tokenizer's `stride` with
 * `return_overflowing_tokens=True`), and every overflowing window is kept.
 *
 * Differences from `run_qa.py`, each deliberate:
 * - Features are returned unpadded; padding happens at collation (see `collate.ts`).
 * - The context is tokenized once per distinct context string and windows are sliced from that
 *   tokenization. This gives the same tokens and offsets as tokenizing each (question, context)
 *   pair, because BERT's tokenization of one sequence never depends on the other.
 * - Offsets of non-context tokens are `null` in both modes (HF drops them in training mode).
 * - When the question is so long that the context budget is not larger than `docStride`,
 *   `run_qa.py` fails inside the tokenizer ("stride must be strictly less than max_len").
 *   Here the question is then truncated to `maxQueryLength` (64, the value of the original BERT
 *   `run_squad.py` and HF's legacy `squad_convert_examples_to_features`) and only if that is
 *   still not enough does the call throw, naming the example. Questions that fit are never
 *   touched, so for every input `run_qa.py` accepts the result is identical.
 * - Labelling: `run_qa.py` walks `token_start_index` forward while `offsets[i][0] <= start_char`
 *   without stopping at the end of the context, so an answer starting in the window's last
 *   context token is labelled on `[SEP]` (or on padding). The same walk is used here but
 *   bounded to the window's context tokens, as in the Hugging Face course code.
 * @module
 */
import { QA_ARGS } from "../args/mod.ts";
import type { FeatureTokenizer, QaFeature, QaInput, TokenizedText } from "./types.ts";

/** Options of {@link prepareQaFeatures}. */
export interface QaFeatureOptions {
  /** Total tokens per window, specials included (HF `max_seq_length`, default 384). */
  maxSeqLength?: number;
  /** Overlap in tokens between consecutive windows (HF `doc_stride`, default 128). */
  docStride?: number;
  /** Training mode sets `startPosition`/`endPosition` (default false, i.e. evaluation mode). */
  training?: boolean;
  /** Question length (tokens) to truncate to when the question leaves no room; default 64. */
  maxQueryLength?: number;
}

/** Per-input facts gathered while building features (used for statistics). */
export interface QaInputStats {
  questionTokens: number;
  contextTokens: number;
  windows: number;
  /** The question was cut to `maxQueryLength` tokens (see module docs). */
  questionTruncated: boolean;
}

/** Resolved option values. */
interface Resolved {
  maxSeqLength: number;
  docStride: number;
  training: boolean;
  maxQueryLength: number;
}

function resolve(opts: QaFeatureOptions): Resolved {
  const r = {
    maxSeqLength: opts.maxSeqLength ?? QA_ARGS.args.max_seq_length.default,
    docStride: opts.docStride ?? QA_ARGS.args.doc_stride.default,
    training: opts.training ?? false,
    maxQueryLength: opts.maxQueryLength ?? 64,
  };
  // The schema's bounds, for library callers that did not go through it.
  const { max_seq_length: len, doc_stride: stride } = QA_ARGS.args;
  if (!Number.isInteger(r.maxSeqLength) || r.maxSeqLength < len.min) {
    throw new RangeError(`maxSeqLength must be an integer >= ${len.min}, got ${r.maxSeqLength}`);
  }
  if (!Number.isInteger(r.docStride) || r.docStride < stride.min) {
    throw new RangeError(`docStride must be an integer >= ${stride.min}, got ${r.docStride}`);
  }
  if (!Number.isInteger(r.maxQueryLength) || r.maxQueryLength < 1) {
    throw new RangeError(`maxQueryLength must be an integer >= 1, got ${r.maxQueryLength}`);
  }
  return r;
}

/**
 * Start indices (into the context tokens) of the windows of a context of `length` tokens when
 * each window holds `budget` context tokens and consecutive windows overlap by `stride`. Same as
 * the Rust tokenizers' `Encoding::truncate`: starts 0, step, 2·step, … until a window reaches
 * the end, with step = budget − stride.
 */
export function windowStarts(length: number, budget: number, stride: number): number[] {
  if (length <= budget) return [0];
  if (budget <= stride) {
    throw new RangeError(`window budget ${budget} must be larger than the stride ${stride}`);
  }
  const step = budget - stride;
  const starts = [0];
  let s = 0;
  while (s + budget < length) {
    s += step;
    starts.push(s);
  }
  return starts;
}

/**
 * Builds the QA windows of all inputs (HF `prepare_train_features` when `training`, else
 * `prepare_validation_features`), in input order, windows of one input consecutive.
 */
export function prepareQaFeatures(
  inputs: readonly QaInput[],
  tokenizer: FeatureTokenizer,
  opts: QaFeatureOptions = {},
): QaFeature[] {
  return prepareQaFeaturesWithStats(inputs, tokenizer, opts).features;
}

/** {@link prepareQaFeatures}, also returning per-input token counts and window counts. */
export function prepareQaFeaturesWithStats(
  inputs: readonly QaInput[],
  tokenizer: FeatureTokenizer,
  opts: QaFeatureOptions = {},
): { features: QaFeature[]; stats: QaInputStats[] } {
  const o = resolve(opts);
  const cache = new Map<string, TokenizedText>();
  const features: QaFeature[] = [];
  const stats: QaInputStats[] = [];
  const cls = tokenizer.clsTokenId;
  const sep = tokenizer.sepTokenId;
  for (let exampleIndex = 0; exampleIndex < inputs.length; exampleIndex++) {
    const input = inputs[exampleIndex];
    // run_qa.py strips the question's leading whitespace ("some questions have lots of it").
    let qIds = tokenizer.tokenizeWithOffsets(input.question.trimStart()).ids;
    let ctx = cache.get(input.context);
    if (!ctx) {
      ctx = tokenizer.tokenizeWithOffsets(input.context);
      cache.set(input.context, ctx);
    }
    const ctxLen = ctx.ids.length;
    const questionTokens = qIds.length;
    let budget = o.maxSeqLength - qIds.length - 3;
    let questionTruncated = false;
    if (ctxLen > budget && budget <= o.docStride) {
      // run_qa.py would fail here; see the module docs.
      if (qIds.length > o.maxQueryLength) {
        qIds = qIds.slice(0, o.maxQueryLength);
        questionTruncated = true;
        budget = o.maxSeqLength - qIds.length - 3;
      }
      if (ctxLen > budget && budget <= o.docStride) {
        throw new RangeError(
          `QA example ${exampleIndex} (0-based, id ${
            JSON.stringify(input.id)
          }): the question has ` +
            `${questionTokens} tokens${
              questionTruncated ? ` (truncated to ${qIds.length})` : ""
            }, which leaves ${Math.max(budget, 0)} context tokens per window with ` +
            `max_seq_length ${o.maxSeqLength}; that must be larger than doc_stride ${o.docStride} ` +
            `because the context (${ctxLen} tokens) needs several windows. ` +
            `Raise max_seq_length or lower doc_stride.`,
        );
      }
    }
    const starts = windowStarts(ctxLen, budget, o.docStride);
    const prefix = [cls, ...qIds, sep];
    const answer = input.answer;
    for (const s of starts) {
      const e = Math.min(s + budget, ctxLen);
      const n = e - s;
      const inputIds = prefix.concat(ctx.ids.slice(s, e), [sep]);
      const tokenTypeIds = new Array<number>(inputIds.length).fill(0, 0, prefix.length)
        .fill(1, prefix.length);
      const attentionMask = new Array<number>(inputIds.length).fill(1);
      const offsetMapping: ([number, number] | null)[] = new Array(prefix.length).fill(null);
      for (let k = s; k < e; k++) offsetMapping.push([ctx.offsets[k][0], ctx.offsets[k][1]]);
      offsetMapping.push(null);
      const feature: QaFeature = {
        exampleId: input.id,
        exampleIndex,
        inputIds,
        tokenTypeIds,
        attentionMask,
        offsetMapping,
      };
      if (o.training) {
        let startPosition = 0;
        let endPosition = 0;
        if (answer && n > 0) {
          const startChar = answer.start;
          const endChar = answer.start + answer.text.length;
          const offs = ctx.offsets;
          if (offs[s][0] <= startChar && offs[e - 1][1] >= endChar) {
            let ts = s;
            while (ts < e && offs[ts][0] <= startChar) ts++;
            let te = e - 1;
            while (te >= s && offs[te][1] >= endChar) te--;
            startPosition = prefix.length + (ts - 1 - s);
            endPosition = prefix.length + (te + 1 - s);
          }
        }
        feature.startPosition = startPosition;
        feature.endPosition = endPosition;
      }
      features.push(feature);
    }
    stats.push({
      questionTokens,
      contextTokens: ctxLen,
      windows: starts.length,
      questionTruncated,
    });
  }
  return { features, stats };
}
