import assert from "node:assert/strict";
import { basicTokenize, buildVocab, SPECIAL_TOKENS } from "../lib/data/mod.ts";

/** Greedy longest-match-first WordPiece (the reference algorithm), for checking coverage. */
function wordpiece(word: string, vocab: Set<string>): string[] {
  const chars = Array.from(word);
  if (chars.length > 100) return ["[UNK]"];
  const out: string[] = [];
  let start = 0;
  while (start < chars.length) {
    let end = chars.length;
    let piece: string | null = null;
    while (end > start) {
      const sub = (start > 0 ? "##" : "") + chars.slice(start, end).join("");
      if (vocab.has(sub)) {
        piece = sub;
        break;
      }
      end--;
    }
    if (piece === null) return ["[UNK]"];
    out.push(piece);
    start = end;
  }
  return out;
}

Deno.test("basicTokenize follows BERT's BasicTokenizer (uncased)", () => {
  assert.deepEqual(basicTokenize("林志遠於1962年出生，英文名Leo。"), [
    "林",
    "志",
    "遠",
    "於",
    "1962",
    "年",
    "出",
    "生",
    "，",
    "英",
    "文",
    "名",
    "leo",
    "。",
  ]);
  // Accents stripped, punctuation split, control characters dropped, whitespace separates.
  assert.deepEqual(basicTokenize("Café\u0000 Nova-X2\tok\u200b!"), [
    "cafe",
    "nova",
    "-",
    "x2",
    "ok",
    "!",
  ]);
  assert.deepEqual(basicTokenize("Café", { doLowerCase: false }), ["Café"]);
  // Full-width digits are not CJK ideographs: one word; kana are not split per character.
  assert.deepEqual(basicTokenize("第１２屆かな"), ["第", "１２", "屆", "かな"]);
});

Deno.test("buildVocab: specials first, every character, ## pieces, whole words, deterministic", () => {
  const texts = ["林志遠的英文名是Leo，產品Nova X2。", "Leo在2011年推出Nova；Zeta？", "Café 2011"];
  const v = buildVocab(texts);
  assert.deepEqual(v.slice(0, 5), [...SPECIAL_TOKENS]);
  assert.deepEqual(v.slice(0, 5), ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]);
  assert.equal(new Set(v).size, v.length, "no duplicates");
  for (
    const t of [
      "林",
      "，",
      "。",
      "；",
      "？",
      "l",
      "e",
      "o",
      "0",
      "9",
      "a",
      "z",
    ]
  ) {
    assert.ok(v.includes(t), t);
  }
  assert.ok(!v.includes("é") && !v.includes("Leo"), "lower-cased, accents stripped");
  for (
    const t of [
      "##e",
      "##o",
      "##2",
      "##0",
      "##9",
      "##z",
      "leo",
      "nova",
      "x2",
      "2011",
      "cafe",
      "zeta",
    ]
  ) {
    assert.ok(v.includes(t), t);
  }
  // Order: single characters (code point order), then ## pieces, then words by frequency.
  const firstHash = v.findIndex((t) => t.startsWith("##"));
  const singles = v.slice(5, firstHash);
  assert.ok(singles.every((t) => Array.from(t).length === 1));
  assert.deepEqual(singles, [...singles].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!));
  const words = v.slice(v.findLastIndex((t) => t.startsWith("##")) + 1);
  assert.deepEqual(words.slice(0, 3), ["2011", "leo", "nova"]); // seen twice each, code point order
  assert.deepEqual(buildVocab(texts), v, "deterministic");
  assert.deepEqual(buildVocab([...texts].reverse()), v, "independent of text order");
});

Deno.test("buildVocab: every word of the corpus (and unseen words of seen characters) tokenizes without [UNK]", () => {
  const texts = ["Orion 300與Helix-S在Kelmont上市，售價4.5萬元。", "Vega Pro 2000", "ZEPHYR"];
  for (const minWordFrequency of [1, 5]) {
    const v = new Set(buildVocab(texts, { minWordFrequency }));
    for (const t of texts) {
      for (const w of basicTokenize(t)) {
        const pieces = wordpiece(w, v);
        assert.ok(!pieces.includes("[UNK]"), `${w} -> ${pieces}`);
        assert.equal(pieces.join("").replaceAll("##", ""), w);
      }
    }
    for (const w of ["oriole", "2000300", "zephyrs", "45"]) {
      assert.ok(!wordpiece(w, v).includes("[UNK]"), w);
    }
    // With a high minimum frequency, rare words are pieces, not whole tokens.
    if (minWordFrequency === 5) {
      assert.ok(!v.has("orion"));
      assert.deepEqual(wordpiece("orion", v), ["o", "##r", "##i", "##o", "##n"]);
    } else assert.deepEqual(wordpiece("orion", v), ["orion"]);
  }
  // Characters never seen are [UNK] (CJK) — the vocabulary covers the corpus, nothing more.
  const v = new Set(buildVocab(texts));
  assert.deepEqual(wordpiece("龘", v), ["[UNK]"]);
});

Deno.test("buildVocab: maxWords keeps the most frequent words", () => {
  const v = buildVocab(["alpha beta beta gamma gamma gamma"], { maxWords: 2 });
  assert.ok(v.includes("gamma") && v.includes("beta") && !v.includes("alpha"));
  assert.deepEqual(buildVocab(["x"], { extraTokens: ["[unused0]", "x"] }).slice(-1), ["[unused0]"]);
});
