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

/**
 * A table from UTF-16 index to code point offset for one text: `table[u]` is the number of code
 * points before UTF-16 index `u` (`0 <= u <= text.length`), as {@link utf16ToCodePoint} gives,
 * in one pass for texts whose many offsets are converted.
 */
export function codePointTable(text: string): Int32Array {
  const table = new Int32Array(text.length + 1);
  let cp = 0;
  for (let i = 0; i < text.length; i++) {
    table[i] = cp;
    const c = text.charCodeAt(i);
    const lowHalf = c >= 0xdc00 && c <= 0xdfff && i > 0 &&
      text.charCodeAt(i - 1) >= 0xd800 && text.charCodeAt(i - 1) <= 0xdbff;
    if (!lowHalf) cp++;
  }
  // A low half's index still maps after its pair's start, like utf16ToCodePoint.
  for (let i = 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const p = text.charCodeAt(i - 1);
    if (c >= 0xdc00 && c <= 0xdfff && p >= 0xd800 && p <= 0xdbff) table[i] = table[i - 1] + 1;
  }
  table[text.length] = cp;
  return table;
}

/**
 * `[start, end)` spans in UTF-16 indices of `text` → the same spans in code points: the one
 * conversion for every position the project prints or writes (Python and Hugging Face tokenizers
 * count code points). `null` entries (tokens outside the text) stay `null`.
 */
export function spansToCodePoints(
  text: string,
  spans: readonly (readonly [number, number])[],
): [number, number][];
export function spansToCodePoints(
  text: string,
  spans: readonly (readonly [number, number] | null)[],
): ([number, number] | null)[];
export function spansToCodePoints(
  text: string,
  spans: readonly (readonly [number, number] | null)[],
): ([number, number] | null)[] {
  const table = hasAstral(text) ? codePointTable(text) : null;
  return spans.map((s): [number, number] | null =>
    s === null ? null : table ? [table[s[0]], table[s[1]]] : [s[0], s[1]]
  );
}
