import assert from "node:assert/strict";
import { type CommandSpec, formatHelp, parseFlags, UsageError } from "../lib/cli/mod.ts";

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

Deno.test("parseFlags: values, defaults, --flag=value, dashes and bare booleans", () => {
  const f = parseFlags(spec, [
    "--train_file",
    "t.json",
    "--learning-rate=3e-5",
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
});

Deno.test("cli.ts: unknown commands and bad flags exit with status 2 and a message", async () => {
  const root = new URL("..", import.meta.url).pathname;
  const run = async (...args: string[]) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "cli.ts", ...args],
      cwd: root,
      stdout: "piped",
      stderr: "piped",
    }).output();
    return { code: out.code, err: new TextDecoder().decode(out.stderr) };
  };
  const unknown = await run("frobnicate");
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /unknown command 'frobnicate'/);
  const badFlag = await run("train-qa", "--train_file", "x", "--context_file", "y", "--bogus", "1");
  assert.equal(badFlag.code, 2);
  assert.match(badFlag.err, /unknown flag --bogus/);
});
