/**
 * Dataset checks built on the feature builders: window statistics and the answer round-trip
 * (build QA features, put high logits exactly on the gold start/end tokens, decode, and compare
 * the decoded text with the gold text, character for character). The round-trip measures what
 * tokenization + windowing + decoding lose before any model is involved; each miss gets a reason.
 * @module
 */
import { QA_ARGS } from "../args/mod.ts";
import { utf16ToCodePoint } from "../data/mod.ts";
import { postprocessQaPredictions } from "./decode.ts";
import type { QaInputStats } from "./qa.ts";
import type { FeatureTokenizer, QaFeature, QaInput } from "./types.ts";
import { plural } from "../util/text.ts";

/** Percentiles of a list of counts. */
export interface Percentiles {
  min: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentiles (p in 0..100) of `values`; all zeros for an empty list. */
export function percentiles(values: readonly number[]): Percentiles {
  if (values.length === 0) return { min: 0, p50: 0, p90: 0, p95: 0, p99: 0, max: 0, mean: 0 };
  const s = [...values].sort((a, b) => a - b);
  const at = (p: number) =>
    s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return {
    min: s[0],
    p50: at(50),
    p90: at(90),
    p95: at(95),
    p99: at(99),
    max: s[s.length - 1],
    mean,
  };
}

/** Window statistics of one split. */
export interface WindowStats {
  examples: number;
  features: number;
  featuresPerExampleMean: number;
  featuresPerExampleMax: number;
  /** Percentage (0..100) of examples whose context needs more than one window. */
  multiWindowPct: number;
  /** Examples with an answer that no window holds entirely (training label falls back to [CLS]). */
  answerInNoWindow: number;
  /** Questions truncated to `maxQueryLength` (see `prepareQaFeatures`). */
  questionsTruncated: number;
  questionTokens: Percentiles;
  contextTokens: Percentiles;
  /** Question + context + 3 special tokens, before truncation. */
  pairTokens: Percentiles;
}

/**
 * Statistics of QA features built in training mode (`features` and `stats` from
 * `prepareQaFeaturesWithStats(inputs, tokenizer, { training: true, ... })`).
 */
export function windowStatistics(
  inputs: readonly QaInput[],
  features: readonly QaFeature[],
  stats: readonly QaInputStats[],
): WindowStats {
  const held = new Set<number>();
  for (const f of features) if (f.startPosition) held.add(f.exampleIndex);
  let answerInNoWindow = 0;
  inputs.forEach((inp, i) => {
    if (inp.answer && !held.has(i)) answerInNoWindow++;
  });
  const windows = stats.map((s) => s.windows);
  return {
    examples: inputs.length,
    features: features.length,
    featuresPerExampleMean: inputs.length ? features.length / inputs.length : 0,
    featuresPerExampleMax: windows.length ? Math.max(...windows) : 0,
    multiWindowPct: inputs.length ? (100 * windows.filter((w) => w > 1).length) / inputs.length : 0,
    answerInNoWindow,
    questionsTruncated: stats.filter((s) => s.questionTruncated).length,
    questionTokens: percentiles(stats.map((s) => s.questionTokens)),
    contextTokens: percentiles(stats.map((s) => s.contextTokens)),
    pairTokens: percentiles(stats.map((s) => s.questionTokens + s.contextTokens + 3)),
  };
}

/** One example whose gold answer does not survive the round-trip. */
export interface RoundtripMiss {
  id: string;
  gold: string;
  /** Start of the gold answer in its context, in code points (as in the data files). */
  goldStart: number;
  decoded: string;
  reason: string;
}

/** Result of {@link answerRoundtrip}. */
export interface RoundtripResult {
  /** Inputs with a gold answer. */
  total: number;
  matched: number;
  /** matched / total in percent (0–100, the project's scale); 100 when there is nothing to
   * check. */
  exact_match: number;
  misses: RoundtripMiss[];
}

/** Options of {@link answerRoundtrip}. */
export interface RoundtripOptions {
  nBestSize?: number;
  maxAnswerLength?: number;
}

const HIGH = 10;

/**
 * The answer round-trip over features built in training mode: in each window the start/end
 * logits are 0 except `HIGH` at the labelled start/end tokens (`[CLS]` when the window does not
 * hold the answer), the spans are decoded with {@link postprocessQaPredictions}, and the decoded
 * text must equal the gold text exactly. Inputs without an answer are not counted.
 */
export function answerRoundtrip(
  inputs: readonly QaInput[],
  features: readonly QaFeature[],
  tokenizer: Pick<FeatureTokenizer, "unkTokenId">,
  opts: RoundtripOptions = {},
): RoundtripResult {
  const maxAnswerLength = opts.maxAnswerLength ?? QA_ARGS.args.max_answer_length.default;
  const startLogits: Float32Array[] = [];
  const endLogits: Float32Array[] = [];
  for (const f of features) {
    if (f.startPosition === undefined || f.endPosition === undefined) {
      throw new Error(
        `answerRoundtrip: feature of example ${JSON.stringify(f.exampleId)} has no labels; ` +
          `build the features with training: true`,
      );
    }
    const s = new Float32Array(f.inputIds.length);
    const e = new Float32Array(f.inputIds.length);
    s[f.startPosition] = HIGH;
    e[f.endPosition] = HIGH;
    startLogits.push(s);
    endLogits.push(e);
  }
  const preds = postprocessQaPredictions(inputs, features, startLogits, endLogits, {
    nBestSize: opts.nBestSize,
    maxAnswerLength,
  });
  const byExample = new Map<number, QaFeature[]>();
  for (const f of features) {
    const list = byExample.get(f.exampleIndex);
    if (list) list.push(f);
    else byExample.set(f.exampleIndex, [f]);
  }
  let total = 0;
  let matched = 0;
  const misses: RoundtripMiss[] = [];
  inputs.forEach((inp, i) => {
    if (!inp.answer) return;
    total++;
    const decoded = preds[i].text;
    if (decoded === inp.answer.text) {
      matched++;
      return;
    }
    misses.push({
      id: inp.id,
      gold: inp.answer.text,
      goldStart: utf16ToCodePoint(inp.context, inp.answer.start),
      decoded,
      reason: missReason(inp, byExample.get(i) ?? [], tokenizer.unkTokenId, maxAnswerLength),
    });
  });
  return { total, matched, exact_match: total ? (100 * matched) / total : 100, misses };
}

/** Explains why the gold answer of `inp` does not decode back to itself. */
function missReason(
  inp: QaInput,
  windows: readonly QaFeature[],
  unkId: number,
  maxAnswerLength: number,
): string {
  const answer = inp.answer!;
  const goldEnd = answer.start + answer.text.length;
  if (answer.text.length === 0) return "empty gold answer";
  if (answer.text.trim() !== answer.text) {
    return "answer has leading or trailing whitespace, which no token covers";
  }
  const f = windows.find((w) => w.startPosition);
  if (!f) {
    return `answer is not inside any window (context ${[...inp.context].length} chars, ` +
      `${plural(windows.length, "window")})`;
  }
  const s = f.startPosition!;
  const e = f.endPosition!;
  if (e < s) return "no token covers the answer (it lies in characters the tokenizer drops)";
  if (e - s + 1 > maxAnswerLength) {
    return `answer spans ${e - s + 1} tokens > max_answer_length ${maxAnswerLength}`;
  }
  const so = f.offsetMapping[s]!;
  const eo = f.offsetMapping[e]!;
  for (let k = s; k <= e; k++) {
    if (f.inputIds[k] === unkId) {
      const o = f.offsetMapping[k]!;
      return `answer crosses [UNK] (${JSON.stringify(inp.context.slice(o[0], o[1]))} is one [UNK])`;
    }
  }
  if (so[0] < answer.start) {
    return `answer starts mid-token (token covers ${
      JSON.stringify(inp.context.slice(so[0], so[1]))
    })`;
  }
  if (eo[1] > goldEnd) {
    return `answer ends mid-token (token covers ${
      JSON.stringify(inp.context.slice(eo[0], eo[1]))
    })`;
  }
  if (so[0] > answer.start || eo[1] < goldEnd) {
    return "answer begins or ends with characters the tokenizer drops (control/zero-width)";
  }
  return "decoded span differs from the labelled span";
}

/** How often multiple-choice pairs get their paragraph truncated. */
export interface McTruncationStats {
  pairs: number;
  truncated: number;
  /** 0..100 */
  truncatedPct: number;
}

/**
 * Counts the (question, candidate paragraph) pairs longer than `maxSeqLength` tokens with
 * specials, i.e. whose paragraph `prepareMcFeatures` truncates.
 */
export function mcTruncationStats(
  examples: readonly { question: string; paragraphs: readonly number[] }[],
  contexts: readonly string[],
  tokenizer: Pick<FeatureTokenizer, "tokenizeWithOffsets">,
  maxSeqLength: number,
): McTruncationStats {
  const lengths = new Map<number, number>();
  let pairs = 0;
  let truncated = 0;
  for (const ex of examples) {
    const q = tokenizer.tokenizeWithOffsets(ex.question.trimStart()).ids.length;
    for (const p of ex.paragraphs) {
      let n = lengths.get(p);
      if (n === undefined) {
        n = tokenizer.tokenizeWithOffsets(contexts[p]).ids.length;
        lengths.set(p, n);
      }
      pairs++;
      if (q + n + 3 > maxSeqLength) truncated++;
    }
  }
  return { pairs, truncated, truncatedPct: pairs ? (100 * truncated) / pairs : 0 };
}
