/**
 * `BertTokenizer.encode`: special tokens, token types, truncation strategies, overflowing
 * windows with stride (BertTokenizerFast semantics), padding. Expected values worked by hand.
 */
import assert from "node:assert/strict";
import { BertTokenizer, windowRanges } from "../lib/tokenization/mod.ts";

const CHARS = [..."問題是一二三四五六七八九十甲乙"];
const VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ...CHARS, "hello", "world"];
const tok = BertTokenizer.fromVocab(VOCAB, { modelMaxLength: 16 });
const id = (t: string) => VOCAB.indexOf(t);

const Q = "問題"; // 2 tokens
const C = "一二三四五六七八九十"; // 10 tokens, offsets [i, i+1]

Deno.test("encode: single text gets [CLS] ... [SEP], type 0, offsets (0,0) on specials", () => {
  const e = tok.encode("hello 問");
  assert.deepEqual(e.tokens, ["[CLS]", "hello", "問", "[SEP]"]);
  assert.deepEqual(e.input_ids, [2, id("hello"), id("問"), 3]);
  assert.deepEqual(e.token_type_ids, [0, 0, 0, 0]);
  assert.deepEqual(e.attention_mask, [1, 1, 1, 1]);
  assert.deepEqual(e.offset_mapping, [[0, 0], [0, 5], [6, 7], [0, 0]]);
  assert.deepEqual(e.sequence_ids, [null, 0, 0, null]);
  assert.equal(e.overflowing, undefined);
  const bare = tok.encode("hello 問", null, { addSpecialTokens: false });
  assert.deepEqual(bare.tokens, ["hello", "問"]);
  assert.deepEqual(bare.sequence_ids, [0, 0]);
});

Deno.test("encode: pair gets [CLS] A [SEP] B [SEP], types 0…0 1…1, offsets index each text", () => {
  const e = tok.encode(Q, "一二");
  assert.deepEqual(e.tokens, ["[CLS]", "問", "題", "[SEP]", "一", "二", "[SEP]"]);
  assert.deepEqual(e.token_type_ids, [0, 0, 0, 0, 1, 1, 1]);
  assert.deepEqual(e.sequence_ids, [null, 0, 0, null, 1, 1, null]);
  assert.deepEqual(e.offset_mapping, [[0, 0], [0, 1], [1, 2], [0, 0], [0, 1], [1, 2], [0, 0]]);
  assert.deepEqual(e.attention_mask, [1, 1, 1, 1, 1, 1, 1]);
});

Deno.test("encode: only_second overflow windows start `stride` tokens before the previous end", () => {
  // maxLength 9 → 9 - 3 specials - 2 question tokens = 4 context tokens per window; stride 1
  // → windows over the context [0,4) [3,7) [6,10).
  const e = tok.encode(Q, C, {
    truncation: "only_second",
    maxLength: 9,
    stride: 1,
    returnOverflowingTokens: true,
  });
  const windows = [e, ...e.overflowing!];
  assert.equal(windows.length, 3);
  const ctx = windows.map((w) => w.tokens.filter((_, i) => w.sequence_ids[i] === 1).join(""));
  assert.deepEqual(ctx, ["一二三四", "四五六七", "七八九十"]);
  for (const w of windows) {
    assert.equal(w.input_ids.length, 9);
    assert.deepEqual(w.tokens.slice(0, 4), ["[CLS]", "問", "題", "[SEP]"]);
    assert.equal(w.tokens[8], "[SEP]");
    assert.deepEqual(w.token_type_ids, [0, 0, 0, 0, 1, 1, 1, 1, 1]);
  }
  assert.ok(windows.slice(1).every((w) => w.overflowing === undefined));
  // Offsets of context tokens still index the context string.
  assert.deepEqual(windows[1].offset_mapping.slice(4, 8), [[3, 4], [4, 5], [5, 6], [6, 7]]);
  assert.deepEqual(windows[2].offset_mapping.slice(4, 8), [[6, 7], [7, 8], [8, 9], [9, 10]]);
  // Without returnOverflowingTokens only the first window is returned.
  const first = tok.encode(Q, C, { truncation: "only_second", maxLength: 9, stride: 1 });
  assert.deepEqual(first.input_ids, e.input_ids);
  assert.equal(first.overflowing, undefined);
});

Deno.test("encode: window edge cases — exact fit, last window ending exactly at the end", () => {
  // 2 + 10 + 3 = 15 ≤ 15: no truncation, no overflow.
  const fit = tok.encode(Q, C, {
    truncation: "only_second",
    maxLength: 15,
    stride: 3,
    returnOverflowingTokens: true,
  });
  assert.equal(fit.input_ids.length, 15);
  assert.deepEqual(fit.overflowing, []);
  // One token too long: windows of 9 with stride 3 → [0,9) [6,10).
  const over = tok.encode(Q, C, {
    truncation: "only_second",
    maxLength: 14,
    stride: 3,
    returnOverflowingTokens: true,
  });
  assert.equal(over.overflowing!.length, 1);
  assert.deepEqual(over.overflowing![0].offset_mapping.slice(4, -1), [
    [6, 7],
    [7, 8],
    [8, 9],
    [9, 10],
  ]);
  assert.deepEqual(windowRanges(10, 4, 2), [[0, 4], [2, 6], [4, 8], [6, 10]]);
  assert.deepEqual(windowRanges(10, 4, 0), [[0, 4], [4, 8], [8, 10]]);
  assert.deepEqual(windowRanges(3, 4, 2), [[0, 3]]);
});

Deno.test("encode: padding max_length / longest, including overflowing windows", () => {
  const e = tok.encode(Q, C, {
    truncation: "only_second",
    maxLength: 10,
    stride: 2,
    returnOverflowingTokens: true,
    padding: "max_length",
  });
  // 5 context tokens per window, stride 2 → [0,5) [3,8) [6,10): last has 4 → one [PAD].
  const windows = [e, ...e.overflowing!];
  assert.equal(windows.length, 3);
  const last = windows[2];
  assert.deepEqual(last.tokens, [
    "[CLS]",
    "問",
    "題",
    "[SEP]",
    "七",
    "八",
    "九",
    "十",
    "[SEP]",
    "[PAD]",
  ]);
  assert.deepEqual(last.attention_mask, [1, 1, 1, 1, 1, 1, 1, 1, 1, 0]);
  assert.deepEqual(last.token_type_ids, [0, 0, 0, 0, 1, 1, 1, 1, 1, 0]);
  assert.deepEqual(last.offset_mapping[9], [0, 0]);
  assert.equal(last.sequence_ids[9], null);
  assert.equal(last.input_ids[9], tok.padTokenId);

  const single = tok.encode("問題", null, { padding: "max_length", maxLength: 6 });
  assert.deepEqual(single.input_ids, [2, id("問"), id("題"), 3, 0, 0]);
  // "longest" on one sequence pads nothing; over windows, pads to the longest window.
  assert.equal(tok.encode("問題", null, { padding: "longest" }).input_ids.length, 4);
  const longest = tok.encode(Q, C, {
    truncation: "only_second",
    maxLength: 10,
    stride: 2,
    returnOverflowingTokens: true,
    padding: "longest",
  });
  assert.equal(longest.overflowing![1].input_ids.length, 10);
  // Padding never truncates: longer than maxLength without truncation stays as is.
  const long = tok.encode(C, null, { padding: "max_length", maxLength: 5, truncation: false });
  assert.equal(long.input_ids.length, 12);
});

Deno.test("encode: only_first and longest_first share the budget like the Rust tokenizer", () => {
  const a = "一二三四五六七"; // 7
  const b = "甲乙問"; // 3
  // budget 8 - 3 = 5: shorter gets min(3, max(3, 5-3)) → both cut: 5/2 → shorter 2, longer 3.
  let e = tok.encode(a, b, { truncation: "longest_first", maxLength: 8 });
  assert.deepEqual(e.tokens, ["[CLS]", "一", "二", "三", "[SEP]", "甲", "乙", "[SEP]"]);
  // budget 5 with a 1-token pair: the long one keeps 4.
  e = tok.encode(a, "甲", { truncation: true, maxLength: 8 });
  assert.deepEqual(e.tokens, ["[CLS]", "一", "二", "三", "四", "[SEP]", "甲", "[SEP]"]);
  // maxLength without truncation means longest_first (Hugging Face does the same).
  assert.deepEqual(tok.encode(a, "甲", { maxLength: 8 }).tokens, e.tokens);
  e = tok.encode(a, b, { truncation: "only_first", maxLength: 8 });
  assert.deepEqual(e.tokens, ["[CLS]", "一", "二", "[SEP]", "甲", "乙", "問", "[SEP]"]);
  // only_first with overflow: windows over the first text, the pair repeated whole.
  e = tok.encode(a, b, {
    truncation: "only_first",
    maxLength: 8,
    returnOverflowingTokens: true,
    stride: 1,
  });
  const firsts = [e, ...e.overflowing!].map((w) =>
    w.tokens.filter((_, i) => w.sequence_ids[i] === 0).join("")
  );
  assert.deepEqual(firsts, ["一二", "二三", "三四", "四五", "五六", "六七"]);
  // Single text, longest_first, overflow.
  e = tok.encode(C, null, { truncation: true, maxLength: 6, returnOverflowingTokens: true });
  assert.deepEqual([e, ...e.overflowing!].map((w) => w.tokens.slice(1, -1).join("")), [
    "一二三四",
    "五六七八",
    "九十",
  ]);
  // Truncation falls back to the tokenizer's modelMaxLength (16 here).
  assert.equal(tok.encode(C + C, null, { truncation: true }).input_ids.length, 16);
});

Deno.test("encode: impossible truncations are clear errors", () => {
  assert.throws(
    () => tok.encode(C, null, { truncation: "only_second", maxLength: 5 }),
    /only_second.*pair/,
  );
  assert.throws(
    () => tok.encode(C, Q, { truncation: "only_second", maxLength: 8 }),
    /second sequence \(2 tokens\) cannot be shortened enough.*max_length is 8/,
  );
  assert.throws(
    () =>
      tok.encode(Q, C, {
        truncation: "only_second",
        maxLength: 9,
        stride: 4,
        returnOverflowingTokens: true,
      }),
    /stride \(4\) must be smaller than the truncated sequence length \(4\)/,
  );
  assert.throws(() => tok.encode(Q, C, { truncation: true, maxLength: 2 }), /special tokens/);
  assert.throws(
    () => tok.encode(undefined as unknown as string),
    /text must be a string, got undefined/,
  );
  assert.throws(
    () => tok.encode(C, C, { truncation: true, maxLength: 8, returnOverflowingTokens: true }),
    /not supported/,
  );
});

Deno.test("encodeTokenized equals encode on the same texts", () => {
  const opts = {
    truncation: "only_second" as const,
    maxLength: 9,
    stride: 2,
    returnOverflowingTokens: true,
    padding: "max_length" as const,
  };
  assert.deepEqual(
    tok.encodeTokenized(tok.tokenizeWithOffsets(Q), tok.tokenizeWithOffsets(C), opts),
    tok.encode(Q, C, opts),
  );
});

Deno.test("ids ↔ tokens and decode", () => {
  assert.deepEqual(tok.convertTokensToIds(["hello", "nope"]), [id("hello"), tok.unkTokenId]);
  assert.deepEqual(tok.convertIdsToTokens([2, 3]), ["[CLS]", "[SEP]"]);
  assert.throws(() => tok.convertIdsToTokens([VOCAB.length]), /outside the vocabulary/);
  assert.equal(tok.vocabSize, VOCAB.length);
  assert.deepEqual(
    [tok.padTokenId, tok.unkTokenId, tok.clsTokenId, tok.sepTokenId, tok.maskTokenId],
    [0, 1, 2, 3, 4],
  );
  const e = tok.encode("hello world", "問題", { padding: "max_length", maxLength: 10 });
  assert.equal(tok.decode(e.input_ids), "[CLS] hello world [SEP] 問 題 [SEP] [PAD] [PAD] [PAD]");
  assert.equal(tok.decode(e.input_ids, { skipSpecialTokens: true }), "hello world 問 題");
  assert.equal(tok.decode([]), "");
});
