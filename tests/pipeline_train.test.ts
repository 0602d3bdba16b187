// Task runners and commands on the sample data with a tiny from-scratch BERT: output layout,
// kill-and-resume through the real model (dropout on), flag errors before any work, and
// predict / evaluate end to end through the command modules.
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { parseFlags, UsageError } from "../lib/cli/args.ts";
import * as trainMcCmd from "../lib/cli/train_mc.ts";
import * as trainQaCmd from "../lib/cli/train_qa.ts";
import { resolveFlags } from "../lib/cli/train_flags.ts";
import { QA_ARGS } from "../lib/args/mod.ts";
import * as predictCmd from "../lib/cli/predict.ts";
import * as evaluateCmd from "../lib/cli/evaluate.ts";
import { loadPretrained } from "../lib/models/mod.ts";
import { readPredictionCsv } from "../lib/features/mod.ts";
import {
  type QaTrainArgs,
  trainMultipleChoice,
  trainQuestionAnswering,
} from "../lib/pipeline/mod.ts";
import { OutOfMemoryError, readCheckpointMeta, readJsonl } from "../lib/training/mod.ts";

await tf.setBackend("cpu");

const S = new URL("../data/sample/", import.meta.url).pathname;
const TINY = "num_hidden_layers=1,hidden_size=32,num_attention_heads=2,intermediate_size=64," +
  "max_position_embeddings=128";
const quiet = { log: () => {}, progress: "none" as const };

async function weightsOf(vars: Map<string, tf.Variable>) {
  const out = new Map<string, Float32Array>();
  for (const [k, v] of vars) out.set(k, (await v.data()) as Float32Array);
  return out;
}

function maxDiff(a: Map<string, Float32Array>, b: Map<string, Float32Array>): number {
  let d = 0;
  for (const [k, x] of a) {
    const y = b.get(k)!;
    for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i] - y[i]));
  }
  return d;
}

const root = await Deno.makeTempDir({ prefix: "pipeline_train_" });
const mcDir = `${root}/mc`;
const qaDir = `${root}/qa`;

Deno.test("train-mc runner writes a Hugging Face model folder, logs and best/", async () => {
  const r = await trainMultipleChoice({
    train_file: `${S}train.json`,
    validation_file: `${S}valid.json`,
    context_file: `${S}context.json`,
    tokenizer_name: S,
    config_overrides: TINY,
    max_seq_length: 64,
    per_device_train_batch_size: 4,
    per_device_eval_batch_size: 8,
    gradient_accumulation_steps: 2,
    max_train_samples: 24,
    max_eval_samples: 12,
    num_train_epochs: 2,
    learning_rate: 1e-3,
    output_dir: mcDir,
  }, quiet);
  try {
    assert.equal(r.train.completedSteps, 6); // 6 micro-batches -> 3 updates per epoch
    for (const f of ["config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json"]) {
      await Deno.stat(`${mcDir}/${f}`);
      await Deno.stat(`${mcDir}/best/${f}`);
    }
    const cfg = JSON.parse(await Deno.readTextFile(`${mcDir}/config.json`));
    assert.deepEqual(cfg.architectures, ["BertForMultipleChoice"]);
    assert.equal(cfg.hidden_size, 32);
    const targs = JSON.parse(await Deno.readTextFile(`${mcDir}/training_args.json`));
    assert.equal(targs.max_seq_length, 64);
    const results = JSON.parse(await Deno.readTextFile(`${mcDir}/all_results.json`));
    assert.equal(results.eval_accuracy, r.eval.accuracy);
    // Percent of the 12 validation questions: a multiple of 100 / 12, never above 100.
    assert.ok(results.eval_accuracy >= 0 && results.eval_accuracy <= 100, results.eval_accuracy);
    const k = results.eval_accuracy / (100 / 12);
    assert.ok(Math.abs(k - Math.round(k)) < 1e-9, `eval_accuracy ${results.eval_accuracy}`);
    const steps = await readJsonl(`${mcDir}/train_log.jsonl`);
    assert.equal(steps.length, 6);
    assert.ok(steps.every((s) => Number.isFinite(s.loss) && "accuracy" in s));
    assert.equal((await readJsonl(`${mcDir}/eval_log.jsonl`)).length, 2);
    // The saved final model is the trained one.
    const back = await loadPretrained(mcDir, "mc", { log: () => {} });
    assert.equal(maxDiff(await weightsOf(r.model.variables), await weightsOf(back.variables)), 0);
    back.dispose();
  } finally {
    r.model.dispose();
  }
});

Deno.test("train-qa runner: a killed run resumed from its checkpoint matches a straight run", async () => {
  const base: QaTrainArgs = {
    train_file: `${S}train.json`,
    validation_file: `${S}valid.json`,
    context_file: `${S}context.json`,
    tokenizer_name: S,
    config_overrides: TINY,
    max_seq_length: 64,
    doc_stride: 16,
    per_device_train_batch_size: 8,
    max_train_samples: 12,
    max_eval_samples: 6,
    max_train_steps: 4,
    learning_rate: 1e-3,
    num_warmup_steps: 1,
    weight_decay: 0.01,
    checkpointing_steps: 2,
  };
  const counts: number[] = [];
  const straight = await trainQuestionAnswering({ ...base, output_dir: qaDir }, {
    ...quiet,
    onStep: () => {
      counts.push(tf.memory().numTensors);
    },
  });
  // Tensor count flat across updates (the first creates the optimizer moments).
  assert.equal(counts.length, 4);
  assert.ok(counts.slice(1).every((c) => c === counts[1]), `tensor counts ${counts}`);
  const killedDir = `${root}/qa_killed`;
  await assert.rejects(
    trainQuestionAnswering({ ...base, output_dir: killedDir }, {
      ...quiet,
      onStep: (rec) => {
        if (rec.step === 3) throw new Error("killed");
      },
    }),
    /killed/,
  );
  const meta = await readCheckpointMeta(`${killedDir}/step_2`);
  assert.equal(meta.state.completedSteps, 2);
  const resumed = await trainQuestionAnswering({
    ...base,
    output_dir: killedDir,
    resume_from_checkpoint: `${killedDir}/step_2`,
  }, quiet);
  try {
    assert.equal(resumed.train.completedSteps, 4);
    const d = maxDiff(
      await weightsOf(straight.model.variables),
      await weightsOf(resumed.model.variables),
    );
    assert.ok(d <= 1e-7, `max weight difference after resume ${d}`);
    assert.deepEqual(
      resumed.train.stepLog.map((s) => s.loss),
      straight.train.stepLog.map((s) => s.loss),
    );
    assert.ok(straight.train.stepLog.every((s) => "exact_match" in s));
    assert.deepEqual(Object.keys(straight.eval).sort(), ["eval_loss", "exact_match", "f1"]);
  } finally {
    straight.model.dispose();
    resumed.model.dispose();
  }
});

Deno.test("train-qa: a run that cannot fit stops before its first update (exit 1, plan shown); resume works after", async () => {
  const dir = `${root}/qa_oom`;
  const args: QaTrainArgs = {
    train_file: `${S}train.json`,
    context_file: `${S}context.json`,
    tokenizer_name: S,
    config_overrides: TINY,
    max_seq_length: 64,
    doc_stride: 16,
    per_device_train_batch_size: 4,
    max_train_samples: 8,
    max_train_steps: 2,
    checkpointing_steps: 1,
    output_dir: dir,
  };
  await assert.rejects(
    trainQuestionAnswering(args, {
      ...quiet,
      onStep: (r) => {
        if (r.step === 1) throw new Error("killed");
      },
    }),
    /killed/,
  );
  const saved = await Deno.readFile(`${dir}/step_1/model.safetensors`);
  const logged: string[] = [];
  Deno.env.set("TFJS_MEMORY_LIMIT", "100KB");
  try {
    await assert.rejects(
      trainQuestionAnswering({ ...args, resume_from_checkpoint: "latest" }, {
        ...quiet,
        log: (m) => logged.push(m),
      }),
      (e) =>
        e instanceof OutOfMemoryError && /stopped before the first update/.test(e.message) &&
        /--gradient_checkpointing/.test(e.message),
    );
    // The command: exit code 1, the plan and the advice, no stack trace.
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "cli.ts",
        "train-qa",
        ...Object.entries({ ...args, output_dir: `${root}/qa_oom_cli` })
          .flatMap(([k, v]) => [`--${k}`, String(v)]),
        "--progress",
        "none",
      ],
      cwd: new URL("..", import.meta.url).pathname,
      stdout: "piped",
      stderr: "piped",
      env: { TFJS_MEMORY_LIMIT: "100KB" },
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 1, stderr);
    assert.match(stdout, /memory plan \(training, [a-z]+\): .*does not fit even at batch 1/);
    assert.match(stderr, /^error: does not fit in memory: .*stopped before the first update/m);
    assert.ok(!/^\s+at /m.test(stderr), `no stack trace: ${stderr}`);
  } finally {
    Deno.env.delete("TFJS_MEMORY_LIMIT");
  }
  assert.ok(logged.some((m) => m.startsWith("memory plan (training, cpu):")), logged.join("\n"));
  assert.deepEqual(await Deno.readFile(`${dir}/step_1/model.safetensors`), saved);
  const r = await trainQuestionAnswering({ ...args, resume_from_checkpoint: "latest" }, quiet);
  try {
    assert.equal(r.train.completedSteps, 2);
    const results = JSON.parse(await Deno.readTextFile(`${dir}/all_results.json`));
    assert.equal(results.memory_plan_micro_batch, 4);
    assert.ok(Object.values(results).every((v) => typeof v === "number"));
    const plan = JSON.parse(await Deno.readTextFile(`${dir}/memory_plan.json`));
    assert.equal(plan.microBatch, 4);
    assert.match(plan.summary, /^memory plan /);
  } finally {
    r.model.dispose();
  }
});

Deno.test("training commands refuse bad flags and values before any work", async () => {
  const must = async (argv: string[], re: RegExp) => {
    let err: unknown = null;
    try {
      const flags = parseFlags(trainQaCmd.spec, argv, () => {});
      if (flags) await trainQaCmd.run(flags);
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof UsageError, `${argv.join(" ")}: ${err}`);
    assert.match((err as Error).message, re);
  };
  const ok = ["--train_file", `${S}train.json`, "--context_file", `${S}context.json`];
  await must([...ok, "--learning_rat", "1"], /unknown flag --learning_rat/);
  await must([...ok, "--per_device_train_batch_size", "two"], /expects an integer/);
  await must([...ok, "--lr_scheduler_type", "poly"], /must be one of linear/);
  await must(
    [...ok, "--tokenizer_name", S, "--checkpointing_steps", "often"],
    /'epoch' or a positive/,
  );
  // Without --output_dir a training command saves under outputs/runs/ (checkpoints too).
  const noDir = parseFlags(trainQaCmd.spec, [
    ...ok,
    "--tokenizer_name",
    S,
    "--checkpointing_steps",
    "3",
  ])!;
  const resolved = await resolveFlags(noDir, QA_ARGS, () => {});
  assert.match(resolved.output_dir!, /\/outputs\/runs\/train-qa-\d{8}-\d{6}$/);
  assert.equal(resolved.checkpointing_steps, 3);
  await must(
    ["--train_file", `${S}nope.json`, "--context_file", `${S}context.json`],
    /nope.json: not found/,
  );
  await must(ok, /needs --tokenizer_name/);
  await must([...ok, "--tokenizer_name", S, "--doc_stride", "400"], /must be smaller than/);
  await must(
    [...ok, "--model_name_or_path", S, "--config_overrides", "hidden_size=8"],
    /only applies when training from scratch/,
  );
  // --help prints every flag with its default and does no work.
  let help = "";
  assert.equal(parseFlags(trainMcCmd.spec, ["--help"], (s) => (help = s)), null);
  for (const flag of Object.keys(trainMcCmd.spec.flags)) {
    assert.ok(help.includes(`--${flag}`), flag);
  }
  // One entry per flag (its help may wrap onto the following lines).
  const entry = (flag: string) =>
    help.split(/\n(?= {2}--)/).find((e) => e.trimStart().startsWith(`--${flag} `))!
      .replace(/\s+/g, " ");
  assert.match(entry("max_seq_length"), /<int> .*\(default: 128\)$/);
  assert.match(entry("max_train_steps"), /<int> .*\(default: none\)$/);
});

Deno.test("predict and evaluate commands: one CSV row per id in order; three numbers side by side", async () => {
  // 15 test questions in a shuffled order, in a temporary file.
  const test = JSON.parse(await Deno.readTextFile(`${S}test.json`)).slice(0, 15).reverse();
  const valid = JSON.parse(await Deno.readTextFile(`${S}valid.json`)).slice(0, 10);
  await Deno.writeTextFile(`${root}/test.json`, JSON.stringify(test));
  await Deno.writeTextFile(`${root}/valid.json`, JSON.stringify(valid));
  const out: string[] = [];
  const origLog = console.log;
  const origErr = console.error;
  const origWarn = console.warn;
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = () => {};
  console.warn = () => {};
  try {
    const models = ["--context_file", `${S}context.json`, "--mc_model", mcDir, "--qa_model", qaDir];
    const pf = parseFlags(predictCmd.spec, [
      "--test_file",
      `${root}/test.json`,
      ...models,
      "--prediction_csv",
      `${root}/prediction.csv`,
    ])!;
    await predictCmd.run(pf);
    const rows = await readPredictionCsv(`${root}/prediction.csv`);
    assert.deepEqual(rows.map((r) => r.id), test.map((t: { id: string }) => t.id));

    const ef = parseFlags(evaluateCmd.spec, [
      "--validation_file",
      `${root}/valid.json`,
      ...models,
      "--prediction_csv",
      `${root}/valid_pred.csv`,
      "--output_json",
      `${root}/eval.json`,
    ])!;
    await evaluateCmd.run(ef);
    const m = JSON.parse(await Deno.readTextFile(`${root}/eval.json`));
    assert.equal(m.n, 10);
    // Percent (0–100), the project's one scale for accuracy.
    assert.ok(m.mc.accuracy >= 0 && m.mc.accuracy <= 100);
    assert.ok(Number.isInteger(m.mc.accuracy * 10) || m.mc.accuracy > 1);
    assert.ok("exact_match" in m.qaGoldParagraph && "exact_match" in m.endToEnd);
    assert.deepEqual(m.endToEndFromCsv, m.endToEnd);
    assert.equal(m.inconsistent, 0);
    const text = out.join("\n");
    assert.match(text, /MC accuracy/);
    assert.match(text, /gold paragraph/);
    assert.match(text, /End-to-end EM/);
  } finally {
    console.log = origLog;
    console.error = origErr;
    console.warn = origWarn;
  }
});

Deno.test("cleanup", async () => {
  await Deno.remove(root, { recursive: true });
});
