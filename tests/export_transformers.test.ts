// transformers.js (@huggingface/transformers) on folders written by `export-onnx`:
//
// 1. its tokenizer, reading the exported tokenizer.json, encodes every DRCD question and
//    paragraph to the project's ids;
// 2. its `pipeline("question-answering")` picks the project's span. transformers.js differs from
//    Hugging Face Python, so the comparison is made on its terms:
//    - it has no windows and no answer-length limit: only questions whose (question, paragraph)
//      pair fits one window are compared, and the project decodes with `max_seq_length` as long as
//      the model allows, `max_answer_length` and `n_best_size` lifted to that length (every
//      start ≤ end pair is a candidate, as in transformers.js);
//    - it softmaxes start and end logits over the context tokens with [CLS] kept in the
//      normaliser, and ranks pairs by the product of the two probabilities; the product's order is
//      the order of start + end logits, which the project ranks by. Its score is compared with
//      that same product computed from the project's own logits for the project's span;
//    - it returns the span's tokens decoded (joined by spaces, lower-cased, special tokens such as
//      [UNK] dropped, a leading `##` kept): the project's span is mapped to its tokens through the
//      offsets and decoded by the same tokenizer before the texts are compared;
//    - it never starts or ends a span on a special token, [UNK] included; a question whose
//      project span starts or ends on [UNK] is counted apart, not compared.
// The project side is `projectAnswer` below: the project's answering API, the `Answerer` of
// lib/pipeline/answer.ts (what `ask` and `serve` answer with), at the settings above.
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { AutoTokenizer, env, pipeline } from "@huggingface/transformers";
import { exportOnnx } from "../lib/export/mod.ts";
import { createFromConfig, loadPretrained, makeBertConfig, saveModel } from "../lib/models/mod.ts";
import { ANSWER_ARGS } from "../lib/args/mod.ts";
import { Answerer, type AnswerStage } from "../lib/pipeline/mod.ts";
import { BertTokenizer } from "../lib/tokenization/mod.ts";
import { codePointToUtf16, loadContexts, loadExamples } from "../lib/data/mod.ts";
import { trainSmokeRuns } from "./export_util.ts";

await tf.setBackend("cpu");
env.allowRemoteModels = false;

const ROOT = new URL("../", import.meta.url).pathname;
const DRCD = `${ROOT}data/drcd/`;
const SAMPLE = `${ROOT}data/sample/`;
const REAL_VOCAB = `${ROOT}data/vocab/bert-base-chinese/`;

/** A QA model with the bert-base-chinese vocabulary and a tiny encoder (random weights). */
async function realVocabRun(root: string): Promise<string> {
  const dir = `${root}/real_vocab_qa`;
  const tokenizer = await BertTokenizer.fromPretrained(REAL_VOCAB);
  const config = makeBertConfig({
    vocab_size: tokenizer.vocabSize,
    hidden_size: 32,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    intermediate_size: 64,
    max_position_embeddings: 512,
  });
  const model = createFromConfig(config, "qa", 7);
  await saveModel(model, dir);
  await tokenizer.save(dir);
  model.dispose();
  return dir;
}

const tmp = await Deno.makeTempDir({ prefix: "export_tjs_" });
const smoke = await trainSmokeRuns();
const realDir = await realVocabRun(tmp);
for (const [name, dir] of [["smoke_qa", smoke.qa], ["real_vocab_qa", realDir]]) {
  await exportOnnx({ modelDir: dir, outputDir: `${tmp}/onnx/${name}` });
}
env.localModelPath = `${tmp}/onnx/`;

Deno.test("transformers.js's tokenizer on the exported tokenizer.json encodes all of DRCD as the project", async () => {
  const ours = await BertTokenizer.fromPretrained(`${tmp}/onnx/real_vocab_qa`);
  const theirs = await AutoTokenizer.from_pretrained("real_vocab_qa");
  const contexts = await loadContexts(`${DRCD}context.json`);
  const questions: string[] = [];
  for (const split of ["train", "valid", "test"] as const) {
    const examples = await loadExamples(`${DRCD}${split}.json`, contexts, { split });
    questions.push(...examples.map((e) => e.question));
  }
  assert.ok(contexts.length >= 2000 && questions.length >= 7000, "all of DRCD");
  let checked = 0;
  for (const text of [...contexts, ...questions]) {
    const want = ours.encode(text).input_ids;
    const got = theirs(text, { truncation: false }).input_ids.tolist()[0].map(Number);
    assert.deepEqual(got, want, `ids differ for ${JSON.stringify(text.slice(0, 40))}`);
    checked++;
  }
  assert.equal(checked, contexts.length + questions.length);
});

/**
 * The project's answerer at transformers.js's terms: one window as long as the model allows,
 * every start ≤ end pair of it a candidate (`n_best_size` and `max_answer_length` lifted).
 */
function projectAnswerer(qa: AnswerStage, maxLength: number): Answerer {
  return Answerer.fromModels({
    qa,
    settings: {
      max_seq_length: maxLength,
      doc_stride: Math.min(ANSWER_ARGS.args.doc_stride.default, maxLength - 1),
      n_best_size: maxLength,
      max_answer_length: maxLength,
    },
  });
}

/** The project's answer to one question: text and UTF-16 start in the context (the offsets'
 *  unit; the Answerer counts code points). */
async function projectAnswer(
  answerer: Answerer,
  question: string,
  context: string,
): Promise<{ text: string; start: number }> {
  const r = await answerer.answer({ question, context });
  return { text: r.answer, start: codePointToUtf16(context, r.start) };
}

/** transformers.js's score for the span `[s, e]` of these logits (its masking and softmax). */
function transformersScore(
  start: ArrayLike<number>,
  end: ArrayLike<number>,
  context: boolean[],
  s: number,
  e: number,
): number {
  const prob = (row: ArrayLike<number>, i: number) => {
    let m = -Infinity;
    for (let k = 0; k < row.length; k++) if (k === 0 || context[k]) m = Math.max(m, row[k]);
    let z = 0;
    for (let k = 0; k < row.length; k++) if (k === 0 || context[k]) z += Math.exp(row[k] - m);
    return Math.exp(row[i] - m) / z;
  };
  return prob(start, s) * prob(end, e);
}

async function comparePipeline(name: string, runDir: string, questions: number) {
  const dir = `${tmp}/onnx/${name}`;
  const model = await loadPretrained(runDir, "qa", { log: () => {} });
  const tokenizer = await BertTokenizer.fromPretrained(dir);
  const theirs = await AutoTokenizer.from_pretrained(name);
  const qa = await pipeline("question-answering", name, { dtype: "fp32" });
  const maxLength = Math.min(tokenizer.modelMaxLength, model.config.max_position_embeddings);
  const answerer = projectAnswerer({ model, tokenizer }, maxLength);
  const data = name === "smoke_qa" ? SAMPLE : DRCD;
  const contexts = await loadContexts(`${data}context.json`);
  const examples = await loadExamples(`${data}valid.json`, contexts, { split: "valid" });
  let same = 0, unk = 0, compared = 0;
  try {
    for (const ex of examples) {
      if (compared + unk >= questions) break;
      const context = contexts[ex.relevant!];
      const enc = tokenizer.encode(ex.question, context);
      if (enc.input_ids.length > maxLength) continue; // one window only
      const ours = await projectAnswer(answerer, ex.question, context);
      // The project's span as token indices of the one window.
      const isContext = enc.sequence_ids.map((sid) => sid === 1);
      const s = enc.offset_mapping.findIndex((o, i) => isContext[i] && o[0] === ours.start);
      const e = enc.offset_mapping.findLastIndex((o, i) =>
        isContext[i] && o[1] === ours.start + ours.text.length
      );
      assert.ok(s >= 0 && e >= s, `${ex.id}: span ${ours.start}+${ours.text.length} not on tokens`);
      if ([s, e].some((i) => enc.input_ids[i] === tokenizer.unkTokenId)) {
        unk++;
        continue;
      }
      compared++;
      const got = await qa(ex.question, context) as { answer: string; score: number };
      const normalised = theirs.decode(enc.input_ids.slice(s, e + 1), {
        skip_special_tokens: true,
      });
      // The project's logits for this window, scored the transformers.js way.
      const ids = tf.tensor2d([enc.input_ids], undefined, "int32");
      const types = tf.tensor2d([enc.token_type_ids], undefined, "int32");
      const out = model.forward({ inputIds: ids, tokenTypeIds: types });
      const score = transformersScore(
        out.startLogits!.dataSync(),
        out.endLogits!.dataSync(),
        isContext.map((c, i) => c && i !== enc.input_ids.length - 1),
        s,
        e,
      );
      tf.dispose([ids, types, out.startLogits!, out.endLogits!]);
      assert.equal(got.answer, normalised, `${name} ${ex.id}: answer`);
      assert.ok(
        Math.abs(got.score - score) <= 1e-4 * Math.max(score, 1e-6),
        `${name} ${ex.id}: score ${got.score} vs the project's ${score}`,
      );
      same++;
    }
  } finally {
    model.dispose();
    await qa.dispose();
  }
  assert.ok(compared >= Math.min(questions, 10), `${name}: only ${compared} questions compared`);
  assert.equal(same, compared);
  return { compared, same, unk };
}

Deno.test({
  name:
    "transformers.js pipeline('question-answering') picks the project's spans (smoke run, sample questions)",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const r = await comparePipeline("smoke_qa", smoke.qa, 40);
    console.log(`smoke_qa: ${r.same}/${r.compared} same span (${r.unk} on [UNK] not compared)`);
  },
});

Deno.test({
  name:
    "transformers.js pipeline('question-answering') picks the project's spans (bert-base-chinese vocabulary, DRCD)",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const r = await comparePipeline("real_vocab_qa", realDir, 40);
    console.log(
      `real_vocab_qa: ${r.same}/${r.compared} same span (${r.unk} on [UNK] not compared)`,
    );
  },
});

globalThis.addEventListener("unload", () => {
  Deno.removeSync(tmp, { recursive: true });
  Deno.removeSync(smoke.root, { recursive: true });
});
