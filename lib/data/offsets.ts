/**
 * Conversions between Unicode code point offsets (what Python writes in data files) and
 * JavaScript string indices (UTF-16 code units, what the library uses in memory).
 * @module
 */

/**
 * UTF-16 index of the code point at code point offset `cp` in `text`; `-1` when `cp` is past
 * the end (`cp` equal to the number of code points gives `text.length`).
 */
export function codePointToUtf16(text: string, cp: number): number {
  let u = 0;
  for (let k = 0; k < cp; k++) {
    if (u >= text.length) return -1;
    const c = text.charCodeAt(u);
    u += c >= 0xd800 && c <= 0xdbff && u + 1 < text.length ? 2 : 1;
  }
  return u <= text.length ? u : -1;
}

/** Code point offset of UTF-16 index `u` in `text` (counts the code points before `u`). */
export function utf16ToCodePoint(text: string, u: number): number {
  let cp = 0;
  for (let i = 0; i < u && i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff && i > 0) {
      const p = text.charCodeAt(i - 1);
      if (p >= 0xd800 && p <= 0xdbff) continue; // low half of a pair already counted
    }
    cp++;
  }
  return cp;
}

/** True when `text` has characters outside the Basic Multilingual Plane (surrogate pairs). */
export function hasAstral(text: string): boolean {
  return /[\ud800-\udbff][\udc00-\udfff]/.test(text);
}
