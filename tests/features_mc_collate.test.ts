import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  collateMc,
  collateQa,
  prepareMcFeatures,
  prepareQaFeatures,
  type QaFeature,
} from "../lib/features/mod.ts";
import { createFromConfig, makeBertConfig } from "../lib/models/mod.ts";
import { charContext, makeTokenizer, VOCAB } from "./features_util.ts";

const tok = makeTokenizer();
const CLS = tok.clsTokenId;
const SEP = tok.sepTokenId;
const PAD = tok.padTokenId;

const contexts = ["甲乙丙", charContext(40), "丁戊", "己庚辛壬癸"];
const ids = (s: string) => tok.tokenizeWithOffsets(s).ids;

Deno.test("MC: [CLS] question [SEP] paragraph [SEP] per candidate, label = position of relevant", () => {
  const [f] = prepareMcFeatures(
    [{ id: "m", question: "誰是", paragraphs: [2, 0, 3, 1], relevant: 3 }],
    contexts,
    tok,
    { maxSeqLength: 64 },
  );
  assert.equal(f.exampleId, "m");
  assert.equal(f.label, 2);
  assert.equal(f.inputIds.length, 4);
  [2, 0, 3, 1].forEach((p, k) => {
    assert.deepEqual(f.inputIds[k], [CLS, ...ids("誰是"), SEP, ...ids(contexts[p]), SEP]);
    const n = f.inputIds[k].length;
    assert.deepEqual(f.tokenTypeIds[k], [0, 0, 0, 0, ...new Array(n - 4).fill(1)]);
    assert.deepEqual(f.attentionMask[k], new Array(n).fill(1));
  });
});

Deno.test("MC: only the paragraph is truncated; no label without relevant; clear errors", () => {
  const [f] = prepareMcFeatures(
    [{ id: "t", question: "誰是", paragraphs: [1, 0, 2, 3] }],
    contexts,
    tok,
    { maxSeqLength: 16 },
  );
  assert.equal(f.label, undefined);
  assert.equal(f.inputIds[0].length, 16);
  assert.deepEqual(f.inputIds[0], [
    CLS,
    ...ids("誰是"),
    SEP,
    ...ids(contexts[1]).slice(0, 11),
    SEP,
  ]);
  assert.equal(f.inputIds[1].length, 4 + 3 + 1);
  // A question longer than the budget is cut to maxQueryLength.
  const [g] = prepareMcFeatures(
    [{ id: "q", question: charContext(30), paragraphs: [0, 1, 2, 3] }],
    contexts,
    tok,
    { maxSeqLength: 16, maxQueryLength: 8 },
  );
  assert.deepEqual(g.inputIds[0], [CLS, ...ids(charContext(8)), SEP, ...ids("甲乙丙"), SEP]);
  assert.throws(
    () =>
      prepareMcFeatures(
        [{ id: "r", question: "誰", paragraphs: [0, 1], relevant: 3 }],
        contexts,
        tok,
      ),
    /MC example 0 \(0-based, id "r"\): relevant paragraph 3 is not among paragraphs \[0,1\]/,
  );
  assert.throws(
    () => prepareMcFeatures([{ id: "o", question: "誰", paragraphs: [0, 9] }], contexts, tok),
    /paragraph index 9 is out of range \(there are 4 contexts\)/,
  );
  assert.throws(
    () =>
      prepareMcFeatures([{ id: "x", question: charContext(30), paragraphs: [1] }], contexts, tok, {
        maxSeqLength: 8,
        maxQueryLength: 6,
      }),
    /MC example 0 \(0-based, id "x"\).*no room for the paragraph/,
  );
});

Deno.test("collateQa: pads to the longest (or a multiple / fixed length) with pad, 0, 0", () => {
  const feats = prepareQaFeatures(
    [
      { id: "a", question: "誰", context: "甲乙丙", answer: { text: "乙", start: 1 } },
      { id: "b", question: "誰是", context: "丁戊己庚辛", answer: { text: "辛", start: 4 } },
    ],
    tok,
    { training: true },
  );
  const b = collateQa(feats, PAD);
  assert.deepEqual(b.inputIds.shape, [2, 10]);
  assert.ok(b.inputIds.data instanceof Int32Array);
  assert.deepEqual(Array.from(b.inputIds.data.slice(0, 10)), [...feats[0].inputIds, PAD, PAD, PAD]);
  assert.deepEqual(Array.from(b.inputIds.data.slice(10)), feats[1].inputIds);
  assert.deepEqual(Array.from(b.tokenTypeIds.data.slice(0, 10)), [0, 0, 0, 1, 1, 1, 1, 0, 0, 0]);
  assert.deepEqual(Array.from(b.attentionMask.data.slice(0, 10)), [1, 1, 1, 1, 1, 1, 1, 0, 0, 0]);
  assert.deepEqual(Array.from(b.startPositions!.data), [4, 8]);
  assert.deepEqual(Array.from(b.endPositions!.data), [4, 8]);
  assert.deepEqual(collateQa(feats, PAD, { padToMultipleOf: 8 }).inputIds.shape, [2, 16]);
  assert.deepEqual(collateQa(feats, PAD, { padToLength: 384 }).attentionMask.shape, [2, 384]);
  assert.throws(() => collateQa(feats, PAD, { padToLength: 5 }), /shorter than a sequence/);
  const evalFeats = prepareQaFeatures([{ id: "c", question: "誰", context: "甲" }], tok);
  assert.equal(collateQa(evalFeats, PAD).startPositions, undefined);
  assert.throws(() => collateQa([feats[0], evalFeats[0]], PAD), /startPosition is set on 1 of 2/);
  assert.throws(() => collateQa([], PAD), /empty batch/);
});

Deno.test("collateMc: [batch, choices, length] with labels", () => {
  const feats = prepareMcFeatures(
    [
      { id: "a", question: "誰", paragraphs: [0, 2, 3, 1], relevant: 0 },
      { id: "b", question: "誰是", paragraphs: [3, 2, 1, 0], relevant: 1 },
    ],
    contexts,
    tok,
    { maxSeqLength: 20 },
  );
  const b = collateMc(feats, PAD);
  assert.deepEqual(b.inputIds.shape, [2, 4, 20]);
  assert.deepEqual(Array.from(b.labels!.data), [0, 2]);
  // Row (0, 1) is the pair with paragraph 2 ("丁戊"): 1 + 1 + 1 + 2 + 1 = 6 tokens then padding.
  const row = Array.from(b.inputIds.data.slice(20, 40));
  assert.deepEqual(row, [...feats[0].inputIds[1], ...new Array(14).fill(PAD)]);
  assert.deepEqual(Array.from(b.attentionMask.data.slice(20, 40)), [
    ...new Array(6).fill(1),
    ...new Array(14).fill(0),
  ]);
});

Deno.test("dynamic padding gives the same logits on real tokens as padding to max_length", async () => {
  await tf.setBackend("cpu");
  const config = makeBertConfig({
    vocab_size: VOCAB.length,
    hidden_size: 16,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    intermediate_size: 32,
    max_position_embeddings: 64,
  });
  const qa = createFromConfig(config, "qa", 11);
  const mc = createFromConfig(config, "mc", 12);
  const before = tf.memory().numTensors;
  const run = (feats: QaFeature[], padToLength?: number, ignoreMask = false) => {
    const b = collateQa(feats, PAD, { padToLength });
    if (ignoreMask) b.attentionMask.data.fill(1);
    return tf.tidy(() => {
      const t = (d: { data: Int32Array; shape: number[] }) => tf.tensor(d.data, d.shape, "int32");
      const out = qa.forward({
        inputIds: t(b.inputIds),
        tokenTypeIds: t(b.tokenTypeIds),
        attentionMask: t(b.attentionMask),
      });
      return [out.startLogits.arraySync(), out.endLogits.arraySync()] as number[][][];
    });
  };
  const feats = prepareQaFeatures(
    [
      { id: "a", question: "誰", context: "甲乙丙" },
      { id: "b", question: "誰是", context: charContext(20) },
    ],
    tok,
  );
  const [sDyn, eDyn] = run(feats);
  const [sMax, eMax] = run(feats, 64);
  const [sBad] = run(feats, 64, true);
  let unmaskedDiff = 0;
  feats.forEach((f, i) => {
    for (let k = 0; k < f.inputIds.length; k++) {
      assert.ok(Math.abs(sDyn[i][k] - sMax[i][k]) < 1e-6, `start ${i},${k}`);
      assert.ok(Math.abs(eDyn[i][k] - eMax[i][k]) < 1e-6, `end ${i},${k}`);
      unmaskedDiff = Math.max(unmaskedDiff, Math.abs(sBad[i][k] - sMax[i][k]));
    }
  });
  // Control: attending to the padding does change the logits, so the check above is sensitive.
  assert.ok(unmaskedDiff > 1e-5, `unmasked padding changed logits by only ${unmaskedDiff}`);
  const mcFeats = prepareMcFeatures(
    [{ id: "m", question: "誰", paragraphs: [0, 1, 2, 3] }],
    contexts,
    tok,
    { maxSeqLength: 48 },
  );
  const mcLogits = (padToLength?: number) => {
    const b = collateMc(mcFeats, PAD, { padToLength });
    return tf.tidy(() => {
      const t = (d: { data: Int32Array; shape: number[] }) => tf.tensor(d.data, d.shape, "int32");
      return mc.forward({
        inputIds: t(b.inputIds),
        tokenTypeIds: t(b.tokenTypeIds),
        attentionMask: t(b.attentionMask),
      }).logits.arraySync() as number[][];
    });
  };
  const a = mcLogits();
  const m = mcLogits(64);
  a[0].forEach((v, k) => assert.ok(Math.abs(v - m[0][k]) < 1e-6));
  assert.equal(tf.memory().numTensors, before);
  qa.dispose();
  mc.dispose();
});
