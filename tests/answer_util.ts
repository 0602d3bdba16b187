/**
 * Small random-weight QA and MC model folders (Hugging Face layout, the sample vocabulary, a
 * `training_args.json`) for the answer, ask and serve tests, and the sample questions.
 */
import * as tf from "@tensorflow/tfjs";
import { type AdlExample, loadContexts, loadExamples } from "../lib/data/mod.ts";
import { createFromConfig, makeBertConfig, saveModel } from "../lib/models/mod.ts";
import type { AnswerQuery, AnswerResult } from "../lib/pipeline/mod.ts";
import { BertTokenizer } from "../lib/tokenization/mod.ts";

export const SAMPLE = new URL("../data/sample/", import.meta.url).pathname;

/** The QA run's window settings written to its training_args.json (several windows each). */
export const QA_ARGS = {
  max_seq_length: 48,
  doc_stride: 16,
  n_best_size: 20,
  max_answer_length: 30,
};
export const MC_ARGS = { max_seq_length: 64 };

/** Folders `qa` and `mc` under a fresh temporary folder; `dispose()` removes it. */
export interface ModelDirs {
  root: string;
  qa: string;
  mc: string;
  dispose(): Promise<void>;
}

/**
 * Writes the two models (seeded; a wide initializer_range so that random logits are decisive,
 * not near-ties) with the sample tokenizer.
 */
export async function makeModelDirs(): Promise<ModelDirs> {
  await tf.setBackend("cpu");
  const root = await Deno.makeTempDir({ prefix: "answer-models-" });
  const tokenizer = await BertTokenizer.fromPretrained(SAMPLE);
  const config = makeBertConfig({
    vocab_size: tokenizer.vocabSize,
    hidden_size: 32,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    intermediate_size: 64,
    max_position_embeddings: 128,
    initializer_range: 0.4,
  });
  for (const [task, args, seed] of [["qa", QA_ARGS, 5], ["mc", MC_ARGS, 6]] as const) {
    const dir = `${root}/${task}`;
    const model = createFromConfig(config, task, seed);
    await saveModel(model, dir);
    model.dispose();
    await tokenizer.save(dir);
    await Deno.writeTextFile(`${dir}/training_args.json`, JSON.stringify(args, null, 2));
  }
  return {
    root,
    qa: `${root}/qa`,
    mc: `${root}/mc`,
    dispose: () => Deno.remove(root, { recursive: true }),
  };
}

/** The sample paragraphs and its first validation and test questions. */
export async function sampleQuestions(n: number): Promise<{
  contexts: string[];
  valid: AdlExample[];
  test: AdlExample[];
}> {
  const contexts = await loadContexts(`${SAMPLE}context.json`);
  const valid = (await loadExamples(`${SAMPLE}valid.json`, contexts, { split: "valid" }))
    .slice(0, n);
  const test = (await loadExamples(`${SAMPLE}test.json`, contexts, { split: "test" })).slice(0, n);
  return { contexts, valid, test };
}

/** A mix of queries: one paragraph, four paragraphs, and long contexts (several windows). */
export function mixedQueries(contexts: string[], examples: AdlExample[]): AnswerQuery[] {
  return examples.map((ex, i): AnswerQuery => {
    const ps = ex.paragraphs.map((p) => contexts[p]);
    if (i % 3 === 0) return { question: ex.question, context: ps[0] };
    if (i % 3 === 1) return { question: ex.question, paragraphs: ps };
    return { question: ex.question, context: ps.join("") };
  });
}

/**
 * True when two answers are the same span, or `b`'s span is among `a`'s alternatives with a
 * score within 1e-4 (relative) of `a`'s: a near-tie that float rounding may flip.
 */
export function sameOrTied(a: AnswerResult, b: AnswerResult): boolean {
  const same = (x: AnswerResult | undefined, y: AnswerResult) =>
    x !== undefined && x.answer === y.answer && x.start === y.start && x.end === y.end &&
    x.paragraph === y.paragraph;
  if (same(a, b)) return Math.abs(a.score - b.score) <= 1e-4 * Math.max(a.score, b.score);
  const alt = a.top_k?.find((x) => same(x, b));
  return alt !== undefined && Math.abs(alt.score - a.score) <= 1e-4 * a.score;
}
