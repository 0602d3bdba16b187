// ONNX export: onnxruntime-node (and onnxruntime-web's wasm backend on one model) reproduce the
// project's own logits within 1e-4 on every head, for the PyTorch parity fixtures and for smoke
// runs trained here; the int8 model's distance is bounded; the CLI's files and errors.
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import * as ort from "onnxruntime-node";
import { bertToOnnx, encodeModel, onnxFeeds } from "../lib/export/mod.ts";
import { type BertModel, loadPretrained, type Task } from "../lib/models/mod.ts";
import { collateMc, collateQa, prepareMcFeatures, prepareQaFeatures } from "../lib/features/mod.ts";
import { forwardCollated } from "../lib/pipeline/inference.ts";
import { BertTokenizer } from "../lib/tokenization/mod.ts";
import { loadContexts, loadExamples } from "../lib/data/mod.ts";
import { runDeno } from "./process_util.ts";
import { ONNX_FILES } from "../lib/export/mod.ts";
import { trainSmokeRuns } from "./export_util.ts";

await tf.setBackend("cpu");

const FIX = new URL("./fixtures/parity/", import.meta.url).pathname;
const S = new URL("../data/sample/", import.meta.url).pathname;
const ref = JSON.parse(await Deno.readTextFile(`${FIX}reference.json`));
type Nested = number | Nested[];
const flat = (x: Nested): number[] => (Array.isArray(x) ? x.flatMap(flat) : [x]);

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, "lengths");
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const OUTPUTS: Record<Exclude<Task, "base">, [string, string][]> = {
  qa: [["startLogits", "start_logits"], ["endLogits", "end_logits"]],
  mc: [["logits", "logits"]],
  mlm: [["logits", "logits"]],
};

type Batch = Parameters<typeof forwardCollated>[1];

/** The project's outputs and onnxruntime's on one collated batch, per output name. */
async function compare(
  model: BertModel,
  session: { run(feeds: Record<string, unknown>): Promise<Record<string, { data: unknown }>> },
  makeTensor: (data: BigInt64Array, dims: number[]) => unknown,
  batch: Batch,
): Promise<Record<string, { ours: Float32Array; onnx: Float32Array }>> {
  // Outputs by name, whatever the head's output type.
  const out = tf.tidy(() =>
    forwardCollated(model, batch) as unknown as tf.TensorContainer
  ) as unknown as Record<string, tf.Tensor>;
  const got = await session.run(onnxFeeds(batch, makeTensor));
  const result: Record<string, { ours: Float32Array; onnx: Float32Array }> = {};
  for (const [key, name] of OUTPUTS[model.task as Exclude<Task, "base">]) {
    const t = out[key];
    result[name] = { ours: t.dataSync() as Float32Array, onnx: got[name].data as Float32Array };
  }
  tf.dispose(Object.values(out) as tf.Tensor[]);
  return result;
}

const nodeTensor = (data: BigInt64Array, dims: number[]) => new ort.Tensor("int64", data, dims);

function fixtureBatch(task: Task): Batch {
  const inp = task === "mc" ? ref.mc_inputs : ref.inputs;
  const shape = task === "mc"
    ? [inp.input_ids.length, inp.input_ids[0].length, inp.input_ids[0][0].length]
    : [inp.input_ids.length, inp.input_ids[0].length];
  const d = (k: string) => ({ data: Int32Array.from(flat(inp[k])), shape });
  return {
    inputIds: d("input_ids"),
    tokenTypeIds: d("token_type_ids"),
    attentionMask: d("attention_mask"),
  };
}

const REFERENCE: Record<string, string> = {
  "qa/start_logits": "qa_start_logits",
  "qa/end_logits": "qa_end_logits",
  "mc/logits": "mc_logits",
  "mlm/logits": "mlm_logits",
};

Deno.test("export: parity fixture, every head: onnxruntime-node within 1e-4 of the project and PyTorch", async () => {
  const before = tf.memory().numTensors;
  for (const task of ["qa", "mc", "mlm"] as const) {
    const model = await loadPretrained(FIX, task, { log: () => {} });
    try {
      const session = await ort.InferenceSession.create(encodeModel(bertToOnnx(model)));
      assert.deepEqual(session.inputNames, ["input_ids", "attention_mask", "token_type_ids"]);
      const res = await compare(model, session, nodeTensor, fixtureBatch(task));
      for (const [name, { ours, onnx }] of Object.entries(res)) {
        const d = maxAbsDiff(onnx, ours);
        assert.ok(d <= 1e-4, `${task}/${name}: onnxruntime vs project max abs diff ${d}`);
        const py = flat(ref[REFERENCE[`${task}/${name}`]]);
        const dp = maxAbsDiff(onnx, py);
        assert.ok(dp <= 1e-4, `${task}/${name}: onnxruntime vs PyTorch max abs diff ${dp}`);
      }
      // int8: same graph with quantized Linear weights; the distance is not zero and stays a
      // fraction of the logits' range (hidden size 32 is the worst case for 7-bit weights).
      const q = await ort.InferenceSession.create(
        encodeModel(bertToOnnx(model, { quantize: "int8" })),
      );
      for (
        const [name, { ours, onnx }] of Object.entries(
          await compare(model, q, nodeTensor, fixtureBatch(task)),
        )
      ) {
        const scale = ours.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        const d = maxAbsDiff(onnx, ours);
        assert.ok(d > 0 && d <= 0.25 * scale, `${task}/${name}: int8 diff ${d}, scale ${scale}`);
      }
      await session.release();
      await q.release();
    } finally {
      model.dispose();
    }
  }
  assert.equal(tf.memory().numTensors, before, "no tensor left behind");
});

Deno.test("export: a base (encoder-only) model has no ONNX head", async () => {
  const model = await loadPretrained(FIX, "base", { log: () => {} });
  try {
    assert.throws(() => bertToOnnx(model), /no ONNX export for the base head/);
  } finally {
    model.dispose();
  }
});

const runs = await trainSmokeRuns();

Deno.test({
  name: "export-onnx CLI on trained smoke QA and MC runs: files, onnxruntime-node within 1e-4",
  sanitizeResources: false,
  fn: async () => {
    const contexts = await loadContexts(`${S}context.json`);
    const examples = (await loadExamples(`${S}valid.json`, contexts, { split: "valid" }))
      .slice(0, 12);
    for (const task of ["qa", "mc"] as const) {
      const out = `${runs.root}/${task}_onnx`;
      const r = await runDeno([
        "run",
        "-A",
        "cli.ts",
        "export-onnx",
        "--model_name_or_path",
        runs[task],
        "--output_dir",
        out,
        "--quantize",
        "int8",
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`exported the ${task} head \\(model_max_length 128\\)`));
      for (const f of ["config.json", "tokenizer.json", "tokenizer_config.json", ONNX_FILES.int8]) {
        await Deno.stat(`${out}/${f}`);
      }
      const tc = JSON.parse(await Deno.readTextFile(`${out}/tokenizer_config.json`));
      assert.equal(tc.model_max_length, 128, "clamped to max_position_embeddings");
      const cfg = JSON.parse(await Deno.readTextFile(`${out}/config.json`));
      assert.deepEqual(
        cfg.architectures,
        [task === "qa" ? "BertForQuestionAnswering" : "BertForMultipleChoice"],
      );

      const tokenizer = await BertTokenizer.fromPretrained(out);
      const model = await loadPretrained(runs[task], task, { log: () => {} });
      const session = await ort.InferenceSession.create(`${out}/${ONNX_FILES.fp32}`, {
        intraOpNumThreads: 1,
      });
      let batch: Batch;
      if (task === "qa") {
        const inputs = examples.map((e) => ({
          id: e.id,
          question: e.question,
          context: contexts[e.relevant!],
        }));
        // Windows of 64 tokens, several per question, padded into one batch.
        const feats = prepareQaFeatures(inputs, tokenizer, { maxSeqLength: 64, docStride: 24 });
        batch = collateQa(feats.slice(0, 16), tokenizer.padTokenId);
      } else {
        const feats = prepareMcFeatures(examples, contexts, tokenizer, { maxSeqLength: 64 });
        batch = collateMc(feats.slice(0, 6), tokenizer.padTokenId);
      }
      for (
        const [name, { ours, onnx }] of Object.entries(
          await compare(model, session, nodeTensor, batch),
        )
      ) {
        const d = maxAbsDiff(onnx, ours);
        assert.ok(d <= 1e-4, `smoke ${task}/${name}: max abs diff ${d}`);
      }
      await session.release();
      model.dispose();
    }
  },
});

Deno.test({
  name:
    "export: onnxruntime-web (wasm, under Deno) gives the same QA logits within 1e-4, fp32 and int8",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const web = await import("onnxruntime-web");
    web.env.wasm.numThreads = 1;
    const model = await loadPretrained(runs.qa, "qa", { log: () => {} });
    try {
      const bytes = encodeModel(bertToOnnx(model));
      const session = await web.InferenceSession.create(bytes, { executionProviders: ["wasm"] });
      const tokenizer = await BertTokenizer.fromPretrained(runs.qa);
      const contexts = await loadContexts(`${S}context.json`);
      const examples = (await loadExamples(`${S}valid.json`, contexts, { split: "valid" }))
        .slice(0, 4);
      const inputs = examples.map((e) => ({
        id: e.id,
        question: e.question,
        context: contexts[e.relevant!],
      }));
      const feats = prepareQaFeatures(inputs, tokenizer, { maxSeqLength: 64, docStride: 24 });
      const batch = collateQa(feats.slice(0, 8), tokenizer.padTokenId);
      const res = await compare(
        model,
        session,
        (data, dims) => new web.Tensor("int64", data, dims),
        batch,
      );
      for (const [name, { ours, onnx }] of Object.entries(res)) {
        const d = maxAbsDiff(onnx, ours);
        assert.ok(d <= 1e-4, `onnxruntime-web ${name}: max abs diff ${d}`);
      }
      await session.release();
      // The int8 file (what transformers.js loads in browsers by default) runs in wasm too, with
      // the integer products of onnxruntime-node's CPU provider.
      const int8 = encodeModel(bertToOnnx(model, { quantize: "int8" }));
      const webQ = await web.InferenceSession.create(int8, { executionProviders: ["wasm"] });
      const nodeQ = await ort.InferenceSession.create(int8);
      const a = await compare(model, webQ, (d, dims) => new web.Tensor("int64", d, dims), batch);
      const b = await compare(model, nodeQ, nodeTensor, batch);
      for (const name of Object.keys(a)) {
        const d = maxAbsDiff(a[name].onnx, b[name].onnx);
        assert.ok(d <= 1e-4, `int8 ${name}: onnxruntime-web vs onnxruntime-node ${d}`);
      }
      await webQ.release();
      await nodeQ.release();
    } finally {
      model.dispose();
    }
  },
});

Deno.test("export-onnx CLI on the parity fixture (BertForMaskedLM): the mlm head through the command", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "export_mlm_" });
  try {
    const run = `${tmp}/mlm`;
    await Deno.mkdir(run);
    await Deno.copyFile(`${FIX}config.json`, `${run}/config.json`);
    await Deno.copyFile(`${FIX}model.safetensors`, `${run}/model.safetensors`);
    // The fixture's 100-token vocabulary: the sample vocabulary's first 100 lines.
    const vocab = (await Deno.readTextFile(`${S}vocab.txt`)).split("\n").slice(0, 100);
    await BertTokenizer.fromVocab(vocab).save(run);
    const r = await runDeno([
      "run",
      "-A",
      "cli.ts",
      "export-onnx",
      "--model_name_or_path",
      run,
      "--output_dir",
      `${tmp}/out`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /exported the mlm head \(model_max_length 64\)/);
    const model = await loadPretrained(run, "mlm", { log: () => {} });
    const session = await ort.InferenceSession.create(`${tmp}/out/${ONNX_FILES.fp32}`);
    const { logits } = await compare(model, session, nodeTensor, fixtureBatch("mlm"));
    const d = maxAbsDiff(logits.onnx, logits.ours);
    assert.ok(d <= 1e-4, `mlm logits: max abs diff ${d}`);
    await session.release();
    model.dispose();
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("export-onnx CLI: clear errors for a missing folder, no config and an unknown head", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "export_err_" });
  try {
    const cli = (...args: string[]) => runDeno(["run", "-A", "cli.ts", "export-onnx", ...args]);
    let r = await cli("--model_name_or_path", `${tmp}/nope`, "--output_dir", `${tmp}/o`);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--model_name_or_path .*nope: not found/);
    await Deno.mkdir(`${tmp}/empty`);
    r = await cli("--model_name_or_path", `${tmp}/empty`, "--output_dir", `${tmp}/o`);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no config\.json/);
    // The parity fixture names BertForMaskedLM; a copy naming the encoder alone has no head.
    await Deno.mkdir(`${tmp}/base`);
    const cfg = JSON.parse(await Deno.readTextFile(`${FIX}config.json`));
    await Deno.writeTextFile(
      `${tmp}/base/config.json`,
      JSON.stringify({ ...cfg, architectures: ["BertModel"] }),
    );
    await Deno.copyFile(`${FIX}model.safetensors`, `${tmp}/base/model.safetensors`);
    await Deno.copyFile(`${S}vocab.txt`, `${tmp}/base/vocab.txt`);
    r = await cli("--model_name_or_path", `${tmp}/base`, "--output_dir", `${tmp}/o`);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /--model_name_or_path .*base holds BertModel \(.*\), not one model of .*; pass --task/,
    );
    // The folder is checked by lib/models' task check: a QA run exported as MC, an MC run as QA.
    r = await cli("--model_name_or_path", runs.qa, "--output_dir", `${tmp}/o`, "--task", "mc");
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /--model_name_or_path .* holds BertForQuestionAnswering \(qa_outputs\), not a multiple-choice model \(BertForMultipleChoice with classifier weights\)/,
    );
    r = await cli("--model_name_or_path", runs.mc, "--output_dir", `${tmp}/o`, "--task", "qa");
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /--model_name_or_path .* holds BertForMultipleChoice \(classifier\), not a question-answering model \(BertForQuestionAnswering with qa_outputs weights\)/,
    );
    r = await cli("--model_name_or_path", runs.qa, "--output_dir", `${tmp}/o`, "--task", "x");
    assert.equal(r.code, 2);
    // Exporting again without --quantize removes the earlier quantized file (browsers would
    // load it by default).
    r = await cli(
      "--model_name_or_path",
      runs.qa,
      "--output_dir",
      `${tmp}/o`,
      "--quantize",
      "int8",
    );
    assert.equal(r.code, 0, r.stderr);
    await Deno.stat(`${tmp}/o/${ONNX_FILES.int8}`);
    r = await cli("--model_name_or_path", runs.qa, "--output_dir", `${tmp}/o`);
    assert.equal(r.code, 0, r.stderr);
    await assert.rejects(Deno.stat(`${tmp}/o/${ONNX_FILES.int8}`), Deno.errors.NotFound);
    assert.match(r.stderr, /removing .*model_quantized\.onnx from an earlier export/);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

globalThis.addEventListener("unload", () => Deno.removeSync(runs.root, { recursive: true }));
