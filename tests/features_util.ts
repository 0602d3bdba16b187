/**
 * Shared fixtures of the `features_*` tests: a small real `BertTokenizer` over a hand-made
 * vocabulary (every character below is one token; a few latin words and `##` pieces).
 */
import { BertTokenizer } from "../lib/tokenization/mod.ts";

/** Characters in the test vocabulary: each is a single token. */
export const CHARS =
  "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥天地玄黃宇宙洪荒日月盈昃辰宿列張誰是什麼哪裡，。？！「」";

/** The vocabulary lines. */
export const VOCAB = [
  "[PAD]",
  "[UNK]",
  "[CLS]",
  "[SEP]",
  "[MASK]",
  ...Array.from(new Set(CHARS)),
  "hello",
  "world",
  "2023",
  "20",
  "##23",
  "##0",
  "1",
  "2",
  "3",
];

/** A tokenizer over {@link VOCAB}. */
export function makeTokenizer(): BertTokenizer {
  return BertTokenizer.fromVocab(VOCAB);
}

/** A context of `n` single-token characters (cycling through the first 22 characters). */
export function charContext(n: number, offset = 0): string {
  const base = Array.from(CHARS).slice(0, 22);
  return Array.from({ length: n }, (_, i) => base[(i + offset) % base.length]).join("");
}
