import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { useBackend } from "../lib/backend/mod.ts";
import {
  type BertModel,
  loadPretrained,
  parseSafetensors,
  parseTorchCheckpoint,
  readCheckpointHeader,
  readConfig,
  saveModel,
  serializeSafetensors,
  type Task,
} from "../lib/models/mod.ts";

const FIX = new URL("./fixtures/parity/", import.meta.url).pathname;
const ref = JSON.parse(await Deno.readTextFile(`${FIX}reference.json`));

type Nested = number | Nested[];
const flat = (x: Nested): number[] => (Array.isArray(x) ? x.flatMap(flat) : [x]);

function assertClose(actual: ArrayLike<number>, expected: Nested, what: string, tol = 1e-4) {
  const e = flat(expected);
  assert.equal(actual.length, e.length, `${what}: length`);
  let worst = 0;
  for (let i = 0; i < e.length; i++) worst = Math.max(worst, Math.abs(actual[i] - e[i]));
  assert.ok(worst <= tol, `${what}: max abs diff ${worst} > ${tol}`);
}

/** A temp model folder holding config.json plus the given files from the fixtures. */
async function folder(files: Record<string, string | Uint8Array>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "models_ckpt_" });
  for (const [name, src] of Object.entries(files)) {
    const data = typeof src === "string" ? await Deno.readFile(`${FIX}${src}`) : src;
    await Deno.writeFile(`${dir}/${name}`, data);
  }
  return dir;
}

function inputs(which: "inputs" | "mc_inputs") {
  const r = ref[which];
  return {
    inputIds: tf.tensor(r.input_ids, undefined, "int32"),
    tokenTypeIds: tf.tensor(r.token_type_ids, undefined, "int32"),
    attentionMask: tf.tensor(r.attention_mask, undefined, "int32"),
  };
}

async function checkParity(model: BertModel, label: string) {
  const x = inputs(model.task === "mc" ? "mc_inputs" : "inputs");
  const out = model.forward(x);
  // The head's output type, told apart by its fields (the task is only known at run time).
  if ("lastHiddenState" in out) {
    assert.equal(model.task, "base");
    assertClose(await out.lastHiddenState.data(), ref.last_hidden_state, `${label} hidden`);
    assertClose(await out.poolerOutput.data(), ref.pooler_output, `${label} pooler`);
  } else if ("startLogits" in out) {
    assert.equal(model.task, "qa");
    assertClose(await out.startLogits.data(), ref.qa_start_logits, `${label} start`);
    assertClose(await out.endLogits.data(), ref.qa_end_logits, `${label} end`);
  } else if (model.task === "mlm") {
    assertClose(await out.logits.data(), ref.mlm_logits, `${label} mlm`);
  } else {
    assert.equal(model.task, "mc");
    assert.deepEqual(out.logits.shape, [2, 2]);
    assertClose(await out.logits.data(), ref.mc_logits, `${label} mc`);
  }
  tf.dispose([out as unknown as tf.TensorContainer, x as unknown as tf.TensorContainer]);
}

const VARIANTS: Record<string, Record<string, string>> = {
  "pytorch_model.bin (zip)": {
    "config.json": "config.json",
    "pytorch_model.bin": "pytorch_model.bin",
  },
  "legacy pytorch_model.bin (gamma/beta, fp16/bf16, pre-1.6 format)": {
    "config.json": "legacy/config.json",
    "pytorch_model.bin": "legacy/pytorch_model.bin",
  },
  "model.safetensors": { "config.json": "config.json", "model.safetensors": "model.safetensors" },
};
const TASK_LIST: Task[] = ["base", "mc", "qa", "mlm"];

for (const backend of ["cpu", "wasm"]) {
  for (const [variant, files] of Object.entries(VARIANTS)) {
    Deno.test(`models parity vs PyTorch: ${variant} on ${backend}`, async () => {
      await tf.setBackend(backend);
      await tf.ready();
      const dir = await folder(files);
      const before = tf.memory().numTensors;
      for (const task of TASK_LIST) {
        const logs: string[] = [];
        const model = await loadPretrained(dir, task, { log: (m) => logs.push(m) });
        assert.deepEqual(model.loadReport.missingKeys, [], `${task}: nothing missing`);
        await checkParity(model, `${variant}/${task}`);
        model.dispose();
        if (task === "qa") {
          // Heads of other tasks are unused; the pooler and tied decoder are not reported.
          const unexpected = model.loadReport.unexpectedKeys;
          assert.ok(unexpected.includes("classifier.weight"));
          assert.ok(!unexpected.some((k) => k.includes("pooler") || k.includes("qa_outputs")));
          assert.match(logs.join("\n"), /were not used when initializing BertForQuestionAnswering/);
        }
        if (task === "mlm") {
          assert.ok(!model.loadReport.unexpectedKeys.some((k) => k.startsWith("cls.")));
        }
      }
      assert.equal(tf.memory().numTensors, before);
      await Deno.remove(dir, { recursive: true });
    });
  }
}

for (const backend of ["cpu", "wasm"] as const) {
  Deno.test(`models parity with the project's kernels (lib/backend useBackend ${backend})`, async () => {
    await useBackend(backend);
    const dir = await folder(VARIANTS["model.safetensors"]);
    for (const task of TASK_LIST) {
      const model = await loadPretrained(dir, task, { log: () => {} });
      await checkParity(model, `project kernels ${backend}/${task}`);
      model.dispose();
    }
    await Deno.remove(dir, { recursive: true });
  });
}

Deno.test("models: save → load round-trips bit-exactly in Hugging Face layout", async () => {
  await tf.setBackend("cpu");
  const src = await folder(VARIANTS["pytorch_model.bin (zip)"]);
  for (const task of TASK_LIST) {
    const a = await loadPretrained(src, task, { log: () => {} });
    const out = await Deno.makeTempDir({ prefix: "models_save_" });
    await saveModel(a, out);
    const st = parseSafetensors(await Deno.readFile(`${out}/model.safetensors`), "saved");
    assert.equal(st.metadata.format, "pt");
    const names = [...st.tensors.keys()];
    for (const t of st.tensors.values()) assert.equal(t.dtype, "F32");
    if (task === "base") {
      // transformers' BertModel state dict has no `bert.` prefix.
      assert.ok(names.includes("embeddings.word_embeddings.weight"));
      assert.ok(!names.some((n) => n.startsWith("bert.")));
    } else {
      assert.ok(names.includes("bert.encoder.layer.1.output.LayerNorm.weight"));
    }
    assert.ok(!names.includes("cls.predictions.decoder.weight"), "tied decoder not duplicated");
    assert.equal(names.includes("bert.pooler.dense.weight"), task === "mc");
    const cfg = JSON.parse(await Deno.readTextFile(`${out}/config.json`));
    const arch = {
      base: "BertModel",
      mc: "BertForMultipleChoice",
      qa: "BertForQuestionAnswering",
      mlm: "BertForMaskedLM",
    }[task];
    assert.deepEqual(cfg.architectures, [arch]);
    assert.equal(cfg.directionality, "bidi", "unknown config keys are kept");
    const logs: string[] = [];
    const b = await loadPretrained(out, task, { log: (m) => logs.push(m) });
    assert.deepEqual(logs, [], "a saved model reloads with nothing missing or unused");
    assert.deepEqual([...b.variables.keys()], [...a.variables.keys()]);
    for (const [name, v] of a.variables) {
      const x = await v.data(), y = await b.variables.get(name)!.data();
      assert.deepEqual(new Uint8Array(y.buffer), new Uint8Array(x.buffer), name);
    }
    assert.deepEqual(await readConfig(out), { ...a.config, architectures: [arch] });
    a.dispose();
    b.dispose();
    await Deno.remove(out, { recursive: true });
  }
  await Deno.remove(src, { recursive: true });
});

Deno.test("models: missing head weights are initialised like HF and reported", async () => {
  await tf.setBackend("cpu");
  const st = parseSafetensors(await Deno.readFile(`${FIX}model.safetensors`), "fixture");
  const entries = [...st.tensors].filter(([k]) => !k.startsWith("qa_outputs.")).map((
    [name, t],
  ) => ({ name, shape: t.shape, data: t.toFloat32() }));
  const dir = await folder({
    "config.json": "config.json",
    "model.safetensors": serializeSafetensors(entries),
  });
  const logs: string[] = [];
  const m = await loadPretrained(dir, "qa", { log: (s) => logs.push(s), seed: 3 });
  assert.deepEqual(m.loadReport.missingKeys, ["qa_outputs.weight", "qa_outputs.bias"]);
  assert.ok(
    logs.some((l) =>
      l.startsWith(
        `Some weights of BertForQuestionAnswering were not initialized from the model checkpoint at ${dir} and are newly initialized: ["qa_outputs.weight","qa_outputs.bias"]`,
      )
    ),
    logs.join("\n"),
  );
  const b = await m.variables.get("qa_outputs.bias")!.data();
  assert.ok(b.every((v) => v === 0));
  const w = Array.from(await m.variables.get("qa_outputs.weight")!.data());
  const std = Math.sqrt(w.reduce((a, v) => a + v * v, 0) / w.length);
  assert.ok(std > 0.01 && std < 0.03, `std ${std} vs initializer_range 0.02`);
  // The encoder still came from the checkpoint.
  const emb = await m.variables.get("bert.embeddings.word_embeddings.weight")!.data();
  assert.deepEqual(emb, st.tensors.get("bert.embeddings.word_embeddings.weight")!.toFloat32());
  m.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("models: tied word embeddings stored only as cls.predictions.decoder.weight", async () => {
  await tf.setBackend("cpu");
  const st = parseSafetensors(await Deno.readFile(`${FIX}model.safetensors`), "fixture");
  const entries = [...st.tensors].map(([name, t]) => ({
    name: name === "bert.embeddings.word_embeddings.weight"
      ? "cls.predictions.decoder.weight"
      : name,
    shape: t.shape,
    data: t.toFloat32(),
  }));
  const dir = await folder({
    "config.json": "config.json",
    "model.safetensors": serializeSafetensors(entries),
  });
  for (const task of ["mlm", "base"] as Task[]) {
    const m = await loadPretrained(dir, task, { log: () => {} });
    assert.deepEqual(m.loadReport.missingKeys, []);
    await checkParity(m, `decoder-named embeddings/${task}`);
    m.dispose();
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("models: a torch zip read through its ZIP64 end records", async () => {
  await tf.setBackend("cpu");
  const bytes = (await Deno.readFile(`${FIX}pytorch_model.bin`)).slice();
  const dv = new DataView(bytes.buffer);
  let eocd = -1;
  for (let i = bytes.length - 22; i >= 0 && eocd < 0; i--) {
    if (dv.getUint32(i, true) === 0x06054b50) eocd = i;
  }
  // torch writes ZIP64 records; mark the classic fields as "see ZIP64" (as in files > 4 GB).
  assert.equal(dv.getUint32(eocd - 20, true), 0x07064b50, "ZIP64 locator present");
  dv.setUint16(eocd + 8, 0xffff, true);
  dv.setUint16(eocd + 10, 0xffff, true);
  dv.setUint32(eocd + 12, 0xffffffff, true);
  dv.setUint32(eocd + 16, 0xffffffff, true);
  const dir = await folder({ "config.json": "config.json", "pytorch_model.bin": bytes });
  const m = await loadPretrained(dir, "qa", { log: () => {} });
  await checkParity(m, "zip64");
  m.dispose();
  await Deno.remove(dir, { recursive: true });
});

/** Expects loading `dir` to fail with a message matching `re`, leaving no tensor behind. */
async function refuses(dir: string, re: RegExp) {
  const before = tf.memory().numTensors;
  await assert.rejects(() => loadPretrained(dir, "qa", { log: () => {} }), re);
  assert.equal(tf.memory().numTensors, before, "no half-loaded model");
  await Deno.remove(dir, { recursive: true });
}

function handMadeSafetensors(header: Record<string, unknown>, dataBytes: number): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

Deno.test("models: hostile pickles are refused, never executed", async () => {
  await tf.setBackend("cpu");
  try {
    await Deno.remove("/tmp/parity_pwned");
  } catch { /* absent */ }
  const cases: [string, RegExp][] = [
    ["hostile/os_system.bin", /pytorch_model\.bin.*global "posix\.system" is not allowed/],
    ["hostile/builtins_eval.bin", /global "__builtin__\.eval" is not allowed/],
    ["hostile/unknown_opcode.bin", /pytorch_model\.bin.*unsupported opcode 0x69/],
  ];
  for (const [file, re] of cases) {
    await refuses(await folder({ "config.json": "config.json", "pytorch_model.bin": file }), re);
  }
  await assert.rejects(() => Deno.stat("/tmp/parity_pwned"), "the payload never ran");
});

Deno.test("models: corrupted checkpoints are refused with clear errors", async () => {
  await tf.setBackend("cpu");
  const goodSt = await Deno.readFile(`${FIX}model.safetensors`);
  const goodBin = await Deno.readFile(`${FIX}pytorch_model.bin`);
  const goodLegacy = await Deno.readFile(`${FIX}legacy/pytorch_model.bin`);
  const st = (bytes: Uint8Array) =>
    folder({ "config.json": "config.json", "model.safetensors": bytes });
  const bin = (bytes: Uint8Array, cfg = "config.json") =>
    folder({ "config.json": cfg, "pytorch_model.bin": bytes });

  // Header length larger than the file.
  const big = goodSt.slice();
  new DataView(big.buffer).setBigUint64(0, BigInt(goodSt.length), true);
  await refuses(
    await st(big),
    /model\.safetensors: invalid safetensors file: header length \d+ is larger than the rest of the file/,
  );
  // Truncated safetensors: the last tensor points outside the file.
  await refuses(
    await st(goodSt.slice(0, goodSt.length - 100)),
    /model\.safetensors: invalid safetensors file: tensor ".*": data_offsets .* point outside the file/,
  );
  // Overlapping offsets.
  await refuses(
    await st(handMadeSafetensors({
      "bert.a": { dtype: "F32", shape: [2], data_offsets: [0, 8] },
      "bert.b": { dtype: "F32", shape: [2], data_offsets: [4, 12] },
    }, 12)),
    /tensor "bert\.b": data_offsets \[4, 12\] overlap tensor "bert\.a"/,
  );
  // Offsets out of range.
  await refuses(
    await st(
      handMadeSafetensors({ "bert.a": { dtype: "F32", shape: [4], data_offsets: [0, 16] } }, 8),
    ),
    /tensor "bert\.a": data_offsets \[0, 16\] point outside the file/,
  );
  // Size that does not match the shape.
  await refuses(
    await st(
      handMadeSafetensors({ "bert.a": { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, 8),
    ),
    /tensor "bert\.a": 8 bytes for shape \[3\] F32, expected 12/,
  );
  // Truncated zip .bin and legacy .bin.
  await refuses(await bin(goodBin.slice(0, 60000)), /pytorch_model\.bin: corrupted zip archive/);
  await refuses(
    await bin(goodLegacy.slice(0, goodLegacy.length - 10), "legacy/config.json"),
    /pytorch_model\.bin: storage ".*" extends past the end of the file/,
  );
  // A flipped byte inside a stored tensor: CRC mismatch.
  const flipped = goodBin.slice();
  flipped[30000] ^= 0xff;
  await refuses(
    await bin(flipped),
    /pytorch_model\.bin: entry ".*data\/\d+" is corrupted \(CRC-32 mismatch\)/,
  );
  // Garbage.
  await refuses(
    await bin(new TextEncoder().encode("not a checkpoint")),
    /not a PyTorch checkpoint/,
  );
  // Shape that does not match the config.
  const cfg = JSON.parse(await Deno.readTextFile(`${FIX}config.json`));
  const dir = await folder({ "model.safetensors": "model.safetensors" });
  await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify({ ...cfg, intermediate_size: 48 }));
  await refuses(
    dir,
    /model\.safetensors: tensor "bert\.encoder\.layer\.0\.intermediate\.dense\.weight" has shape \[64,32\] but the config expects \[48,32\]/,
  );
  // parseTorchCheckpoint directly: an allowed global called the wrong way.
  assert.throws(() => parseTorchCheckpoint(goodBin.slice(0, 10), "x.bin"), /x\.bin/);
});

Deno.test("models: config.json is checked against the weight file's header before any model is built", async () => {
  await tf.setBackend("cpu");
  const cfg = JSON.parse(await Deno.readTextFile(`${FIX}config.json`));
  const withConfig = async (weights: string, values: Record<string, unknown>) => {
    const dir = await folder({ [weights]: weights });
    await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify({ ...cfg, ...values }));
    return dir;
  };
  // The issue's folder: a 2-layer model.safetensors beside num_hidden_layers 1000000 (it grew to
  // 9.3 GB); refused at once, for both weight formats and any task.
  for (const weights of ["model.safetensors", "pytorch_model.bin"]) {
    const dir = await withConfig(weights, { num_hidden_layers: 1_000_000 });
    for (const task of ["mc", "mlm", "base"] as Task[]) {
      await assert.rejects(
        () => loadPretrained(dir, task, { log: () => {} }),
        new RegExp(
          `^Error: ${dir}/${weights.replace(".", "\\.")} holds 2 encoder layers ` +
            `\\(bert\\.encoder\\.layer\\.0–1\\) but ${dir}/config\\.json says ` +
            "num_hidden_layers 1000000: the config does not describe these weights$",
        ),
      );
    }
    await refuses(dir, /holds 2 encoder layers/);
  }
  // Fewer layers in the config than in the file.
  await refuses(
    await withConfig("model.safetensors", { num_hidden_layers: 1 }),
    /holds 2 encoder layers .* says num_hidden_layers 1:/,
  );
  // A hidden size that does not match names the config fields the shape comes from.
  await refuses(
    await withConfig("model.safetensors", { hidden_size: 16, num_attention_heads: 4 }),
    /tensor "bert\.embeddings\.word_embeddings\.weight" has shape \[100,32\] but the config expects \[100,16\] .*\(from .*config\.json's vocab_size, hidden_size\)$/,
  );

  // Tensor names: a missing encoder tensor, and a gap in the layer numbers.
  const st = parseSafetensors(await Deno.readFile(`${FIX}model.safetensors`), "fixture");
  const rewritten = (rename: (name: string) => string | null) =>
    folder({
      "config.json": "config.json",
      "model.safetensors": serializeSafetensors(
        [...st.tensors].flatMap(([name, t]) => {
          const n = rename(name);
          return n === null ? [] : [{ name: n, shape: t.shape, data: t.toFloat32() }];
        }),
      ),
    });
  await refuses(
    await rewritten((n) => (n === "bert.encoder.layer.1.output.dense.weight" ? null : n)),
    /model\.safetensors lacks 1 encoder tensor that .*config\.json needs: bert\.encoder\.layer\.1\.output\.dense\.weight$/,
  );
  await refuses(
    await rewritten((n) => n.replace("encoder.layer.1.", "encoder.layer.2.")),
    /model\.safetensors: encoder layer\(s\) 1 missing \(its layers go up to 2\)/,
  );
  await refuses(
    await rewritten((n) => (n.includes("encoder.layer.") ? null : n)),
    /holds no encoder layers \(no bert\.encoder\.layer\.\* tensors\) but .* says num_hidden_layers 2/,
  );
});

Deno.test("models: readCheckpointHeader reads names and shapes only, as the whole file has them", async () => {
  const dir = await folder({
    "config.json": "config.json",
    "model.safetensors": "model.safetensors",
  });
  const full = parseSafetensors(await Deno.readFile(`${FIX}model.safetensors`), "x").tensors;
  const head = await readCheckpointHeader(dir);
  assert.equal(head.file, `${dir}/model.safetensors`);
  assert.deepEqual(
    [...head.tensors].map(([k, t]) => [k, t.dtype, t.shape]),
    [...full].map(([k, t]) => [k, t.dtype, t.shape]),
  );
  // A cut file fails the header's own checks (offsets past the end), values never read.
  const bytes = await Deno.readFile(`${FIX}model.safetensors`);
  await Deno.writeFile(`${dir}/model.safetensors`, bytes.slice(0, bytes.length - 4));
  await assert.rejects(() => readCheckpointHeader(dir), /point outside the file/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("models: a checkpoint with another head loads with exactly one line naming the new head", async () => {
  await tf.setBackend("cpu");
  // An MLM checkpoint (no classifier, no pooler) fine-tuned for multiple choice, as from
  // bert-base-chinese or an in-project pretraining run.
  const st = parseSafetensors(await Deno.readFile(`${FIX}model.safetensors`), "fixture");
  const entries = [...st.tensors]
    .filter(([k]) => !/^(classifier|qa_outputs|bert\.pooler)\./.test(k))
    .map(([name, t]) => ({ name, shape: t.shape, data: t.toFloat32() }));
  const dir = await folder({
    "config.json": "config.json",
    "model.safetensors": serializeSafetensors(entries),
  });
  const logs: string[] = [];
  const m = await loadPretrained(dir, "mc", { log: (s) => logs.push(s) });
  assert.equal(logs.length, 1, logs.join("\n---\n"));
  assert.ok(!logs[0].includes("\n"), logs[0]);
  assert.match(
    logs[0],
    /^Some weights of BertForMultipleChoice were not initialized from the model checkpoint at .* and are newly initialized: \["bert\.pooler\.dense\.weight","bert\.pooler\.dense\.bias","classifier\.weight","classifier\.bias"\] \(new: classifier head and pooler; train the model before using it for predictions\); not used from the checkpoint: cls\.predictions\.\* \(\d+ tensors\)$/,
  );
  m.dispose();
  await Deno.remove(dir, { recursive: true });
});
