// Resuming and extending runs as Hugging Face's resume does: a finished run continued with a
// larger --max_train_steps keeps the data order of the updates done and follows the new
// schedule (said once); a resumed run does not call its model "new". Paths on the command line
// are the user's; a training command without --output_dir saves under outputs/runs/.
import assert from "node:assert/strict";
import { initBackend } from "../lib/backend/mod.ts";
import { trainQuestionAnswering } from "../lib/pipeline/mod.ts";
import { QA_ARGS } from "../lib/args/mod.ts";
import { parseFlags, UsageError } from "../lib/cli/args.ts";
import { resolveFlags } from "../lib/cli/train_flags.ts";
import * as trainQaCmd from "../lib/cli/train_qa.ts";

await initBackend();

const S = new URL("../data/sample/", import.meta.url).pathname;
const TINY = "num_hidden_layers=1,hidden_size=16,num_attention_heads=2,intermediate_size=32," +
  "max_position_embeddings=64";

Deno.test("extending a finished run with a larger --max_train_steps continues on the new schedule", async () => {
  const root = await Deno.makeTempDir({ prefix: "args_resume_" });
  const base = {
    train_file: `${S}train.json`,
    context_file: `${S}context.json`,
    tokenizer_name: S,
    config_overrides: TINY,
    max_seq_length: 48,
    doc_stride: 16,
    per_device_train_batch_size: 4,
    max_train_samples: 12,
    learning_rate: 1e-3,
    num_warmup_steps: 1,
    checkpointing_steps: 1,
    seed: 11,
  };
  const quiet = { progress: "none" as const, log: () => {} };
  try {
    const done = await trainQuestionAnswering({
      ...base,
      max_train_steps: 2,
      output_dir: `${root}/run`,
    }, quiet);
    done.model.dispose();
    const messages: string[] = [];
    const extended = await trainQuestionAnswering({
      ...base,
      max_train_steps: 5,
      output_dir: `${root}/run`,
      resume_from_checkpoint: "latest",
    }, { progress: "none", log: (m) => messages.push(m) });
    extended.model.dispose();
    const straight = await trainQuestionAnswering({
      ...base,
      max_train_steps: 5,
      output_dir: `${root}/straight`,
    }, quiet);
    straight.model.dispose();
    assert.equal(extended.train.completedSteps, 5);
    // Said once, with the old and the new plan.
    const said = messages.filter((m) => /extended from 2 planned updates/.test(m));
    assert.deepEqual(said.length, 1, messages.join("\n"));
    assert.match(said[0], /^resumed from .*step_2: update 2\/5 .*the schedule now spans 5\)/);
    // A resumed run is not a new model from scratch.
    assert.ok(!messages.some((m) => /^new |from scratch/.test(m)), messages.join("\n"));
    assert.ok(messages.some((m) => /^resumed BertForQuestionAnswering: /.test(m)));
    // The updates done are the finished run's; the rest follow the 5-update schedule and the
    // same data order as a straight 5-update run.
    const log = extended.train.stepLog;
    assert.deepEqual(log.slice(0, 2).map((r) => r.loss), done.train.stepLog.map((r) => r.loss));
    assert.deepEqual(log.map((r) => r.examples), straight.train.stepLog.map((r) => r.examples));
    assert.deepEqual(
      log.slice(2).map((r) => r.learning_rate),
      straight.train.stepLog.slice(2).map((r) => r.learning_rate),
    );
    // Fewer updates than the checkpoint has done is refused, in flag names.
    await assert.rejects(
      trainQuestionAnswering({
        ...base,
        max_train_steps: 1,
        output_dir: `${root}/run`,
        resume_from_checkpoint: `${root}/run/step_2`,
      }, quiet),
      /has done 2 updates, this run plans only 1 \(--max_train_steps/,
    );
    await assert.rejects(
      trainQuestionAnswering({
        ...base,
        seed: 12,
        max_train_steps: 5,
        output_dir: `${root}/run`,
        resume_from_checkpoint: `${root}/run/step_2`,
      }, quiet),
      /was trained with --seed 11, this run has 12/,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("command line: relative paths are the user's (INIT_CWD), errors show the resolved path, a default --output_dir is said", async () => {
  const user = await Deno.makeTempDir({ prefix: "args_user_" });
  const saved = Deno.env.get("INIT_CWD");
  Deno.env.set("INIT_CWD", user);
  try {
    await Deno.copyFile(`${S}context.json`, `${user}/context.json`);
    const argv = ["--train_file", "train.json", "--context_file", "context.json"];
    const missing = parseFlags(trainQaCmd.spec, [...argv, "--tokenizer_name", S])!;
    await assert.rejects(
      resolveFlags(missing, QA_ARGS, () => {}),
      (e) => e instanceof UsageError && e.message === `--train_file ${user}/train.json: not found`,
    );
    await Deno.copyFile(`${S}train.json`, `${user}/train.json`);
    const said: string[] = [];
    const a = await resolveFlags(
      parseFlags(trainQaCmd.spec, [...argv, "--tokenizer_name", S])!,
      QA_ARGS,
      (m) => said.push(m),
    );
    assert.equal(a.train_file, `${user}/train.json`);
    assert.equal(a.context_file, `${user}/context.json`);
    assert.match(a.output_dir!, new RegExp(`^${user}/outputs/runs/train-qa-\\d{8}-\\d{6}$`));
    assert.deepEqual(said, [`train-qa: no --output_dir given; the run goes to ${a.output_dir}`]);
    assert.match(trainQaCmd.spec.flags.output_dir.help, /default: outputs\/runs\/train-qa-/);
    // A given --output_dir is the user's too, and nothing is said.
    const b = await resolveFlags(
      parseFlags(trainQaCmd.spec, [...argv, "--tokenizer_name", S, "--output_dir", "out"])!,
      QA_ARGS,
      (m) => said.push(m),
    );
    assert.equal(b.output_dir, `${user}/out`);
    assert.equal(said.length, 1);
  } finally {
    if (saved === undefined) Deno.env.delete("INIT_CWD");
    else Deno.env.set("INIT_CWD", saved);
    await Deno.remove(user, { recursive: true });
  }
});
