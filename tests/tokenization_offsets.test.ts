/**
 * Offset rules of `BertTokenizer.tokenizeWithOffsets` on tricky text, with a small hand-made
 * vocabulary so that every expected token and span is worked out by hand.
 */
import assert from "node:assert/strict";
import { BertTokenizer } from "../lib/tokenization/mod.ts";

// deno-fmt-ignore
const VOCAB = [
  "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
  "價", "格", "元", "１２", "##３", "１", "２", "３",
  "cafe", "na", "##ive", "！", "!", "'", ",", ".",
  "is", "##tan", "##bul", "hello", "world", "hi", "ok", "don", "t",
  "我", "愛", "和", "模", "型", "nlp", "bert", "好", "𠀀",
  "😀", "##😀", "a", "##a", "b", "c", "d", "e", "f", "g", "x", "##y",
  "οδοσ", "Café", "un", "##aff", "##able",
];

const tok = BertTokenizer.fromVocab(VOCAB);

function check(text: string, tokens: string[], offsets: [number, number][]) {
  const r = tok.tokenizeWithOffsets(text);
  assert.deepEqual(r.tokens, tokens, `tokens of ${JSON.stringify(text)}`);
  assert.deepEqual(r.offsets, offsets, `offsets of ${JSON.stringify(text)}`);
  assert.deepEqual(r.ids, tokens.map((t) => VOCAB.indexOf(t)));
}

Deno.test("offsets: full-width digits split into ## pieces covering their own characters", () => {
  check("價格１２３元", ["價", "格", "１２", "##３", "元"], [[0, 1], [1, 2], [2, 4], [4, 5], [
    5,
    6,
  ]]);
});

Deno.test("offsets: accented latin is matched lower-cased and accent-stripped, spans in original", () => {
  check("Café naïve!", ["cafe", "na", "##ive", "!"], [[0, 4], [5, 7], [7, 10], [10, 11]]);
  // Already-decomposed accent: the mark is dropped from the token but stays inside the span.
  check("Cafe\u0301！", ["cafe", "！"], [[0, 5], [5, 6]]);
  // 'İ' lower-cases to two code units ("i" + U+0307); the mark is stripped, the span is 1 unit.
  check("İstanbul", ["is", "##tan", "##bul"], [[0, 2], [2, 5], [5, 8]]);
});

Deno.test("offsets: without lower-casing, case and accents are kept", () => {
  const cased = BertTokenizer.fromVocab(VOCAB, { doLowerCase: false });
  const r = cased.tokenizeWithOffsets("Café cafe");
  assert.deepEqual(r.tokens, ["Café", "cafe"]);
  assert.deepEqual(r.offsets, [[0, 4], [5, 9]]);
});

Deno.test("offsets: mixed scripts — CJK characters are words, latin runs are words", () => {
  check(
    "我愛NLP和BERT模型",
    ["我", "愛", "nlp", "和", "bert", "模", "型"],
    [[0, 1], [1, 2], [2, 5], [5, 6], [6, 10], [10, 11], [11, 12]],
  );
  // An astral-plane ideograph (U+20000) is a CJK word of its own and spans 2 UTF-16 units.
  check("好𠀀好", ["好", "𠀀", "好"], [[0, 1], [1, 3], [3, 4]]);
});

Deno.test("offsets: emoji are 2 UTF-16 units; unknown words become one [UNK] over the whole word", () => {
  check("hi 😀 ok", ["hi", "😀", "ok"], [[0, 2], [3, 5], [6, 8]]);
  check("😀😀😀", ["😀", "##😀", "##😀"], [[0, 2], [2, 4], [4, 6]]);
  check("hi a😀q ok", ["hi", "[UNK]", "ok"], [[0, 2], [3, 7], [8, 10]]);
  check("qqq", ["[UNK]"], [[0, 3]]);
});

Deno.test("offsets: control characters, NUL and U+FFFD are removed (they do not split words)", () => {
  check("he\u0000llo\u200b world\ufffd", ["hello", "world"], [[0, 6], [8, 13]]);
  // Vertical tab is a control character (removed), not whitespace — as in BERT.
  check("x\u000by", ["x", "##y"], [[0, 1], [2, 3]]);
  check("\u0007\u0000\ufffd", [], []);
});

Deno.test("offsets: whitespace variants all separate words", () => {
  check(
    "a\tb\nc\r\nd\u3000e\u00a0f\u2028g  ",
    ["a", "b", "c", "d", "e", "f", "g"],
    [[0, 1], [2, 3], [4, 5], [7, 8], [9, 10], [11, 12], [13, 14]],
  );
  check("", [], []);
  check(" \t\u3000 ", [], []);
});

Deno.test("offsets: words over 100 characters are one [UNK] spanning the whole word", () => {
  const w100 = "a".repeat(100);
  const r100 = tok.tokenizeWithOffsets(w100);
  assert.equal(r100.tokens.length, 100);
  assert.deepEqual(r100.tokens.slice(0, 2), ["a", "##a"]);
  assert.deepEqual(r100.offsets[99], [99, 100]);
  check("b " + "a".repeat(101) + " c", ["b", "[UNK]", "c"], [[0, 1], [2, 103], [104, 105]]);
  // The limit counts code points, not UTF-16 units: 100 emoji are fine, 101 are not.
  const e100 = tok.tokenizeWithOffsets("😀".repeat(100));
  assert.equal(e100.tokens.length, 100);
  assert.deepEqual(e100.offsets[99], [198, 200]);
  check("😀".repeat(101), ["[UNK]"], [[0, 202]]);
});

Deno.test("offsets: punctuation is split into single-character words", () => {
  check("don't,hello.", ["don", "'", "t", ",", "hello", "."], [
    [0, 3],
    [3, 4],
    [4, 5],
    [5, 6],
    [6, 11],
    [11, 12],
  ]);
  check("unaffable", ["un", "##aff", "##able"], [[0, 2], [2, 5], [5, 9]]);
});

Deno.test("offsets: special tokens written in the text are kept whole, like Hugging Face", () => {
  check("[MASK]好 [SEP]", ["[MASK]", "好", "[SEP]"], [[0, 6], [6, 7], [8, 13]]);
  // Lower-case spelling is not special: it is split as punctuation + word.
  check("[mask]", ["[UNK]", "[UNK]", "[UNK]"], [[0, 1], [1, 5], [5, 6]]);
});

Deno.test("offsets: capital sigma lower-cases per character (BertTokenizerFast), giving σ", () => {
  // Python's slow BertTokenizer gives a final 'ς' here (str.lower is context-sensitive); the
  // Rust fast tokenizer lower-cases each character; we follow the fast tokenizer.
  check("ΟΔΟΣ", ["οδοσ"], [[0, 4]]);
});

Deno.test("tokenizeWithOffsets returns fresh arrays (the memo cannot be corrupted)", () => {
  const a = tok.tokenizeWithOffsets("hello world");
  a.tokens.push("x");
  a.offsets[0][0] = 99;
  const b = tok.tokenizeWithOffsets("hello world");
  assert.deepEqual(b.tokens, ["hello", "world"]);
  assert.deepEqual(b.offsets, [[0, 5], [6, 11]]);
  assert.deepEqual(tok.tokenize("hello world"), ["hello", "world"]);
});
