/**
 * Real-vocabulary check: with the real bert-base-chinese vocabulary, every question and context
 * of DRCD_test must tokenize exactly as the reference BERT algorithm does, and every offset span,
 * sliced from the original text and normalised the same way, must equal its token.
 *
 * Reads ../shared (beside the project) in place; nothing is copied into the project.
 *
 * The reference below is an independent, deliberately plain port of Google's / Hugging Face's
 * Python `BasicTokenizer` + `WordpieceTokenizer` (whole-string passes, no offsets), written
 * for this test only.
 */
import assert from "node:assert/strict";
import { Tokenizer as HfTokenizer } from "@huggingface/tokenizers";
import { BertTokenizer, parseVocabText } from "../lib/tokenization/mod.ts";

const SHARED = new URL("../../shared/data/", import.meta.url);
const VOCAB_PATH = new URL("vocab/bert-base-chinese/vocab.txt", SHARED);
const DRCD_PATH = new URL("drcd/DRCD_test.json", SHARED);

// ---------------------------------------------------------------- reference (Python-like) ----

function refIsWhitespace(ch: string): boolean {
  if (ch === " " || ch === "\t" || ch === "\n" || ch === "\r") return true;
  return /^\p{Zs}$/u.test(ch);
}
function refIsControl(ch: string): boolean {
  if (ch === "\t" || ch === "\n" || ch === "\r") return false;
  return /^\p{C}$/u.test(ch); // unicodedata.category(ch).startswith("C")
}
function refIsPunctuation(ch: string): boolean {
  const cp = ch.codePointAt(0)!;
  if (
    (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
    (cp >= 123 && cp <= 126)
  ) {
    return true;
  }
  return /^\p{P}$/u.test(ch);
}
function refIsChinese(cp: number): boolean {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
    (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
    (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
    (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

function refCleanText(text: string): string {
  let out = "";
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0 || cp === 0xFFFD || refIsControl(ch)) continue;
    out += refIsWhitespace(ch) ? " " : ch;
  }
  return out;
}

/** Lower-case and strip accents of one whitespace token (Python: `token.lower()`, NFD, drop Mn). */
function refLowerStrip(token: string): string {
  return token.toLowerCase().normalize("NFD").replace(/\p{Mn}/gu, "");
}

function refSplitOnPunc(token: string): string[] {
  const out: string[][] = [];
  let startNew = true;
  for (const ch of token) {
    if (refIsPunctuation(ch)) {
      out.push([ch]);
      startNew = true;
    } else {
      if (startNew) out.push([]);
      startNew = false;
      out[out.length - 1].push(ch);
    }
  }
  return out.map((x) => x.join(""));
}

/** BasicTokenizer.tokenize (do_lower_case=True, tokenize_chinese_chars=True). */
function refBasicTokenize(text: string): string[] {
  text = refCleanText(text);
  let spaced = "";
  for (const ch of text) spaced += refIsChinese(ch.codePointAt(0)!) ? ` ${ch} ` : ch;
  const words: string[] = [];
  for (const tok of spaced.trim().split(/\s+/)) {
    if (tok === "") continue;
    words.push(...refSplitOnPunc(refLowerStrip(tok)));
  }
  return words.filter((w) => w.length > 0);
}

/** WordpieceTokenizer.tokenize for one word. */
function refWordpiece(word: string, vocab: Set<string>): string[] {
  const chars = [...word];
  if (chars.length > 100) return ["[UNK]"];
  const out: string[] = [];
  let start = 0;
  while (start < chars.length) {
    let end = chars.length;
    let cur: string | null = null;
    while (start < end) {
      let sub = chars.slice(start, end).join("");
      if (start > 0) sub = "##" + sub;
      if (vocab.has(sub)) {
        cur = sub;
        break;
      }
      end--;
    }
    if (cur === null) return ["[UNK]"];
    out.push(cur);
    start = end;
  }
  return out;
}

/** Reference tokens, each with the basic-tokenizer word it came from. */
function refTokenize(text: string, vocab: Set<string>): { token: string; word: string }[] {
  const out: { token: string; word: string }[] = [];
  for (const w of refBasicTokenize(text)) {
    for (const t of refWordpiece(w, vocab)) out.push({ token: t, word: w });
  }
  return out;
}

/** A slice of the original text normalised like the reference (clean, lower, strip accents). */
function refNormalizeSlice(s: string): string {
  return refLowerStrip(refCleanText(s)).replace(/ /g, "");
}

// ------------------------------------------------------------------------------- the check ----

interface Squad {
  data: { paragraphs: { context: string; qas: { question: string }[] }[] }[];
}

function drcdTexts(d: Squad): string[] {
  const texts: string[] = [];
  for (const art of d.data) {
    for (const p of art.paragraphs) {
      texts.push(p.context);
      for (const qa of p.qas) texts.push(qa.question);
    }
  }
  return texts;
}

function checkText(
  tok: BertTokenizer,
  text: string,
  vocab: Set<string>,
  where: string,
): { unk: number } {
  const got = tok.tokenizeWithOffsets(text);
  const ref = refTokenize(text, vocab);
  assert.deepEqual(
    got.tokens,
    ref.map((r) => r.token),
    `${where}: tokens differ from the reference`,
  );
  assert.deepEqual(got.ids, tok.convertTokensToIds(got.tokens), `${where}: ids`);
  let prevEnd = 0;
  let unk = 0;
  for (let i = 0; i < got.tokens.length; i++) {
    const [s, e] = got.offsets[i];
    assert.ok(s >= prevEnd && e > s && e <= text.length, `${where}: bad span ${s},${e} at ${i}`);
    prevEnd = e;
    const piece = refNormalizeSlice(text.slice(s, e));
    const t = got.tokens[i];
    if (t === "[UNK]") {
      unk++;
      assert.equal(piece, ref[i].word, `${where}: [UNK] span must cover its whole word`);
    } else {
      assert.equal(piece, t.startsWith("##") ? t.slice(2) : t, `${where}: span of token ${i}`);
    }
  }
  return { unk };
}

Deno.test("real vocab: every DRCD_test question and context tokenizes like reference BERT, spans match", async () => {
  const vocabLines = parseVocabText(await Deno.readTextFile(VOCAB_PATH));
  assert.equal(vocabLines.length, 21128);
  const vocab = new Set(vocabLines);
  const tok = BertTokenizer.fromVocab(vocabLines);
  const texts = drcdTexts(JSON.parse(await Deno.readTextFile(DRCD_PATH)));
  assert.equal(texts.length, 1000 + 3493);
  let tokens = 0;
  let unk = 0;
  texts.forEach((t, i) => {
    const r = checkText(tok, t, vocab, `DRCD text ${i}`);
    unk += r.unk;
    tokens += tok.tokenize(t).length;
  });
  // The data exercises the tricky paths: astral-plane ideographs, U+200B, U+3000, [UNK]s.
  const all = texts.join("");
  assert.ok(/[\u{20000}-\u{2FFFF}]/u.test(all) && all.includes("\u200b") && all.includes("\u3000"));
  assert.ok(unk > 0 && tokens > 400_000, `tokens ${tokens}, unk ${unk}`);
});

Deno.test("real vocab: agrees with @huggingface/tokenizers' own pipeline on BMP-only DRCD texts", async () => {
  // A second oracle: the JS library's BertNormalizer + BertPreTokenizer + WordPiece. Its
  // Chinese-character check works on UTF-16 units, so texts with astral characters are skipped
  // (our tokenizer handles those; the reference check above covers them).
  const vocabLines = parseVocabText(await Deno.readTextFile(VOCAB_PATH));
  const vocabObj: Record<string, number> = Object.create(null);
  vocabLines.forEach((t, i) => (vocabObj[t] = i));
  const hf = new HfTokenizer({
    added_tokens: [],
    normalizer: {
      type: "BertNormalizer",
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    },
    pre_tokenizer: { type: "BertPreTokenizer" },
    post_processor: null,
    decoder: null,
    model: {
      type: "WordPiece",
      unk_token: "[UNK]",
      continuing_subword_prefix: "##",
      max_input_chars_per_word: 100,
      vocab: vocabObj,
    },
  }, {});
  const tok = BertTokenizer.fromVocab(vocabLines);
  const texts = drcdTexts(JSON.parse(await Deno.readTextFile(DRCD_PATH)));
  let compared = 0;
  for (const t of texts) {
    if (/[\u{10000}-\u{10FFFF}]/u.test(t)) continue;
    assert.deepEqual(tok.tokenize(t), hf.tokenize(t), t.slice(0, 40));
    compared++;
  }
  assert.ok(compared > texts.length - 20, `compared ${compared}`);
});

Deno.test("real vocab: reference agreement on tricky text", async () => {
  const vocabLines = parseVocabText(await Deno.readTextFile(VOCAB_PATH));
  const vocab = new Set(vocabLines);
  const tok = BertTokenizer.fromVocab(vocabLines);
  const tricky = [
    "１２３ 全形數字１２３４５與ＡＢＣ",
    "Café naïve résumé Ångström façade",
    "台北101在2004年完工，高508公尺。Taipei 101 is 508 m tall!",
    "emoji 👍🏽 and 😀😀 mixed 中文😀",
    "control\u0000chars\u0007and\ufffdreplacement\u200bzero-width",
    "tabs\tnew\nlines\r\nideographic\u3000space\u00a0nbsp",
    "a".repeat(101) + " " + "b".repeat(100) + " 𠀀𡈽𤋮",
    // (A word-final capital sigma is left out: Python's `str.lower()` gives `ς`, the fast
    // tokenizer lower-cases per character and gives `σ`; we follow the fast tokenizer, see
    // tokenization_offsets.test.ts.)
    "İstanbul ΣΟΦΙΑ straße Ǆemal",
    "cafe\u0301 decomposed",
    "don't stop--believing... (really)?",
  ];
  for (const t of tricky) checkText(tok, t, vocab, JSON.stringify(t));
});
