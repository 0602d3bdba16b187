import assert from "node:assert/strict";
import {
  prepareQaFeatures,
  prepareQaFeaturesWithStats,
  type QaInput,
  windowStarts,
} from "../lib/features/mod.ts";
import { charContext, makeTokenizer } from "./features_util.ts";
import { createRng } from "../lib/util/random.ts";

const tok = makeTokenizer();
const CLS = tok.clsTokenId;
const SEP = tok.sepTokenId;

Deno.test("single window: [CLS] question [SEP] context [SEP], types, mask, offsets, labels", () => {
  const context = "甲乙丙hello丁";
  const input: QaInput = {
    id: "q1",
    question: "誰是",
    context,
    answer: { text: "hello", start: 3 },
  };
  const [f, ...rest] = prepareQaFeatures([input], tok, { training: true });
  assert.equal(rest.length, 0);
  const ids = (s: string) => tok.tokenizeWithOffsets(s).ids;
  assert.deepEqual(f.inputIds, [CLS, ...ids("誰是"), SEP, ...ids(context), SEP]);
  assert.deepEqual(f.tokenTypeIds, [0, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
  assert.deepEqual(f.attentionMask, new Array(10).fill(1));
  assert.deepEqual(f.offsetMapping, [
    null,
    null,
    null,
    null,
    [0, 1],
    [1, 2],
    [2, 3],
    [3, 8],
    [8, 9],
    null,
  ]);
  assert.equal(f.exampleId, "q1");
  assert.equal(f.exampleIndex, 0);
  assert.equal(f.startPosition, 7);
  assert.equal(f.endPosition, 7);
  assert.equal(tok.vocab[f.inputIds[7]], "hello");
});

Deno.test("evaluation mode has no labels but the same windows", () => {
  const input: QaInput = {
    id: "e",
    question: "誰",
    context: charContext(100),
    answer: { text: "乙", start: 1 },
  };
  const train = prepareQaFeatures([input], tok, { maxSeqLength: 32, docStride: 8, training: true });
  const evalF = prepareQaFeatures([input], tok, { maxSeqLength: 32, docStride: 8 });
  assert.equal(train.length, evalF.length);
  for (let i = 0; i < train.length; i++) {
    assert.equal(evalF[i].startPosition, undefined);
    assert.equal(evalF[i].endPosition, undefined);
    assert.deepEqual(evalF[i].inputIds, train[i].inputIds);
    assert.deepEqual(evalF[i].offsetMapping, train[i].offsetMapping);
  }
});

Deno.test("windowStarts: starts step by budget - stride and the last window reaches the end", () => {
  assert.deepEqual(windowStarts(10, 10, 3), [0]);
  assert.deepEqual(windowStarts(11, 10, 3), [0, 7]);
  assert.deepEqual(windowStarts(24, 10, 3), [0, 7, 14]);
  assert.deepEqual(windowStarts(25, 10, 3), [0, 7, 14, 21]);
  assert.deepEqual(windowStarts(5, 4, 0), [0, 4]);
  assert.throws(() => windowStarts(20, 5, 5), /larger than the stride/);
});

Deno.test("windows equal the tokenizer's only_second truncation with overflow and stride", () => {
  const rng = createRng(7);
  for (let trial = 0; trial < 40; trial++) {
    const question = charContext(1 + rng.int(12), 5 + trial);
    const context = charContext(rng.int(200), trial) + (trial % 3 === 0 ? "hello 2023 world" : "");
    const maxSeqLength = 20 + rng.int(60);
    const docStride = rng.int(Math.max(1, maxSeqLength - question.length - 4));
    const feats = prepareQaFeatures([{ id: "x", question, context }], tok, {
      maxSeqLength,
      docStride,
    });
    const enc = tok.encode(question, context, {
      truncation: "only_second",
      maxLength: maxSeqLength,
      stride: docStride,
      returnOverflowingTokens: true,
    });
    const windows = [enc, ...(enc.overflowing ?? [])];
    assert.equal(feats.length, windows.length, `trial ${trial}: window count`);
    feats.forEach((f, w) => {
      assert.deepEqual(f.inputIds, windows[w].input_ids, `trial ${trial} window ${w}`);
      assert.deepEqual(f.tokenTypeIds, windows[w].token_type_ids);
      assert.deepEqual(f.attentionMask, windows[w].attention_mask);
      const expectedOffsets = windows[w].offset_mapping.map((o, k) =>
        windows[w].sequence_ids[k] === 1 ? o : null
      );
      assert.deepEqual(f.offsetMapping, expectedOffsets);
      assert.ok(f.inputIds.length <= maxSeqLength);
    });
  }
});

Deno.test("consecutive windows overlap by doc_stride tokens and cover the whole context", () => {
  const context = charContext(250);
  const feats = prepareQaFeatures([{ id: "c", question: "誰是", context }], tok, {
    maxSeqLength: 64,
    docStride: 16,
  });
  const budget = 64 - 2 - 3;
  assert.equal(feats.length, Math.ceil((250 - budget) / (budget - 16)) + 1);
  let covered = 0;
  feats.forEach((f, w) => {
    const offs = f.offsetMapping.filter((o): o is [number, number] => o !== null);
    if (w < feats.length - 1) assert.equal(offs.length, budget);
    assert.equal(offs[0][0], w * (budget - 16));
    covered = Math.max(covered, offs[offs.length - 1][1]);
  });
  assert.equal(covered, 250);
});

Deno.test("answer across a window border is labelled only in the window that holds it", () => {
  // budget 20 context tokens, stride 5 → windows [0,20), [15,35), [30,50) ...
  const context = charContext(60);
  const question = "誰";
  const opts = { maxSeqLength: 24, docStride: 5, training: true };
  const answer = { text: context.slice(17, 23), start: 17 }; // crosses the end of window 0
  const feats = prepareQaFeatures([{ id: "b", question, context, answer }], tok, opts);
  assert.equal(feats[0].startPosition, 0);
  assert.equal(feats[0].endPosition, 0);
  const prefix = 3; // [CLS] 誰 [SEP]
  assert.equal(feats[1].startPosition, prefix + (17 - 15));
  assert.equal(feats[1].endPosition, prefix + (22 - 15));
  for (const f of feats.slice(2)) assert.equal(f.startPosition, 0);
  // The labelled tokens slice back to the answer.
  const f = feats[1];
  const text = context.slice(
    f.offsetMapping[f.startPosition!]![0],
    f.offsetMapping[f.endPosition!]![1],
  );
  assert.equal(text, answer.text);
});

Deno.test("answer at the very end of the context is labelled on the last context token", () => {
  const context = charContext(45);
  const answer = { text: context.slice(44), start: 44 };
  const feats = prepareQaFeatures([{ id: "end", question: "誰", context, answer }], tok, {
    maxSeqLength: 24,
    docStride: 5,
    training: true,
  });
  const last = feats[feats.length - 1];
  assert.equal(last.startPosition, last.inputIds.length - 2);
  assert.equal(last.endPosition, last.inputIds.length - 2);
  assert.equal(last.inputIds[last.inputIds.length - 1], SEP);
  // Also a multi-token answer ending at the end, in a single-window context.
  const short = "甲乙丙丁戊";
  const [g] = prepareQaFeatures(
    [{ id: "e2", question: "誰", context: short, answer: { text: "丁戊", start: 3 } }],
    tok,
    { training: true },
  );
  assert.deepEqual([g.startPosition, g.endPosition], [6, 7]);
  assert.equal(g.inputIds[8], SEP);
});

Deno.test("answer at the start of the context", () => {
  const context = charContext(80);
  const answer = { text: context.slice(0, 3), start: 0 };
  const feats = prepareQaFeatures([{ id: "s", question: "誰是", context, answer }], tok, {
    maxSeqLength: 32,
    docStride: 8,
    training: true,
  });
  assert.deepEqual([feats[0].startPosition, feats[0].endPosition], [4, 6]);
  for (const f of feats.slice(1)) assert.deepEqual([f.startPosition, f.endPosition], [0, 0]);
});

Deno.test("answer starting or ending inside a token: labels take the covering tokens (HF rule)", () => {
  const context = "甲乙 2023 丙丁";
  // "20" starts at the token "2023" (one token) but ends inside it.
  const [f] = prepareQaFeatures(
    [{ id: "m", question: "誰", context, answer: { text: "20", start: 3 } }],
    tok,
    { training: true },
  );
  assert.equal(tok.vocab[f.inputIds[f.startPosition!]], "2023");
  assert.equal(f.startPosition, f.endPosition);
  // "23 丙" starts mid-token: the start label is the token containing its first character.
  const [g] = prepareQaFeatures(
    [{ id: "m2", question: "誰", context, answer: { text: "23 丙", start: 5 } }],
    tok,
    { training: true },
  );
  assert.equal(tok.vocab[g.inputIds[g.startPosition!]], "2023");
  assert.equal(tok.vocab[g.inputIds[g.endPosition!]], "丙");
});

Deno.test("inputs without an answer get [CLS] labels in training mode", () => {
  const feats = prepareQaFeatures([{ id: "n", question: "誰", context: charContext(50) }], tok, {
    maxSeqLength: 24,
    docStride: 4,
    training: true,
  });
  assert.ok(feats.length > 1);
  for (const f of feats) assert.deepEqual([f.startPosition, f.endPosition], [0, 0]);
});

Deno.test("question leading whitespace is stripped (run_qa.py lstrip)", () => {
  const [a] = prepareQaFeatures([{ id: "a", question: "   誰是", context: "甲乙" }], tok);
  const [b] = prepareQaFeatures([{ id: "a", question: "誰是", context: "甲乙" }], tok);
  assert.deepEqual(a.inputIds, b.inputIds);
});

Deno.test("tiny budget: a question that leaves no room is truncated to maxQueryLength", () => {
  const question = charContext(40, 3);
  const context = charContext(30);
  const answer = { text: context.slice(25, 27), start: 25 };
  // 40 question tokens + 3 specials leave 5 context tokens of 48, not more than the stride 8.
  const { features, stats } = prepareQaFeaturesWithStats(
    [{ id: "long-q", question, context, answer }],
    tok,
    { maxSeqLength: 48, docStride: 8, maxQueryLength: 10, training: true },
  );
  assert.equal(stats[0].questionTruncated, true);
  assert.equal(stats[0].questionTokens, 40);
  for (const f of features) {
    assert.equal(f.inputIds.length <= 48, true);
    assert.equal(f.tokenTypeIds.indexOf(1), 12); // [CLS] + 10 question tokens + [SEP]
    assert.deepEqual(f.inputIds.slice(1, 11), tok.tokenizeWithOffsets(question).ids.slice(0, 10));
  }
  const held = features.filter((f) => f.startPosition! > 0);
  assert.equal(held.length >= 1, true);
  const f = held[0];
  assert.equal(
    context.slice(f.offsetMapping[f.startPosition!]![0], f.offsetMapping[f.endPosition!]![1]),
    answer.text,
  );
});

Deno.test("tiny budget: a long question with a context that fits is left alone (as HF)", () => {
  const question = charContext(40, 3);
  const { features, stats } = prepareQaFeaturesWithStats(
    [{ id: "fits", question, context: "甲乙" }],
    tok,
    { maxSeqLength: 48, docStride: 8, maxQueryLength: 10 },
  );
  assert.equal(features.length, 1);
  assert.equal(stats[0].questionTruncated, false);
  assert.equal(features[0].inputIds.length, 45);
});

Deno.test("tiny budget: still no room after truncating the question is a clear error", () => {
  assert.throws(
    () =>
      prepareQaFeatures(
        [{ id: "x1", question: charContext(20), context: charContext(50) }],
        tok,
        { maxSeqLength: 16, docStride: 4, maxQueryLength: 12 },
      ),
    (e: Error) =>
      /QA example 0 \(0-based, id "x1"\)/.test(e.message) && /doc_stride 4/.test(e.message) &&
      /max_seq_length 16/.test(e.message),
  );
  assert.throws(() => prepareQaFeatures([], tok, { maxSeqLength: 3 }), /maxSeqLength/);
  assert.throws(() => prepareQaFeatures([], tok, { docStride: -1 }), /docStride/);
});

Deno.test("windows keep example ids and indices; repeated contexts give identical features", () => {
  const context = charContext(120);
  const inputs: QaInput[] = [
    { id: "a", question: "誰", context },
    { id: "b", question: "是", context: charContext(10) },
    { id: "c", question: "誰", context },
  ];
  const feats = prepareQaFeatures(inputs, tok, { maxSeqLength: 40, docStride: 10 });
  const a = feats.filter((f) => f.exampleId === "a");
  const c = feats.filter((f) => f.exampleId === "c");
  assert.ok(a.length > 1);
  assert.deepEqual(a.map((f) => f.inputIds), c.map((f) => f.inputIds));
  assert.deepEqual(
    feats.map((f) => f.exampleIndex),
    [...a.map(() => 0), 1, ...c.map(() => 2)],
  );
});
