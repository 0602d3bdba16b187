/**
 * Gathers concurrent questions into inference batches: a question waits at most `maxWaitMs` for
 * others (fewer when `maxBatchSize` are already waiting), then up to `maxBatchSize` are answered
 * by one `answerBatch` call. One batch runs at a time; at most `maxQueue` questions wait.
 * @module
 */
import type { AnswerQuery, AnswerResult } from "../pipeline/mod.ts";

/** What the batcher needs of an answerer (an `Answerer`, or a test double). */
export interface BatchAnswerer {
  answerBatch(queries: readonly AnswerQuery[]): Promise<AnswerResult[]>;
  /** Throws an `AnswerInputError` for a query that cannot be answered. */
  check(query: AnswerQuery, where?: string): void;
}

/** Sizes of the batcher. */
export interface BatcherOptions {
  maxBatchSize: number;
  maxWaitMs: number;
  maxQueue: number;
}

/** Thrown by {@link Batcher.submit} when the queue is full; `retryAfterS` is an estimate. */
export class QueueFullError extends Error {
  constructor(message: string, readonly retryAfterS: number) {
    super(message);
    this.name = "QueueFullError";
  }
}

interface Pending {
  query: AnswerQuery;
  resolve: (r: AnswerResult) => void;
  reject: (e: unknown) => void;
}

/** Counters of a batcher (for `/health` and tests). */
export interface BatcherStats {
  /** Questions waiting for a batch. */
  waiting: number;
  /** Questions in the batch being answered. */
  inFlight: number;
  batches: number;
  answered: number;
  /** The largest batch so far. */
  largestBatch: number;
}

/** See the module docs. */
export class Batcher {
  readonly #answerer: BatchAnswerer;
  readonly #opts: BatcherOptions;
  readonly #queue: Pending[] = [];
  #running = false;
  #inFlight = 0;
  #batches = 0;
  #answered = 0;
  #largest = 0;
  /** Seconds per batch, smoothed (for Retry-After). */
  #batchSeconds = 0.1;

  constructor(answerer: BatchAnswerer, opts: BatcherOptions) {
    this.#answerer = answerer;
    this.#opts = opts;
  }

  /** The counters now. */
  get stats(): BatcherStats {
    return {
      waiting: this.#queue.length,
      inFlight: this.#inFlight,
      batches: this.#batches,
      answered: this.#answered,
      largestBatch: this.#largest,
    };
  }

  /**
   * Queues `queries` (already checked) and resolves with their answers in order. Throws a
   * {@link QueueFullError} at once when they would make more than `maxQueue` wait.
   */
  submit(queries: readonly AnswerQuery[]): Promise<AnswerResult[]> {
    const waiting = this.#queue.length;
    if (waiting + queries.length > this.#opts.maxQueue) {
      const batchesAhead = Math.ceil((waiting + this.#inFlight) / this.#opts.maxBatchSize);
      throw new QueueFullError(
        `the server is busy: ${waiting} questions are waiting (--max_queue ` +
          `${this.#opts.maxQueue}); try again later`,
        Math.max(1, Math.ceil(batchesAhead * this.#batchSeconds)),
      );
    }
    const out = queries.map((query) =>
      new Promise<AnswerResult>((resolve, reject) => this.#queue.push({ query, resolve, reject }))
    );
    if (!this.#running) void this.#loop();
    return Promise.all(out);
  }

  async #loop(): Promise<void> {
    this.#running = true;
    try {
      while (this.#queue.length > 0) {
        if (this.#queue.length < this.#opts.maxBatchSize && this.#opts.maxWaitMs > 0) {
          await new Promise((r) => setTimeout(r, this.#opts.maxWaitMs));
        }
        const batch = this.#queue.splice(0, this.#opts.maxBatchSize);
        this.#inFlight = batch.length;
        const t0 = performance.now();
        await this.#answer(batch);
        this.#batchSeconds = 0.8 * this.#batchSeconds + 0.2 * (performance.now() - t0) / 1000;
        this.#inFlight = 0;
        this.#batches++;
        this.#answered += batch.length;
        this.#largest = Math.max(this.#largest, batch.length);
      }
    } finally {
      this.#running = false;
    }
  }

  async #answer(batch: Pending[]): Promise<void> {
    try {
      const results = await this.#answerer.answerBatch(batch.map((p) => p.query));
      if (results.length !== batch.length) {
        throw new Error(`answerBatch gave ${results.length} answers for ${batch.length} questions`);
      }
      batch.forEach((p, i) => p.resolve(results[i]));
    } catch (e) {
      if (batch.length === 1) {
        batch[0].reject(e);
        return;
      }
      // One question broke the batch: answer each alone so that only that one fails.
      for (const p of batch) {
        try {
          p.resolve((await this.#answerer.answerBatch([p.query]))[0]);
        } catch (err) {
          p.reject(err);
        }
      }
    }
  }
}
