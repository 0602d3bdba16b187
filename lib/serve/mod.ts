/**
 * The answer server of `deno task cli serve`: `POST /answer`, `GET /health` and a page at `GET /`,
 * with concurrent questions gathered into inference batches.
 * @module
 */
export {
  type BatchAnswerer,
  Batcher,
  type BatcherOptions,
  type BatcherStats,
  QueueFullError,
} from "./batcher.ts";
export { PAGE_TOP_K, pageHtml } from "./page.ts";
export {
  type AnswerServer,
  SERVE_DEFAULTS,
  type ServeInfo,
  type ServeOptions,
  type StartOptions,
  startServer,
} from "./server.ts";
