/** The one conversion from in-memory UTF-16 positions to the code points the project writes. */
import assert from "node:assert/strict";
import {
  codePointTable,
  codePointToUtf16,
  spansToCodePoints,
  utf16ToCodePoint,
} from "../lib/data/mod.ts";

const TEXT = "𫖮甲𩅦乙 ab𫖮";

Deno.test("codePointTable agrees with utf16ToCodePoint at every index (astral 𫖮 𩅦)", () => {
  const table = codePointTable(TEXT);
  assert.equal(table.length, TEXT.length + 1);
  for (let u = 0; u <= TEXT.length; u++) {
    assert.equal(table[u], utf16ToCodePoint(TEXT, u), `u=${u}`);
  }
  assert.equal(table[TEXT.length], [...TEXT].length);
});

Deno.test("spansToCodePoints: spans slice the same characters in code points; null kept", () => {
  const spans: ([number, number] | null)[] = [];
  let u = 0;
  for (const ch of TEXT) {
    spans.push([u, u + ch.length]);
    u += ch.length;
  }
  spans.push(null);
  const cps = spansToCodePoints(TEXT, spans);
  const chars = [...TEXT];
  cps.forEach((s, i) => {
    if (s === null) return assert.equal(spans[i], null);
    assert.equal(chars.slice(s[0], s[1]).join(""), TEXT.slice(spans[i]![0], spans[i]![1]));
    assert.equal(codePointToUtf16(TEXT, s[0]), spans[i]![0]);
  });
  assert.deepEqual(cps[2], [2, 3]); // 𩅦: UTF-16 [3, 5)
  // Without astral characters the spans are copied unchanged.
  assert.deepEqual(spansToCodePoints("甲乙", [[0, 1], [1, 2]]), [[0, 1], [1, 2]]);
});
