/**
 * Whole-word masking (the "wwm" of `chinese-roberta-wwm-ext`) for masked-LM pretraining, with the
 * semantics of Hugging Face's `DataCollatorForWholeWordMask`: whole words are chosen (in a seeded
 * random order) until about 15% of the sequence's tokens are covered, then each token of a chosen
 * word is replaced by `[MASK]` (80%), a random token (10%) or kept (10%); labels are the original
 * ids at chosen tokens and -100 elsewhere. Pure functions over token ids and offsets.
 * @module
 */
import { MLM_ARGS } from "../args/mod.ts";
import type { Tokenized } from "../tokenization/mod.ts";
import { createRng, deriveSeed } from "../util/random.ts";
import type { WordSegmenter } from "./segment.ts";

/** Label value ignored by the MLM loss (PyTorch's `ignore_index`). */
/** HF `max_predictions`: at most this many masked tokens per sequence. */
const MAX_PREDICTIONS = 512;

export const IGNORE_INDEX = -100;

/** Word id of tokens that are never masked (`[CLS]`, `[SEP]`, padding). */
export const NO_WORD = -1;

/**
 * Word id of each token: tokens whose offsets overlap the same word share an id; a token that
 * overlaps several words joins them into one (so no word is ever masked partly); tokens with an
 * empty offset get {@link NO_WORD}; a token overlapping no word is a word by itself. Ids are
 * numbered 0, 1, ... in order of first appearance.
 */
export function tokenWordIds(
  offsets: readonly (readonly [number, number] | null)[],
  wordSpans: readonly (readonly [number, number])[],
): number[] {
  // union-find over word indices, plus one extra node per token that hits no word
  const parent: number[] = wordSpans.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]];
      i = parent[i];
    }
    return i;
  };
  const node: number[] = [];
  let w = 0;
  for (const off of offsets) {
    if (!off || off[1] <= off[0]) {
      node.push(NO_WORD);
      continue;
    }
    const [s, e] = off;
    // words are sorted and disjoint; skip those that end before this token starts
    while (w < wordSpans.length && wordSpans[w][1] <= s) w++;
    let first = -1;
    for (let j = w; j < wordSpans.length && wordSpans[j][0] < e; j++) {
      if (first < 0) first = j;
      else parent[find(j)] = find(first);
    }
    if (first < 0) {
      parent.push(parent.length);
      node.push(parent.length - 1);
    } else {
      node.push(first);
    }
  }
  const ids = new Map<number, number>();
  return node.map((n) => {
    if (n === NO_WORD) return NO_WORD;
    const root = find(n);
    if (!ids.has(root)) ids.set(root, ids.size);
    return ids.get(root)!;
  });
}

/** Options of {@link wholeWordMask}. */
export interface WholeWordMaskOptions {
  /** Seed of this sequence's draws. */
  seed: number;
  maskTokenId: number;
  /** Random replacements are drawn uniformly from `[0, vocabSize)`, as HF does. */
  vocabSize: number;
  /** Fraction of tokens to cover with chosen words; default 0.15. */
  mlmProbability?: number;
  /** Upper bound on masked tokens per sequence; default 512 (HF's `max_predictions`). */
  maxPredictions?: number;
}

/** A masked sequence. */
export interface MaskedSequence {
  /** Input ids after replacement. */
  inputIds: number[];
  /** Original id at chosen tokens, {@link IGNORE_INDEX} elsewhere. */
  labels: number[];
}

/**
 * Whole-word masks one unpadded sequence. `wordIds[i]` is the word of token i, {@link NO_WORD} for
 * special tokens. The number of tokens to cover is `min(maxPredictions, max(1, round(n * p)))`
 * with n the sequence length including special tokens (as HF counts); words are taken in a
 * seeded random order and a word that would overshoot that number is skipped. The 80/10/10 choice
 * is drawn per token, like HF's `torch_mask_tokens` and Google's BERT.
 */
export function wholeWordMask(
  inputIds: readonly number[],
  wordIds: readonly number[],
  opts: WholeWordMaskOptions,
): MaskedSequence {
  if (wordIds.length !== inputIds.length) {
    throw new Error(
      `wholeWordMask: ${wordIds.length} word ids for ${inputIds.length} tokens`,
    );
  }
  const p = opts.mlmProbability ?? MLM_ARGS.args.mlm_probability.default;
  const rng = createRng(opts.seed);
  const groups = new Map<number, number[]>();
  wordIds.forEach((w, i) => {
    if (w === NO_WORD) return;
    const g = groups.get(w);
    if (g) g.push(i);
    else groups.set(w, [i]);
  });
  const words = rng.shuffle([...groups.values()]);
  const target = Math.min(
    opts.maxPredictions ?? MAX_PREDICTIONS,
    Math.max(1, Math.round(inputIds.length * p)),
  );
  const chosen: number[] = [];
  for (const word of words) {
    if (chosen.length >= target) break;
    if (chosen.length + word.length > target) continue;
    chosen.push(...word);
  }
  chosen.sort((a, b) => a - b);
  const ids = inputIds.slice();
  const labels = new Array<number>(inputIds.length).fill(IGNORE_INDEX);
  for (const i of chosen) {
    labels[i] = inputIds[i];
    const r = rng.next();
    if (r < 0.8) ids[i] = opts.maskTokenId;
    else if (r < 0.9) ids[i] = rng.int(opts.vocabSize);
  }
  return { inputIds: ids, labels };
}

/** What MLM feature building needs from a tokenizer (a `BertTokenizer` fits). */
export interface MlmTokenizer {
  tokenizeWithOffsets(text: string): Tokenized;
  readonly clsTokenId: number;
  readonly sepTokenId: number;
  readonly padTokenId: number;
  readonly maskTokenId: number;
  readonly vocabSize: number;
}

/** One pretraining sequence, unpadded: `[CLS] tokens [SEP]`. */
export interface MlmFeature {
  /** Index of the source text. */
  textIndex: number;
  inputIds: number[];
  tokenTypeIds: number[];
  attentionMask: number[];
  /** Word id per token ({@link NO_WORD} at `[CLS]`/`[SEP]`). */
  wordIds: number[];
}

/**
 * Tokenizes and segments texts into pretraining sequences of at most `maxSeqLength` tokens. A text
 * longer than that is cut into consecutive chunks at word boundaries (a single word longer than a
 * chunk is cut inside). Texts without tokens give no feature.
 */
export function prepareMlmFeatures(
  texts: readonly string[],
  tokenizer: MlmTokenizer,
  segmenter: WordSegmenter,
  opts: { maxSeqLength: number },
): MlmFeature[] {
  const room = opts.maxSeqLength - 2;
  if (room < 1) throw new Error(`maxSeqLength must be at least 3, got ${opts.maxSeqLength}`);
  const out: MlmFeature[] = [];
  texts.forEach((text, textIndex) => {
    const tok = tokenizer.tokenizeWithOffsets(text);
    const words = tokenWordIds(tok.offsets, segmenter.segment(text));
    let start = 0;
    while (start < tok.ids.length) {
      let end = Math.min(start + room, tok.ids.length);
      if (end < tok.ids.length && words[end] === words[end - 1] && words[end] !== NO_WORD) {
        // back off to the start of the word that straddles the cut, unless it fills the chunk
        let b = end - 1;
        while (b > start && words[b - 1] === words[end]) b--;
        if (b > start) end = b;
      }
      const ids = tok.ids.slice(start, end);
      const wordIds = [NO_WORD, ...words.slice(start, end), NO_WORD];
      out.push({
        textIndex,
        inputIds: [tokenizer.clsTokenId, ...ids, tokenizer.sepTokenId],
        tokenTypeIds: new Array(ids.length + 2).fill(0),
        attentionMask: new Array(ids.length + 2).fill(1),
        wordIds,
      });
      start = end;
    }
  });
  return out;
}

/** A padded, masked batch, ready to become tensors. */
export interface MlmBatch {
  /** [B][T] input ids after masking, padded with the pad id. */
  inputIds: number[][];
  tokenTypeIds: number[][];
  attentionMask: number[][];
  /** [B][T] labels, {@link IGNORE_INDEX} at unmasked and padding positions. */
  labels: number[][];
  /** Flat indices `b * T + t` of the labelled positions (for `forward({maskedPositions})`). */
  maskedPositions: number[];
  /** Labels at {@link maskedPositions}, same order. */
  maskedLabels: number[];
}

/** Options of {@link collateMlmBatch}. */
export interface CollateMlmOptions {
  /** Batch seed; row i is masked with `deriveSeed(seed, i)`. */
  seed: number;
  maskTokenId: number;
  padTokenId: number;
  vocabSize: number;
  mlmProbability?: number;
  maxPredictions?: number;
  /** Pad to this length instead of the batch's longest sequence. */
  padToLength?: number;
}

/**
 * Whole-word masks each feature and pads the batch (the data collator). Give each batch its own
 * seed, e.g. `deriveSeed(seed, epoch, step)`, so every epoch sees new masks.
 */
export function collateMlmBatch(
  features: readonly MlmFeature[],
  opts: CollateMlmOptions,
): MlmBatch {
  const longest = Math.max(0, ...features.map((f) => f.inputIds.length));
  const T = opts.padToLength ?? longest;
  if (T < longest) throw new Error(`padToLength ${T} is shorter than a sequence (${longest})`);
  const batch: MlmBatch = {
    inputIds: [],
    tokenTypeIds: [],
    attentionMask: [],
    labels: [],
    maskedPositions: [],
    maskedLabels: [],
  };
  features.forEach((f, b) => {
    const m = wholeWordMask(f.inputIds, f.wordIds, {
      seed: deriveSeed(opts.seed, b),
      maskTokenId: opts.maskTokenId,
      vocabSize: opts.vocabSize,
      mlmProbability: opts.mlmProbability,
      maxPredictions: opts.maxPredictions,
    });
    const pad = T - f.inputIds.length;
    batch.inputIds.push([...m.inputIds, ...new Array(pad).fill(opts.padTokenId)]);
    batch.tokenTypeIds.push([...f.tokenTypeIds, ...new Array(pad).fill(0)]);
    batch.attentionMask.push([...f.attentionMask, ...new Array(pad).fill(0)]);
    batch.labels.push([...m.labels, ...new Array(pad).fill(IGNORE_INDEX)]);
    m.labels.forEach((l, t) => {
      if (l !== IGNORE_INDEX) {
        batch.maskedPositions.push(b * T + t);
        batch.maskedLabels.push(l);
      }
    });
  });
  return batch;
}
