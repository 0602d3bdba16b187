// Models used for answers are checked against their task first: config.json's architectures
// and the heads in the weight file's header (issue 22: swapped --mc_model / --qa_model ran on
// freshly initialised heads, or failed on an unrelated doc_stride check).
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  checkModelForTask,
  checkModelsForTasks,
  createFromConfig,
  inspectModelFolder,
  makeBertConfig,
  saveModel,
  type Task,
  taskOfFolder,
  WrongModelError,
} from "../lib/models/mod.ts";
import { trainMultipleChoice } from "../lib/pipeline/mod.ts";
import { BertTokenizer } from "../lib/tokenization/mod.ts";
import { ROOT, runDeno } from "./process_util.ts";

await tf.setBackend("cpu");

const S = `${ROOT}data/sample/`;
const FIX = `${ROOT}tests/fixtures/parity/`;
const root = await Deno.makeTempDir({ prefix: "models_task_check_" });

/** A tiny model folder of `task` with the sample tokenizer and a run's training_args.json. */
async function runFolder(task: Task, name: string): Promise<string> {
  const tok = await BertTokenizer.fromPretrained(S);
  const config = makeBertConfig({
    vocab_size: tok.vocabSize,
    hidden_size: 16,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    intermediate_size: 32,
    max_position_embeddings: 128,
  });
  const model = createFromConfig(config, task, 1);
  const dir = `${root}/${name}`;
  await saveModel(model, dir);
  model.dispose();
  await tok.save(dir);
  // As a run writes it; doc_stride == max_seq_length is what the swapped QA slot tripped on.
  await Deno.writeTextFile(
    `${dir}/training_args.json`,
    JSON.stringify({ max_seq_length: 128, doc_stride: 128 }),
  );
  return dir;
}

const mcDir = await runFolder("mc", "mc");
const qaDir = await runFolder("qa", "qa");
const mlmDir = await runFolder("mlm", "mlm");

Deno.test("inspectModelFolder: architectures and the heads present in the weights", async () => {
  const mc = await inspectModelFolder(mcDir);
  assert.deepEqual([mc.architectures, mc.heads, mc.tasks], [
    ["BertForMultipleChoice"],
    ["classifier"],
    ["mc"],
  ]);
  const qa = await inspectModelFolder(qaDir);
  assert.deepEqual([qa.heads, qa.tasks], [["qa_outputs"], ["qa"]]);
  // The parity fixture holds every head but says BertForMaskedLM.
  const fx = await inspectModelFolder(FIX);
  assert.deepEqual([fx.heads, fx.tasks], [["classifier", "qa_outputs", "cls.predictions"], [
    "mlm",
  ]]);
});

Deno.test("checkModelForTask: a folder of another task is refused with both names", async () => {
  assert.equal((await checkModelForTask(mcDir, "mc")).file, `${mcDir}/model.safetensors`);
  await checkModelForTask(qaDir, "qa");
  await assert.rejects(
    () => checkModelForTask(qaDir, "mc", { flag: "mc_model" }),
    (e: unknown) => {
      assert.ok(e instanceof WrongModelError);
      assert.equal(
        e.message,
        `--mc_model ${qaDir} holds BertForQuestionAnswering (qa_outputs), not a multiple-choice ` +
          "model (BertForMultipleChoice with classifier weights)",
      );
      return true;
    },
  );
  // A pretrained MLM (bert-base-chinese, a pretraining run) is not an answer model either.
  await assert.rejects(
    () => checkModelForTask(mlmDir, "qa"),
    new RegExp(
      `^WrongModelError: ${mlmDir} holds BertForMaskedLM \\(cls\\.predictions\\), not a ` +
        "question-answering model \\(BertForQuestionAnswering with qa_outputs weights\\)$",
    ),
  );
  // architectures wins over heads that happen to be in the file.
  await assert.rejects(
    () => checkModelForTask(FIX, "qa"),
    /holds BertForMaskedLM \(classifier, qa_outputs, cls\.predictions\), not a question-answering/,
  );
});

Deno.test("checkModelForTask: without architectures the head decides; a named class needs its head", async () => {
  const noArch = `${root}/noarch`;
  await Deno.mkdir(noArch);
  await Deno.copyFile(`${qaDir}/model.safetensors`, `${noArch}/model.safetensors`);
  const cfg = JSON.parse(await Deno.readTextFile(`${qaDir}/config.json`));
  delete cfg.architectures;
  await Deno.writeTextFile(`${noArch}/config.json`, JSON.stringify(cfg));
  await checkModelForTask(noArch, "qa");
  await assert.rejects(
    () => checkModelForTask(noArch, "mc"),
    /holds a model without architectures in config\.json \(qa_outputs\), not a multiple-choice/,
  );
  // The task a folder holds (export-onnx without --task): its one head, else what it names.
  assert.equal(taskOfFolder(await inspectModelFolder(noArch)), "qa");
  assert.equal(taskOfFolder(await inspectModelFolder(mcDir)), "mc");
  const all = await inspectModelFolder(FIX); // every head, architectures BertForMaskedLM
  assert.equal(taskOfFolder(all), "mlm");
  assert.throws(
    () =>
      taskOfFolder(
        // The fixture without architectures: every head's task is its.
        { ...all, architectures: [], tasks: ["mc", "qa", "mlm"] },
        "--model_name_or_path x",
        "; pass --task",
      ),
    /^WrongModelError: --model_name_or_path x holds a model without architectures .*\(classifier, qa_outputs, cls\.predictions\), not one model of .*; pass --task$/,
  );
  // config.json names BertForMultipleChoice but the weights are the QA model's.
  cfg.architectures = ["BertForMultipleChoice"];
  await Deno.writeTextFile(`${noArch}/config.json`, JSON.stringify(cfg));
  await assert.rejects(
    () => checkModelForTask(noArch, "mc"),
    new RegExp(
      `^WrongModelError: ${noArch}: config\\.json says BertForMultipleChoice but ` +
        `${noArch}/model\\.safetensors has no classifier weights, so it is not a trained ` +
        "multiple-choice model$",
    ),
  );
  // A broken folder keeps its own error (not a task mismatch).
  await Deno.writeTextFile(`${noArch}/config.json`, "{");
  await assert.rejects(
    () => checkModelForTask(noArch, "mc"),
    (e: unknown) => !(e instanceof WrongModelError) && /invalid JSON/.test(String(e)),
  );
});

Deno.test("checkModelsForTasks: both mismatches in one error, and swapped folders said so", async () => {
  await checkModelsForTasks([
    { dir: mcDir, task: "mc", flag: "mc_model" },
    { dir: qaDir, task: "qa", flag: "qa_model" },
  ]);
  await assert.rejects(
    () =>
      checkModelsForTasks([
        { dir: qaDir, task: "mc", flag: "mc_model" },
        { dir: mcDir, task: "qa", flag: "qa_model" },
      ]),
    (e: unknown) => {
      assert.ok(e instanceof WrongModelError);
      assert.equal(
        e.message,
        `--mc_model ${qaDir} holds BertForQuestionAnswering (qa_outputs), not a multiple-choice ` +
          `model (BertForMultipleChoice with classifier weights); --qa_model ${mcDir} holds ` +
          "BertForMultipleChoice (classifier), not a question-answering model " +
          "(BertForQuestionAnswering with qa_outputs weights); --mc_model and --qa_model look " +
          "swapped",
      );
      return true;
    },
  );
});

/** The swapped-model error of a pipeline command's stderr (exit 2, before any settings). */
function assertSwappedRefused(r: { code: number; stderr: string }) {
  assert.equal(r.code, 2, r.stderr);
  const err = r.stderr.split("\n").filter((l) => l.startsWith("error: "));
  assert.equal(err.length, 1, r.stderr);
  assert.match(
    err[0],
    /^error: --mc_model \S+\/qa holds BertForQuestionAnswering \(qa_outputs\), not a multiple-choice model \(BertForMultipleChoice with classifier weights\); --qa_model \S+\/mc holds BertForMultipleChoice \(classifier\), not a question-answering model .*; --mc_model and --qa_model look swapped$/,
  );
  // Refused before any check that reads the runs' own training arguments, and before loading.
  assert.doesNotMatch(r.stderr, /doc_stride|settings:|newly initialized|were not used/);
}

Deno.test("predict / evaluate with --mc_model and --qa_model swapped: exit 2, both names (also with --doc_stride 32)", async () => {
  const csv = `${root}/prediction.csv`;
  const common = ["--context_file", `${S}context.json`, "--mc_model", qaDir, "--qa_model", mcDir];
  for (const extra of [[], ["--doc_stride", "32"]]) {
    assertSwappedRefused(
      await runDeno([
        "run",
        "-A",
        "cli.ts",
        "predict",
        "--test_file",
        `${S}test.json`,
        ...common,
        "--prediction_csv",
        csv,
        ...extra,
      ]),
    );
    await assert.rejects(() => Deno.stat(csv), Deno.errors.NotFound, "nothing written");
    assertSwappedRefused(
      await runDeno([
        "run",
        "-A",
        "cli.ts",
        "evaluate",
        "--validation_file",
        `${S}valid.json`,
        ...common,
        ...extra,
      ]),
    );
  }
});

Deno.test("fine-tuning from a checkpoint with another head stays allowed, with one line naming the new head", async () => {
  const logs: string[] = [];
  const r = await trainMultipleChoice({
    train_file: `${S}train.json`,
    context_file: `${S}context.json`,
    model_name_or_path: mlmDir,
    max_seq_length: 64,
    per_device_train_batch_size: 4,
    max_train_samples: 4,
    max_train_steps: 1,
    seed: 1,
  }, { log: (m) => logs.push(m), progress: "none" });
  r.model.dispose();
  const warnings = logs.filter((l) => /newly initialized|not used/.test(l));
  assert.equal(warnings.length, 1, logs.join("\n"));
  assert.ok(!warnings[0].includes("\n"));
  assert.match(
    warnings[0],
    /^Some weights of BertForMultipleChoice were not initialized from the model checkpoint at .*\/mlm and are newly initialized: .* \(new: classifier head and pooler; .*\); not used from the checkpoint: cls\.predictions\.\* \(5 tensors\)$/,
  );
  assert.equal(r.train.completedSteps, 1);
});

Deno.test("cleanup", async () => {
  await Deno.remove(root, { recursive: true });
});
