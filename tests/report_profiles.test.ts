/**
 * Study profiles (lib/report/profiles.ts), the train-or-reuse rule (lib/report/reuse.ts,
 * study_runs.ts) with a real tiny training run, and the generated Q2/Q4 texts
 * (lib/report/q2_*.ts, q4_comparison.ts).
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { MC_DEFAULTS, MLM_DEFAULTS, QA_DEFAULTS } from "../lib/pipeline/mod.ts";
import {
  conclusionBlock,
  filledArgs,
  getProfile,
  getVariant,
  lossOptimizerBlocks,
  PROFILES,
  reuseMismatch,
  runDir,
  type ScratchComparison,
  type StudyRun,
  trainOrReuse,
  type VariantRuns,
} from "../lib/report/mod.ts";
import type { TrainingLog } from "../lib/plotting/mod.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { existsSync } from "../lib/util/fs.ts";
import { loadRunModel } from "../lib/report/run_models.ts";

/** Flag names of run_swag/run_qa/run_mlm_no_trainer.py that a profile may set. */
const HF_FLAGS = new Set([
  ...Object.keys(QA_DEFAULTS),
  ...Object.keys(MLM_DEFAULTS),
  "max_train_steps",
  "max_grad_norm",
  "checkpointing_steps",
  "max_train_samples",
  "max_eval_samples",
  "tokenizer_name",
  "config_name",
  "config_overrides",
  "gradient_checkpointing",
  "eval_steps", // TrainingArguments' name; the no_trainer scripts evaluate per epoch only
]);

Deno.test("profiles: every profile has two variants, HF flag names and existing sample data", () => {
  for (const name of PROFILES) {
    const p = getProfile(name);
    assert.equal(p.name, name);
    assert.equal(p.variants.length, 2, `${name}: two Q2 variants`);
    assert.equal(new Set(p.variants.map((v) => v.id)).size, 2, `${name}: distinct ids`);
    for (const v of p.variants) {
      assert.match(v.id, /^[\w.-]+$/);
      assert.ok((v.modelDir === undefined) !== (v.pretrain === undefined), `${v.id}: one source`);
      for (const k of Object.keys(v.pretrain?.args ?? {})) {
        assert.ok(HF_FLAGS.has(k), `${name}/${v.id}: pretraining flag ${k} is not an HF name`);
      }
    }
    for (const [task, args] of [["mc", p.mc], ["qa", p.qa]] as const) {
      for (const k of Object.keys(args)) {
        assert.ok(HF_FLAGS.has(k), `${name}/${task}: ${k} is not an HF flag name`);
      }
      assert.equal(typeof args.max_seq_length, "number", `${name}/${task}: max_seq_length`);
    }
    assert.ok(p.variants.some((v) => v.id === p.q4.variant), `${name}: q4 variant exists`);
    assert.ok(Number(p.qa.doc_stride) < Number(p.qa.max_seq_length), `${name}: doc_stride`);
    if (name !== "full") {
      for (const f of [p.data.context_file, p.data.train_file, p.data.validation_file]) {
        assert.ok(existsSync(f), `${name}: ${f} exists`);
      }
      assert.ok(p.variants.every((v) => v.pretrain), `${name}: variants pretrained in-project`);
      assert.deepEqual(p.variants.map((v) => v.pretrain!.masking).sort(), ["char", "wwm"]);
    }
  }
});

Deno.test("profiles: full uses the study's arguments and env-overridable paths", () => {
  const p = getProfile("full");
  assert.equal(p.mc.per_device_train_batch_size, 2);
  assert.equal(p.mc.gradient_accumulation_steps, 4);
  assert.equal(p.mc.num_train_epochs, 1);
  assert.equal(p.mc.learning_rate, 3e-5);
  assert.equal(p.qa.per_device_train_batch_size, 4);
  assert.equal(p.qa.gradient_accumulation_steps, 2);
  assert.equal(p.qa.num_train_epochs, 2);
  assert.equal(p.qa.learning_rate, 3e-5);
  assert.equal(p.qa.max_seq_length, 384);
  assert.equal(p.qa.doc_stride, 128);
  assert.deepEqual(p.variants.map((v) => v.analogueOf), [
    "bert-base-chinese",
    "hfl/chinese-roberta-wwm-ext",
  ]);
  const saved = ["ADL_DATA_DIR", "BERT_BASE_CHINESE_DIR", "ROBERTA_WWM_EXT_DIR"].map((
    k,
  ) => [k, Deno.env.get(k)] as const);
  try {
    Deno.env.set("ADL_DATA_DIR", "/data/adl-hw2");
    Deno.env.set("BERT_BASE_CHINESE_DIR", "/models/bbc");
    Deno.env.set("ROBERTA_WWM_EXT_DIR", "relative/roberta");
    const q = getProfile("full");
    assert.equal(q.data.context_file, "/data/adl-hw2/context.json");
    assert.equal(q.data.test_file, "/data/adl-hw2/test.json");
    assert.equal(q.variants[0].modelDir, "/models/bbc");
    assert.ok(q.variants[1].modelDir!.endsWith("/relative/roberta"));
    assert.ok(q.variants[1].modelDir!.startsWith("/"), "relative paths are made absolute");
  } finally {
    for (const [k, v] of saved) v === undefined ? Deno.env.delete(k) : Deno.env.set(k, v);
  }
  assert.equal(
    runDir("/o", p, "bert-base-chinese", "qa"),
    "/o/runs/full/bert-base-chinese/qa",
  );
  assert.throws(() => getVariant(p, "nope"), /no variant "nope".*bert-base-chinese/);
});

Deno.test("trainOrReuse: trains, reuses an identical finished run, retrains on any change", async () => {
  await initBackend({ quiet: true });
  const out = await Deno.makeTempDir({ prefix: "report-reuse-" });
  const before = tf.memory().numTensors;
  try {
    const p = getProfile("smoke");
    const args = {
      train_file: p.data.train_file,
      validation_file: p.data.validation_file,
      context_file: p.data.context_file,
      tokenizer_name: p.data.dir,
      config_overrides:
        "hidden_size=16,num_hidden_layers=1,num_attention_heads=2,intermediate_size=32,max_position_embeddings=64",
      max_seq_length: 48,
      per_device_train_batch_size: 4,
      max_train_steps: 1,
      max_train_samples: 4,
      max_eval_samples: 4,
    };
    const dir = `${out}/mc`;
    const opts = { outputDir: out, seed: 7, log: () => {}, progress: "none" as const };
    const first = await trainOrReuse("mc", "v", "V", dir, args, opts);
    assert.equal(first.reused, false);
    assert.equal(first.steps, 1);
    assert.equal(first.args.seed, 7);
    assert.equal(first.args.learning_rate, MC_DEFAULTS.learning_rate, "defaults filled in");
    assert.deepEqual(first.args, filledArgs("mc", { ...args, output_dir: dir, seed: 7 }));
    assert.ok(typeof first.results.eval_accuracy === "number");
    const weights = await Deno.readFile(`${dir}/model.safetensors`);

    const second = await trainOrReuse("mc", "v", "V", dir, args, opts);
    assert.equal(second.reused, true);
    assert.deepEqual(second.results, first.results);
    assert.deepEqual(await Deno.readFile(`${dir}/model.safetensors`), weights, "not retrained");

    // Another seed or argument: the reason names it, and the run is trained again.
    const why = await reuseMismatch("mc", dir, { ...args, output_dir: dir, seed: 8 });
    assert.match(why!, /seed 7 -> 8/);
    const third = await trainOrReuse("mc", "v", "V", dir, { ...args, learning_rate: 1e-3 }, opts);
    assert.equal(third.reused, false);
    assert.equal(third.args.learning_rate, 1e-3);

    // A run that never finished (no all_results.json) is not reused.
    await Deno.remove(`${dir}/all_results.json`);
    assert.match(
      (await reuseMismatch("mc", dir, { ...args, learning_rate: 1e-3, output_dir: dir, seed: 7 }))!,
      /no all_results\.json/,
    );
  } finally {
    await Deno.remove(out, { recursive: true });
  }
  assert.equal(tf.memory().numTensors, before, "no tensors leak");
});

function fakeRun(task: "mc" | "qa" | "pretrain", over: Partial<StudyRun> = {}): StudyRun {
  return {
    task,
    variant: "a",
    label: "A",
    dir: `/x/${task}`,
    args: {
      learning_rate: 3e-5,
      weight_decay: 0.01,
      lr_scheduler_type: "linear",
      num_warmup_steps: 5,
      per_device_train_batch_size: 2,
      gradient_accumulation_steps: 4,
      num_train_epochs: 1,
      seed: 42,
      masking: "wwm",
      mlm_probability: 0.15,
    },
    results: {},
    reused: false,
    steps: 125,
    trainSeconds: 10,
    epochsRun: 1,
    config: {
      num_hidden_layers: 2,
      hidden_size: 128,
    } as unknown as StudyRun["config"],
    numParameters: 1000,
    pretrained: true,
    ...over,
  };
}

Deno.test("lossOptimizerBlocks: text follows the runs' arguments and AdamW's settings", () => {
  const runs: VariantRuns = {
    variant: "a",
    label: "A",
    analogueOf: "x",
    mc: fakeRun("mc"),
    qa: fakeRun("qa", { args: { ...fakeRun("qa").args, max_grad_norm: 1, weight_decay: 0 } }),
    pretrain: fakeRun("pretrain", {
      args: { ...fakeRun("pretrain").args, num_train_epochs: 3 },
      epochsRun: 0.43,
    }),
  };
  const [b] = lossOptimizerBlocks(runs, 4);
  assert.equal(b.kind, "markdown");
  const text = (b as { text: string }).text;
  assert.match(text, /cross-entropy over the 4 candidate paragraphs/);
  assert.match(text, /\(CE\(start\) \+ CE\(end\)\) \/ 2/);
  assert.match(text, /β1 0\.9, β2 0\.999, ε 1e-8, decoupled weight decay 0\.01/);
  assert.match(text, /weight decay 0 on all weights/);
  assert.match(text, /warm-up from 0 over 5 updates, then linear decay from 0\.00003 to 0/);
  assert.match(text, /micro-batches of 2 with 4-step gradient accumulation \(one update per 8/);
  assert.match(text, /clipped to global norm 1/);
  assert.match(text, /whole jieba words/);
  // Epochs as run: pretraining stopped by max_train_steps after 0.43 of its 3 planned epochs.
  assert.match(text, /125 updates, 1 epoch\./);
  assert.match(text, /125 updates, 0\.43 epochs run \(num_train_epochs 3; max_train_steps/);
});

Deno.test("conclusionBlock: numbers and direction come from the results", () => {
  const log = (losses: number[], em: number): TrainingLog => ({
    steps: losses.map((loss, i) => ({ step: i + 1, epoch: 0, loss, running_exact_match: em })),
    evals: [],
  });
  const pre = fakeRun("qa", {
    results: { eval_exact_match: 61.25, eval_f1: 70, eval_loss: 1.2 },
  });
  const scr = fakeRun("qa", {
    variant: "scratch",
    pretrained: false,
    results: { eval_exact_match: 20.5, eval_f1: 30, eval_loss: 3 },
  });
  const c: ScratchComparison = { task: "qa", pretrained: pre, scratch: scr };
  const text = (conclusionBlock(c, { pretrained: log([2, 1], 0.5), scratch: log([4, 3], 0.1) }) as {
    text: string;
  }).text;
  assert.match(
    text,
    /validation EM \(end of training, all validation questions\) is 61\.25 against 20\.5 from scratch: 40\.75 points higher/,
  );
  assert.match(text, /lower \(1\.5 vs 3\.5\)/);
  assert.match(text, /125 updates, learning rate 0\.00003, seed 42/);
  assert.match(text, /differ only in where the weights come from/);
  const flipped = (conclusionBlock({ task: "qa", pretrained: scr, scratch: pre }, {
    pretrained: log([4], 0),
    scratch: log([1], 0),
  }) as { text: string }).text;
  assert.match(flipped, /40\.75 points lower/);
});

Deno.test("loadRunModel: a run loads only as its own head, checked before anything is read", async () => {
  // The directories do not exist: the task check comes first.
  await assert.rejects(
    loadRunModel(fakeRun("qa"), "mc"),
    /\/x\/qa: the mc stage needs a mc run, not a qa run/,
  );
  await assert.rejects(
    loadRunModel(fakeRun("pretrain"), "qa"),
    /a pretraining run has no task head/,
  );
});
