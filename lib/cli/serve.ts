/**
 * `deno task cli serve`: loads the models once and answers over HTTP — `POST /answer` (the JSON
 * of `ask`: an object in, an object out; a list in, a list out), `GET /health`, and `GET /`, a
 * page to paste a paragraph and ask. Binds 127.0.0.1 by default. SIGINT / SIGTERM stop accepting
 * connections, answer what is in flight and exit 0.
 * @module
 */
import type { CommandSpec, FlagSpec, ParsedFlags } from "./args.ts";
import { answererFlags, loadAnswerer } from "./answer_flags.ts";
import { SERVE_DEFAULTS, type ServeOptions, startServer } from "../serve/mod.ts";

const serveFlags: Record<keyof ServeOptions, FlagSpec> = {
  host: {
    type: "string",
    default: SERVE_DEFAULTS.host,
    help: "Address to bind (loopback by default; 0.0.0.0 exposes the server to the network)",
  },
  port: {
    type: "int",
    min: 0,
    max: 65535,
    default: SERVE_DEFAULTS.port,
    help: "Port (0: a free one)",
  },
  max_body_size: {
    type: "int",
    min: 1,
    default: SERVE_DEFAULTS.max_body_size,
    help: "Largest request body in bytes; larger gets 413",
  },
  max_question_length: {
    type: "int",
    min: 1,
    default: SERVE_DEFAULTS.max_question_length,
    help: "Longest question in characters; longer gets 400",
  },
  max_context_length: {
    type: "int",
    min: 1,
    default: SERVE_DEFAULTS.max_context_length,
    help: "Longest context in characters (all paragraphs of a question); longer gets 400",
  },
  max_queue: {
    type: "int",
    min: 1,
    default: SERVE_DEFAULTS.max_queue,
    help: "Most questions waiting for a batch; more gets 503 with Retry-After",
  },
  max_batch_size: {
    type: "int",
    min: 1,
    default: SERVE_DEFAULTS.max_batch_size,
    help: "Most questions answered in one inference batch",
  },
  max_wait_ms: {
    type: "int",
    min: 0,
    default: SERVE_DEFAULTS.max_wait_ms,
    help: "Longest wait in milliseconds for more questions to fill a batch",
  },
};

/** Flags of `serve`. */
export const spec: CommandSpec = {
  name: "serve",
  summary: "Serve a QA model (and an MC model) over HTTP: POST /answer, GET /health, and a page " +
    "at GET /.",
  flags: { ...answererFlags, ...serveFlags },
  epilog: 'POST /answer takes {"question": "...", "context": "..."} (or "paragraphs": [...], ' +
    'optionally "top_k") or a list of them, and answers as `ask` does. Errors are JSON ' +
    '{"error": "..."}. One log line per request on stderr.',
};

/** Runs `serve` until SIGINT or SIGTERM. */
export async function run(flags: ParsedFlags): Promise<void> {
  const log = (m: string) => console.error(m);
  const answerer = await loadAnswerer(flags, log);
  const options = Object.fromEntries(
    Object.keys(serveFlags).map((k) => [k, flags[k]]),
  ) as unknown as ServeOptions;
  try {
    const server = startServer(answerer, {
      ...options,
      info: {
        qa_model: String(flags.qa_model),
        mc_model: flags.mc_model === undefined ? undefined : String(flags.mc_model),
        settings: { ...answerer.settings },
      },
      log,
      onListen: ({ hostname, port }) => {
        const host = hostname.includes(":") ? `[${hostname}]` : hostname;
        log(`${LISTENING} http://${host}:${port}/ (POST /answer, GET /health; Ctrl-C stops)`);
      },
    });
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log(`${signal}: finishing the requests in flight, then stopping`);
      void server.shutdown();
    };
    const onInt = () => stop("SIGINT");
    const onTerm = () => stop("SIGTERM");
    Deno.addSignalListener("SIGINT", onInt);
    Deno.addSignalListener("SIGTERM", onTerm);
    try {
      await server.finished;
    } finally {
      Deno.removeSignalListener("SIGINT", onInt);
      Deno.removeSignalListener("SIGTERM", onTerm);
    }
    const n = server.stats().answered;
    log(`stopped after ${n} question${n === 1 ? "" : "s"}`);
  } finally {
    answerer.dispose();
  }
}

/** The start of the line `serve` prints on stderr once it accepts requests. */
const LISTENING = "listening on";

/**
 * Reads a `deno task cli serve` child's stderr up to the line that says it listens and returns
 * the server's base URL (`http://host:port`) with what was read; throws when the child exits
 * first. Keep reading `reader` afterwards (the request log) so the child never blocks on a pipe.
 */
export async function readServeUrl(
  reader: ReadableStreamDefaultReader<string>,
): Promise<{ url: string; stderr: string }> {
  let stderr = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`serve exited before listening:\n${stderr}`);
    stderr += value;
    const url = stderr.match(new RegExp(`${LISTENING} (http://[^/\\s]+)/`))?.[1];
    if (url) return { url, stderr };
  }
}
