// Masked-LM pretraining (lib/pipeline/pretrain.ts) on a slice of the sample corpus with a tiny
// from-scratch BERT: the loss goes down, the saved folder starts MC and QA models, the same seed
// gives the same curve, per-token masking differs from whole-word masking, and the corpus never
// contains answers.
import { resolveFlags } from "../lib/cli/train_flags.ts";
import { MLM_ARGS } from "../lib/args/mod.ts";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/backend/mod.ts";
import { loadPretrained } from "../lib/models/mod.ts";
import {
  loadMlmCorpus,
  packMlmFeatures,
  perTokenWords,
  pretrainMaskedLm,
} from "../lib/pipeline/mod.ts";
import { charSegmenter, NO_WORD } from "../lib/pretraining/mod.ts";
import { parseFlags, UsageError } from "../lib/cli/args.ts";
import * as pretrainCmd from "../lib/cli/pretrain_mlm.ts";

await initBackend();

const S = new URL("../data/sample/", import.meta.url).pathname;
const TINY = "num_hidden_layers=1,hidden_size=32,num_attention_heads=2,intermediate_size=64," +
  "max_position_embeddings=64";
const quiet = { log: () => {}, progress: "none" as const };
// jieba is loaded by the real runs; the tests use the char segmenter for speed and isolation,
// except the one that checks the jieba path.
const base = {
  context_file: `${S}context.json`,
  train_file: `${S}train.json`,
  tokenizer_name: S,
  config_overrides: TINY,
  max_seq_length: 32,
  per_device_train_batch_size: 16,
  learning_rate: 3e-3,
  num_warmup_steps: 2,
  max_train_steps: 30,
  max_train_samples: 240,
  validation_split_percentage: 1,
  per_device_eval_batch_size: 64,
  seed: 7,
};

Deno.test("pretrain: corpus is paragraphs + training questions, no answers", async () => {
  const c = await loadMlmCorpus(`${S}context.json`, `${S}train.json`);
  const contexts = JSON.parse(await Deno.readTextFile(`${S}context.json`));
  const train = JSON.parse(await Deno.readTextFile(`${S}train.json`));
  assert.equal(c.paragraphs, contexts.length);
  assert.equal(c.questions, train.length);
  assert.deepEqual(
    c.texts.slice(contexts.length),
    train.map((e: { question: string }) => e.question),
  );
});

Deno.test("pretrain: per-token masking gives every token its own word", () => {
  const f = {
    textIndex: 0,
    inputIds: [2, 10, 11, 12, 3],
    tokenTypeIds: [0, 0, 0, 0, 0],
    attentionMask: [1, 1, 1, 1, 1],
    wordIds: [NO_WORD, 0, 0, 1, NO_WORD],
  };
  assert.deepEqual(perTokenWords(f).wordIds, [NO_WORD, 0, 1, 2, NO_WORD]);
});

Deno.test("pretrain: packing concatenates texts into blocks with distinct word ids", () => {
  const mk = (ids: number[], words: number[]) => ({
    textIndex: 0,
    inputIds: ids,
    tokenTypeIds: ids.map(() => 0),
    attentionMask: ids.map(() => 1),
    wordIds: words,
  });
  const packed = packMlmFeatures([
    mk([2, 10, 11, 3], [NO_WORD, 0, 0, NO_WORD]),
    mk([2, 12, 13, 14, 3], [NO_WORD, 0, 1, 1, NO_WORD]),
  ], 4);
  assert.deepEqual(packed.map((f) => f.inputIds), [[2, 10, 11, 3], [2, 12, 13, 14], [3]]);
  assert.deepEqual(packed.map((f) => f.wordIds), [
    [NO_WORD, 0, 0, NO_WORD],
    [NO_WORD, 1, 2, 2],
    [NO_WORD],
  ]);
  assert.deepEqual(packed[2].attentionMask, [1]);
});

Deno.test("pretrain: loss goes down, folder loads for mc/qa, deterministic by seed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mlm_" });
  try {
    const before = tf.memory().numTensors;
    const r1 = await pretrainMaskedLm({ ...base, masking: "char", output_dir: dir }, {
      ...quiet,
      segmenter: charSegmenter(),
    });
    const losses = r1.train.stepLog.map((s) => s.loss as number);
    assert.equal(losses.length, 30);
    const first = losses.slice(0, 5).reduce((a, b) => a + b) / 5;
    const last = losses.slice(-5).reduce((a, b) => a + b) / 5;
    assert.ok(last < first - 0.5, `loss ${first} -> ${last} did not go down`);
    // ln(1175) ~ 7.07: the untrained model starts near uniform
    assert.ok(first > 5.5, `first losses ${first}`);
    assert.ok(Number.isFinite(r1.eval.eval_loss) && r1.eval.perplexity > 1);
    assert.equal(r1.corpus.questions, 2000);
    r1.model.dispose();
    assert.equal(tf.memory().numTensors, before);

    for (const task of ["mc", "qa"] as const) {
      const m = await loadPretrained(dir, task, { log: () => {} });
      const mlm = await loadPretrained(dir, "mlm", { log: () => {} });
      const a = await m.variables.get("bert.encoder.layer.0.attention.self.query.weight")!.data();
      const b = await mlm.variables.get("bert.encoder.layer.0.attention.self.query.weight")!.data();
      assert.deepEqual(a, b);
      assert.equal(m.task, task);
      m.dispose();
      mlm.dispose();
    }
    const saved = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
    assert.deepEqual(saved.architectures, ["BertForMaskedLM"]);
    await Deno.stat(`${dir}/vocab.txt`);

    const r2 = await pretrainMaskedLm({ ...base, masking: "char" }, {
      ...quiet,
      segmenter: charSegmenter(),
    });
    assert.deepEqual(r2.train.stepLog.map((s) => s.loss), losses);
    r2.model.dispose();
    const r3 = await pretrainMaskedLm({ ...base, masking: "char", seed: 8 }, {
      ...quiet,
      segmenter: charSegmenter(),
    });
    assert.notDeepEqual(r3.train.stepLog.map((s) => s.loss), losses);
    r3.model.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("pretrain: whole-word masking with jieba runs and differs from per-token", async () => {
  const args = { ...base, max_train_steps: 3, validation_split_percentage: 0 };
  const w = await pretrainMaskedLm({ ...args, masking: "wwm" }, quiet);
  const c = await pretrainMaskedLm({ ...args, masking: "char" }, quiet);
  assert.equal(w.corpus.segmenter, "jieba");
  assert.notDeepEqual(w.train.stepLog.map((s) => s.loss), c.train.stepLog.map((s) => s.loss));
  w.model.dispose();
  c.model.dispose();
});

Deno.test("pretrain-mlm command: flags and errors before any work", async () => {
  const f = parseFlags(pretrainCmd.spec, [
    "--context_file",
    "x.json",
    "--masking",
    "char",
    "--max_train_steps",
    "5",
  ])!;
  assert.equal(f.masking, "char");
  assert.equal(f.mlm_probability, 0.15);
  assert.equal(f.model_type, "bert");
  // The schema's check (lib/args), run once when the flags become the run's arguments.
  const ctx = new URL("../data/sample/context.json", import.meta.url).pathname;
  const bad = parseFlags(pretrainCmd.spec, ["--context_file", ctx, "--masking", "span"])!;
  await assert.rejects(
    resolveFlags(bad, MLM_ARGS),
    (e) => e instanceof UsageError && /--masking must be one of wwm, char/.test(e.message),
  );
  assert.ok(!("validation_file" in pretrainCmd.spec.flags));
});
