/**
 * Assembling model inputs from tokenized sequences: special tokens, token types, truncation
 * (with overflowing windows and stride), padding — with the semantics of Hugging Face
 * `BertTokenizerFast.__call__` (Rust `tokenizers`: `truncate_encodings`, `Encoding::truncate`,
 * `BertProcessing`, `pad`).
 * @module
 */

/** A tokenized text without special tokens; offsets index the original text. */
export interface Tokenized {
  tokens: string[];
  ids: number[];
  /** `[start, end)` in the original text, UTF-16 code units. */
  offsets: [number, number][];
}

/** A tokenized text in flat arrays (what the tokenizer memoises); same data as {@link Tokenized}. */
export interface TokenSeq {
  tokens: readonly string[];
  ids: readonly number[];
  starts: readonly number[];
  ends: readonly number[];
}

/** Converts the public {@link Tokenized} form into a {@link TokenSeq}. */
export function toTokenSeq(t: Tokenized): TokenSeq {
  return {
    tokens: t.tokens,
    ids: t.ids,
    starts: t.offsets.map((o) => o[0]),
    ends: t.offsets.map((o) => o[1]),
  };
}

/** Truncation strategy, as Hugging Face names them. `true` means `"longest_first"`. */
export type TruncationStrategy = boolean | "only_first" | "only_second" | "longest_first";

/** Padding strategy, as Hugging Face names them. `true` means `"longest"`. */
export type PaddingStrategy = boolean | "max_length" | "longest";

/** Options of {@link assembleEncoding} / `BertTokenizer.encode`. */
export interface EncodeOptions {
  /** Add `[CLS] A [SEP] (B [SEP])`. Default true. */
  addSpecialTokens?: boolean;
  /**
   * Maximum total length (special tokens included) for truncation and `"max_length"` padding.
   * Default: the tokenizer's `modelMaxLength`.
   */
  maxLength?: number;
  /**
   * Default false; but when `maxLength` is given and truncation is not, `"longest_first"`
   * (Hugging Face does the same, with a warning).
   */
  truncation?: TruncationStrategy;
  /** Default false. */
  padding?: PaddingStrategy;
  /** Keep the truncated-away tokens as extra windows in `overflowing`. Default false. */
  returnOverflowingTokens?: boolean;
  /** Number of tokens each overflowing window repeats from the previous one. Default 0. */
  stride?: number;
}

/** Model inputs for one window, named as in Hugging Face's `BatchEncoding`. */
export interface Encoding {
  input_ids: number[];
  token_type_ids: number[];
  attention_mask: number[];
  /** `[0, 0]` for special and padding tokens; otherwise the span in its own input text. */
  offset_mapping: [number, number][];
  /** `null` for special and padding tokens, else 0 (first text) or 1 (pair). */
  sequence_ids: (number | null)[];
  /** Token strings (convenience; not part of Hugging Face's `BatchEncoding`). */
  tokens: string[];
  /**
   * With `returnOverflowingTokens`: the further windows, in order (the main encoding is window
   * 0). Hugging Face's batch API returns these as extra rows; here they hang off the first one.
   */
  overflowing?: Encoding[];
}

/** Ids of the special tokens that assembly needs. */
export interface SpecialIds {
  cls: number;
  sep: number;
  pad: number;
  clsToken: string;
  sepToken: string;
  padToken: string;
}

type Range = [number, number];

/**
 * Windows `[start, stop)` over a sequence of `len` tokens truncated to `maxLen` with `stride`
 * tokens of overlap (Rust `Encoding::truncate`, right direction): starts step by
 * `maxLen - stride` and the last window ends at `len`.
 */
export function windowRanges(len: number, maxLen: number, stride: number): Range[] {
  if (maxLen >= len) return [[0, len]];
  if (maxLen <= 0) return [[0, 0]];
  if (stride >= maxLen) {
    throw new Error(
      `truncation: stride (${stride}) must be smaller than the truncated sequence length ` +
        `(${maxLen}); lower the stride or raise max_length`,
    );
  }
  const out: Range[] = [];
  const step = maxLen - stride;
  for (let start = 0;; start += step) {
    const stop = Math.min(start + maxLen, len);
    out.push([start, stop]);
    if (stop === len) break;
  }
  return out;
}

function build(
  a: TokenSeq,
  ra: Range,
  b: TokenSeq | null,
  rb: Range | null,
  special: SpecialIds,
  addSpecial: boolean,
  padTo: number,
): Encoding {
  const nSpecial = addSpecial ? (b ? 3 : 2) : 0;
  const used = nSpecial + (ra[1] - ra[0]) + (b && rb ? rb[1] - rb[0] : 0);
  const n = Math.max(used, padTo);
  // Preallocated and filled by index: growing six arrays by push dominated the profile.
  const ids = new Array<number>(n);
  const tokens = new Array<string>(n);
  const types = new Array<number>(n);
  const mask = new Array<number>(n);
  const offsets = new Array<[number, number]>(n);
  const seqIds = new Array<number | null>(n);
  let k = 0;
  const put = (id: number, tok: string, type: number, s: number, e: number, sq: number | null) => {
    ids[k] = id;
    tokens[k] = tok;
    types[k] = type;
    mask[k] = 1;
    offsets[k] = [s, e];
    seqIds[k] = sq;
    k++;
  };
  const seq = (t: TokenSeq, r: Range, type: number) => {
    for (let i = r[0]; i < r[1]; i++) {
      put(t.ids[i], t.tokens[i], type, t.starts[i], t.ends[i], type);
    }
  };
  if (addSpecial) put(special.cls, special.clsToken, 0, 0, 0, null);
  seq(a, ra, 0);
  if (addSpecial) put(special.sep, special.sepToken, 0, 0, 0, null);
  if (b && rb) {
    seq(b, rb, 1);
    if (addSpecial) put(special.sep, special.sepToken, 1, 0, 0, null);
  }
  while (k < n) {
    put(special.pad, special.padToken, 0, 0, 0, null);
    mask[k - 1] = 0;
  }
  return {
    input_ids: ids,
    token_type_ids: types,
    attention_mask: mask,
    offset_mapping: offsets,
    sequence_ids: seqIds,
    tokens,
  };
}

/**
 * Builds the encoding(s) of `a` (and the pair `b`) with Hugging Face `BertTokenizerFast`
 * semantics. Truncation budgets exclude the special tokens; `only_first`/`only_second` cut the
 * chosen sequence and, with `returnOverflowingTokens`, emit every window of it (overlapping by
 * `stride`) combined with the whole other sequence.
 */
export function assembleEncoding(
  a: Tokenized,
  b: Tokenized | null,
  special: SpecialIds,
  modelMaxLength: number,
  opts: EncodeOptions = {},
): Encoding {
  return assembleSeqs(toTokenSeq(a), b ? toTokenSeq(b) : null, special, modelMaxLength, opts);
}

/** {@link assembleEncoding} on {@link TokenSeq}s (no conversion). */
export function assembleSeqs(
  a: TokenSeq,
  b: TokenSeq | null,
  special: SpecialIds,
  modelMaxLength: number,
  opts: EncodeOptions = {},
): Encoding {
  const addSpecial = opts.addSpecialTokens ?? true;
  const stride = opts.stride ?? 0;
  if (!Number.isInteger(stride) || stride < 0) {
    throw new Error(`stride must be a non-negative integer, got ${stride}`);
  }
  let truncation = opts.truncation ?? (opts.maxLength !== undefined ? "longest_first" : false);
  if (truncation === true) truncation = "longest_first";
  let padding = opts.padding ?? false;
  if (padding === true) padding = "longest";
  const maxLength = opts.maxLength ?? modelMaxLength;
  if (!Number.isInteger(maxLength) || maxLength < 0) {
    throw new Error(`maxLength must be a non-negative integer, got ${maxLength}`);
  }
  const nSpecial = addSpecial ? (b ? 3 : 2) : 0;
  const lenA = a.ids.length;
  const lenB = b ? b.ids.length : 0;

  let rangesA: Range[] = [[0, lenA]];
  let rangesB: Range[] = [[0, lenB]];
  if (truncation !== false) {
    if (truncation === "only_second" && !b) {
      throw new Error("truncation 'only_second' needs a pair of sequences (second text missing)");
    }
    const budget = maxLength - nSpecial;
    if (budget < 0) {
      throw new Error(
        `maxLength ${maxLength} is smaller than the ${nSpecial} special tokens it must hold`,
      );
    }
    const toRemove = lenA + lenB - budget;
    if (toRemove > 0) {
      if (truncation === "only_first" || truncation === "only_second") {
        const first = truncation === "only_first";
        const targetLen = first ? lenA : lenB;
        if (targetLen <= toRemove) {
          throw new Error(
            `truncation '${truncation}': the ${
              first ? "first" : "second"
            } sequence (${targetLen} ` +
              `tokens) cannot be shortened enough: the ${first ? "second" : "first"} one takes ` +
              `${first ? lenB : lenA} tokens and max_length is ${maxLength} ` +
              `(${nSpecial} special tokens)`,
          );
        }
        const windows = windowRanges(targetLen, targetLen - toRemove, stride);
        if (first) rangesA = windows;
        else rangesB = windows;
      } else {
        // longest_first (Rust `truncate_encodings`): share the budget between the two.
        if (!b) {
          rangesA = windowRanges(lenA, budget, stride);
        } else {
          let n1 = lenA;
          let n2 = lenB;
          const swap = n1 > n2;
          if (swap) [n1, n2] = [n2, n1];
          n2 = n1 > budget ? n1 : Math.max(n1, budget - n1);
          if (n1 + n2 > budget) {
            n1 = Math.floor(budget / 2);
            n2 = n1 + (budget % 2);
          }
          if (swap) [n1, n2] = [n2, n1];
          if (opts.returnOverflowingTokens && (n1 < lenA && n2 < lenB)) {
            // Hugging Face then returns a cross product of both sequences' windows; that is
            // never what QA/MC features need, so we refuse instead of guessing.
            throw new Error(
              "returnOverflowingTokens with truncation 'longest_first' on a pair that needs " +
                "both sequences cut is not supported; use 'only_first' or 'only_second'",
            );
          }
          rangesA = windowRanges(lenA, n1, stride);
          rangesB = windowRanges(lenB, n2, stride);
        }
      }
    }
  }
  if (!opts.returnOverflowingTokens) {
    rangesA = rangesA.slice(0, 1);
    rangesB = rangesB.slice(0, 1);
  }
  const lengthOf = (ra: Range, rb: Range) => nSpecial + (ra[1] - ra[0]) + (b ? rb[1] - rb[0] : 0);
  let padTo = 0;
  if (padding === "max_length") padTo = maxLength;
  else if (padding === "longest") {
    for (const ra of rangesA) for (const rb of rangesB) padTo = Math.max(padTo, lengthOf(ra, rb));
  }
  const encs: Encoding[] = [];
  // At most one of the two has several windows (see above); pair each with the other's only one.
  for (const ra of rangesA) {
    for (const rb of rangesB) encs.push(build(a, ra, b, b ? rb : null, special, addSpecial, padTo));
  }
  const main = encs[0];
  if (opts.returnOverflowingTokens) main.overflowing = encs.slice(1);
  return main;
}
