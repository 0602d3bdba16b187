/**
 * Loading and saving Hugging Face tokenizer folders, their errors, and the `tokenize` CLI.
 * Temporary folders live in the system temp dir (never inside the project); the real vocab is
 * copied from ../shared into such a temp folder for the CLI check.
 */
import assert from "node:assert/strict";
import { Tokenizer as HfTokenizer } from "@huggingface/tokenizers";
import { BertTokenizer } from "../lib/tokenization/mod.ts";
import { tokenizeStream } from "../lib/cli/tokenize.ts";
import { spansToCodePoints } from "../lib/data/mod.ts";

const REAL_VOCAB = new URL("../../shared/data/vocab/bert-base-chinese/vocab.txt", import.meta.url);
const CLI = new URL("../cli.ts", import.meta.url);
const SMALL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "好", "cafe", "Café", "##s", "x"];

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "tokenization_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("fromPretrained: a folder with only vocab.txt (CRLF lines accepted)", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/vocab.txt`, SMALL.join("\r\n") + "\r\n");
    const tok = await BertTokenizer.fromPretrained(dir);
    assert.deepEqual(tok.vocab, SMALL);
    assert.equal(tok.doLowerCase, true);
    assert.equal(tok.modelMaxLength, 512);
    assert.deepEqual(tok.tokenize("Cafés 好"), ["cafe", "##s", "好"]);
  });
});

Deno.test("fromPretrained: tokenizer_config.json sets do_lower_case, model_max_length, tokens", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/vocab.txt`, SMALL.join("\n") + "\n");
    await Deno.writeTextFile(
      `${dir}/tokenizer_config.json`,
      JSON.stringify({ do_lower_case: false, model_max_length: 7, mask_token: { content: "x" } }),
    );
    const tok = await BertTokenizer.fromPretrained(dir);
    assert.equal(tok.doLowerCase, false);
    assert.equal(tok.modelMaxLength, 7);
    assert.equal(tok.maskTokenId, SMALL.indexOf("x"));
    assert.deepEqual(tok.tokenize("Café"), ["Café"]);
    assert.equal(
      tok.encode("好 好 好 好 好 好 好", null, { truncation: true }).input_ids.length,
      7,
    );
  });
});

Deno.test("save → fromPretrained round trip, and the tokenizer.json loads in @huggingface/tokenizers", async () => {
  const lines = (await Deno.readTextFile(REAL_VOCAB)).split("\n").slice(0, -1);
  const tok = BertTokenizer.fromVocab(lines, { modelMaxLength: 384 });
  await withTempDir(async (dir) => {
    await tok.save(dir);
    const names = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    assert.deepEqual(names.sort(), [
      "special_tokens_map.json",
      "tokenizer.json",
      "tokenizer_config.json",
      "vocab.txt",
    ]);
    assert.equal(await Deno.readTextFile(`${dir}/vocab.txt`), await Deno.readTextFile(REAL_VOCAB));
    const cfg = JSON.parse(await Deno.readTextFile(`${dir}/tokenizer_config.json`));
    assert.equal(cfg.do_lower_case, true);
    assert.equal(cfg.model_max_length, 384);
    assert.equal(cfg.tokenizer_class, "BertTokenizer");
    const map = JSON.parse(await Deno.readTextFile(`${dir}/special_tokens_map.json`));
    assert.deepEqual(map, {
      unk_token: "[UNK]",
      sep_token: "[SEP]",
      pad_token: "[PAD]",
      cls_token: "[CLS]",
      mask_token: "[MASK]",
    });
    const tj = JSON.parse(await Deno.readTextFile(`${dir}/tokenizer.json`));
    assert.equal(tj.model.type, "WordPiece");
    assert.equal(tj.model.max_input_chars_per_word, 100);
    // bert-base-chinese lists 53 "##" pieces twice; the JSON map keeps each token's last id.
    assert.equal(Object.keys(tj.model.vocab).length, new Set(lines).size);
    assert.equal(tj.model.vocab["##s"], lines.lastIndexOf("##s"));
    assert.deepEqual(tj.post_processor, {
      type: "BertProcessing",
      sep: ["[SEP]", 102],
      cls: ["[CLS]", 101],
    });
    // Reload (tokenizer.json first; its id gaps are filled from the matching vocab.txt).
    const again = await BertTokenizer.fromPretrained(dir);
    assert.deepEqual(again.vocab, tok.vocab);
    // From tokenizer.json alone the duplicate ids' slots are empty, the size is unchanged.
    await Deno.remove(`${dir}/vocab.txt`);
    const alone = await BertTokenizer.fromPretrained(dir);
    assert.equal(alone.vocabSize, 21128);
    const empties = (v: string[]) => v.filter((t) => t === "").length; // the file has one "" line
    assert.equal(empties(alone.vocab), empties(lines) + lines.length - new Set(lines).size);
    assert.deepEqual(alone.encode("Café 台北", "問題"), tok.encode("Café 台北", "問題"));
    assert.equal(again.modelMaxLength, 384);
    const text = "台北101大樓，Café naïve！";
    assert.deepEqual(again.encode(text, "問題"), tok.encode(text, "問題"));
    // The saved file is a working tokenizer.json for Hugging Face's JS library too.
    const hf = new HfTokenizer(tj, cfg);
    assert.deepEqual(hf.tokenize(text), tok.tokenize(text));
    assert.deepEqual(hf.encode(text).ids, tok.encode(text).input_ids);
  });
});

Deno.test("fromPretrained: errors name the file and the problem", async () => {
  await withTempDir(async (dir) => {
    await assert.rejects(BertTokenizer.fromPretrained(dir), /no tokenizer\.json or vocab\.txt/);
    await Deno.writeTextFile(`${dir}/vocab.txt`, "[PAD]\n[CLS]\n[SEP]\n[MASK]\nx\n");
    await assert.rejects(
      BertTokenizer.fromPretrained(dir),
      /no unknown token "\[UNK\]"/,
    );
    await Deno.writeTextFile(`${dir}/vocab.txt`, SMALL.join("\n"));
    await Deno.writeTextFile(`${dir}/tokenizer_config.json`, "{ nope");
    await assert.rejects(
      BertTokenizer.fromPretrained(dir),
      (e: Error) => e.message.includes("tokenizer_config.json: invalid JSON"),
    );
    await Deno.writeTextFile(`${dir}/tokenizer_config.json`, '{"do_lower_case": "yes"}');
    await assert.rejects(
      BertTokenizer.fromPretrained(dir),
      /"do_lower_case" must be true or false/,
    );
    await Deno.remove(`${dir}/tokenizer_config.json`);
    await Deno.writeTextFile(
      `${dir}/tokenizer.json`,
      JSON.stringify({ model: { type: "BPE", vocab: {}, merges: [] } }),
    );
    await assert.rejects(
      BertTokenizer.fromPretrained(dir),
      /tokenizer\.json: model\.type is "BPE"; only WordPiece/,
    );
    await Deno.writeTextFile(
      `${dir}/tokenizer.json`,
      JSON.stringify({ model: { type: "WordPiece", vocab: { "[UNK]": 0, x: -5 } } }),
    );
    await assert.rejects(
      BertTokenizer.fromPretrained(dir),
      /model\.vocab\["x"\] = -5 is not a non-negative integer id/,
    );
  });
});

Deno.test("tokenize CLI stream: one JSON line per input line, no special tokens", async () => {
  const tok = BertTokenizer.fromVocab(SMALL);
  const input = "Cafés 好\n\nx\r\n好x"; // last line without newline; CRLF tolerated
  const stream = new Blob([new TextEncoder().encode(input)]).stream();
  let out = "";
  const n = await tokenizeStream(tok, stream, (s) => {
    out += s;
    return Promise.resolve();
  });
  assert.equal(n, 4);
  const rows = out.trimEnd().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(rows[0], {
    tokens: ["cafe", "##s", "好"],
    ids: [6, 8, 5],
    offsets: [[0, 4], [4, 5], [6, 7]],
  });
  assert.deepEqual(rows[1], { tokens: [], ids: [], offsets: [] });
  assert.deepEqual(rows[2].tokens, ["x"]);
  assert.deepEqual(rows[3], { tokens: ["好", "x"], ids: [5, 9], offsets: [[0, 1], [1, 2]] });
});

Deno.test("tokenize CLI stream: offsets are code points after astral characters (𫖮, 𩅦)", async () => {
  const tok = BertTokenizer.fromVocab([...SMALL, "𫖮", "𩅦"]);
  const line = "𫖮好 𩅦x好";
  const stream = new Blob([new TextEncoder().encode(line + "\n")]).stream();
  let out = "";
  await tokenizeStream(tok, stream, (s) => {
    out += s;
    return Promise.resolve();
  });
  const row = JSON.parse(out);
  assert.deepEqual(row.tokens, ["𫖮", "好", "𩅦", "x", "好"]);
  assert.deepEqual(row.offsets, [[0, 1], [1, 2], [3, 4], [4, 5], [5, 6]]);
  // Slicing the code points (what Python does with these offsets) gives back every token.
  const chars = [...line];
  row.offsets.forEach(([s, e]: [number, number], i: number) =>
    assert.equal(chars.slice(s, e).join(""), row.tokens[i])
  );
});

Deno.test("deno task cli tokenize --model_name_or_path DIR (folder with just the real vocab.txt)", async () => {
  await withTempDir(async (dir) => {
    await Deno.copyFile(REAL_VOCAB, `${dir}/vocab.txt`);
    const lines = ["今天天氣很好，Café 👍", "台北101大樓 ＡＢＣ１２３"];
    const proc = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CLI.pathname, "tokenize", "--model_name_or_path", dir],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const w = proc.stdin.getWriter();
    await w.write(new TextEncoder().encode(lines.join("\n") + "\n"));
    await w.close();
    const { code, stdout, stderr } = await proc.output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    const rows = new TextDecoder().decode(stdout).trimEnd().split("\n").map((l) => JSON.parse(l));
    const tok = await BertTokenizer.fromPretrained(dir);
    assert.equal(rows.length, 2);
    lines.forEach((l, i) => {
      const t = tok.tokenizeWithOffsets(l);
      assert.deepEqual(rows[i], { ...t, offsets: spansToCodePoints(l, t.offsets) });
    });
    // 👍 is one code point (two UTF-16 units): its span is [12, 13), as Python gives.
    assert.deepEqual(rows[0].offsets.at(-1), [12, 13]);
    assert.deepEqual(rows[0].tokens.slice(0, 3), ["今", "天", "天"]);

    const bad = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CLI.pathname, "tokenize", "--model_name_or_path", `${dir}/missing`],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(bad.code, 2);
    // A missing local folder is said as such, without the hub download hint (that one is for
    // names that read as hub ids).
    assert.equal(
      new TextDecoder().decode(bad.stderr).trim(),
      `error: --model_name_or_path ${dir}/missing: not found`,
    );
  });
});
