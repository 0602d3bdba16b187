/**
 * A WordPiece vocabulary built from a corpus, so that from-scratch models need no downloaded
 * vocabulary. Text is pre-tokenized as BERT's `BasicTokenizer` does (clean control characters,
 * split CJK characters, lower-case and strip accents when uncased, split punctuation).
 * @module
 */

/** Special tokens, at ids 0..4 of every vocabulary built here. */
export const SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] as const;

/** BERT's WordPiece gives up on (maps to [UNK]) words longer than this many characters. */
export const MAX_CHARS_PER_WORD = 100;

/** BERT's `_is_chinese_char`: the CJK Unified Ideographs blocks (not Japanese kana, not Hangul). */
export function isChineseChar(cp: number): boolean {
  return (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) || (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) || (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0x2f800 && cp <= 0x2fa1f);
}

/** BERT's `_is_whitespace`: space, tab, newline, carriage return, or a `Zs` character. */
export function isBertWhitespace(ch: string): boolean {
  return ch === " " || ch === "\t" || ch === "\n" || ch === "\r" || /^\p{Zs}$/u.test(ch);
}

/** BERT's `_is_control`: a `C*` category character other than tab, newline, carriage return. */
export function isBertControl(ch: string): boolean {
  if (ch === "\t" || ch === "\n" || ch === "\r") return false;
  return /^\p{C}$/u.test(ch);
}

/** BERT's `_is_punctuation`: ASCII non-alphanumeric symbols, or a `P*` category character. */
export function isBertPunctuation(ch: string): boolean {
  const cp = ch.codePointAt(0)!;
  if (
    (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
    (cp >= 123 && cp <= 126)
  ) return true;
  return /^\p{P}$/u.test(ch);
}

/**
 * BERT's `BasicTokenizer`: the words WordPiece then splits. Drops NUL, U+FFFD and control
 * characters, treats whitespace as separators, makes every CJK character its own word, and
 * (uncased) lower-cases and strips accents (NFD, drop `Mn`), then splits off punctuation.
 */
export function basicTokenize(text: string, opts: { doLowerCase?: boolean } = {}): string[] {
  const lower = opts.doLowerCase ?? true;
  let spaced = "";
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0 || cp === 0xfffd || isBertControl(ch)) continue;
    if (isBertWhitespace(ch)) spaced += " ";
    else if (isChineseChar(cp)) spaced += ` ${ch} `;
    else spaced += ch;
  }
  const out: string[] = [];
  for (let word of spaced.split(" ")) {
    if (!word) continue;
    if (lower) word = word.toLowerCase().normalize("NFD").replace(/\p{Mn}/gu, "");
    let cur = "";
    for (const ch of word) {
      if (isBertPunctuation(ch)) {
        if (cur) out.push(cur);
        out.push(ch);
        cur = "";
      } else cur += ch;
    }
    if (cur) out.push(cur);
  }
  return out;
}

/** Options of `buildVocab`. */
export interface BuildVocabOptions {
  /** Lower-case and strip accents like an uncased BERT (default true). */
  doLowerCase?: boolean;
  /** Whole multi-character words seen fewer times are not added (their pieces still are). Default 1. */
  minWordFrequency?: number;
  /** At most this many whole words (most frequent first). Default: no limit. */
  maxWords?: number;
  /** Extra tokens appended at the end (when not already present). */
  extraTokens?: readonly string[];
}

/**
 * Builds a vocabulary (id = position) from `texts`:
 * 1. `[PAD] [UNK] [CLS] [SEP] [MASK]` at ids 0..4;
 * 2. every character of the corpus after basic tokenization (so every CJK character and
 *    punctuation mark), plus the digits and `a`–`z`, in code point order;
 * 3. `##c` for every character that occurs inside a multi-character word, plus `##0`–`##9` and
 *    `##a`–`##z`, in code point order — with 2. this makes every word made of seen characters
 *    tokenizable without `[UNK]` (first character, then `##` pieces);
 * 4. whole multi-character words (latin words, numbers), most frequent first, ties in code
 *    point order, so frequent words are one token.
 * The result depends only on the corpus and options (deterministic).
 */
export function buildVocab(texts: Iterable<string>, opts: BuildVocabOptions = {}): string[] {
  const lower = opts.doLowerCase ?? true;
  const minFreq = opts.minWordFrequency ?? 1;
  const maxWords = opts.maxWords ?? Infinity;
  const chars = new Set<string>();
  const suffixChars = new Set<string>();
  const wordFreq = new Map<string, number>();
  for (const c of "0123456789abcdefghijklmnopqrstuvwxyz") {
    chars.add(c);
    suffixChars.add(c);
  }
  for (const text of texts) {
    for (const word of basicTokenize(text, { doLowerCase: lower })) {
      const cs = Array.from(word);
      for (const c of cs) chars.add(c);
      if (cs.length > 1) {
        for (const c of cs) suffixChars.add(c);
        if (cs.length <= MAX_CHARS_PER_WORD) wordFreq.set(word, (wordFreq.get(word) ?? 0) + 1);
      }
    }
  }
  const byCodePoint = (a: string, b: string) => compareCodePoints(a, b);
  const vocab: string[] = [...SPECIAL_TOKENS];
  const seen = new Set<string>(vocab);
  const add = (t: string) => {
    if (!seen.has(t)) {
      seen.add(t);
      vocab.push(t);
    }
  };
  for (const c of [...chars].sort(byCodePoint)) add(c);
  for (const c of [...suffixChars].sort(byCodePoint)) add(`##${c}`);
  const words = [...wordFreq].filter(([, n]) => n >= minFreq)
    .sort((a, b) => b[1] - a[1] || compareCodePoints(a[0], b[0]))
    .slice(0, maxWords === Infinity ? undefined : maxWords);
  for (const [w] of words) add(w);
  for (const t of opts.extraTokens ?? []) add(t);
  return vocab;
}

/** Compares strings by code points (not UTF-16 units), for a script-independent order. */
export function compareCodePoints(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** `vocab.txt` text: one token per line, final newline. */
export function vocabText(vocab: readonly string[]): string {
  return vocab.join("\n") + "\n";
}
