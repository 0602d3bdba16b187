// answer(): the same spans as `predict` on the same questions, batches equal to one-by-one calls,
// code-point positions, Hugging Face's pipeline score, the settings' sources and the input checks.
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { examplesToQaInputs, prepareQaFeatures, readPredictionCsv } from "../lib/features/mod.ts";
import { loadPretrained } from "../lib/models/mod.ts";
import { BertTokenizer } from "../lib/tokenization/mod.ts";
import {
  Answerer,
  AnswerInputError,
  type AnswerResult,
  parseAnswerQuery,
  predictAnswers,
  qaLogits,
  resolveAnswerSettings,
  runPipeline,
} from "../lib/pipeline/mod.ts";
import {
  makeModelDirs,
  MC_ARGS,
  mixedQueries,
  QA_ARGS,
  sameOrTied,
  SAMPLE,
  sampleQuestions,
} from "./answer_util.ts";
import { runDeno } from "./process_util.ts";
import { peerPython, pythonImports } from "../lib/util/python.ts";
import { ANSWER_ARGS, INFERENCE_ARGS } from "../lib/args/mod.ts";

await tf.setBackend("cpu");
const dirs = await makeModelDirs();
const { contexts, valid, test } = await sampleQuestions(24);
const log = () => {};

Deno.test("answer: settings come from training_args.json, else the HF defaults; checked", async () => {
  const a = await Answerer.load({ qaModel: dirs.qa, mcModel: dirs.mc, log });
  assert.equal(a.settings.max_seq_length, QA_ARGS.max_seq_length);
  assert.equal(a.settings.doc_stride, QA_ARGS.doc_stride);
  assert.equal(a.settings.mc_max_seq_length, MC_ARGS.max_seq_length);
  assert.equal(a.settings.top_k, 1);
  a.dispose();
  const { settings, sources } = resolveAnswerSettings({ doc_stride: 8 }, {}, {});
  // The defaults are the schema's (lib/args ANSWER_ARGS), mc_max_seq_length predict's.
  const d = ANSWER_ARGS.args;
  assert.deepEqual(settings, {
    max_seq_length: d.max_seq_length.default,
    doc_stride: 8,
    n_best_size: d.n_best_size.default,
    max_answer_length: d.max_answer_length.default,
    top_k: d.top_k.default,
    mc_max_seq_length: INFERENCE_ARGS.args.mc_max_seq_length.default,
  });
  assert.deepEqual(
    [settings.max_seq_length, settings.n_best_size, settings.max_answer_length, settings.top_k],
    [384, 20, 30, 1],
    "Hugging Face's defaults",
  );
  assert.equal(sources.doc_stride, "given");
  assert.equal(sources.max_seq_length, "default");
  assert.throws(
    () => resolveAnswerSettings({ doc_stride: 48 }, QA_ARGS, {}),
    /--doc_stride 48 must be smaller than --max_seq_length 48/,
  );
  assert.throws(
    () => resolveAnswerSettings({ top_k: 0 }, {}, {}),
    /--top_k must be a positive integer/,
  );
  assert.throws(
    () => resolveAnswerSettings({}, { n_best_size: "x" }, {}),
    /--n_best_size expects an integer, got "x" \(from training_args.json\)/,
  );
  await assert.rejects(
    Answerer.load({ qaModel: dirs.qa, max_seq_length: 256, log }),
    /max_seq_length 256 is longer than .*max_position_embeddings \(128\)/,
  );
});

Deno.test({
  name:
    "answer: equals predict (MC → QA) on the same test questions, and predictAnswers on one paragraph",
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "answer-predict-" });
    try {
      const raw = JSON.parse(await Deno.readTextFile(`${SAMPLE}test.json`)).slice(0, test.length);
      await Deno.writeTextFile(`${dir}/test.json`, JSON.stringify(raw));
      const out = await runDeno([
        "run",
        "-A",
        "cli.ts",
        "predict",
        "--test_file",
        `${dir}/test.json`,
        "--context_file",
        `${SAMPLE}context.json`,
        "--mc_model",
        dirs.mc,
        "--qa_model",
        dirs.qa,
        "--prediction_csv",
        `${dir}/prediction.csv`,
      ]);
      assert.equal(out.code, 0, out.stderr);
      const rows = await readPredictionCsv(`${dir}/prediction.csv`);
      const before = tf.memory().numTensors;
      const a = await Answerer.load({ qaModel: dirs.qa, mcModel: dirs.mc, top_k: 5, log });
      // The MC choice too, from predict's own pipeline in this process.
      const mc = await loadPretrained(dirs.mc, "mc", { log });
      const qa = await loadPretrained(dirs.qa, "qa", { log });
      const tokenizer = await BertTokenizer.fromPretrained(dirs.qa);
      const pipe = await runPipeline(test, contexts, { model: mc, tokenizer }, {
        model: qa,
        tokenizer,
      }, {
        mcMaxSeqLength: MC_ARGS.max_seq_length,
        qaMaxSeqLength: QA_ARGS.max_seq_length,
        docStride: QA_ARGS.doc_stride,
      });
      let agree = 0;
      for (const [i, ex] of test.entries()) {
        const r = await a.answer({
          question: ex.question,
          paragraphs: ex.paragraphs.map((p) => contexts[p]),
        });
        assert.equal(rows[i].id, ex.id);
        assert.equal(ex.paragraphs[r.paragraph], pipe.rows[i].paragraph, `${ex.id}: paragraph`);
        assert.equal(r.paragraph_scores?.length, 4);
        if (r.answer === rows[i].answer) agree++;
        else {
          // Only a near-tie may differ (the two runs batch different windows together).
          const alt = r.top_k!.find((x) => x.answer === rows[i].answer);
          assert.ok(
            alt && alt.score >= r.score * (1 - 1e-4),
            `${ex.id}: ${r.answer} vs ${rows[i].answer}`,
          );
        }
      }
      assert.ok(agree >= test.length - 1, `${agree} of ${test.length} agree`);

      // One paragraph: the answer and its position are predictAnswers' (code points = UTF-16 here).
      const inputs = examplesToQaInputs(valid, contexts);
      const direct = await predictAnswers(qa, tokenizer, inputs, {
        maxSeqLength: QA_ARGS.max_seq_length,
        docStride: QA_ARGS.doc_stride,
      });
      for (const [i, inp] of inputs.entries()) {
        const r = await a.answer({ question: inp.question, context: inp.context });
        const p = direct.predictions[i];
        if (r.answer !== p.text) {
          const alt = r.top_k!.find((x) => x.answer === p.text && x.start === p.start);
          assert.ok(
            alt && alt.score >= r.score * (1 - 1e-4),
            `${inp.id}: ${r.answer} vs ${p.text}`,
          );
          continue;
        }
        assert.equal(r.start, p.start, inp.id);
        assert.equal(r.end, p.start + p.text.length, inp.id);
        assert.equal(r.paragraph, 0);
        assert.equal(r.paragraph_scores, undefined);
      }
      mc.dispose();
      qa.dispose();
      a.dispose();
      assert.equal(tf.memory().numTensors, before, "tensors leaked");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("answer: a batch gives the same spans as one-by-one calls, with and without MC; no leaks", async () => {
  for (const mcModel of [dirs.mc, undefined]) {
    const a = await Answerer.load({ qaModel: dirs.qa, mcModel, top_k: 3, log });
    const queries = mixedQueries(contexts, valid.slice(0, 12));
    const before = tf.memory().numTensors;
    const batch = await a.answerBatch(queries);
    const single: AnswerResult[] = [];
    const perParagraph: { i: number; ps: string[]; winner: AnswerResult }[] = [];
    for (const q of queries) single.push(await a.answer(q));
    assert.equal(tf.memory().numTensors, before, "tensors leaked");
    assert.equal(batch.length, queries.length);
    batch.forEach((b, i) => {
      assert.ok(
        sameOrTied(b, single[i]),
        `query ${i}: ${JSON.stringify(b)} vs ${JSON.stringify(single[i])}`,
      );
      assert.equal(b.top_k!.length, 3);
      const { answer, score, start, end, paragraph } = b;
      assert.deepEqual(b.top_k![0], { answer, score, start, end, paragraph });
      const q = queries[i];
      const ps = "context" in q ? [q.context] : q.paragraphs;
      for (const s of b.top_k!) {
        assert.equal([...ps[s.paragraph]].slice(s.start, s.end).join(""), s.answer);
        assert.ok(s.score > 0 && s.score <= 1);
      }
      if ("paragraphs" in q && !mcModel) {
        // Without MC the winner is the best-scoring paragraph answer.
        assert.equal(b.paragraph_scores, undefined);
        perParagraph.push({ i, ps, winner: b });
      }
      if ("paragraphs" in q && mcModel) {
        const probs = b.paragraph_scores!;
        assert.equal(b.paragraph, probs.indexOf(Math.max(...probs)));
        assert.ok(b.top_k!.every((s) => s.paragraph === b.paragraph));
      }
    });
    // Each paragraph asked alone: the winner is the paragraph whose own answer scores highest.
    for (const { i, ps, winner } of perParagraph) {
      const alone = await a.answerBatch(
        ps.map((context) => ({ question: queries[i].question, context })),
      );
      const best = alone.reduce((m, r, j) => (r.score > alone[m].score ? j : m), 0);
      assert.equal(winner.paragraph, best, `query ${i}`);
      assert.equal(winner.answer, alone[best].answer, `query ${i}`);
    }
    a.dispose();
  }
});

Deno.test("answer: start/end count code points (characters outside the BMP)", async () => {
  const a = await Answerer.load({ qaModel: dirs.qa, top_k: 8, log });
  const context = "𠀋𠀋甲" + contexts[valid[0].relevant!] + "𩸽🙂" + contexts[valid[1].relevant!];
  const r = await a.answer({ question: valid[0].question, context });
  const cps = [...context];
  for (const s of r.top_k!) {
    assert.equal(cps.slice(s.start, s.end).join(""), s.answer);
  }
  assert.ok(r.top_k!.some((s) => s.start >= 3), "spans after the astral characters");
  a.dispose();
});

Deno.test("answer: bad queries are refused with the field and what is wrong", async () => {
  const bad: [unknown, RegExp][] = [
    [null, /expected a JSON object/],
    [[1], /expected a JSON object .* got a list/],
    [{ context: "甲" }, /field "question" must be a non-empty string/],
    [{ question: " ", context: "甲" }, /field "question" must be a non-empty string/],
    [{ question: "誰", context: "甲", paragraphs: ["乙"] }, /exactly one of "context"/],
    [{ question: "誰" }, /exactly one of "context"/],
    [{ question: "誰", context: 3 }, /field "context" must be a string, got number 3/],
    [{ question: "誰", paragraphs: [] }, /non-empty list of strings/],
    [{ question: "誰", paragraphs: ["甲", 2] }, /paragraphs\[1\] must be a string/],
    [{ question: "誰", paragraphs: ["甲", "  "] }, /paragraphs\[1\] is empty/],
    [{ question: "誰", context: "甲", top_k: 0 }, /"top_k" must be an integer >= 1/],
    [{ question: "誰", context: "甲", topk: 2 }, /unknown field "topk"/],
  ];
  for (const [v, re] of bad) {
    assert.throws(() => parseAnswerQuery(v, "line 1"), (e: Error) => {
      assert.ok(e instanceof AnswerInputError);
      assert.match(e.message, /^line 1: /);
      assert.match(e.message, re);
      return true;
    });
  }
  assert.throws(
    () => parseAnswerQuery({ question: "誰誰誰", context: "甲" }, "q", { maxQuestionLength: 2 }),
    /3 characters, more than the limit of 2/,
  );
  assert.throws(
    () =>
      parseAnswerQuery({ question: "誰", paragraphs: ["𠀋𠀋", "甲"] }, "q", {
        maxContextLength: 2,
      }),
    /"paragraphs" has 3 characters, more than the limit of 2/,
  );
  const a = await Answerer.load({ qaModel: dirs.qa, log });
  // A paragraph of characters the tokenizer drops has no tokens to answer from.
  await assert.rejects(a.answer({ question: "誰", context: "\u200b\u200b" }), /has no tokens/);
  await assert.rejects(
    a.answerBatch([{ question: "誰", context: "甲" }, { question: "", context: "甲" }]),
    /query 1: field "question"/,
  );
  a.dispose();
});

/**
 * The QA model answering 8 validation questions in one window each, with n_best_size over every
 * token (then predict's rule and HF's agree on the span), and the raw logits of those windows.
 */
async function oneWindowScoring() {
  const tokenizer = await BertTokenizer.fromPretrained(dirs.qa);
  const qa = await loadPretrained(dirs.qa, "qa", { log });
  const a = Answerer.fromModels({
    qa: { model: qa, tokenizer },
    settings: { max_seq_length: 128, doc_stride: 16, n_best_size: 128, max_answer_length: 15 },
  });
  const inputs = examplesToQaInputs(valid.slice(0, 8), contexts);
  const feats = prepareQaFeatures(inputs, tokenizer, { maxSeqLength: 128, docStride: 16 });
  assert.equal(feats.length, inputs.length, "one window per question");
  const logits = await qaLogits(qa, feats, tokenizer.padTokenId);
  return { qa, a, inputs, feats, logits };
}

Deno.test("answer: score is p_start x p_end, each a softmax over the window's context tokens and [CLS] (as HF's select_starts_ends), on the chosen span", async () => {
  const { qa, a, inputs, feats, logits } = await oneWindowScoring();
  // HF: tokens outside the context (except [CLS]) get -10000 before the softmax; [CLS] is then 0.
  const probs = (x: ArrayLike<number>, keep: boolean[]) => {
    const v = Array.from(x, (y, k) => (keep[k] ? y : -10000));
    const m = Math.max(...v);
    const e = v.map((y) => Math.exp(y - m));
    const z = e.reduce((p, q) => p + q, 0);
    return e.map((y, k) => (k === 0 ? 0 : y / z));
  };
  for (const [i, inp] of inputs.entries()) {
    const f = feats[i];
    const keep = f.offsetMapping.map((o, k) => o !== null || k === 0);
    const ps = probs(logits.start[i], keep), pe = probs(logits.end[i], keep);
    const r = await a.answer({ question: inp.question, context: inp.context });
    // The sample text is in the BMP: code points are UTF-16 units here.
    const s0 = f.offsetMapping.findIndex((o) => o !== null && o[0] === r.start);
    const e0 = f.offsetMapping.findIndex((o) => o !== null && o[1] === r.end);
    assert.ok(s0 > 0 && e0 >= s0, `${inp.id}: span [${r.start}, ${r.end}) on token boundaries`);
    const want = ps[s0] * pe[e0];
    assert.ok(Math.abs(r.score - want) <= 1e-5 * want, `${inp.id}: ${r.score} vs ${want}`);
  }
  qa.dispose();
});

const PY = peerPython();
const peer = await pythonImports("transformers.pipelines.document_question_answering", PY);
if (!peer.ok) console.error(`ignored: answer's python-peer score test: ${peer.reason}`);

Deno.test({
  name: "answer: score is Hugging Face's select_starts_ends probability of the span (python peer)",
  ignore: !peer.ok,
  fn: async () => {
    const { qa, a, inputs, feats, logits } = await oneWindowScoring();
    const cases = feats.map((f, i) => ({
      start: Array.from(logits.start[i]),
      end: Array.from(logits.end[i]),
      // HF: p_mask 1 outside the context, [CLS] kept (0).
      p_mask: f.offsetMapping.map((o, k) => (o || k === 0 ? 0 : 1)),
      offsets: f.offsetMapping,
    }));
    const script = `
import json, sys, numpy as np
from transformers.pipelines.document_question_answering import select_starts_ends
out = []
for c in json.load(sys.stdin):
    s, e = np.array([c["start"]], dtype=np.float32), np.array([c["end"]], dtype=np.float32)
    pm = np.array([c["p_mask"]]); am = np.ones_like(pm)
    starts, ends, scores, _ = select_starts_ends(s, e, pm, am, top_k=1, max_answer_len=15)
    o = c["offsets"]
    out.append([o[int(starts[0])][0], o[int(ends[0])][1], float(scores[0])])
print(json.dumps(out))
`;
    const child = new Deno.Command(PY, {
      args: ["-c", script],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(JSON.stringify(cases)));
    await w.close();
    const res = await child.output();
    assert.ok(res.success, new TextDecoder().decode(res.stderr));
    const hf = JSON.parse(new TextDecoder().decode(res.stdout)) as [number, number, number][];
    for (const [i, inp] of inputs.entries()) {
      const r = await a.answer({ question: inp.question, context: inp.context });
      assert.deepEqual([r.start, r.end], hf[i].slice(0, 2), `${inp.id}: span`);
      assert.ok(
        Math.abs(r.score - hf[i][2]) <= 1e-5 * hf[i][2],
        `${inp.id}: ${r.score} vs HF ${hf[i][2]}`,
      );
    }
    qa.dispose();
  },
});

globalThis.addEventListener("unload", () => {
  Deno.removeSync(dirs.root, { recursive: true });
});
