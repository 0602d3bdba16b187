/**
 * The two-stage pipeline: the multiple-choice model picks a paragraph for each question, the QA
 * model extracts the answer from that paragraph; one row per question, in input order.
 *
 * Ids travel with every intermediate (MC features, MC predictions, QA inputs, QA features, QA
 * predictions) and are checked at each hand-over, and logits are placed by feature index, so a
 * question can never receive another question's paragraph or answer whatever the batching.
 * `evaluatePipeline` runs the very same path on validation data and reports MC accuracy, QA
 * with the gold paragraph and end to end side by side.
 * @module
 */
import { type AdlExample, formatRecord } from "../data/mod.ts";
import {
  computeQaMetrics,
  examplesToQaInputs,
  type FeatureTokenizer,
  type PredictionRow,
  readPredictionCsv,
  writePredictionCsv,
} from "../features/mod.ts";
import type { ModelOutput, Task } from "../models/mod.ts";
import type { BatchOrder, ForwardModel } from "./inference.ts";
import { mcMetrics, type McPrediction, predictParagraphs } from "./mc.ts";
import { predictAnswers, qaMetrics, type QaPredictResult } from "./qa.ts";
import { plural } from "../util/text.ts";

/** A model with its tokenizer; `T` is the model's head ("mc" or "qa" in the pipeline). */
export interface Stage<T extends Task = Task> {
  model: ForwardModel<ModelOutput<T>>;
  tokenizer: FeatureTokenizer;
}

/** Settings of both stages. */
export interface PipelineOptions {
  mcMaxSeqLength: number;
  qaMaxSeqLength: number;
  docStride: number;
  /** Rows per inference batch (default 16). */
  batchSize?: number;
  nBestSize?: number;
  maxAnswerLength?: number;
  /** Batch order for both stages (default "length"). */
  order?: BatchOrder;
  /** Progress messages. */
  log?: (message: string) => void;
}

/** One output row. */
export interface PipelineRow {
  id: string;
  /** The paragraph the MC model chose (index into the context list). */
  paragraph: number;
  answer: string;
  /** MC probability of the chosen paragraph. */
  mcProb: number;
  /** Start + end logit of the chosen span. */
  qaScore: number;
}

/** Rows plus the intermediate predictions. */
export interface PipelineResult {
  rows: PipelineRow[];
  mc: McPrediction[];
  qa: QaPredictResult;
}

function checkUniqueIds(examples: readonly { id: string }[]): void {
  const seen = new Map<string, number>();
  examples.forEach((e, i) => {
    const j = seen.get(e.id);
    if (j !== undefined) {
      throw new Error(`duplicate question id ${JSON.stringify(e.id)} at records ${j} and ${i}`);
    }
    seen.set(e.id, i);
  });
}

/** Runs MC then QA; `rows[i]` answers `examples[i]`. */
export async function runPipeline(
  examples: readonly AdlExample[],
  contexts: readonly string[],
  mc: Stage<"mc">,
  qa: Stage<"qa">,
  opts: PipelineOptions,
): Promise<PipelineResult> {
  checkUniqueIds(examples);
  const log = opts.log ?? (() => {});
  const common = { batchSize: opts.batchSize, order: opts.order };
  log(`multiple choice: ${plural(examples.length, "question")}`);
  const mcPreds = await predictParagraphs(mc.model, mc.tokenizer, examples, contexts, {
    ...common,
    maxSeqLength: opts.mcMaxSeqLength,
  });
  const inputs = examplesToQaInputs(examples, contexts, (ex, i) => {
    if (mcPreds[i].id !== ex.id) {
      throw new Error(`MC prediction ${i} is for ${mcPreds[i].id}, question is ${ex.id}`);
    }
    return mcPreds[i].paragraph;
  });
  log(`question answering: ${plural(inputs.length, "question")}`);
  const qaRes = await predictAnswers(qa.model, qa.tokenizer, inputs, {
    ...common,
    maxSeqLength: opts.qaMaxSeqLength,
    docStride: opts.docStride,
    nBestSize: opts.nBestSize,
    maxAnswerLength: opts.maxAnswerLength,
  });
  const rows = examples.map((ex, i): PipelineRow => {
    const m = mcPreds[i];
    const a = qaRes.predictions[i];
    if (m.id !== ex.id || a.id !== ex.id) {
      throw new Error(`row ${i}: question ${ex.id}, MC ${m.id}, QA ${a.id} (misaligned)`);
    }
    const ctx = contexts[m.paragraph];
    if (a.start >= 0 && ctx.slice(a.start, a.start + a.text.length) !== a.text) {
      throw new Error(`row ${i} (id ${ex.id}): the answer is not a span of its paragraph`);
    }
    return {
      id: ex.id,
      paragraph: m.paragraph,
      answer: a.text,
      mcProb: m.probs[m.choice],
      qaScore: a.score,
    };
  });
  return { rows, mc: mcPreds, qa: qaRes };
}

/** Writes `prediction.csv` (`id,answer`), one row per question in input order. */
export async function writePipelineCsv(path: string, rows: readonly PipelineRow[]): Promise<void> {
  const out: PredictionRow[] = rows.map((r) => ({ id: r.id, answer: r.answer }));
  await writePredictionCsv(path, out);
}

/** The side-by-side validation report. */
export interface PipelineEvaluation {
  n: number;
  /** MC accuracy (percent, 0..100) and mean cross-entropy. */
  mc: { accuracy: number; loss: number };
  /** QA given the gold paragraph: EM, F1 (0..100), loss. */
  qaGoldParagraph: { exact_match: number; f1: number; loss: number };
  /** QA on the paragraph the MC model chose: EM, F1 (0..100). */
  endToEnd: { exact_match: number; f1: number };
  /** End to end scored from the CSV file read back (when a path was given). */
  endToEndFromCsv?: { exact_match: number; f1: number };
  /** Questions whose MC choice was right but whose end-to-end answer differs from the
   *  gold-paragraph answer; 0 unless something is inconsistent. */
  inconsistent: number;
  rows: PipelineRow[];
  /** Per question (input order): the answer QA gave with the gold paragraph. */
  qaGoldAnswers: string[];
}

/**
 * Evaluates on examples with gold `relevant` and `answer`: MC accuracy, QA with the gold
 * paragraph, and end to end through {@link runPipeline} (the prediction path). With `csvPath`
 * the rows are also written as `prediction.csv`, read back and scored from the file.
 */
export async function evaluatePipeline(
  examples: readonly AdlExample[],
  contexts: readonly string[],
  mc: Stage<"mc">,
  qa: Stage<"qa">,
  opts: PipelineOptions & { csvPath?: string },
): Promise<PipelineEvaluation> {
  const log = opts.log ?? (() => {});
  const golds = examples.map((ex, i) => {
    if (!ex.answer || ex.relevant === undefined) {
      throw new Error(`validation ${formatRecord(i, ex.id)} has no gold answer`);
    }
    return { id: ex.id, text: ex.answer.text };
  });
  const e2e = await runPipeline(examples, contexts, mc, qa, opts);
  const mcM = mcMetrics(examples, e2e.mc);

  log(`question answering with the gold paragraph: ${plural(examples.length, "question")}`);
  const goldInputs = examplesToQaInputs(examples, contexts);
  const goldRes = await predictAnswers(qa.model, qa.tokenizer, goldInputs, {
    batchSize: opts.batchSize,
    order: opts.order,
    maxSeqLength: opts.qaMaxSeqLength,
    docStride: opts.docStride,
    nBestSize: opts.nBestSize,
    maxAnswerLength: opts.maxAnswerLength,
  });
  const qaGold = qaMetrics(goldInputs, goldRes);
  const endToEnd = computeQaMetrics(e2e.rows.map((r) => ({ id: r.id, text: r.answer })), golds);

  let inconsistent = 0;
  examples.forEach((ex, i) => {
    if (
      e2e.rows[i].paragraph === ex.relevant && e2e.rows[i].answer !== goldRes.predictions[i].text
    ) {
      inconsistent++;
    }
  });

  const out: PipelineEvaluation = {
    n: examples.length,
    mc: mcM,
    qaGoldParagraph: qaGold,
    endToEnd,
    inconsistent,
    rows: e2e.rows,
    qaGoldAnswers: goldRes.predictions.map((p) => p.text),
  };
  if (opts.csvPath) {
    await writePipelineCsv(opts.csvPath, e2e.rows);
    const back = await readPredictionCsv(opts.csvPath);
    if (back.length !== examples.length || back.some((r, i) => r.id !== examples[i].id)) {
      throw new Error(`${opts.csvPath}: rows do not follow the validation file's ids and order`);
    }
    out.endToEndFromCsv = computeQaMetrics(back.map((r) => ({ id: r.id, text: r.answer })), golds);
  }
  return out;
}

/** Formats the evaluation as an aligned text table. */
export function formatEvaluation(e: PipelineEvaluation): string {
  const pct = (x: number) => x.toFixed(2);
  const lines = [
    `questions: ${e.n}`,
    `MC accuracy                     ${pct(e.mc.accuracy)}%   (loss ${e.mc.loss.toFixed(4)})`,
    `QA EM / F1, gold paragraph      ${pct(e.qaGoldParagraph.exact_match)} / ${
      pct(e.qaGoldParagraph.f1)
    }   (loss ${e.qaGoldParagraph.loss.toFixed(4)})`,
    `End-to-end EM / F1 (MC -> QA)   ${pct(e.endToEnd.exact_match)} / ${pct(e.endToEnd.f1)}`,
  ];
  if (e.endToEndFromCsv) {
    lines.push(
      `End-to-end from the CSV file    ${pct(e.endToEndFromCsv.exact_match)} / ${
        pct(e.endToEndFromCsv.f1)
      }`,
    );
  }
  lines.push(
    `inconsistent rows (MC right, answer differs from gold-paragraph QA): ${e.inconsistent}`,
  );
  return lines.join("\n");
}
