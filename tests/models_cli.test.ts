import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url).pathname;
const FIX = `${ROOT}tests/fixtures/parity`;
const ref = JSON.parse(await Deno.readTextFile(`${FIX}/reference.json`));

type Nested = number | Nested[];
const flat = (x: Nested): number[] => (Array.isArray(x) ? x.flatMap(flat) : [x]);
function maxDiff(a: Nested, b: Nested): number {
  const x = flat(a), y = flat(b);
  assert.equal(x.length, y.length);
  return Math.max(...x.map((v, i) => Math.abs(v - y[i])));
}

async function cli(...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}cli.ts`, "logits", ...args],
    env: { TFJS_BACKEND: "cpu" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

Deno.test("cli logits: every task prints the PyTorch reference outputs", async () => {
  const mcInput = await Deno.makeTempFile({ suffix: ".json" });
  await Deno.writeTextFile(mcInput, JSON.stringify(ref.mc_inputs));
  const cases: [string, string, Record<string, Nested>][] = [
    ["base", `${FIX}/inputs.json`, {
      last_hidden_state: ref.last_hidden_state,
      pooler_output: ref.pooler_output,
    }],
    ["qa", `${FIX}/inputs.json`, {
      start_logits: ref.qa_start_logits,
      end_logits: ref.qa_end_logits,
    }],
    ["mlm", `${FIX}/inputs.json`, { logits: ref.mlm_logits }],
    ["mc", mcInput, { logits: ref.mc_logits }],
  ];
  for (const [task, input, expected] of cases) {
    const r = await cli("--model_name_or_path", FIX, "--task", task, "--input", input);
    assert.equal(r.code, 0, r.stderr);
    const got = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(got).sort(), Object.keys(expected).sort(), task);
    for (const [k, v] of Object.entries(expected)) {
      assert.ok(maxDiff(got[k], v) <= 1e-4, `${task} ${k}`);
    }
  }
  await Deno.remove(mcInput);
});

Deno.test("cli logits: bad input names the file and field", async () => {
  const bad = await Deno.makeTempFile({ suffix: ".json" });
  await Deno.writeTextFile(bad, JSON.stringify({ input_ids: [[2, 5, 3], [2, 3]] }));
  let r = await cli("--model_name_or_path", FIX, "--task", "qa", "--input", bad);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /error: .*\.json: field "input_ids"\[1\]: expected an array of length 3/);
  await Deno.writeTextFile(bad, JSON.stringify({ input_ids: [[2, 500, 3]] }));
  r = await cli("--model_name_or_path", FIX, "--task", "qa", "--input", bad);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /field "input_ids": value 500 at flat index 1 is outside \[0, 99\]/);
  r = await cli("--model_name_or_path", FIX, "--task", "nope", "--input", bad);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--task must be one of base, mc, qa, mlm/);
  await Deno.remove(bad);
});

Deno.test("cli logits: num_hidden_layers 1000000 beside a 2-layer model.safetensors is a one-line error at once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "models_cli_" });
  const cfg = JSON.parse(await Deno.readTextFile(`${FIX}/config.json`));
  await Deno.writeTextFile(
    `${dir}/config.json`,
    JSON.stringify({ ...cfg, num_hidden_layers: 1_000_000 }),
  );
  await Deno.copyFile(`${FIX}/model.safetensors`, `${dir}/model.safetensors`);
  const r = await cli("--model_name_or_path", dir, "--task", "qa", "--input", `${FIX}/inputs.json`);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(
    r.stderr.trim(),
    `error: ${dir}/model.safetensors holds 2 encoder layers (bert.encoder.layer.0–1) but ` +
      `${dir}/config.json says num_hidden_layers 1000000: the config does not describe these ` +
      "weights",
  );
  assert.equal(r.stdout, "");
  await Deno.remove(dir, { recursive: true });
});
