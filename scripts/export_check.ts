/**
 * The ONNX export's bert-base-shaped check and its int8 accuracy cost, printed as Markdown
 * (docs/EXPORT.md quotes it):
 *
 *   deno run -A scripts/export_check.ts [--questions 24] [--out outputs/export_check.json]
 *
 * 1. A bert-base-shaped QA checkpoint (Hugging Face `BertConfig()` sizes, the bert-base-chinese
 *    vocabulary, random weights from `createFromConfig` with seed 42), saved with `saveModel` and
 *    exported by `exportOnnx` (fp32 and int8): onnxruntime-node's logits against the project's
 *    on DRCD validation windows (384 tokens, stride 128); exit code 1 when fp32 is off by more
 *    than 1e-4. Spans decoded from each (Hugging Face's n_best_size 20, max_answer_length 30) are
 *    compared too.
 * 2. The smoke profile's QA and MC runs, trained here on the sample data: exact match / F1 and
 *    accuracy on the sample validation set, the project against onnxruntime fp32 and int8.
 *
 * 3. With `--qa_run DIR` (a QA run trained on DRCD), exact match / F1 on the DRCD validation
 *    questions it was evaluated on (its training_args.json: windows, max_eval_samples), the
 *    project against onnxruntime fp32 and int8.
 *
 * Takes a few minutes on two cores (most of it the project's own bert-base forwards).
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import * as ort from "onnxruntime-node";
import { parseArgs } from "node:util";
import { initBackend } from "../lib/backend/mod.ts";
import { loadContexts, loadExamples } from "../lib/data/mod.ts";
import { exportOnnx, ONNX_FILES, onnxMcLogits, onnxQaLogits } from "../lib/export/mod.ts";
import {
  computeQaMetrics,
  postprocessQaPredictions,
  prepareMcFeatures,
  prepareQaFeatures,
  type QaInput,
} from "../lib/features/mod.ts";
import { createFromConfig, loadPretrained, makeBertConfig, saveModel } from "../lib/models/mod.ts";
import { argmax, mcLogits, QA_DEFAULTS, qaLogits, readTrainingArgs } from "../lib/pipeline/mod.ts";
import { BertTokenizer } from "../lib/tokenization/mod.ts";
import { trainSmokeRuns } from "../tests/export_util.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const int64 = (data: BigInt64Array, dims: number[]) => new ort.Tensor("int64", data, dims);
const threads = navigator.hardwareConcurrency;
const session = (path: string) =>
  ort.InferenceSession.create(path, {
    intraOpNumThreads: threads,
    extra: { session: { intra_op: { allow_spinning: "0" } } },
  });

function maxAbsDiff(a: Float32Array[], b: Float32Array[]): number {
  let m = 0;
  a.forEach((row, i) => row.forEach((v, k) => (m = Math.max(m, Math.abs(v - b[i][k])))));
  return m;
}

const { values } = parseArgs({
  args: Deno.args,
  options: {
    questions: { type: "string", default: "24" },
    qa_run: { type: "string" },
    out: { type: "string", default: "outputs/export_check.json" },
  },
});
const nQuestions = Number(values.questions);
const report: Record<string, unknown> = {
  command: `deno run -A scripts/export_check.ts ${Deno.args.join(" ")}`.trim(),
  date: new Date().toISOString(),
  cpu: (Deno.readTextFileSync("/proc/cpuinfo").match(/model name\s*:\s*(.*)/) ?? [])[1],
  cores: threads,
  loadAverage: Deno.readTextFileSync("/proc/loadavg").split(" ")[0],
};
const backend = await initBackend({ quiet: true });
const tmp = await Deno.makeTempDir({ prefix: "export_check_" });
const lines: string[] = [];
try {
  // ---------------------------------------------------------------- 1. bert-base-shaped
  const tokenizer = await BertTokenizer.fromPretrained(`${ROOT}data/vocab/bert-base-chinese`);
  const config = makeBertConfig({ vocab_size: tokenizer.vocabSize });
  const run = `${tmp}/bert_base_qa`;
  {
    const model = createFromConfig(config, "qa", 42);
    await saveModel(model, run);
    model.dispose();
    await tokenizer.save(run);
  }
  let t0 = performance.now();
  await exportOnnx({ modelDir: run, outputDir: `${tmp}/bert_base_onnx`, quantize: "int8" });
  const exportS = (performance.now() - t0) / 1000;
  const sizes = Object.fromEntries(
    Object.entries(ONNX_FILES).map((
      [k, f],
    ) => [k, Deno.statSync(`${tmp}/bert_base_onnx/${f}`).size]),
  );
  const contexts = await loadContexts(`${ROOT}data/drcd/context.json`);
  const examples = (await loadExamples(`${ROOT}data/drcd/valid.json`, contexts, { split: "valid" }))
    .slice(0, nQuestions);
  const inputs: QaInput[] = examples.map((e) => ({
    id: e.id,
    question: e.question,
    context: contexts[e.relevant!],
  }));
  const feats = prepareQaFeatures(inputs, tokenizer, {
    maxSeqLength: QA_DEFAULTS.max_seq_length as number,
    docStride: QA_DEFAULTS.doc_stride as number,
  });
  const model = await loadPretrained(run, "qa", { log: () => {} });
  const batchSize = QA_DEFAULTS.per_device_eval_batch_size as number;
  t0 = performance.now();
  const ours = await qaLogits(model, feats, tokenizer.padTokenId, { batchSize, order: "input" });
  const oursS = (performance.now() - t0) / 1000;
  model.dispose();
  const base: Record<string, unknown> = {
    config: "BertConfig() sizes, vocab 21128",
    exportS,
    sizes,
  };
  const decode = (l: { start: Float32Array[]; end: Float32Array[] }) =>
    postprocessQaPredictions(inputs, feats, l.start, l.end).map((p) => p.text);
  const oursSpans = decode(ours);
  let worstFp32 = Infinity;
  for (const kind of ["fp32", "int8"] as const) {
    const s = await session(`${tmp}/bert_base_onnx/${ONNX_FILES[kind]}`);
    t0 = performance.now();
    const got = await onnxQaLogits(s, feats, tokenizer.padTokenId, int64, batchSize);
    const seconds = (performance.now() - t0) / 1000;
    await s.release();
    const diff = Math.max(maxAbsDiff(got.start, ours.start), maxAbsDiff(got.end, ours.end));
    if (kind === "fp32") worstFp32 = diff;
    const spans = decode(got);
    const same = spans.filter((t, i) => t === oursSpans[i]).length;
    base[kind] = { maxAbsDiff: diff, sameSpan: same, questions: inputs.length, seconds };
  }
  base.ours = { seconds: oursS, backend: backend.name };
  base.windows = feats.length;
  report.bertBase = base;
  lines.push(
    `bert-base-shaped QA (random weights, vocab 21128), ${inputs.length} DRCD questions, ` +
      `${feats.length} windows of ≤ 384 tokens; export ${exportS.toFixed(1)} s, ` +
      `model.onnx ${(sizes.fp32 / 1e6).toFixed(0)} MB, model_quantized.onnx ` +
      `${(sizes.int8 / 1e6).toFixed(0)} MB`,
    "",
    "| run | max abs logit diff vs project | same span as project | seconds |",
    "| --- | --- | --- | --- |",
    `| project (${backend.name}) | 0 | ${inputs.length}/${inputs.length} | ${oursS.toFixed(1)} |`,
  );
  for (const kind of ["fp32", "int8"] as const) {
    const r = base[kind] as { maxAbsDiff: number; sameSpan: number; seconds: number };
    lines.push(
      `| onnxruntime ${kind} | ${
        r.maxAbsDiff.toExponential(2)
      } | ${r.sameSpan}/${inputs.length} | ${r.seconds.toFixed(1)} |`,
    );
  }

  // ---------------------------------------------------------------- 2. smoke runs
  const runs = await trainSmokeRuns();
  const S = `${ROOT}data/sample/`;
  const sContexts = await loadContexts(`${S}context.json`);
  const sExamples = await loadExamples(`${S}valid.json`, sContexts, { split: "valid" });
  const smoke: Record<string, unknown> = { questions: sExamples.length };
  const qaTok = await BertTokenizer.fromPretrained(runs.qa);
  const qaIn: QaInput[] = sExamples.map((e) => ({
    id: e.id,
    question: e.question,
    context: sContexts[e.relevant!],
    answer: e.answer,
  }));
  const qaFeats = prepareQaFeatures(qaIn, qaTok, { maxSeqLength: 64, docStride: 24 });
  const golds = qaIn.map((q) => ({ id: q.id, text: q.answer!.text }));
  const qaScore = (l: { start: Float32Array[]; end: Float32Array[] }) =>
    computeQaMetrics(postprocessQaPredictions(qaIn, qaFeats, l.start, l.end), golds);
  const mcTok = await BertTokenizer.fromPretrained(runs.mc);
  const mcFeats = prepareMcFeatures(sExamples, sContexts, mcTok, { maxSeqLength: 64 });
  const accuracy = (l: Float32Array[]) =>
    100 * sExamples.filter((e, i) => e.paragraphs[argmax(l[i])] === e.relevant).length /
    sExamples.length;
  let projectQa: { start: Float32Array[]; end: Float32Array[] };
  let projectMc: Float32Array[];
  {
    const qaModel = await loadPretrained(runs.qa, "qa", { log: () => {} });
    const mcModel = await loadPretrained(runs.mc, "mc", { log: () => {} });
    projectQa = await qaLogits(qaModel, qaFeats, qaTok.padTokenId, { batchSize });
    projectMc = await mcLogits(mcModel, mcFeats, mcTok.padTokenId, { batchSize });
    smoke.project = { qa: qaScore(projectQa), mcAccuracy: accuracy(projectMc) };
    qaModel.dispose();
    mcModel.dispose();
  }
  for (const task of ["qa", "mc"] as const) {
    await exportOnnx({
      modelDir: runs[task],
      outputDir: `${runs.root}/${task}_onnx`,
      quantize: "int8",
    });
  }
  for (const kind of ["fp32", "int8"] as const) {
    const out: Record<string, unknown> = {};
    for (const task of ["qa", "mc"] as const) {
      const s = await session(`${runs.root}/${task}_onnx/${ONNX_FILES[kind]}`);
      if (task === "qa") {
        const l = await onnxQaLogits(s, qaFeats, qaTok.padTokenId, int64, batchSize);
        out.qa = qaScore(l);
        out.qaMaxAbsDiff = Math.max(
          maxAbsDiff(l.start, projectQa.start),
          maxAbsDiff(l.end, projectQa.end),
        );
      } else {
        const l = await onnxMcLogits(s, mcFeats, mcTok.padTokenId, int64, batchSize);
        out.mcAccuracy = accuracy(l);
        out.mcMaxAbsDiff = maxAbsDiff(l, projectMc);
      }
      await s.release();
    }
    smoke[kind] = out;
  }
  report.smoke = smoke;
  await Deno.remove(runs.root, { recursive: true });
  lines.push(
    "",
    `smoke profile runs (hidden 32, 1 layer), ${sExamples.length} sample validation questions`,
    "",
    "| run | QA exact match | QA F1 | MC accuracy | max abs logit diff QA / MC |",
    "| --- | --- | --- | --- | --- |",
  );
  for (const k of ["project", "fp32", "int8"]) {
    const r = smoke[k] as {
      qa: { exact_match: number; f1: number };
      mcAccuracy: number;
      qaMaxAbsDiff?: number;
      mcMaxAbsDiff?: number;
    };
    const diffs = r.qaMaxAbsDiff === undefined
      ? "0 / 0"
      : `${r.qaMaxAbsDiff.toExponential(2)} / ${r.mcMaxAbsDiff!.toExponential(2)}`;
    lines.push(
      `| ${k === "project" ? "project" : `onnxruntime ${k}`} | ${r.qa.exact_match.toFixed(2)} | ${
        r.qa.f1.toFixed(2)
      } | ${r.mcAccuracy.toFixed(2)} | ${diffs} |`,
    );
  }
  if (values.qa_run) lines.push("", ...(await trainedRun(values.qa_run, report, batchSize)));
  console.log(lines.join("\n"));
  console.log(
    `\n${report.command}; ${report.date}; ${report.cpu}, ${threads} cores, load average ${report.loadAverage}`,
  );
  await Deno.mkdir(new URL(".", `file://${Deno.cwd()}/${values.out}`).pathname, {
    recursive: true,
  });
  await Deno.writeTextFile(values.out!, JSON.stringify(report, null, 2) + "\n");
  if (!(worstFp32 <= 1e-4)) {
    console.error(`FAILED: bert-base-shaped fp32 export is off by ${worstFp32} (> 1e-4)`);
    Deno.exitCode = 1;
  }
} finally {
  await Deno.remove(tmp, { recursive: true });
  tf.disposeVariables();
}

/** Section 3: a QA run trained on DRCD, project vs onnxruntime fp32 and int8. */
async function trainedRun(
  dir: string,
  report: Record<string, unknown>,
  batchSize: number,
): Promise<string[]> {
  const args = await readTrainingArgs(dir);
  if (!args) throw new Error(`${dir}: no training_args.json (not a train-qa run?)`);
  const contexts = await loadContexts(`${ROOT}data/drcd/context.json`);
  const examples = (await loadExamples(`${ROOT}data/drcd/valid.json`, contexts, { split: "valid" }))
    .slice(0, (args.max_eval_samples as number | undefined) ?? Infinity);
  const inputs: QaInput[] = examples.map((e) => ({
    id: e.id,
    question: e.question,
    context: contexts[e.relevant!],
    answer: e.answer,
  }));
  const tokenizer = await BertTokenizer.fromPretrained(dir);
  const feats = prepareQaFeatures(inputs, tokenizer, {
    maxSeqLength: args.max_seq_length as number,
    docStride: args.doc_stride as number,
  });
  const golds = inputs.map((q) => ({ id: q.id, text: q.answer!.text }));
  const score = (l: { start: Float32Array[]; end: Float32Array[] }) =>
    computeQaMetrics(postprocessQaPredictions(inputs, feats, l.start, l.end), golds);
  const model = await loadPretrained(dir, "qa", { log: () => {} });
  const ours = await qaLogits(model, feats, tokenizer.padTokenId, { batchSize });
  const shape = `hidden ${model.config.hidden_size}, ${model.config.num_hidden_layers} layers`;
  model.dispose();
  const out = `${dir}_onnx`;
  await exportOnnx({ modelDir: dir, outputDir: out, quantize: "int8" });
  const rows: Record<string, { exact_match: number; f1: number; maxAbsDiff: number }> = {
    project: { ...score(ours), maxAbsDiff: 0 },
  };
  for (const kind of ["fp32", "int8"] as const) {
    const s = await session(`${out}/${ONNX_FILES[kind]}`);
    const l = await onnxQaLogits(s, feats, tokenizer.padTokenId, int64, batchSize);
    await s.release();
    rows[kind] = {
      ...score(l),
      maxAbsDiff: Math.max(maxAbsDiff(l.start, ours.start), maxAbsDiff(l.end, ours.end)),
    };
  }
  report.trainedRun = { dir, shape, questions: inputs.length, windows: feats.length, rows };
  return [
    `a QA run trained on DRCD (${shape}, from scratch), ${inputs.length} DRCD validation ` +
    `questions, ${feats.length} windows of ${args.max_seq_length} tokens`,
    "",
    "| run | exact match | F1 | max abs logit diff vs project |",
    "| --- | --- | --- | --- |",
    ...Object.entries(rows).map(([k, r]) =>
      `| ${k === "project" ? "project" : `onnxruntime ${k}`} | ${r.exact_match.toFixed(2)} | ${
        r.f1.toFixed(2)
      } | ${r.maxAbsDiff.toExponential(2)} |`
    ),
  ];
}
