/**
 * The HTTP server of `deno task cli serve`: `POST /answer` (one question object in, one answer
 * out; a list in, a list out), `GET /health`, and `GET /` (the page of `page.ts`). Concurrent
 * questions are answered in batches ({@link Batcher}). Every limit is a clear JSON error
 * `{"error": "..."}` with its status: body too large → 413, malformed JSON or fields, question or
 * context too long → 400, too many waiting questions → 503 with `Retry-After`. One log line per
 * request (time, method, path, status, latency), nothing else per request.
 * @module
 */
import {
  AnswerInputError,
  type AnswerQuery,
  type AnswerResult,
  parseAnswerQuery,
} from "../pipeline/mod.ts";
import { type BatchAnswerer, Batcher, type BatcherStats, QueueFullError } from "./batcher.ts";
import { pageHtml } from "./page.ts";

/** Limits and sizes of the server, with their flag names (see {@link SERVE_DEFAULTS}). */
export interface ServeOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Largest request body in bytes (larger → 413). */
  max_body_size: number;
  /** Longest question in characters (code points; longer → 400). */
  max_question_length: number;
  /** Longest context in characters, all paragraphs of a question together (longer → 400). */
  max_context_length: number;
  /** Most questions waiting for a batch (more → 503 with Retry-After). */
  max_queue: number;
  /** Most questions per inference batch. */
  max_batch_size: number;
  /** Longest wait in milliseconds for a batch to fill. */
  max_wait_ms: number;
}

/** The defaults of {@link ServeOptions}: loopback only, 1 MiB bodies. */
export const SERVE_DEFAULTS: Readonly<ServeOptions> = Object.freeze({
  host: "127.0.0.1",
  port: 8000,
  max_body_size: 1024 * 1024,
  max_question_length: 1000,
  max_context_length: 20000,
  max_queue: 256,
  max_batch_size: 8,
  max_wait_ms: 5,
});

/** A running server. */
export interface AnswerServer {
  /** `http://host:port`. */
  url: string;
  port: number;
  /** Batcher counters. */
  stats(): BatcherStats;
  /** Stops accepting connections, answers what is in flight, then resolves. */
  shutdown(): Promise<void>;
  /** Resolves when the server has stopped. */
  finished: Promise<void>;
}

/** Facts `/health` and the page show. */
export interface ServeInfo {
  qa_model?: string;
  mc_model?: string;
  settings?: Record<string, unknown>;
}

/** Options of {@link startServer}. */
export interface StartOptions extends Partial<ServeOptions> {
  info?: ServeInfo;
  /** Where each request's log line goes (default stderr). */
  log?: (line: string) => void;
  /** Called once listening, with the address. */
  onListen?: (addr: { hostname: string; port: number }) => void;
}

class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly headers: HeadersInit = {}) {
    super(message);
  }
}

function json(status: number, body: unknown, headers: HeadersInit = {}): Response {
  return new Response(JSON.stringify(body) + "\n", {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

/** Reads the body as text, refusing more than `max` bytes (also without a Content-Length). */
async function readBody(req: Request, max: number): Promise<string> {
  const declared = req.headers.get("content-length");
  const tooLarge = (n: string) =>
    new HttpError(
      413,
      `the request body is ${n} bytes, more than the limit of ${max} (--max_body_size)`,
    );
  if (declared !== null && Number(declared) > max) throw tooLarge(declared);
  if (!req.body) return "";
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > max) {
      await reader.cancel().catch(() => {});
      throw tooLarge(`over ${max}`);
    }
    chunks.push(value);
  }
  const all = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    all.set(c, o);
    o += c.length;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(all);
  } catch {
    throw new HttpError(400, "the request body is not valid UTF-8");
  }
}

/** Parses and checks a `/answer` body: one query object, or a non-empty list of them. */
function parseQueries(
  text: string,
  limits: ServeOptions,
  answerer: BatchAnswerer,
): { queries: AnswerQuery[]; list: boolean } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new HttpError(400, `the request body is not valid JSON (${(e as Error).message})`);
  }
  const list = Array.isArray(value);
  const items = list ? value as unknown[] : [value];
  if (list && items.length === 0) throw new HttpError(400, "the request is an empty list");
  const lim = {
    maxQuestionLength: limits.max_question_length,
    maxContextLength: limits.max_context_length,
  };
  const queries = items.map((v, i) => {
    const where = list ? `item ${i}` : "request";
    try {
      const q = parseAnswerQuery(v, where, lim);
      answerer.check(q, where);
      return q;
    } catch (e) {
      if (e instanceof AnswerInputError) throw new HttpError(400, e.message);
      throw e;
    }
  });
  return { queries, list };
}

/** Starts the server (see the module docs) over an answerer that is already loaded. */
export function startServer(answerer: BatchAnswerer, opts: StartOptions = {}): AnswerServer {
  const o: ServeOptions = { ...SERVE_DEFAULTS, ...definedOnly(opts) };
  const log = opts.log ?? ((line: string) => console.error(line));
  const batcher = new Batcher(answerer, {
    maxBatchSize: o.max_batch_size,
    maxWaitMs: o.max_wait_ms,
    maxQueue: o.max_queue,
  });
  const info = opts.info ?? {};
  let stopping = false;
  const page = pageHtml({ hasMcModel: info.mc_model !== undefined });

  const route = async (req: Request, path: string): Promise<Response> => {
    if (path === "/answer") {
      if (req.method !== "POST") {
        throw new HttpError(405, `use POST for /answer, not ${req.method}`, { allow: "POST" });
      }
      const { queries, list } = parseQueries(await readBody(req, o.max_body_size), o, answerer);
      let results: AnswerResult[];
      try {
        results = await batcher.submit(queries);
      } catch (e) {
        if (e instanceof QueueFullError) {
          throw new HttpError(503, e.message, { "retry-after": String(e.retryAfterS) });
        }
        if (e instanceof AnswerInputError) throw new HttpError(400, e.message);
        throw e;
      }
      return json(200, list ? results : results[0]);
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      throw new HttpError(405, `use GET for ${path}, not ${req.method}`, { allow: "GET, HEAD" });
    }
    if (path === "/health") {
      return json(stopping ? 503 : 200, {
        status: stopping ? "stopping" : "ok",
        ...info,
        ...batcher.stats,
      });
    }
    if (path === "/") {
      return new Response(page, { headers: { "content-type": "text/html; charset=utf-8" } });
    }
    throw new HttpError(404, `no such path ${path} (the paths are /, /answer and /health)`);
  };

  const handler = async (req: Request): Promise<Response> => {
    const t0 = performance.now();
    const path = new URL(req.url).pathname;
    let res: Response;
    try {
      res = await route(req, path);
    } catch (e) {
      if (e instanceof HttpError) res = json(e.status, { error: e.message }, e.headers);
      else res = json(500, { error: `internal error: ${(e as Error)?.message ?? String(e)}` });
    }
    log(
      `${new Date().toISOString()} ${req.method} ${path} ${res.status} ` +
        `${(performance.now() - t0).toFixed(1)} ms`,
    );
    return res;
  };

  const server = Deno.serve({
    hostname: o.host,
    port: o.port,
    onListen: (addr) => opts.onListen?.(addr),
  }, handler);
  const addr = server.addr as Deno.NetAddr;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return {
    url: `http://${host}:${addr.port}`,
    port: addr.port,
    stats: () => batcher.stats,
    shutdown: async () => {
      stopping = true;
      await server.shutdown();
    },
    finished: server.finished,
  };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
