// The typed argument schema (lib/args): each default and bound written once, the one check per
// command (counted), flag tables without rules, the loop's camelCase arguments, the reuse rule's
// identity keys, and pretraining on the shared path with the memory plan's micro-batch split.
import assert from "node:assert/strict";
import {
  ANSWER_ARGS,
  argChecks,
  type ArgSchema,
  type ArgSpec,
  camelCase,
  INFERENCE_ARGS,
  inferenceSettings,
  loopArgs,
  MC_ARGS,
  MLM_ARGS,
  QA_ARGS,
  resolveArgs,
  resolveLoopArgs,
  resolveSettings,
} from "../lib/args/mod.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { parseFlags } from "../lib/cli/args.ts";
import * as trainQaCmd from "../lib/cli/train_qa.ts";
import * as pretrainCmd from "../lib/cli/pretrain_mlm.ts";
import * as askCmd from "../lib/cli/ask.ts";
import * as serveCmd from "../lib/cli/serve.ts";
import * as predictCmd from "../lib/cli/predict.ts";
import { loadAnswerer } from "../lib/cli/answer_flags.ts";
import { makeModelDirs } from "./answer_util.ts";
import { pretrainMaskedLm, trainQuestionAnswering } from "../lib/pipeline/mod.ts";
import { filledArgs, reuseMismatch } from "../lib/report/mod.ts";
import { type MemoryPlan, USABLE_FRACTION } from "../lib/training/mod.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const S = `${ROOT}data/sample/`;
const SCHEMAS: ArgSchema[] = [MC_ARGS, QA_ARGS, MLM_ARGS, INFERENCE_ARGS, ANSWER_ARGS];
const TINY = "num_hidden_layers=1,hidden_size=16,num_attention_heads=2,intermediate_size=32," +
  "max_position_embeddings=64,hidden_dropout_prob=0,attention_probs_dropout_prob=0";

/** Every .ts file under lib/ outside lib/args, with comments left out. */
async function libCode(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      const p = `${dir}/${e.name}`;
      if (e.isDirectory && p !== `${ROOT}lib/args`) await walk(p);
      else if (e.isFile && p.endsWith(".ts")) {
        const text = await Deno.readTextFile(p);
        out.set(
          p.slice(ROOT.length),
          text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, ""),
        );
      }
    }
  };
  await walk(`${ROOT}lib`);
  return out;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

Deno.test("schema: no default's literal is written again in lib/ outside the schema", async () => {
  const code = await libCode();
  // A profile's recipe chooses its values (some equal a default on purpose, to state the recipe).
  code.delete("lib/report/profiles.ts");
  const problems: string[] = [];
  for (const schema of SCHEMAS) {
    for (const [name, s] of Object.entries(schema.args)) {
      if (typeof s.default !== "number" && typeof s.default !== "string") continue;
      const lit = typeof s.default === "number"
        ? `(?:${escape(String(s.default))}|${escape(s.default.toExponential())})(?![\\w.])`
        : escape(JSON.stringify(s.default));
      // The argument's names: snake, camel, and the base of mc_/qa_ names (maxSeqLength).
      const base = name.replace(/^(mc|qa)_/, "");
      const names = [...new Set([name, camelCase(name), base, camelCase(base)])].map(escape);
      const n = `(?:${names.join("|")})`;
      const patterns = [
        new RegExp(`\\b${n}\\s*\\?\\?\\s*${lit}`), // opts.nBestSize ?? 20
        new RegExp(`\\b${n}\\s*(?::\\s*\\w+\\s*)?=\\s*${lit}`), // nBestSize = 20 (a parameter)
      ];
      // Distinctive values are also caught in a defaults table (`n_best_size: 20`) and as a bare
      // default (`?? 42`, `default: 42`); small ones (0, 1, 8, "bert") are too common there.
      if (typeof s.default === "number" && ![0, 1, 2, 3, 5, 8].includes(s.default)) {
        patterns.push(
          new RegExp(`\\b${n}\\s*:\\s*${lit}`),
          new RegExp(`\\?\\?\\s*${lit}`),
          new RegExp(`default:\\s*${lit}`),
        );
      }
      for (const [file, text] of code) {
        for (const re of patterns) {
          const m = text.match(re);
          if (m) problems.push(`${file}: ${m[0]} (${schema.command} --${name})`);
        }
      }
    }
  }
  assert.deepEqual([...new Set(problems)], []);
});

Deno.test("schema: every bound is the schema's: just outside fails with the flag's name, the bound passes", () => {
  const base: Record<string, Record<string, unknown>> = {
    "train-mc": { train_file: "t", context_file: "c", tokenizer_name: "v" },
    "train-qa": { train_file: "t", context_file: "c", tokenizer_name: "v" },
    "pretrain-mlm": { context_file: "c", tokenizer_name: "v" },
    "predict": {},
    "ask": {},
  };
  for (const schema of SCHEMAS) {
    for (const [name, s] of Object.entries(schema.args) as [string, ArgSpec][]) {
      const step = s.type === "int" ? 1 : 1e-9;
      const cases: [number, boolean][] = [];
      if (s.min !== undefined) cases.push([s.minExclusive ? s.min : s.min - step, false]);
      if (s.max !== undefined) cases.push([s.maxExclusive ? s.max : s.max + step, false]);
      if (s.min !== undefined && !s.minExclusive) cases.push([s.min, true]);
      for (const [v, ok] of cases) {
        // doc_stride's own rule wants it below the window; keep the window large.
        const a = {
          ...base[schema.command],
          ...(/max_seq_length/.test(name) && "doc_stride" in schema.args ? { doc_stride: 0 } : {}),
          [name]: v,
        };
        if (ok) resolveArgs(schema, a);
        else {
          assert.throws(
            () => resolveArgs(schema, a),
            new RegExp(`--${name} must be`),
            `${schema.command} --${name} ${v}`,
          );
        }
      }
    }
  }
  // The command line's flag tables carry no rule: their bounds and choices are the schema's.
  const tables: [
    { spec: { flags: Record<string, { min?: number; choices?: unknown }> } },
    string[]?,
  ][] = [
    [trainQaCmd],
    [pretrainCmd],
    [predictCmd, Object.keys(INFERENCE_ARGS.args)],
    [askCmd, Object.keys(ANSWER_ARGS.args)],
    [serveCmd, Object.keys(ANSWER_ARGS.args)],
  ];
  for (const [cmd, names] of tables) {
    for (const [name, f] of Object.entries(cmd.spec.flags)) {
      if (names && !names.includes(name)) continue;
      assert.equal(f.min, undefined, `--${name}: min`);
      if (name !== "progress") assert.equal(f.choices, undefined, `--${name}: choices`);
    }
  }
  // The report's rows are arguments of their schema.
  for (const schema of SCHEMAS) {
    for (const k of schema.reportKeys) assert.ok(k in schema.args, `${schema.command}: ${k}`);
  }
});

Deno.test("schema: errors name flags; unknown names and cross-argument rules; resolved args pass as they are", () => {
  const qa = { train_file: "t", context_file: "c", tokenizer_name: "v" };
  assert.throws(
    () => resolveArgs(QA_ARGS, { ...qa, learningRate: 1 }),
    /unknown argument --learningRate for 'train-qa'; did you mean --learning_rate\?/,
  );
  assert.throws(
    () => resolveArgs(QA_ARGS, { ...qa, doc_stride: 384 }),
    /--doc_stride 384 must be smaller than --max_seq_length 384/,
  );
  assert.throws(
    () => resolveArgs(QA_ARGS, { ...qa, checkpointing_steps: 2 }),
    /needs --output_dir/,
  );
  assert.throws(
    () => resolveArgs(QA_ARGS, { ...qa, checkpointing_steps: "often", output_dir: "o" }),
    /--checkpointing_steps must be 'epoch' or a positive integer/,
  );
  assert.throws(
    () => resolveArgs(MC_ARGS, { train_file: "t", context_file: "c" }),
    /--tokenizer_name/,
  );
  assert.throws(
    () => resolveArgs(MC_ARGS, { ...qa, lr_scheduler_type: "cosin" }),
    /did you mean cosine\?/,
  );
  assert.throws(
    () => resolveArgs(MC_ARGS, { context_file: "c", tokenizer_name: "v" }),
    /'train-mc' needs --train_file/,
  );
  const before = argChecks.count;
  const a = resolveArgs(QA_ARGS, { ...qa, checkpointing_steps: "3", output_dir: "o" });
  assert.equal(a.checkpointing_steps, 3, "saved as the number the run uses");
  assert.equal(resolveArgs(QA_ARGS, a), a);
  assert.equal(argChecks.count - before, 1);
  // The loop's arguments: every loop entry under its camelCase name, resolved.
  const l = loopArgs(a);
  assert.deepEqual(Object.keys(l).sort(), [
    "checkpointingSteps",
    "evalSteps",
    "gradientAccumulationSteps",
    "learningRate",
    "lrSchedulerType",
    "maxGradNorm",
    "maxTrainSteps",
    "numTrainEpochs",
    "numWarmupSteps",
    "outputDir",
    "perDeviceTrainBatchSize",
    "resumeFromCheckpoint",
    "seed",
    "weightDecay",
  ]);
  assert.equal(l.learningRate, QA_ARGS.args.learning_rate.default);
  assert.equal(resolveLoopArgs(l), l);
  assert.throws(
    () => resolveLoopArgs({ gradientAccumulationSteps: 0 }),
    /--gradient_accumulation_steps/,
  );
  // Inference: flag, else the model's training_args.json, else the default; checked once.
  const s = inferenceSettings({}, {}, { max_seq_length: 256 });
  assert.equal(s.qaMaxSeqLength, 256);
  assert.equal(s.mcMaxSeqLength, INFERENCE_ARGS.args.mc_max_seq_length.default);
  assert.equal(s.batchSize, INFERENCE_ARGS.args.per_device_eval_batch_size.default);
  assert.throws(
    () => inferenceSettings({ doc_stride: 300 }, {}, { max_seq_length: 256 }),
    /--doc_stride 300 must be smaller than --qa_max_seq_length 256/,
  );
  // The answering commands' settings are the inference entries (one default and bound each);
  // top_k is theirs alone.
  const inf = INFERENCE_ARGS.args;
  const ans = ANSWER_ARGS.args;
  assert.equal(ans.max_seq_length, inf.qa_max_seq_length);
  assert.equal(ans.mc_max_seq_length, inf.mc_max_seq_length);
  for (const k of ["doc_stride", "n_best_size", "max_answer_length"] as const) {
    assert.equal(ans[k], inf[k], k);
  }
  assert.equal(ans.top_k.default, 1);
  const r = resolveSettings(ANSWER_ARGS, { top_k: 2, qa_model: "ignored" }, {
    max_seq_length: 64,
  }, { max_seq_length: 256, n_best_size: 7 });
  assert.deepEqual(
    [r.args.max_seq_length, r.args.mc_max_seq_length, r.args.n_best_size, r.args.top_k],
    [256, 64, 7, 2],
  );
  assert.deepEqual(
    [r.sources.max_seq_length, r.sources.top_k, r.sources.doc_stride],
    ["training_args.json", "given", "default"],
  );
  assert.throws(
    () => resolveSettings(ANSWER_ARGS, {}, {}, { max_answer_length: 0 }),
    /--max_answer_length must be a positive integer, got 0 \(from training_args.json\)/,
  );
});

Deno.test("ask and serve check their settings once, after the models' heads", async () => {
  const dirs = await makeModelDirs();
  const before = argChecks.count;
  const answerer = await loadAnswerer(
    { qa_model: dirs.qa, mc_model: dirs.mc, doc_stride: 8, top_k: 2 },
    () => {},
  );
  try {
    assert.equal(argChecks.count - before, 1);
    assert.deepEqual([answerer.settings.doc_stride, answerer.settings.top_k], [8, 2]);
  } finally {
    answerer.dispose();
  }
});

Deno.test("reuse rule: run-identity arguments only (output_dir, checkpoints and resume are not the run)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "args_reuse_" });
  try {
    const args = { train_file: "t", context_file: "c", tokenizer_name: "v", output_dir: dir };
    const saved = filledArgs("qa", { ...args, resume_from_checkpoint: `${dir}/step_2` });
    await Deno.writeTextFile(`${dir}/training_args.json`, JSON.stringify(saved));
    await Deno.writeTextFile(`${dir}/all_results.json`, "{}");
    assert.equal(await reuseMismatch("qa", dir, args), null);
    assert.equal(await reuseMismatch("qa", dir, { ...args, checkpointing_steps: 1 }), null);
    assert.match(
      (await reuseMismatch("qa", dir, { ...args, learning_rate: 1e-3 }))!,
      /learning_rate 0.00005 -> 0.001/,
    );
    // A run saved before gradient_checkpointing had a default (false) is the same run.
    const { gradient_checkpointing: _, ...older } = saved;
    await Deno.writeTextFile(`${dir}/training_args.json`, JSON.stringify(older));
    assert.equal(await reuseMismatch("qa", dir, args), null);
    await Deno.writeTextFile(
      `${dir}/training_args.json`,
      JSON.stringify({ ...older, gradient_checkpointing: true }),
    );
    assert.match((await reuseMismatch("qa", dir, args))!, /gradient_checkpointing true -> false/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

await initBackend();

Deno.test("each command checks its arguments once (train-qa, pretrain-mlm through their CLI run)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "args_once_" });
  const log = console.log;
  console.log = () => {};
  try {
    const qa = parseFlags(trainQaCmd.spec, [
      ...["--train_file", `${S}train.json`, "--context_file", `${S}context.json`],
      ...["--tokenizer_name", S, "--config_overrides", TINY, "--max_seq_length", "48"],
      ...["--doc_stride", "16", "--max_train_samples", "4", "--max_train_steps", "1"],
      ...["--output_dir", `${dir}/qa`, "--progress", "none"],
    ])!;
    let before = argChecks.count;
    await trainQaCmd.run(qa);
    assert.equal(argChecks.count - before, 1, "train-qa");
    const mlm = parseFlags(pretrainCmd.spec, [
      ...["--context_file", `${S}context.json`, "--tokenizer_name", S, "--masking", "char"],
      ...["--config_overrides", TINY, "--max_seq_length", "32", "--max_train_samples", "8"],
      ...["--max_train_steps", "1", "--validation_split_percentage", "0"],
      ...["--output_dir", `${dir}/mlm`, "--progress", "none"],
    ])!;
    before = argChecks.count;
    await pretrainCmd.run(mlm);
    assert.equal(argChecks.count - before, 1, "pretrain-mlm");
    const saved = JSON.parse(await Deno.readTextFile(`${dir}/qa/training_args.json`));
    assert.equal(saved.learning_rate, QA_ARGS.args.learning_rate.default);
    assert.ok(!("progress" in saved), "the display flag is not a run argument");
  } finally {
    console.log = log;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("pretrain-mlm takes the shared path: a run over TFJS_MEMORY_LIMIT splits its micro-batch and says so in memory_plan.json", async () => {
  const dir = await Deno.makeTempDir({ prefix: "args_mlm_split_" });
  const args = {
    context_file: `${S}context.json`,
    tokenizer_name: S,
    config_overrides: TINY,
    masking: "char" as const,
    max_seq_length: 32,
    per_device_train_batch_size: 8,
    max_train_samples: 16,
    max_train_steps: 2,
    validation_split_percentage: 0,
    learning_rate: 1e-3,
    seed: 3,
  };
  const quiet = { progress: "none" as const, log: () => {} };
  try {
    const whole = await pretrainMaskedLm({ ...args, output_dir: `${dir}/whole` }, quiet);
    whole.model.dispose();
    const plan: MemoryPlan = JSON.parse(await Deno.readTextFile(`${dir}/whole/memory_plan.json`));
    assert.equal(plan.microBatch, 8);
    // A limit between the peak at batch 1 and the peak at batch 8.
    const fixed = plan.peakBytes - plan.activationBytesPerExample * 8;
    const limit = Math.round((fixed + plan.activationBytesPerExample * 4.5) / USABLE_FRACTION);
    Deno.env.set("TFJS_MEMORY_LIMIT", String(limit));
    const messages: string[] = [];
    let split: Awaited<ReturnType<typeof pretrainMaskedLm>>;
    try {
      split = await pretrainMaskedLm({ ...args, output_dir: `${dir}/split` }, {
        progress: "none",
        log: (m) => messages.push(m),
      });
    } finally {
      Deno.env.delete("TFJS_MEMORY_LIMIT");
    }
    split.model.dispose();
    const p2 = JSON.parse(await Deno.readTextFile(`${dir}/split/memory_plan.json`));
    assert.ok(p2.microBatch >= 1 && p2.microBatch < 8, `micro-batch ${p2.microBatch}`);
    assert.equal(p2.limitName, "TFJS_MEMORY_LIMIT");
    assert.match(p2.summary, /batch 8 needs .*, runs as \d+ × \d+/);
    assert.ok(
      messages.some((m) => /^batch 8 runs as \d+ × \d+ to fit TFJS_MEMORY_LIMIT$/.test(m)),
      messages.join("\n"),
    );
    const results = JSON.parse(await Deno.readTextFile(`${dir}/split/all_results.json`));
    assert.equal(results.memory_plan_micro_batch, p2.microBatch);
    // Same rows per update; each part draws its masks from its own rows (as dropout draws per
    // part), so the losses are close, not equal.
    for (let i = 0; i < 2; i++) {
      const [u, v] = [whole.train.stepLog[i].loss as number, split.train.stepLog[i].loss as number];
      assert.equal(whole.train.stepLog[i].examples, split.train.stepLog[i].examples);
      assert.ok(Math.abs(u - v) <= 0.01 * Math.abs(u), `update ${i + 1}: ${u} vs ${v}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the pipeline runners take resolved arguments as they are and check others once", async () => {
  const before = argChecks.count;
  await assert.rejects(
    trainQuestionAnswering({
      train_file: `${S}train.json`,
      context_file: `${S}context.json`,
      tokenizer_name: S,
      learning_rate: -1,
    }),
    /--learning_rate must be >= 0, got -1/,
  );
  assert.equal(argChecks.count - before, 1);
});
