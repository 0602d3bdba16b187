/**
 * Benchmark of the tokenizer on DRCD_test with the real bert-base-chinese vocabulary (both read
 * from ../shared): cold tokenization of every context and question, then `encode` of all 3,493
 * question/context pairs as QA features need them (only_second, 384, stride 128, overflow,
 * max_length padding), cold (fresh tokenizer) and warm (memoised texts).
 *
 * Run: deno run -A bench/tokenization.ts
 * @module
 */
import { BertTokenizer, parseVocabText } from "../lib/tokenization/mod.ts";

const shared = new URL("../../shared/data/", import.meta.url);
const vocab = parseVocabText(
  await Deno.readTextFile(new URL("vocab/bert-base-chinese/vocab.txt", shared)),
);
const squad = JSON.parse(await Deno.readTextFile(new URL("drcd/DRCD_test.json", shared)));
const pairs: [string, string][] = [];
const contexts: string[] = [];
for (const art of squad.data) {
  for (const p of art.paragraphs) {
    contexts.push(p.context);
    for (const qa of p.qas) pairs.push([qa.question, p.context]);
  }
}
const opts = {
  truncation: "only_second" as const,
  maxLength: 384,
  stride: 128,
  returnOverflowingTokens: true,
  padding: "max_length" as const,
};

function time<T>(label: string, fn: () => T): T {
  const t0 = performance.now();
  const r = fn();
  console.log(`${label}: ${(performance.now() - t0).toFixed(0)} ms`);
  return r;
}

let tok = time("fromVocab (21128 tokens)", () => BertTokenizer.fromVocab(vocab));
let nTokens = 0;
time(`tokenizeWithOffsets, ${contexts.length} contexts + ${pairs.length} questions, cold`, () => {
  for (const c of contexts) nTokens += tok.tokenizeWithOffsets(c).ids.length;
  for (const [q] of pairs) nTokens += tok.tokenizeWithOffsets(q).ids.length;
});
console.log(`  (${nTokens} tokens)`);
tok = BertTokenizer.fromVocab(vocab);
let windows = 0;
time(`encode ${pairs.length} pairs (only_second 384/128, overflow, padding), cold`, () => {
  for (const [q, c] of pairs) windows += 1 + tok.encode(q, c, opts).overflowing!.length;
});
console.log(`  (${windows} windows)`);
time(`encode ${pairs.length} pairs again, warm (memoised tokenization)`, () => {
  for (const [q, c] of pairs) tok.encode(q, c, opts);
});
