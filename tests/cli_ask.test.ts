// `deno task cli ask`: one question on the command line, several paragraphs with the MC model,
// JSON lines on stdin (one answer line per question line, errors in place), the usage errors, and
// the commands of docs/ASK.md parsing against the real flag specs.
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { parseFlags } from "../lib/cli/mod.ts";
import { Answerer } from "../lib/pipeline/mod.ts";
import { makeModelDirs, sameOrTied, sampleQuestions } from "./answer_util.ts";
import { ROOT, runDeno } from "./process_util.ts";

await tf.setBackend("cpu");
const dirs = await makeModelDirs();
const { contexts, valid } = await sampleQuestions(4);
const answerer = await Answerer.load({ qaModel: dirs.qa, mcModel: dirs.mc, log: () => {} });

async function ask(args: string[], stdin?: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "cli.ts", "ask", ...args],
    cwd: ROOT,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("cli ask: --question --context prints one JSON answer with code-point positions", async () => {
  const ex = valid[0];
  const context = contexts[ex.relevant!];
  const r = await ask(["--qa_model", dirs.qa, "--question", ex.question, "--context", context]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  assert.equal(lines.length, 1);
  const got = JSON.parse(lines[0]);
  assert.deepEqual(Object.keys(got), ["answer", "score", "start", "end", "paragraph"]);
  assert.equal([...context].slice(got.start, got.end).join(""), got.answer);
  assert.ok(sameOrTied(got, await answerer.answer({ question: ex.question, context })));
  assert.match(r.stderr, /settings: max_seq_length 48, doc_stride 16/);
});

Deno.test("cli ask: --mc_model with --context_file picks one of several paragraphs", async () => {
  const ex = valid[1];
  const dir = await Deno.makeTempDir();
  try {
    const paragraphs = ex.paragraphs.map((p) => contexts[p]);
    await Deno.writeTextFile(`${dir}/paragraphs.json`, JSON.stringify(paragraphs));
    const r = await ask([
      "--qa_model",
      dirs.qa,
      "--mc_model",
      dirs.mc,
      "--context_file",
      `${dir}/paragraphs.json`,
      "--question",
      ex.question,
      "--top_k",
      "3",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const got = JSON.parse(r.stdout);
    assert.equal(got.paragraph_scores.length, 4);
    assert.equal(got.top_k.length, 3);
    assert.ok(
      sameOrTied(got, await answerer.answer({ question: ex.question, paragraphs, top_k: 3 })),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli ask: stdin JSON lines get one answer line each, bad lines an error in place", async () => {
  const ctx = contexts[valid[0].relevant!];
  const input = [
    JSON.stringify({ question: valid[0].question, context: ctx }),
    "",
    "{not json",
    JSON.stringify({
      question: valid[1].question,
      paragraphs: valid[1].paragraphs.map((p) => contexts[p]),
    }),
    JSON.stringify({ question: "誰", context: "" }),
    JSON.stringify({ question: valid[2].question }),
  ].join("\n");
  const r = await ask(["--qa_model", dirs.qa, "--mc_model", dirs.mc, "--context", ctx], input);
  assert.equal(r.code, 1, "errors give exit status 1");
  const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(lines.length, 5, r.stdout);
  assert.ok(
    sameOrTied(lines[0], await answerer.answer({ question: valid[0].question, context: ctx })),
  );
  assert.match(lines[1].error, /^line 3: not valid JSON/);
  assert.equal(lines[2].paragraph_scores.length, 4);
  assert.match(lines[3].error, /^line 5: field "context" is empty/);
  // A line without a context uses --context.
  assert.ok(
    sameOrTied(lines[4], await answerer.answer({ question: valid[2].question, context: ctx })),
  );
  assert.match(r.stderr, /2 input lines had errors/);
});

Deno.test("cli ask: usage errors name the flag", async () => {
  const cases: [string[], RegExp][] = [
    [["--question", "x", "--context", "y"], /--qa_model is required|qa_model/],
    [["--qa_model", dirs.qa, "--question", "x"], /--question needs --context or --context_file/],
    [
      ["--qa_model", dirs.qa, "--context", "a", "--context_file", "b", "--question", "x"],
      /not both/,
    ],
    [
      ["--qa_model", `${dirs.root}/nope`, "--question", "x", "--context", "y"],
      /--qa_model .*nope: not found/,
    ],
    [
      ["--qa_model", dirs.qa, "--question", "x", "--context", "y", "--doc_stride", "60"],
      /--doc_stride 60 must be smaller than --max_seq_length 48/,
    ],
    [
      ["--qa_model", dirs.qa, "--question", "x", "--context", "y", "--max_seq_length", "200"],
      /max_seq_length 200 is longer than .*max_position_embeddings \(128\)/,
    ],
    [
      ["--qa_model", dirs.qa, "--question", " ", "--context", "y"],
      /--question: field "question" must be a non-empty string/,
    ],
    [["--qa_model", dirs.qa, "--question", "x", "--context", "y", "--top_k", "0"], /top_k/],
    // An MC folder given as the QA model (and the two swapped) is refused with both names.
    [
      ["--qa_model", dirs.mc, "--question", "x", "--context", "y"],
      /--qa_model .*mc holds BertForMultipleChoice \(classifier\), not a question-answering model \(BertForQuestionAnswering with qa_outputs weights\)/,
    ],
    [
      ["--qa_model", dirs.mc, "--mc_model", dirs.qa, "--question", "x", "--context", "y"],
      /--mc_model .*qa holds BertForQuestionAnswering.*; --mc_model and --qa_model look swapped/,
    ],
    [
      ["--qa_model", dirs.qa, "--question", "x", "--context", "y", "--max-seq-length", "8"],
      /max_seq_length/,
    ],
  ];
  for (const [args, re] of cases) {
    const r = await ask(args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, re, args.join(" "));
    assert.equal(r.stdout, "");
  }
});

Deno.test("docs/ASK.md: every deno task cli ask / serve command parses with the command's flags", async () => {
  const md = await Deno.readTextFile(`${ROOT}docs/ASK.md`);
  const specs = {
    ask: (await import("../lib/cli/ask.ts")).spec,
    serve: (await import("../lib/cli/serve.ts")).spec,
  };
  let n = 0;
  for (const block of md.matchAll(/```sh\n([\s\S]*?)```/g)) {
    for (const line of block[1].replace(/\\\n\s*/g, " ").split("\n")) {
      const m = line.match(/deno task cli (ask|serve)( .*)?$/);
      if (!m) continue;
      const args = (m[2] ?? "").replace(/\s[<|].*$/, "").trim().match(/"[^"]*"|\S+/g) ?? [];
      const spec = specs[m[1] as "ask" | "serve"];
      assert.doesNotThrow(
        () => parseFlags(spec, args.map((a) => a.replace(/^"|"$/g, "")), () => {}),
        line,
      );
      n++;
    }
  }
  assert.ok(n >= 4, `${n} commands found`);
  const help = await runDeno(["run", "-A", "cli.ts", "--help"]);
  assert.match(help.stdout, /\n {2}ask {2,}/);
  assert.match(help.stdout, /\n {2}serve {2,}/);
});

globalThis.addEventListener("unload", () => {
  answerer.dispose();
  Deno.removeSync(dirs.root, { recursive: true });
});
