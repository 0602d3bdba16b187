// Data-file mistakes through `evaluate` as a user makes them (issue 22): each is one or two lines
// naming the file, before any model is loaded.
import assert from "node:assert/strict";
import { ROOT, runDeno } from "./process_util.ts";

const S = `${ROOT}data/sample/`;

/** `evaluate` on the given files; the models are never reached (data is read first). */
function evaluate(validation: string, context = `${S}context.json`) {
  return runDeno([
    "run",
    "-A",
    "cli.ts",
    "evaluate",
    "--validation_file",
    validation,
    "--context_file",
    context,
    "--mc_model",
    S,
    "--qa_model",
    S,
  ]);
}

/** The stderr lines from the `error:` line on. */
function errorLines(stderr: string): string[] {
  const lines = stderr.trimEnd().split("\n");
  return lines.slice(lines.findIndex((l) => l.startsWith("error: ")));
}

Deno.test("evaluate --validation_file data/sample/test.json: one line, a test file has no answers", async () => {
  const r = await evaluate(`${S}test.json`);
  assert.equal(r.code, 1, r.stderr);
  assert.deepEqual(errorLines(r.stderr), [
    `error: ${S}test.json: no record has "relevant" or "answer" (300 records read): it looks ` +
    "like a test file (questions without answers), but the valid split needs them; give a file " +
    "with answers (such as valid.json)",
  ]);
});

Deno.test("evaluate with a short context.json: one summarised line, and an empty file is 'is empty'", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cli_data_errors_" });
  try {
    const contexts = JSON.parse(await Deno.readTextFile(`${S}context.json`)).slice(0, 10);
    await Deno.writeTextFile(`${dir}/context.json`, JSON.stringify(contexts));
    let r = await evaluate(`${S}valid.json`, `${dir}/context.json`);
    assert.equal(r.code, 1, r.stderr);
    const lines = errorLines(r.stderr);
    assert.equal(lines.length, 2, r.stderr);
    assert.match(
      lines[0],
      /^error: .*valid\.json: \d+ invalid records of 300 \(fix or remove them\):$/,
    );
    assert.match(
      lines[1],
      /records of 300 use paragraph indices the context file does not have \(it has 10 paragraphs, indices 0–9; .*First: record \d+ \(0-based, id "valid-\d+"\)/,
    );
    assert.doesNotMatch(r.stderr, /skipInvalid/);

    await Deno.writeTextFile(`${dir}/empty.json`, "");
    r = await evaluate(`${dir}/empty.json`);
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(errorLines(r.stderr), [`error: ${dir}/empty.json: is empty, expected JSON`]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
