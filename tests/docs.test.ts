/**
 * The documents a new user follows: README commands parse against the real command specs, the
 * full-scale route is complete, and the generated-files README renders.
 */
import assert from "node:assert/strict";
import { parseFlags } from "../lib/cli/mod.ts";

const ROOT = new URL("..", import.meta.url);
const read = (p: string) => Deno.readTextFile(new URL(p, ROOT));

/** `deno task cli ...` command lines of the ```sh blocks, continuation lines joined. */
function cliCommands(markdown: string): string[][] {
  const out: string[][] = [];
  for (const block of markdown.matchAll(/```sh\n([\s\S]*?)```/g)) {
    const joined = block[1].replace(/\\\n\s*/g, " ");
    for (const line of joined.split("\n")) {
      const m = line.match(/^\s*deno task cli (.*)$/);
      if (m) out.push(m[1].replace(/#.*$/, "").trim().split(/\s+/));
    }
  }
  return out;
}

const COMMAND_FILES: Record<string, string> = {
  "check-data": "check_data",
  "train-mc": "train_mc",
  "train-qa": "train_qa",
  "pretrain-mlm": "pretrain_mlm",
  predict: "predict",
  evaluate: "evaluate",
  tokenize: "tokenize",
  "export-hf-data": "export_hf_data",
  "export-onnx": "export_onnx",
  ask: "ask",
};

Deno.test("README: every deno task cli command parses with that command's flags", async () => {
  const cmds = cliCommands(await read("README.md"));
  assert.ok(cmds.length >= 4, `${cmds.length} commands found`);
  for (const [name, ...args] of cmds) {
    const file = COMMAND_FILES[name];
    assert.ok(file, `README runs an unknown command '${name}'`);
    const { spec } = await import(`../lib/cli/${file}.ts`);
    assert.doesNotThrow(() => parseFlags(spec, args, () => {}), `${name} ${args.join(" ")}`);
  }
  // The predict example uses models that the same README trains.
  const trained = cmds.filter(([n]) => n.startsWith("train-")).map((c) =>
    c[c.indexOf("--output_dir") + 1]
  );
  for (const c of cmds.filter(([n]) => n === "predict")) {
    for (const flag of ["--mc_model", "--qa_model"]) {
      assert.ok(trained.includes(c[c.indexOf(flag) + 1]), `${flag} of predict is never trained`);
    }
  }
});

Deno.test("README: the full-scale route (checkpoints, data, variables, report) and the notebooks", async () => {
  const readme = await read("README.md");
  for (
    const s of [
      "huggingface-cli download bert-base-chinese --local-dir models/bert-base-chinese",
      "huggingface-cli download hfl/chinese-roberta-wwm-ext",
      "ADL_DATA_DIR",
      "BERT_BASE_CHINESE_DIR",
      "ROBERTA_WWM_EXT_DIR",
      "deno task report --profile full",
      "fonts-noto-cjk",
      "deno jupyter --install",
      "REPORT_PROFILE",
    ]
  ) assert.ok(readme.includes(s), s);
  // The folders the route fills are ignored by git.
  const ignore = await read(".gitignore");
  assert.match(ignore, /^\/models\/$/m);
  assert.match(ignore, /^\/data\/adl\/$/m);
});

Deno.test("docs: GPU.md is a finished document; outputs/README.md has real line breaks", async () => {
  const gpu = await read("docs/GPU.md");
  assert.doesNotMatch(gpu.split("\n")[0], /draft/i);
  assert.doesNotMatch(gpu, /fill in|the issue measured|device tool/i);
  const outputs = await read("outputs/README.md");
  assert.ok(!outputs.includes("\\n"), "literal \\n in outputs/README.md");
  assert.match(outputs, /^# outputs\/\n\n/);
  // The CI installs the CJK font the PNG check needs.
  assert.match(await read(".ci/run"), /fonts-noto-cjk/);
});
