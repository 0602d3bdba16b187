/**
 * Character classes of BERT's basic tokenization, as defined by Google's BERT `tokenization.py`,
 * Hugging Face `BasicTokenizer` and the `BertNormalizer`/`BertPreTokenizer` of the Rust
 * `tokenizers` crate. All functions take a Unicode code point.
 * @module
 */

const CONTROL = /^\p{C}$/u; // Cc, Cf, Cs, Co, Cn
const SPACE_SEPARATOR = /^[\p{Zs}\p{Zl}\p{Zp}]$/u;
const PUNCT = /^\p{P}$/u;

/**
 * Whitespace for BERT: space, tab, newline, carriage return and the Unicode separators (Zs; also
 * Zl/Zp, which Python's `str.split()` and Rust's `char::is_whitespace` both split on).
 */
export function isWhitespace(cp: number): boolean {
  if (cp === 0x20 || cp === 0x09 || cp === 0x0a || cp === 0x0d) return true;
  if (cp < 0x80) return false;
  return SPACE_SEPARATOR.test(String.fromCodePoint(cp));
}

/**
 * Control characters that BERT's text cleaning removes: Unicode category C* (Cc, Cf, Cs, Co, Cn)
 * except tab, newline and carriage return (those count as whitespace).
 */
export function isControl(cp: number): boolean {
  if (cp === 0x09 || cp === 0x0a || cp === 0x0d) return false;
  if (cp < 0x20 || cp === 0x7f) return true;
  if (cp < 0x80) return false;
  return CONTROL.test(String.fromCodePoint(cp));
}

/**
 * Punctuation for BERT: every non-alphanumeric printable ASCII character (so `$`, `+`, `^`, `` ` ``
 * count) and every Unicode P* character.
 */
export function isPunctuation(cp: number): boolean {
  if (
    (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
    (cp >= 123 && cp <= 126)
  ) return true;
  if (cp < 0x80) return false;
  return PUNCT.test(String.fromCodePoint(cp));
}

/**
 * CJK Unified Ideographs (and extensions / compatibility blocks) that BERT splits into one word
 * each. Kana and Hangul are not included, as in BERT.
 */
export function isChineseChar(cp: number): boolean {
  return (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f);
}
