// The answer server on loopback: routes, every limit's error (and serving on after it), the queue's
// 503 with Retry-After, many concurrent clients (answers equal to direct answer() calls, none lost
// or mixed up, no tensor leak), shutdown under load, and `cli serve` stopping on SIGTERM / SIGINT.
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  Answerer,
  type AnswerQuery,
  type AnswerResult,
  parseAnswerQuery,
} from "../lib/pipeline/mod.ts";
import { type BatchAnswerer, startServer } from "../lib/serve/mod.ts";
import { makeModelDirs, mixedQueries, sameOrTied, sampleQuestions } from "./answer_util.ts";
import { ROOT } from "./process_util.ts";
import { readServeUrl } from "../lib/cli/serve.ts";

await tf.setBackend("cpu");
const dirs = await makeModelDirs();
const { contexts, valid, test } = await sampleQuestions(24);
const answerer = await Answerer.load({ qaModel: dirs.qa, mcModel: dirs.mc, log: () => {} });
const opts = { sanitizeResources: false, sanitizeOps: false };

async function post(url: string, body: unknown, init: RequestInit = {}) {
  const res = await fetch(`${url}/answer`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
    ...init,
  });
  return { status: res.status, headers: res.headers, json: await res.json() };
}

const LOG_LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (GET|POST|PUT) \/\S* \d{3} \d+\.\d ms$/;

Deno.test({
  name: "serve: routes, every bad input gets its JSON error, and the server keeps serving",
  ...opts,
  fn: async () => {
    const lines: string[] = [];
    const server = startServer(answerer, {
      port: 0,
      max_body_size: 4096,
      max_question_length: 20,
      max_context_length: 300,
      log: (l) => lines.push(l),
      info: { qa_model: dirs.qa },
    });
    try {
      const url = server.url;
      const health = await fetch(`${url}/health`).then((r) => r.json());
      assert.equal(health.status, "ok");
      assert.equal(health.qa_model, dirs.qa);
      const page = await fetch(`${url}/`);
      assert.match(page.headers.get("content-type")!, /text\/html/);
      const html = await page.text();
      assert.match(html, /<textarea id="context"/);
      assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href=/, "self-contained page");

      const ctx = contexts[valid[0].relevant!];
      const good = { question: valid[0].question, context: ctx };
      const direct = await answerer.answer(good);
      const ok = await post(url, good);
      assert.equal(ok.status, 200);
      assert.ok(sameOrTied(ok.json, direct));
      const list = await post(url, [good, { question: valid[1].question, paragraphs: [ctx, ctx] }]);
      assert.equal(list.status, 200);
      assert.equal(list.json.length, 2);

      const cases: [string, number, unknown, RegExp][] = [
        ["malformed JSON", 400, "{not json", /not valid JSON/],
        ["a number", 400, "3", /expected a JSON object/],
        ["empty list", 400, "[]", /empty list/],
        ["no question", 400, { context: ctx }, /field "question" must be a non-empty string/],
        ["both fields", 400, { ...good, paragraphs: [ctx] }, /exactly one of/],
        ["unknown field", 400, { ...good, id: 1 }, /unknown field "id"/],
        ["bad top_k", 400, { ...good, top_k: 1.5 }, /top_k/],
        ["bad list item", 400, [good, { question: 1, context: ctx }], /^item 1: field "question"/],
        [
          "long question",
          400,
          { question: "誰".repeat(21), context: ctx },
          /21 characters, more than the limit of 20/,
        ],
        [
          "long context",
          400,
          { question: "誰", context: "甲".repeat(301) },
          /301 characters, more than the limit of 300/,
        ],
        [
          "oversize body",
          413,
          { question: "誰", context: "甲".repeat(2000) },
          /more than the limit of 4096/,
        ],
      ];
      for (const [what, status, body, re] of cases) {
        const r = await post(url, body);
        assert.equal(r.status, status, what);
        assert.match(r.json.error, re, what);
        assert.match(r.headers.get("content-type")!, /application\/json/, what);
      }
      // A body without Content-Length (streamed) is cut off at the limit too.
      const chunks = new ReadableStream<Uint8Array>({
        start(c) {
          for (let i = 0; i < 10; i++) c.enqueue(new TextEncoder().encode("x".repeat(1000)));
          c.close();
        },
      });
      const streamed = await post(url, "", { body: chunks });
      assert.equal(streamed.status, 413);
      assert.equal((await fetch(`${url}/answer`)).status, 405);
      const nf = await fetch(`${url}/nope`);
      assert.equal(nf.status, 404);
      assert.match((await nf.json()).error, /no such path/);
      // Still serving, with the same answer.
      const again = await post(url, good);
      assert.equal(again.status, 200);
      assert.deepEqual(again.json, ok.json);
      assert.ok(lines.length >= cases.length + 8, `${lines.length} log lines`);
      for (const l of lines) assert.match(l, LOG_LINE);
    } finally {
      await server.shutdown();
    }
  },
});

/** An answerer whose batches wait for `release()`. */
class GatedAnswerer implements BatchAnswerer {
  #open!: () => void;
  #gate = new Promise<void>((r) => (this.#open = r));
  batches: number[] = [];
  release() {
    this.#open();
  }
  check(q: AnswerQuery) {
    parseAnswerQuery(q, "q");
  }
  async answerBatch(qs: readonly AnswerQuery[]): Promise<AnswerResult[]> {
    this.batches.push(qs.length);
    await this.#gate;
    return qs.map((q) => ({ answer: q.question, score: 1, start: 0, end: 1, paragraph: 0 }));
  }
}

Deno.test({
  name:
    "serve: more than --max_queue waiting questions get 503 with Retry-After; the rest are answered",
  ...opts,
  fn: async () => {
    const gated = new GatedAnswerer();
    const server = startServer(gated, {
      port: 0,
      max_queue: 4,
      max_batch_size: 2,
      max_wait_ms: 100,
      log: () => {},
    });
    try {
      const ask = (i: number) => post(server.url, { question: `q${i}`, context: "甲乙" });
      const first = [ask(0), ask(1)];
      // Wait until those two are the batch in flight, then fill the queue.
      for (let i = 0; i < 100 && server.stats().inFlight < 2; i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.equal(server.stats().inFlight, 2);
      const queued = [2, 3, 4, 5].map(ask);
      for (let i = 0; i < 100 && server.stats().waiting < 4; i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
      const refused = await ask(6);
      assert.equal(refused.status, 503);
      assert.match(refused.json.error, /busy: 4 questions are waiting \(--max_queue 4\)/);
      assert.ok(Number(refused.headers.get("retry-after")) >= 1);
      const listRefused = await post(server.url, [{ question: "a", context: "甲" }]);
      assert.equal(listRefused.status, 503);
      gated.release();
      const all = await Promise.all([...first, ...queued]);
      all.forEach((r, i) => {
        assert.equal(r.status, 200);
        assert.equal(r.json.answer, `q${i === 0 ? 0 : i === 1 ? 1 : i}`);
      });
      assert.deepEqual(gated.batches, [2, 2, 2]);
    } finally {
      gated.release();
      await server.shutdown();
    }
  },
});

Deno.test({
  name: "serve: 48 concurrent clients get their own answers, equal to answer(); batched; no leaks",
  ...opts,
  fn: async () => {
    const queries = [
      ...mixedQueries(contexts, valid),
      ...mixedQueries(contexts, test),
    ].map((q, i) => ({ ...q, top_k: 1 + (i % 3) }));
    const direct: AnswerResult[] = [];
    for (const q of queries) direct.push(await answerer.answer(q));
    const before = tf.memory().numTensors;
    const server = startServer(answerer, {
      port: 0,
      max_batch_size: 8,
      max_wait_ms: 10,
      log: () => {},
    });
    try {
      const got = await Promise.all(queries.map((q) => post(server.url, q)));
      got.forEach((r, i) => {
        assert.equal(r.status, 200, JSON.stringify(r.json));
        assert.ok(
          sameOrTied(r.json, direct[i]),
          `client ${i}: ${r.json.answer} vs ${direct[i].answer}`,
        );
        assert.equal(r.json.top_k?.length ?? 1, queries[i].top_k);
      });
      const s = server.stats();
      assert.equal(s.answered, queries.length, "none lost");
      assert.ok(s.largestBatch > 1 && s.batches < queries.length, JSON.stringify(s));
    } finally {
      await server.shutdown();
    }
    assert.equal(tf.memory().numTensors, before, "tensors leaked");
  },
});

Deno.test({
  name: "serve: shutdown during load answers every request in flight, then stops listening",
  ...opts,
  fn: async () => {
    // The real answerer behind a gate: the first batch waits until the shutdown has begun, so
    // that every request is in flight (one batch answering, the rest queued) when it starts.
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const delayed: BatchAnswerer = {
      check: (q, where) => answerer.check(q, where),
      answerBatch: async (qs) => {
        await gate;
        return await answerer.answerBatch(qs);
      },
    };
    const server = startServer(delayed, {
      port: 0,
      max_batch_size: 4,
      max_wait_ms: 5,
      log: () => {},
    });
    const queries = mixedQueries(contexts, valid);
    const direct: AnswerResult[] = [];
    for (const q of queries) direct.push(await answerer.answer(q));
    const pending = queries.map((q) => post(server.url, q));
    for (
      let i = 0;
      i < 400 && server.stats().waiting + server.stats().inFlight < queries.length;
      i++
    ) {
      await new Promise((r) => setTimeout(r, 5));
    }
    const at = server.stats();
    assert.equal(at.waiting + at.inFlight, queries.length, JSON.stringify(at));
    assert.equal(at.answered, 0);
    const stopped = server.shutdown();
    await new Promise((r) => setTimeout(r, 20));
    open();
    const got = await Promise.all(pending);
    await stopped;
    await server.finished;
    got.forEach((r, i) => {
      assert.equal(r.status, 200, `request ${i}: ${JSON.stringify(r.json)}`);
      assert.ok(sameOrTied(r.json, direct[i]), `request ${i}`);
    });
    assert.equal(server.stats().answered, queries.length);
    await assert.rejects(fetch(`${server.url}/health`));
  },
});

Deno.test("cli serve: an MC folder given as the QA model is refused with both names (exit 2)", async () => {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "cli.ts", "serve", "--qa_model", dirs.mc, "--port", "0"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(r.stderr);
  assert.equal(r.code, 2, err);
  assert.match(
    err,
    /--qa_model .*mc holds BertForMultipleChoice \(classifier\), not a question-answering model \(BertForQuestionAnswering with qa_outputs weights\)/,
  );
});

Deno.test({
  name: "cli serve: answers on loopback, logs one line per request, exits 0 on SIGTERM and SIGINT",
  ...opts,
  fn: async () => {
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "cli.ts",
          "serve",
          "--qa_model",
          dirs.qa,
          "--mc_model",
          dirs.mc,
          "--port",
          "0",
        ],
        cwd: ROOT,
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
      const started = await readServeUrl(reader);
      const url = started.url;
      let err = started.stderr;
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/, "binds 127.0.0.1 by default");
      const q = {
        question: valid[2].question,
        paragraphs: valid[2].paragraphs.map((p) => contexts[p]),
      };
      const r = await post(url, q);
      assert.equal(r.status, 200);
      assert.ok(sameOrTied(r.json, await answerer.answer(q)));
      assert.equal(r.json.paragraph_scores.length, 4);
      assert.equal((await post(url, "{")).status, 400);
      child.kill(signal);
      const rest = (async () => {
        while (true) {
          const { value, done } = await reader.read();
          if (done) return;
          err += value;
        }
      })();
      const status = await child.status;
      await rest;
      const stdout = await new Response(child.stdout).text();
      assert.equal(status.code, 0, `${signal}: ${err}`);
      assert.equal(stdout, "", "nothing on stdout");
      const requestLines = err.split("\n").filter((l) => / POST \/answer /.test(l));
      assert.equal(requestLines.length, 2, err);
      for (const l of requestLines) assert.match(l, LOG_LINE);
      assert.match(err, new RegExp(`${signal}: finishing the requests in flight`));
    }
  },
});

globalThis.addEventListener("unload", () => {
  answerer.dispose();
  Deno.removeSync(dirs.root, { recursive: true });
});
