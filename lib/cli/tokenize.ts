/**
 * `deno task cli tokenize --model_name_or_path DIR`: reads one text per line on stdin and writes
 * one JSON line per input, `{"tokens": [...], "ids": [...], "offsets": [[s, e], ...]}`, without
 * special tokens. Offsets count Unicode code points of the input line, as Python and Hugging Face
 * tokenizers do (a character outside the Basic Multilingual Plane, such as 𫖮 U+2B5AE, is one).
 * @module
 */
import { checkPath, type CommandSpec, type ParsedFlags } from "./args.ts";
import { BertTokenizer } from "../tokenization/mod.ts";
import { spansToCodePoints } from "../data/mod.ts";

/** Flags of the `tokenize` command. */
export const spec: CommandSpec = {
  name: "tokenize",
  summary: "Tokenize stdin (one text per line) into JSON lines of tokens, ids and offsets.",
  flags: {
    model_name_or_path: {
      type: "string",
      path: true,
      required: true,
      help: "Folder with vocab.txt and/or tokenizer.json (+ tokenizer_config.json)",
    },
  },
  epilog: 'Output per line: {"tokens": [...], "ids": [...], "offsets": [[start, end], ...]}; ' +
    "offsets count Unicode code points (as Python and Hugging Face tokenizers).",
};

/** Writes one JSON line per input line of `input` to `write`. */
export async function tokenizeStream(
  tokenizer: BertTokenizer,
  input: ReadableStream<Uint8Array>,
  write: (chunk: string) => Promise<void>,
): Promise<number> {
  let buf = "";
  let count = 0;
  const emit = async (lines: string[]) => {
    if (lines.length === 0) return;
    const out = lines.map((raw) => {
      const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
      const t = tokenizer.tokenizeWithOffsets(line);
      const offsets = spansToCodePoints(line, t.offsets);
      return JSON.stringify({ tokens: t.tokens, ids: t.ids, offsets }) + "\n";
    });
    count += lines.length;
    await write(out.join(""));
  };
  for await (const chunk of input.pipeThrough(new TextDecoderStream())) {
    buf += chunk;
    const nl = buf.lastIndexOf("\n");
    if (nl < 0) continue;
    const lines = buf.slice(0, nl).split("\n");
    buf = buf.slice(nl + 1);
    await emit(lines);
  }
  // A last line without a trailing newline still counts.
  if (buf.length > 0) await emit([buf]);
  return count;
}

/** Runs the command. */
export async function run(flags: ParsedFlags): Promise<void> {
  await checkPath(String(flags.model_name_or_path), "model_name_or_path", "dir");
  const tokenizer = await BertTokenizer.fromPretrained(String(flags.model_name_or_path));
  const enc = new TextEncoder();
  const writer = Deno.stdout.writable.getWriter();
  try {
    await tokenizeStream(tokenizer, Deno.stdin.readable, (s) => writer.write(enc.encode(s)));
  } finally {
    writer.releaseLock();
  }
}
