import assert from "node:assert/strict";
import {
  charSegmenter,
  collateMlmBatch,
  IGNORE_INDEX,
  jiebaSegmenter,
  loadSegmenter,
  NO_WORD,
  piecesToSpans,
  prepareMlmFeatures,
  tokenWordIds,
  wholeWordMask,
} from "../lib/pretraining/mod.ts";
import { BertTokenizer } from "../lib/tokenization/mod.ts";

const SHARED = new URL("../../shared/data/", import.meta.url);

async function realTokenizer(): Promise<BertTokenizer> {
  const text = await Deno.readTextFile(new URL("vocab/bert-base-chinese/vocab.txt", SHARED));
  const vocab = text.split("\n");
  if (vocab[vocab.length - 1] === "") vocab.pop();
  return BertTokenizer.fromVocab(vocab);
}

async function drcdContexts(n: number): Promise<string[]> {
  const d = JSON.parse(await Deno.readTextFile(new URL("drcd/DRCD_test.json", SHARED)));
  const out: string[] = [];
  for (const art of d.data) {
    for (const p of art.paragraphs) if (out.length < n) out.push(p.context);
  }
  return out;
}

/** Every word is either fully labelled or not at all; specials never. */
function assertWholeWords(wordIds: readonly number[], labels: readonly number[]): void {
  const state = new Map<number, boolean>();
  wordIds.forEach((w, i) => {
    const masked = labels[i] !== IGNORE_INDEX;
    if (w === NO_WORD) {
      assert.equal(masked, false, `special token ${i} masked`);
      return;
    }
    if (state.has(w)) assert.equal(masked, state.get(w), `word ${w} partly masked at token ${i}`);
    else state.set(w, masked);
  });
}

Deno.test("piecesToSpans and tokenWordIds map words to token spans", () => {
  const text = "我来到 北京清华大学";
  assert.deepEqual(piecesToSpans(text, ["我", "来到", " ", "北京", "清华大学"]), [
    [0, 1],
    [1, 3],
    [4, 6],
    [6, 10],
  ]);
  const words: [number, number][] = [[0, 1], [1, 3], [4, 6], [6, 10]];
  const charOffsets: ([number, number] | null)[] = [null];
  for (const i of [0, 1, 2, 4, 5, 6, 7, 8, 9]) charOffsets.push([i, i + 1]);
  charOffsets.push(null);
  assert.deepEqual(tokenWordIds(charOffsets, words), [-1, 0, 1, 1, 2, 2, 3, 3, 3, 3, -1]);
  // a token straddling two words joins them; a token outside every word is its own word
  assert.deepEqual(tokenWordIds([[0, 2], [2, 3], [4, 5], [11, 12]], words), [0, 0, 1, 2]);
});

Deno.test("wholeWordMask: deterministic by seed, whole words, ~15% of tokens, 80/10/10", () => {
  // 40 words of 1-4 tokens between [CLS] and [SEP]
  const wordIds = [NO_WORD];
  for (let w = 0; w < 40; w++) for (let k = 0; k <= w % 4; k++) wordIds.push(w);
  wordIds.push(NO_WORD);
  const ids = wordIds.map((_, i) => 1000 + i);
  const opts = { maskTokenId: 103, vocabSize: 21128 };
  const a = wholeWordMask(ids, wordIds, { ...opts, seed: 7 });
  assert.deepEqual(wholeWordMask(ids, wordIds, { ...opts, seed: 7 }), a);
  assert.notDeepEqual(wholeWordMask(ids, wordIds, { ...opts, seed: 8 }).labels, a.labels);

  let masked = 0, replaced = 0, random = 0, kept = 0;
  for (let seed = 0; seed < 400; seed++) {
    const m = wholeWordMask(ids, wordIds, { ...opts, seed });
    assertWholeWords(wordIds, m.labels);
    const n = m.labels.filter((l) => l !== IGNORE_INDEX).length;
    const target = Math.round(ids.length * 0.15);
    assert.ok(n <= target && n >= target - 3, `covered ${n} tokens, target ${target}`);
    m.labels.forEach((l, i) => {
      if (l === IGNORE_INDEX) {
        assert.equal(m.inputIds[i], ids[i]);
        return;
      }
      assert.equal(l, ids[i]);
      masked++;
      if (m.inputIds[i] === 103) replaced++;
      else if (m.inputIds[i] === ids[i]) kept++;
      else random++;
    });
  }
  assert.ok(Math.abs(replaced / masked - 0.8) < 0.03, `mask ${replaced / masked}`);
  assert.ok(Math.abs(random / masked - 0.1) < 0.03, `random ${random / masked}`);
  assert.ok(Math.abs(kept / masked - 0.1) < 0.03, `kept ${kept / masked}`);
});

Deno.test("jieba loads under Deno and segments Chinese into multi-character words", async () => {
  const seg = await loadSegmenter();
  assert.equal(seg.kind, "jieba", `fell back: ${seg.reason}`);
  const text = "我来到北京清华大学，研究自然语言处理。";
  const words = seg.segment(text).map(([s, e]) => text.slice(s, e));
  assert.deepEqual(words.slice(0, 4), ["我", "来到", "北京", "清华大学"]);
  const chars = charSegmenter("test").segment("BERT模型 ok");
  assert.deepEqual(chars, [[0, 4], [4, 5], [5, 6], [7, 9]]);
});

Deno.test("prepareMlmFeatures + collateMlmBatch on real DRCD text with the real vocab", async () => {
  const tokenizer = await realTokenizer();
  const seg = await loadSegmenter();
  const texts = await drcdContexts(6);
  const feats = prepareMlmFeatures(texts, tokenizer, seg, { maxSeqLength: 128 });
  assert.ok(feats.length > texts.length, "long contexts are chunked");
  for (let t = 0; t < texts.length; t++) {
    const chunks = feats.filter((f) => f.textIndex === t);
    // chunks are [CLS] ... [SEP], within the limit, and together give the text's tokens back
    for (const f of chunks) {
      assert.ok(f.inputIds.length <= 128);
      assert.equal(f.inputIds[0], tokenizer.clsTokenId);
      assert.equal(f.inputIds.at(-1), tokenizer.sepTokenId);
    }
    assert.deepEqual(
      chunks.flatMap((f) => f.inputIds.slice(1, -1)),
      tokenizer.tokenizeWithOffsets(texts[t]).ids,
    );
  }
  // words span several tokens (whole words, not characters)
  const multi = feats[0].wordIds.filter((w, i, a) => w !== NO_WORD && a[i - 1] === w).length;
  assert.ok(multi > 10, `only ${multi} multi-token word continuations`);

  const opts = {
    seed: 11,
    maskTokenId: tokenizer.maskTokenId,
    padTokenId: tokenizer.padTokenId,
    vocabSize: tokenizer.vocabSize,
  };
  const batch = collateMlmBatch(feats.slice(0, 4), opts);
  assert.deepEqual(collateMlmBatch(feats.slice(0, 4), opts), batch);
  const T = batch.inputIds[0].length;
  assert.equal(T, Math.max(...feats.slice(0, 4).map((f) => f.inputIds.length)));
  batch.labels.forEach((labels, b) => {
    const f = feats[b];
    assertWholeWords([...f.wordIds, ...new Array(T - f.wordIds.length).fill(NO_WORD)], labels);
    assert.equal(batch.attentionMask[b].reduce((x, y) => x + y, 0), f.inputIds.length);
  });
  // flat masked positions agree with the label matrix
  const flat = batch.labels.flat();
  assert.deepEqual(
    batch.maskedPositions,
    flat.flatMap((l, i) => (l === IGNORE_INDEX ? [] : [i])),
  );
  assert.deepEqual(batch.maskedLabels, batch.maskedPositions.map((p) => flat[p]));
  // different batch seeds give different masks
  assert.notDeepEqual(
    collateMlmBatch(feats.slice(0, 4), { ...opts, seed: 12 }).labels,
    batch.labels,
  );
});

Deno.test("when jieba fails to load, character-level words are used and the reason is given", async () => {
  const warn = console.warn;
  const messages: string[] = [];
  console.warn = (...a: unknown[]) => messages.push(a.join(" "));
  try {
    const seg = await jiebaSegmenter(() => Promise.reject(new Error("no prebuild for this arch")));
    assert.equal(seg.kind, "char");
    assert.match(
      seg.reason ?? "",
      /could not be loaded \(no prebuild for this arch\).*character-level/,
    );
    assert.ok(messages.length <= 1);
    const text = "清华大学";
    assert.deepEqual(seg.segment(text), [[0, 1], [1, 2], [2, 3], [3, 4]]);
  } finally {
    console.warn = warn;
  }
});
