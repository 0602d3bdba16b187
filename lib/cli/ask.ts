/**
 * `deno task cli ask`: ask a trained QA model (and optionally an MC model) questions.
 *
 * - `--question Q --context "paragraph"` (or `--context_file` with a JSON list of paragraphs)
 *   prints one JSON answer line on stdout: Hugging Face's keys `answer`, `score`, `start`, `end`
 *   (code points of the paragraph, `end` exclusive), plus `paragraph`, `paragraph_scores` (MC
 *   probabilities, with `--mc_model` and several paragraphs) and `top_k` (with `--top_k` > 1).
 * - Without `--question`, each stdin line is a JSON object `{"question": ..., "context": ...}` (or
 *   `"paragraphs": [...]`; with `--context`/`--context_file` a line may leave both out) and gets
 *   one JSON line back, in order; a bad line gets `{"error": "line N: ..."}` and the command exits
 *   with status 1 at the end. Empty lines are skipped.
 * - When stdin is a terminal: an interactive prompt (a paragraph, then questions about it).
 *
 * Messages and progress go to stderr, answers alone to stdout.
 * @module
 */
import { checkPath, type CommandSpec, type ParsedFlags, UsageError } from "./args.ts";
import { answererFlags, loadAnswerer } from "./answer_flags.ts";
import { loadContexts } from "../data/mod.ts";
import {
  type Answerer,
  AnswerInputError,
  type AnswerQuery,
  type AnswerResult,
  parseAnswerQuery,
} from "../pipeline/mod.ts";

/** Flags of `ask`. */
export const spec: CommandSpec = {
  name: "ask",
  summary: "Answer questions about paragraphs with a QA model (and an MC model to pick the " +
    "paragraph): one JSON answer per line.",
  flags: {
    ...answererFlags,
    question: {
      type: "string",
      help: "The question (default: none; questions are then read from stdin, one JSON object " +
        "per line, or asked for at a terminal)",
    },
    context: { type: "string", help: "The paragraph to answer from" },
    context_file: {
      type: "string",
      path: true,
      help: "A JSON list of paragraphs (like context.json) to answer from; with --mc_model the " +
        "MC model picks one",
    },
  },
  epilog: 'Output per question: {"answer", "score", "start", "end", "paragraph", ...}; start/end ' +
    "count code points of the paragraph (end exclusive), score is p_start x p_end as Hugging " +
    "Face's question-answering pipeline. stdin lines: " +
    '{"question": "...", "context": "..."} or {"question": "...", "paragraphs": ["...", ...]}.',
};

/** Lines of stdin questions answered per inference batch. */
const LINES_PER_BATCH = 32;

/** Reads lines from a byte stream (the last one without a newline too). */
async function* lines(input: ReadableStream<Uint8Array>): AsyncGenerator<string[]> {
  let buf = "";
  for await (const chunk of input.pipeThrough(new TextDecoderStream())) {
    buf += chunk;
    const nl = buf.lastIndexOf("\n");
    if (nl < 0) continue;
    const got = buf.slice(0, nl).split("\n").map((l) => l.replace(/\r$/, ""));
    buf = buf.slice(nl + 1);
    yield got;
  }
  if (buf.length > 0) yield [buf.replace(/\r$/, "")];
}

/** The paragraphs given on the command line, if any. */
async function defaultParagraphs(flags: ParsedFlags): Promise<string[] | undefined> {
  if (flags.context !== undefined && flags.context_file !== undefined) {
    throw new UsageError("give --context or --context_file, not both");
  }
  if (flags.context !== undefined) return [String(flags.context)];
  if (flags.context_file !== undefined) {
    await checkPath(String(flags.context_file), "context_file", "file");
    return await loadContexts(String(flags.context_file));
  }
  return undefined;
}

function queryOf(question: string, paragraphs: string[]): AnswerQuery {
  return paragraphs.length === 1 ? { question, context: paragraphs[0] } : { question, paragraphs };
}

/**
 * Answers JSON lines from `input`, writing one JSON line per non-empty input line; returns the
 * number of lines answered and of lines with errors.
 */
export async function answerLines(
  answerer: Answerer,
  input: ReadableStream<Uint8Array>,
  write: (text: string) => Promise<void>,
  paragraphs?: string[],
  warn: (m: string) => void = (m) => console.error(m),
): Promise<{ answered: number; errors: number }> {
  let lineNo = 0;
  let answered = 0;
  let errors = 0;
  for await (const chunk of lines(input)) {
    const items: { line: number; query?: AnswerQuery; error?: string }[] = [];
    for (const text of chunk) {
      lineNo++;
      if (text.trim() === "") continue;
      const where = `line ${lineNo}`;
      try {
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch (e) {
          throw new AnswerInputError(`${where}: not valid JSON (${(e as Error).message})`);
        }
        if (
          paragraphs && value && typeof value === "object" && !Array.isArray(value) &&
          !("context" in value) && !("paragraphs" in value)
        ) value = { ...queryOf("", paragraphs), ...value };
        const query = parseAnswerQuery(value, where);
        answerer.check(query, where);
        items.push({ line: lineNo, query });
      } catch (e) {
        if (!(e instanceof AnswerInputError)) throw e;
        items.push({ line: lineNo, error: e.message });
      }
    }
    for (let i = 0; i < items.length; i += LINES_PER_BATCH) {
      const part = items.slice(i, i + LINES_PER_BATCH);
      const queries = part.filter((p) => p.query).map((p) => p.query!);
      const results = await answerer.answerBatch(queries);
      let r = 0;
      const out = part.map((p) => {
        if (p.error) {
          errors++;
          warn(`error: ${p.error}`);
          return JSON.stringify({ error: p.error });
        }
        answered++;
        return JSON.stringify(results[r++]);
      });
      await write(out.join("\n") + "\n");
    }
  }
  return { answered, errors };
}

/** A line reader over stdin for the interactive prompt. */
function promptReader(): (prompt: string) => Promise<string | null> {
  const it = lines(Deno.stdin.readable)[Symbol.asyncIterator]();
  let pending: string[] = [];
  return async (prompt: string) => {
    await Deno.stderr.write(new TextEncoder().encode(prompt));
    while (pending.length === 0) {
      const next = await it.next();
      if (next.done) return null;
      pending = next.value;
    }
    return pending.shift()!;
  };
}

function describe(r: AnswerResult): string {
  const where = r.paragraph_scores ? ` in paragraph ${r.paragraph}` : "";
  return `→ ${r.answer}  (score ${r.score.toFixed(4)}, characters ${r.start}–${r.end}${where})`;
}

async function interactive(
  answerer: Answerer,
  paragraphs: string[] | undefined,
  write: (text: string) => Promise<void>,
): Promise<void> {
  const read = promptReader();
  console.error(
    paragraphs
      ? "Type a question (an empty line or Ctrl-D ends)."
      : "Paste a paragraph on one line, then ask questions about it (an empty question asks " +
        "for a new paragraph; an empty paragraph or Ctrl-D ends).",
  );
  while (true) {
    let current = paragraphs;
    if (!current) {
      const p = await read("paragraph> ");
      if (p === null || p.trim() === "") return;
      current = [p];
    }
    while (true) {
      const q = await read("question> ");
      if (q === null) return;
      if (q.trim() === "") {
        if (paragraphs) return;
        break;
      }
      try {
        const r = await answerer.answer(queryOf(q, current));
        await write(JSON.stringify(r) + "\n");
        console.error(describe(r));
      } catch (e) {
        if (!(e instanceof AnswerInputError)) throw e;
        console.error(`error: ${e.message}`);
      }
    }
  }
}

/** Runs `ask`. */
export async function run(flags: ParsedFlags): Promise<void> {
  const paragraphs = await defaultParagraphs(flags);
  if (flags.question !== undefined && !paragraphs) {
    throw new UsageError("--question needs --context or --context_file (the paragraphs)");
  }
  let query: AnswerQuery | undefined;
  if (flags.question !== undefined) {
    try {
      query = parseAnswerQuery(queryOf(String(flags.question), paragraphs!), "--question");
    } catch (e) {
      if (e instanceof AnswerInputError) throw new UsageError(e.message);
      throw e;
    }
  }
  const log = (m: string) => console.error(m);
  const answerer = await loadAnswerer(flags, log);
  const enc = new TextEncoder();
  const writer = Deno.stdout.writable.getWriter();
  const write = (s: string) => writer.write(enc.encode(s));
  try {
    if (query) {
      try {
        answerer.check(query, "--question");
      } catch (e) {
        if (e instanceof AnswerInputError) throw new UsageError(e.message);
        throw e;
      }
      await write(JSON.stringify(await answerer.answer(query)) + "\n");
    } else if (Deno.stdin.isTerminal()) {
      await interactive(answerer, paragraphs, write);
    } else {
      const t0 = performance.now();
      const { answered, errors } = await answerLines(
        answerer,
        Deno.stdin.readable,
        write,
        paragraphs,
      );
      log(
        `answered ${answered} question${answered === 1 ? "" : "s"} in ${
          ((performance.now() - t0) / 1000).toFixed(1)
        } s`,
      );
      if (errors > 0) throw new Error(`${errors} input line${errors > 1 ? "s" : ""} had errors`);
    }
  } finally {
    writer.releaseLock();
    answerer.dispose();
  }
}
