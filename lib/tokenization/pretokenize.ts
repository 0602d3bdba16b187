/**
 * BERT's basic tokenization (text cleaning, Chinese-character splitting, lower-casing, accent
 * stripping, whitespace and punctuation splitting) done character by character so that every
 * normalised character remembers which characters of the ORIGINAL string it came from. This is
 * what lets the tokenizer report `offset_mapping` like `BertTokenizerFast`, which no JavaScript
 * tokenizer does.
 *
 * Offsets are JavaScript string indices (UTF-16 code units). Python's `offset_mapping` counts
 * code points instead; the two differ only after astral-plane characters (emoji, CJK extension
 * B+). Nothing is converted: `text.slice(start, end)` is always the right substring in JS.
 * @module
 */
import { isChineseChar, isControl, isPunctuation, isWhitespace } from "./chars.ts";

/** Settings of the `BertNormalizer` (names as in `tokenizer.json`). */
export interface NormalizerOptions {
  /** Remove NUL, U+FFFD and control characters; map whitespace to word breaks. */
  cleanText: boolean;
  /** Make every CJK ideograph a word of its own. */
  handleChineseChars: boolean;
  /** Lower-case every character. */
  lowercase: boolean;
  /** NFD-decompose and drop non-spacing marks (Mn). */
  stripAccents: boolean;
}

/**
 * Pre-tokenized text in flat arrays (few allocations for long texts): word k is `words[k]`;
 * its code points have original spans `starts[c]..ends[c]` for `c` in
 * `firstChar[k] .. firstChar[k + 1] - 1`.
 */
export interface PreTokenized {
  /** Normalised text of each word (what WordPiece sees). */
  words: string[];
  /** 1 where the word is a special token matched verbatim (never split or normalised). */
  special: number[];
  /** Index into `starts`/`ends` of each word's first code point; one extra final entry. */
  firstChar: number[];
  /** Original start (UTF-16 index) of each normalised code point, word after word. */
  starts: number[];
  /** Original end (exclusive) of each normalised code point. */
  ends: number[];
}

const CACHE_LIMIT = 50_000;

const CLASS_KNOWN = 1;
const CLASS_CONTROL = 2;
const CLASS_SPACE = 4;
const CLASS_CHINESE = 8;
const CLASS_PUNCT = 16;

/** Memo of character classes for the Basic Multilingual Plane (computed on first sight). */
const bmpClass = new Uint8Array(0x10000);

function classify(cp: number): number {
  return CLASS_KNOWN | (isControl(cp) ? CLASS_CONTROL : 0) | (isWhitespace(cp) ? CLASS_SPACE : 0) |
    (isChineseChar(cp) ? CLASS_CHINESE : 0) | (isPunctuation(cp) ? CLASS_PUNCT : 0);
}

/** Class bits of a code point (memoised for the BMP). */
function charClass(cp: number): number {
  if (cp > 0xffff) return classify(cp);
  let c = bmpClass[cp];
  if (c === 0) c = bmpClass[cp] = classify(cp);
  return c;
}

/**
 * Splits text into BERT words with their original spans.
 *
 * Order of operations follows Hugging Face `BasicTokenizer`: clean the text, isolate Chinese
 * characters, split on whitespace, lower-case and strip accents, split on punctuation.
 * Lower-casing is per character, as `BertTokenizerFast` does (so a final capital sigma becomes
 * `σ`, not Python's context-sensitive `ς`).
 */
export class OffsetPreTokenizer {
  readonly options: NormalizerOptions;
  readonly #charCache = new Map<number, string>();
  readonly #special: RegExp | null;

  /**
   * @param options normaliser settings
   * @param specialTokens strings that are matched verbatim in the original text and kept whole
   *   (Hugging Face's non-normalised special added tokens, e.g. `[CLS]`, `[MASK]`)
   */
  constructor(options: NormalizerOptions, specialTokens: readonly string[] = []) {
    this.options = { ...options };
    const specials = [...new Set(specialTokens)].filter((s) => s.length > 0)
      // Longest first so that a longer token wins over its prefix.
      .sort((a, b) => b.length - a.length);
    this.#special = specials.length > 0
      ? new RegExp(specials.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"), "g")
      : null;
  }

  /** Normal form of one (non-CJK, non-space, non-control) character; "" when it vanishes. */
  normalizeChar(cp: number): string {
    const { lowercase, stripAccents } = this.options;
    if (cp < 0x80) {
      return lowercase && cp >= 65 && cp <= 90
        ? String.fromCharCode(cp + 32)
        : String.fromCharCode(cp);
    }
    let out = this.#charCache.get(cp);
    if (out !== undefined) return out;
    out = String.fromCodePoint(cp);
    // Python: `text.lower()` then NFD and drop Mn (Rust strips first, then lower-cases; the
    // results agree for single characters, e.g. 'İ' -> 'i' either way).
    if (lowercase) out = out.toLowerCase();
    if (stripAccents) out = out.normalize("NFD").replace(/\p{Mn}/gu, "");
    if (this.#charCache.size >= CACHE_LIMIT) this.#charCache.clear();
    this.#charCache.set(cp, out);
    return out;
  }

  /** Splits `text` into words (special tokens first, then BERT basic tokenization). */
  split(text: string): PreTokenized {
    const out: PreTokenized = { words: [], special: [], firstChar: [0], starts: [], ends: [] };
    if (this.#special === null) {
      this.#splitRange(text, 0, text.length, out);
      return out;
    }
    let pos = 0;
    for (const m of text.matchAll(this.#special)) {
      const at = m.index!;
      this.#splitRange(text, pos, at, out);
      const tok = m[0];
      for (const _ of tok) {
        out.starts.push(at);
        out.ends.push(at + tok.length);
      }
      out.words.push(tok);
      out.special.push(1);
      out.firstChar.push(out.starts.length);
      pos = at + tok.length;
    }
    this.#splitRange(text, pos, text.length, out);
    return out;
  }

  #splitRange(text: string, from: number, to: number, out: PreTokenized): void {
    const { cleanText, handleChineseChars } = this.options;
    const { words, special, firstChar, starts, ends } = out;
    let cur = ""; // the word being built
    // Index in `ends` of the last emitted normalised character (-1: none, or a break since), so
    // that a combining mark removed by strip-accents can be attached to what it decorates.
    let last = -1;
    const flush = () => {
      if (cur.length > 0) {
        words.push(cur);
        special.push(0);
        firstChar.push(starts.length);
        cur = "";
      }
    };
    const single = (ch: string, s: number, e: number) => {
      flush();
      starts.push(s);
      ends.push(e);
      words.push(ch);
      special.push(0);
      firstChar.push(starts.length);
      last = ends.length - 1;
    };
    const append = (ch: string, s: number, e: number) => {
      cur += ch;
      starts.push(s);
      ends.push(e);
      last = ends.length - 1;
    };
    for (let i = from; i < to;) {
      const cp = text.codePointAt(i)!;
      const j = i + (cp > 0xffff ? 2 : 1);
      const cls = charClass(cp);
      if (cleanText && (cp === 0 || cp === 0xfffd || (cls & CLASS_CONTROL) !== 0)) {
        i = j;
        continue;
      }
      if ((cls & CLASS_SPACE) !== 0) {
        flush();
        last = -1;
        i = j;
        continue;
      }
      if (handleChineseChars && (cls & CLASS_CHINESE) !== 0) {
        single(text.slice(i, j), i, j);
        i = j;
        continue;
      }
      const norm = this.normalizeChar(cp);
      if (norm.length === 0) {
        // A combining mark (already decomposed in the input) removed by accent stripping. We
        // let the preceding character's span cover it so that a span sliced from the original
        // keeps its accent. (BertTokenizerFast leaves it outside the span; both slices normalise
        // to the same token.)
        if (last >= 0 && ends[last] === i) ends[last] = j;
        i = j;
        continue;
      }
      if (norm.length === 1 || (norm.length === 2 && cp > 0xffff && norm.codePointAt(0) === cp)) {
        // Common case: one character in, one out.
        if ((charClass(norm.codePointAt(0)!) & CLASS_PUNCT) !== 0) single(norm, i, j);
        else append(norm, i, j);
        i = j;
        continue;
      }
      for (const ch of norm) {
        if ((charClass(ch.codePointAt(0)!) & CLASS_PUNCT) !== 0) single(ch, i, j);
        else append(ch, i, j);
      }
      i = j;
    }
    flush();
  }
}
