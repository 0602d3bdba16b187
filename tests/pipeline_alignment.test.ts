// The two-stage pipeline cannot mix up ids, paragraphs and answers: run on the sample data with
// "oracle" models (content-based, so a misrouted row gets a wrong answer), under different batch
// orders and sizes, with many windows per question, through the CSV file.
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { type AdlExample, loadContexts, loadExamples } from "../lib/data/mod.ts";
import { prepareQaFeatures, readPredictionCsv } from "../lib/features/mod.ts";
import type { McOutput, ModelInputs, QaOutput } from "../lib/models/mod.ts";
import { BertTokenizer } from "../lib/tokenization/mod.ts";
import {
  assertQaAlignment,
  evaluatePipeline,
  type ForwardModel,
  mcLogits,
  type PipelineOptions,
  qaLogits,
  runPipeline,
  writePipelineCsv,
} from "../lib/pipeline/mod.ts";

await tf.setBackend("cpu");

const SAMPLE = new URL("../data/sample/", import.meta.url).pathname;
const contexts = await loadContexts(`${SAMPLE}context.json`);
const valid = (await loadExamples(`${SAMPLE}valid.json`, contexts, { split: "valid" })).slice(
  0,
  80,
);
const test = (await loadExamples(`${SAMPLE}test.json`, contexts, { split: "test" })).slice(0, 60);
const tokenizer = await BertTokenizer.fromPretrained(SAMPLE);

/** Splits a row of ids into the question part (type 0) and context part (type 1). */
function segments(ids: number[], types: number[]) {
  const q: number[] = [];
  const c: { id: number; pos: number }[] = [];
  ids.forEach((id, i) => {
    if (id === tokenizer.clsTokenId || id === tokenizer.sepTokenId || id === tokenizer.padTokenId) {
      return;
    }
    if (types[i] === 0) q.push(id);
    else c.push({ id, pos: i });
  });
  return { q, c };
}

/** MC oracle: scores each candidate by the question bigrams it contains (names are unique). */
class OracleMc implements ForwardModel<McOutput> {
  calls = 0;
  forward(inputs: ModelInputs): McOutput {
    this.calls++;
    const ids = inputs.inputIds.arraySync() as number[][][];
    const types = inputs.tokenTypeIds!.arraySync() as number[][][];
    const logits = ids.map((choices, b) =>
      choices.map((row, k) => {
        const { q, c } = segments(row, types[b][k]);
        const grams = new Set<string>();
        for (let i = 0; i + 1 < c.length; i++) grams.add(`${c[i].id},${c[i + 1].id}`);
        let s = 0;
        for (let i = 0; i + 1 < q.length; i++) if (grams.has(`${q[i]},${q[i + 1]}`)) s++;
        return s + 0.001 * k; // deterministic tie-break
      })
    );
    return { logits: tf.tensor2d(logits) };
  }
}

/** QA oracle: knows each question's gold answer tokens and points at them when present. */
class OracleQa implements ForwardModel<QaOutput> {
  readonly answers = new Map<string, number[]>();
  constructor(examples: readonly AdlExample[]) {
    for (const ex of examples) {
      const q = tokenizer.tokenizeWithOffsets(ex.question.trimStart()).ids.join(",");
      this.answers.set(q, tokenizer.tokenizeWithOffsets(ex.answer!.text).ids);
    }
  }
  forward(inputs: ModelInputs): QaOutput {
    const ids = inputs.inputIds.arraySync() as number[][];
    const types = inputs.tokenTypeIds!.arraySync() as number[][];
    const t = ids[0].length;
    const start: number[][] = [];
    const end: number[][] = [];
    ids.forEach((row, b) => {
      const s = new Array(t).fill(0);
      const e = new Array(t).fill(0);
      const { q, c } = segments(row, types[b]);
      const ans = this.answers.get(q.join(","));
      if (ans && ans.length) {
        for (let i = 0; i + ans.length <= c.length; i++) {
          if (ans.every((a, k) => c[i + k].id === a)) {
            s[c[i].pos] = 10;
            e[c[i + ans.length - 1].pos] = 10;
            break;
          }
        }
      }
      start.push(s);
      end.push(e);
    });
    return { startLogits: tf.tensor2d(start), endLogits: tf.tensor2d(end) };
  }
}

const mc = { model: new OracleMc(), tokenizer };
const qa = { model: new OracleQa([...valid]), tokenizer };
const base: PipelineOptions = { mcMaxSeqLength: 256, qaMaxSeqLength: 96, docStride: 32 };

/** The oracle MC's choices computed directly, one example at a time (no batching at all). */
function directMcChoices(examples: readonly AdlExample[]): number[] {
  return examples.map((ex) => {
    const scores = ex.paragraphs.map((p, k) => {
      const enc = tokenizer.encode(ex.question.trimStart(), contexts[p], {
        truncation: "only_second",
        maxLength: base.mcMaxSeqLength,
      });
      const { q, c } = segments(enc.input_ids, enc.token_type_ids);
      const grams = new Set<string>();
      for (let i = 0; i + 1 < c.length; i++) grams.add(`${c[i].id},${c[i + 1].id}`);
      let s = 0;
      for (let i = 0; i + 1 < q.length; i++) if (grams.has(`${q[i]},${q[i + 1]}`)) s++;
      return s + 0.001 * k;
    });
    return ex.paragraphs[scores.indexOf(Math.max(...scores))];
  });
}

Deno.test("evaluate: MC accuracy, gold-paragraph QA and end to end agree with the oracles", async () => {
  const before = tf.memory().numTensors;
  const e = await evaluatePipeline(valid, contexts, mc, qa, base);
  const direct = directMcChoices(valid);
  const mcRight = valid.map((ex, i) => direct[i] === ex.relevant);
  const acc = (100 * mcRight.filter(Boolean).length) / valid.length; // percent
  assert.equal(e.mc.accuracy, acc, "MC accuracy equals the unbatched oracle's");
  assert.ok(acc > 80, `oracle MC accuracy ${acc}`);
  assert.ok(acc < 100, "some MC mistakes exist, so end to end must differ from gold paragraph");
  assert.ok(
    e.qaGoldParagraph.exact_match >= 90,
    `gold-paragraph EM ${e.qaGoldParagraph.exact_match}`,
  );
  // A question whose paragraph the MC got wrong cannot be answered by the oracle (its answer
  // tokens are not in that paragraph), so end-to-end EM is at most the share of MC-right rows.
  assert.ok(e.endToEnd.exact_match <= acc + 1e-9);
  assert.ok(e.endToEnd.exact_match >= e.qaGoldParagraph.exact_match - (100 - acc) - 1e-9);
  assert.equal(e.inconsistent, 0);
  valid.forEach((ex, i) => {
    assert.equal(e.rows[i].id, ex.id);
    assert.equal(e.rows[i].paragraph, direct[i], `row ${i} paragraph`);
  });
  assert.equal(tf.memory().numTensors, before, "no tensors leak");
});

Deno.test("rows do not depend on batch order or batch size", async () => {
  const ref = (await runPipeline(valid, contexts, mc, { model: qa.model, tokenizer }, base)).rows;
  assert.equal(ref.length, valid.length);
  // The oracle answers most questions, so a row routed to another question would show.
  assert.ok(ref.filter((r) => r.answer !== "").length > valid.length / 2);
  for (
    const v of [
      { order: "input" as const, batchSize: 1 },
      { order: { shuffleSeed: 1 }, batchSize: 3 },
      { order: { shuffleSeed: 2 }, batchSize: 16 },
      { order: "length" as const, batchSize: 7 },
    ]
  ) {
    const rows = (await runPipeline(valid, contexts, mc, qa, { ...base, ...v })).rows;
    assert.deepEqual(rows, ref, JSON.stringify(v));
  }
});

Deno.test("multi-window questions: windows are grouped by id and the best window wins", async () => {
  const opts = { ...base, qaMaxSeqLength: 40, docStride: 12 };
  const inputs = valid.map((ex) => ({
    id: ex.id,
    question: ex.question,
    context: contexts[ex.relevant!],
    answer: ex.answer,
  }));
  const feats = prepareQaFeatures(inputs, tokenizer, {
    maxSeqLength: opts.qaMaxSeqLength,
    docStride: opts.docStride,
  });
  assert.ok(feats.length > 3 * inputs.length, `${feats.length} windows for ${inputs.length}`);
  assertQaAlignment(inputs, feats);
  const e = await evaluatePipeline(valid, contexts, mc, qa, { ...opts, order: { shuffleSeed: 9 } });
  assert.ok(
    e.qaGoldParagraph.exact_match >= 85,
    `EM with short windows ${e.qaGoldParagraph.exact_match}`,
  );
  for (const r of e.rows) {
    const ex = valid.find((x) => x.id === r.id)!;
    assert.ok(ex.paragraphs.includes(r.paragraph));
    assert.ok(contexts[r.paragraph].includes(r.answer), `answer of ${r.id} is in its paragraph`);
  }
});

Deno.test("prediction.csv: one row per test id, in input order, answers round-trip", async () => {
  // Reverse the file order: the CSV must follow the input, not any sorted order.
  const reversed = [...test].reverse();
  const res = await runPipeline(reversed, contexts, mc, qa, base);
  // Make quoting matter: an answer with a comma, quotes and a newline.
  res.rows[0] = { ...res.rows[0], answer: 'a,"b"\nc' };
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/prediction.csv`;
    await writePipelineCsv(path, res.rows);
    const back = await readPredictionCsv(path);
    assert.deepEqual(back.map((r) => r.id), reversed.map((e) => e.id));
    assert.deepEqual(back.map((r) => r.answer), res.rows.map((r) => r.answer));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("misalignment is refused: tampered features, duplicate ids, wrong batch sizes", async () => {
  const inputs = valid.slice(0, 5).map((ex) => ({
    id: ex.id,
    question: ex.question,
    context: contexts[ex.relevant!],
  }));
  const feats = prepareQaFeatures(inputs, tokenizer, { maxSeqLength: 64, docStride: 16 });
  const tampered = feats.map((f) => ({ ...f }));
  tampered[1].exampleId = inputs[3].id;
  assert.throws(() => assertQaAlignment(inputs, tampered), /QA feature 1 says example/);
  const dropped = feats.filter((f) => f.exampleIndex !== 2);
  assert.throws(() => assertQaAlignment(inputs, dropped), /QA input 2 .* has no feature/);
  const dup = [valid[0], valid[1], { ...valid[2], id: valid[0].id }];
  await assert.rejects(runPipeline(dup, contexts, mc, qa, base), /duplicate question id/);
  // A model that drops a row of its batch cannot go unnoticed.
  const lossy: ForwardModel<QaOutput> = {
    forward: (inp) => {
      const t = inp.inputIds.shape[1]!;
      const b = Math.max(1, inp.inputIds.shape[0] - 1);
      return { startLogits: tf.zeros([b, t]), endLogits: tf.zeros([b, t]) };
    },
  };
  await assert.rejects(qaLogits(lossy, feats, 0, { batchSize: 4 }), /rows of logits for a batch/);
  // A head that breaks its output type at run time (say, from plain JavaScript) is caught too.
  const noLogits = { forward: () => ({}) } as unknown as ForwardModel<McOutput>;
  const mcFeat = {
    exampleId: "x",
    inputIds: [[1, 2], [1, 2]],
    tokenTypeIds: [[0, 0], [0, 0]],
    attentionMask: [[1, 1], [1, 1]],
  };
  await assert.rejects(mcLogits(noLogits, [mcFeat], 0), /returned no logits/);
});
