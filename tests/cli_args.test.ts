import assert from "node:assert/strict";
import { type CommandSpec, formatHelp, parseFlags, UsageError } from "../lib/cli/mod.ts";
import { runDeno } from "./process_util.ts";

const spec: CommandSpec = {
  name: "demo",
  summary: "A demo command.",
  flags: {
    train_file: { type: "string", help: "Training file", required: true },
    learning_rate: { type: "float", help: "Peak learning rate", default: 5e-5, min: 0 },
    num_train_epochs: { type: "int", help: "Epochs", default: 3, min: 1 },
    lr_scheduler_type: {
      type: "string",
      help: "Schedule",
      default: "linear",
      choices: ["linear", "cosine"],
    },
    pad_to_max_length: { type: "boolean", help: "Pad", default: false },
    output_dir: { type: "string", help: "Output" },
  },
};

Deno.test("parseFlags: values, defaults, --flag=value and bare booleans", () => {
  const f = parseFlags(spec, [
    "--train_file",
    "t.json",
    "--learning_rate=3e-5",
    "--pad_to_max_length",
    "--num_train_epochs",
    "2",
  ])!;
  assert.deepEqual(f, {
    train_file: "t.json",
    learning_rate: 3e-5,
    num_train_epochs: 2,
    lr_scheduler_type: "linear",
    pad_to_max_length: true,
    output_dir: undefined,
  });
});

Deno.test("parseFlags: every bad command line is a UsageError naming the flag", () => {
  const bad: [string[], RegExp][] = [
    [["--train_file", "t", "--nope", "1"], /unknown flag --nope/],
    [["--learning_rate", "1e-3"], /missing required flag --train_file/],
    [["--train_file", "t", "--learning_rate", "abc"], /--learning_rate expects a number/],
    [["--train_file", "t", "--num_train_epochs", "1.5"], /--num_train_epochs expects an integer/],
    [["--train_file", "t", "--num_train_epochs", "0"], /--num_train_epochs must be >= 1/],
    [["--train_file", "t", "--lr_scheduler_type", "step"], /must be one of linear, cosine/],
    [["--train_file", "t", "--pad_to_max_length", "maybe"], /expects true or false/],
    [["--train_file", "t", "--train_file", "u"], /given twice/],
    [["--train_file"], /needs a value/],
    [["positional"], /unexpected argument/],
    // Hugging Face's names use underscores: dashes are rejected with the right name.
    [
      ["--train_file", "t", "--learning-rate", "3e-5"],
      /unknown flag --learning-rate for 'demo'; did you mean --learning_rate\? Flag names use underscores/,
    ],
    [["--train_file", "t", "--lerning_rate", "3e-5"], /did you mean --learning_rate\?/],
    [["--train_file", "t", "--lr_scheduler_type", "cosin"], /\(did you mean cosine\?\)/],
    [["--train_file", "t", "--zzzzzzzz", "1"], /unknown flag --zzzzzzzz for 'demo'\. Run/],
  ];
  for (const [argv, re] of bad) {
    assert.throws(() => parseFlags(spec, argv), (e: unknown) => {
      return e instanceof UsageError && re.test(e.message);
    }, argv.join(" "));
  }
});

Deno.test("--help prints every flag with its default and returns null", () => {
  const printed: string[] = [];
  assert.equal(parseFlags(spec, ["--help"], (s) => printed.push(s)), null);
  const help = printed.join("\n");
  assert.equal(help, formatHelp(spec));
  for (const name of Object.keys(spec.flags)) assert.match(help, new RegExp(`--${name}\\b`));
  assert.match(help, /--learning_rate .*\(default: 0\.00005\)/);
  assert.match(help, /--train_file .*\(required\)/);
  assert.match(help, /<linear\|cosine>/);
  assert.match(help, /--output_dir .*\(default: none\)/);
});

Deno.test("formatHelp: one default per flag, help text in one aligned column, lines within width", async () => {
  const { spec: qa } = await import("../lib/cli/train_qa.ts");
  const { spec: predict } = await import("../lib/cli/predict.ts");
  for (const s of [spec, qa, predict]) {
    const help = formatHelp(s, 100);
    for (const line of help.split("\n")) {
      assert.ok((line.match(/\(default/g) ?? []).length <= 1, line);
      assert.doesNotMatch(line, /\(optional\)/);
    }
    const flagLines = help.split("\n").filter((l) => /^ {2}--\S+.* {2}\S/.test(l));
    assert.ok(flagLines.length > 3);
    // Every help text starts in the same column.
    const starts = new Set(
      flagLines.map((l) => l.length - l.replace(/^ {2}\S+( <[^>]+>)? +/, "").length),
    );
    assert.equal(starts.size, 1, [...starts].join(","));
    const long = help.split("\n").filter((l) => l.length > 100 && !/^\s+\S+$/.test(l));
    assert.deepEqual(long, []);
  }
});

Deno.test("cli.ts: unknown commands and bad flags exit with status 2 and a message", async () => {
  const run = async (...args: string[]) => {
    const out = await runDeno(["run", "-A", "cli.ts", ...args]);
    return { code: out.code, err: out.stderr };
  };
  const unknown = await run("frobnicate");
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /unknown command 'frobnicate'/);
  const typo = await run("trian-qa");
  assert.equal(typo.code, 2);
  assert.match(typo.err, /did you mean 'train-qa'\?/);
  const help = await runDeno(["run", "-A", "cli.ts", "--help"]);
  assert.equal(help.code, 0);
  const text = help.stdout;
  for (const c of ["check-data", "tokenize", "train-mc", "train-qa", "predict", "evaluate"]) {
    assert.match(text, new RegExp(`^  ${c} +\\S.{10,}$`, "m"), c);
  }
  const model = await run(
    "train-qa",
    "--model_name_or_path",
    "bert-base-chinese",
    "--train_file",
    "data/sample/train.json",
    "--context_file",
    "data/sample/context.json",
  );
  assert.equal(model.code, 2);
  assert.match(model.err, /bert-base-chinese: not found: models are local folders/);
  assert.match(
    model.err,
    /huggingface-cli download bert-base-chinese --local-dir models\/bert-base-chinese/,
  );
  assert.match(model.err, /git clone https:\/\/huggingface\.co\/bert-base-chinese/);
  const badFlag = await run("train-qa", "--train_file", "x", "--context_file", "y", "--bogus", "1");
  assert.equal(badFlag.code, 2);
  assert.match(badFlag.err, /unknown flag --bogus/);
});

Deno.test("every --flag named in a message of lib/ exists on some command", async () => {
  const root = new URL("..", import.meta.url).pathname;
  const known = new Set(["help"]);
  for await (const e of Deno.readDir(`${root}/lib/cli`)) {
    if (!e.name.endsWith(".ts")) continue;
    const mod = await import(`../lib/cli/${e.name}`);
    if (mod.spec) { for (const name of Object.keys(mod.spec.flags)) known.add(name); }
  }
  const { spec: report } = await import("../scripts/report.ts");
  for (const name of Object.keys(report.flags)) known.add(name);
  // Placeholders in the parser's own docs and messages, other tools' flags, and the global
  // --verbose that cli.ts handles for every command.
  for (const x of ["flag", "name", "local", "check", "verbose"]) known.add(x);
  const unknown: string[] = [];
  for (const dir of ["data", "features", "cli", "pipeline", "models", "tokenization"]) {
    for await (const e of Deno.readDir(`${root}/lib/${dir}`)) {
      if (!e.name.endsWith(".ts")) continue;
      const text = await Deno.readTextFile(`${root}/lib/${dir}/${e.name}`);
      for (const m of text.matchAll(/--([a-z][a-z_]*[a-z])(?![\w-])/g)) {
        if (!known.has(m[1])) unknown.push(`lib/${dir}/${e.name}: --${m[1]}`);
      }
    }
  }
  assert.deepEqual(unknown, []);
});

Deno.test("a data error from check-data names only flags that check-data has", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cli_args_test_" });
  try {
    await Deno.writeTextFile(`${dir}/context.json`, JSON.stringify(["甲乙丙"]));
    await Deno.writeTextFile(
      `${dir}/train.json`,
      JSON.stringify([{ id: "a", question: "誰", paragraphs: [0], relevant: 3 }]),
    );
    const out = await runDeno([
      "run",
      "-A",
      "cli.ts",
      "check-data",
      "--context_file",
      `${dir}/context.json`,
      "--train_file",
      `${dir}/train.json`,
      "--model_name_or_path",
      "data/sample",
    ]);
    const err = out.stderr;
    assert.equal(out.code, 1, err);
    assert.match(err, /invalid record/);
    const { spec } = await import("../lib/cli/check_data.ts");
    for (const m of err.matchAll(/--([a-z_]+)/g)) assert.ok(m[1] in spec.flags, m[0]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task report --help names every environment variable the profiles read", async () => {
  const { spec: report } = await import("../scripts/report.ts");
  const help = formatHelp(report, 100);
  const source = await Deno.readTextFile(new URL("../lib/report/profiles.ts", import.meta.url));
  const names = [...source.matchAll(/env\("([A-Z_]+)"\)/g)].map((m) => m[1]);
  assert.ok(names.includes("ADL_DATA_DIR") && names.includes("BERT_BASE_CHINESE_DIR"));
  for (const n of names) assert.ok(help.includes(n), `${n} missing from deno task report --help`);
  assert.ok(help.includes("ROBERTA_WWM_EXT_DIR"));
});

Deno.test("a missing local model folder gets no download hint; a hub id does", async () => {
  const { checkPath, looksLikeHubId } = await import("../lib/cli/args.ts");
  for (const id of ["bert-base-chinese", "hfl/chinese-roberta-wwm-ext"]) {
    assert.ok(looksLikeHubId(id), id);
  }
  for (const p of ["./runs/mc", "/abs/model", "outputs/runs/mc/best", "runs/qa", "../m", "a/b/c"]) {
    assert.ok(!looksLikeHubId(p), p);
  }
  await assert.rejects(
    () => checkPath("/nonexistent/runs/mc", "mc_model", "dir", "./runs/mc"),
    (e: Error) => /not found$/.test(e.message) && !/huggingface-cli/.test(e.message),
  );
});

Deno.test("every command reads relative paths from the user's folder (INIT_CWD), e.g. cd data && check-data", async () => {
  const root = new URL("../", import.meta.url).pathname;
  const run = (args: string[]) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "cli.ts", ...args],
      cwd: root,
      env: { INIT_CWD: `${root}data` },
      stdout: "piped",
      stderr: "piped",
    }).output();
  const ok = await run([
    "check-data",
    "--model_name_or_path",
    "sample",
    "--context_file",
    "sample/context.json",
    "--test_file",
    "sample/test.json",
  ]);
  assert.equal(ok.code, 0, new TextDecoder().decode(ok.stderr));
  const bad = await run(["tokenize", "--model_name_or_path", "./nope"]);
  assert.equal(bad.code, 2);
  assert.equal(
    new TextDecoder().decode(bad.stderr).trim(),
    `error: --model_name_or_path ${root}data/nope: not found`,
  );
});

Deno.test("a folder that is not a model, and a port out of range, are usage errors naming the flag", async () => {
  const notModel = await runDeno([
    "run",
    "-A",
    "cli.ts",
    "ask",
    "--qa_model",
    "data/sample",
    "--question",
    "q",
    "--context",
    "c",
  ]);
  assert.equal(notModel.code, 2, notModel.stderr);
  assert.match(
    notModel.stderr,
    /--qa_model \S+data\/sample: no config\.json, so not a model folder/,
  );
  const port = await runDeno([
    "run",
    "-A",
    "cli.ts",
    "serve",
    "--qa_model",
    "x",
    "--port",
    "70000",
  ]);
  assert.equal(port.code, 2);
  assert.match(port.stderr, /--port must be <= 65535, got 70000/);
});

Deno.test("check-data refuses --doc_stride not below --max_seq_length as train-qa does (exit 2)", async () => {
  const r = await runDeno([
    "run",
    "-A",
    "cli.ts",
    "check-data",
    "--model_name_or_path",
    "data/sample",
    "--context_file",
    "data/sample/context.json",
    "--test_file",
    "data/sample/test.json",
    "--max_seq_length",
    "64",
    "--doc_stride",
    "64",
  ]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim(), "error: --doc_stride 64 must be smaller than --max_seq_length 64");
});

Deno.test("predict refuses a window longer than the model's positions before anything loads (exit 2)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cli_window_" });
  try {
    const tf = await import("@tensorflow/tfjs");
    await tf.setBackend("cpu");
    const { createFromConfig, makeBertConfig, saveModel } = await import("../lib/models/mod.ts");
    const config = makeBertConfig({
      vocab_size: 1166,
      hidden_size: 16,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      intermediate_size: 32,
      max_position_embeddings: 64,
    });
    for (const task of ["mc", "qa"] as const) {
      const m = createFromConfig(config, task, 1);
      await saveModel(m, `${dir}/${task}`);
      m.dispose();
      await Deno.copyFile("data/sample/vocab.txt", `${dir}/${task}/vocab.txt`);
    }
    const r = await runDeno([
      "run",
      "-A",
      "cli.ts",
      "predict",
      "--test_file",
      "data/sample/test.json",
      "--context_file",
      "data/sample/context.json",
      "--mc_model",
      `${dir}/mc`,
      "--qa_model",
      `${dir}/qa`,
      "--prediction_csv",
      `${dir}/p.csv`,
      "--mc_max_seq_length",
      "64",
      "--qa_max_seq_length",
      "4096",
    ]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /--qa_max_seq_length 4096 is longer than \S+'s max_position_embeddings \(64\); set --qa_max_seq_length to 64 or less/,
    );
    assert.doesNotMatch(r.stderr, /\[backend\]/, "refused before the backend starts");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
