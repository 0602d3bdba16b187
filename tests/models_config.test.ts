import assert from "node:assert/strict";
import {
  BERT_CONFIG_DEFAULTS,
  configToJsonString,
  diffConfigs,
  formatConfig,
  makeBertConfig,
  parseConfigOverrides,
  readConfig,
  renderConfigDiff,
  writeConfig,
} from "../lib/models/mod.ts";
import { runDeno } from "./process_util.ts";

const FIX = new URL("./fixtures/parity/", import.meta.url).pathname;

Deno.test("config: Hugging Face BertConfig defaults", () => {
  const c = makeBertConfig();
  assert.equal(c.vocab_size, 30522);
  assert.equal(c.hidden_size, 768);
  assert.equal(c.num_hidden_layers, 12);
  assert.equal(c.num_attention_heads, 12);
  assert.equal(c.intermediate_size, 3072);
  assert.equal(c.hidden_act, "gelu");
  assert.equal(c.hidden_dropout_prob, 0.1);
  assert.equal(c.attention_probs_dropout_prob, 0.1);
  assert.equal(c.max_position_embeddings, 512);
  assert.equal(c.type_vocab_size, 2);
  assert.equal(c.initializer_range, 0.02);
  assert.equal(c.layer_norm_eps, 1e-12);
  assert.equal(c.pad_token_id, 0);
  assert.equal(c.position_embedding_type, "absolute");
  assert.equal(c.use_cache, true);
  assert.equal(c.classifier_dropout, null);
  assert.equal(c.model_type, "bert");
  assert.ok(Object.isFrozen(BERT_CONFIG_DEFAULTS));
});

Deno.test("config: read keeps unknown keys, write round-trips, printed sorted like transformers", async () => {
  const c = await readConfig(FIX);
  assert.equal(c.hidden_size, 32);
  assert.equal(c.directionality, "bidi");
  assert.equal(c.pooler_fc_size, 32);
  const dir = await Deno.makeTempDir();
  await writeConfig(c, dir);
  assert.deepEqual(await readConfig(dir), c);
  const text = await Deno.readTextFile(`${dir}/config.json`);
  assert.equal(text, configToJsonString(c));
  const printed = formatConfig(c);
  const lines = printed.split("\n");
  assert.equal(lines[0], "Model config BertConfig {");
  assert.equal(lines[1], '  "architectures": [');
  assert.equal(lines[2], '    "BertForMaskedLM"');
  assert.equal(lines.at(-1), "}");
  const keys = lines.filter((l) => /^ {2}"/.test(l)).map((l) => l.trim().split('"')[1]);
  assert.deepEqual(keys, [...keys].sort());
  assert.ok(printed.includes('  "layer_norm_eps": 1e-12,'));
  assert.ok(printed.includes('  "classifier_dropout": null,'));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("config: invalid values are errors naming file and field", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${dir}/config.json`,
    JSON.stringify({ hidden_size: 30, num_attention_heads: 4 }),
  );
  await assert.rejects(
    () => readConfig(dir),
    /config\.json: field "hidden_size" must be a multiple of num_attention_heads/,
  );
  await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify({ vocab_size: "big" }));
  await assert.rejects(
    () => readConfig(dir),
    /config\.json: field "vocab_size" must be a non-negative integer/,
  );
  await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify({ model_type: "gpt2" }));
  await assert.rejects(() => readConfig(dir), /model_type "gpt2" is not supported/);
  await Deno.writeTextFile(`${dir}/config.json`, "{ not json");
  await assert.rejects(() => readConfig(dir), /config\.json: invalid JSON/);
  await assert.rejects(
    () => readConfig(`${dir}/nope`),
    /nope\/config\.json: cannot read model config/,
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("config: diff marks exactly the differing keys", () => {
  const a = makeBertConfig({ vocab_size: 21128, directionality: "bidi" });
  const b = makeBertConfig({ vocab_size: 21128, num_hidden_layers: 6, output_past: true });
  const d = diffConfigs(a, b);
  assert.deepEqual(d.map((x) => x.key), ["directionality", "num_hidden_layers", "output_past"]);
  assert.deepEqual(d[1], { key: "num_hidden_layers", a: 12, b: 6 });
  assert.deepEqual(diffConfigs(a, { ...a }), []);
  const text = renderConfigDiff(a, b, { labels: ["pretrained", "scratch"] }).split("\n");
  assert.ok(text[0].includes("pretrained") && text[0].includes("scratch"));
  const marked = text.filter((l) => l.startsWith("*")).map((l) => l.slice(2).split(/\s+/)[0]);
  assert.deepEqual(marked, ["directionality", "num_hidden_layers", "output_past"]);
  assert.ok(text.some((l) => l.startsWith("  vocab_size")));
  const html = renderConfigDiff(a, b, { format: "html" });
  assert.equal((html.match(/class="diff"/g) ?? []).length, 3);
  assert.match(
    html,
    /<tr class="diff"[^>]*><td>num_hidden_layers<\/td><td>12<\/td><td>6<\/td><\/tr>/,
  );
});

Deno.test("config_overrides: an unknown key is an error with a did-you-mean, as HF refuses it", () => {
  assert.throws(
    () => parseConfigOverrides("num_hidden_layer=2"),
    /^Error: --config_overrides: unknown config key "num_hidden_layer"; did you mean num_hidden_layers\?$/,
  );
  // No close key: the known keys are listed instead.
  assert.throws(
    () => parseConfigOverrides("foo=1"),
    /unknown config key "foo" \(the config's keys: .*num_hidden_layers/,
  );
  // Keys of the config being changed count (a --config_name file's extra keys).
  assert.deepEqual(
    parseConfigOverrides("directionality=ltr", { ...BERT_CONFIG_DEFAULTS, directionality: "bidi" }),
    { directionality: "ltr" },
  );
});

Deno.test("config_overrides: values take the type of the value they replace (update_from_string)", () => {
  assert.deepEqual(
    parseConfigOverrides(
      "num_hidden_layers=2, hidden_dropout_prob=0,use_cache=no,hidden_act=gelu,classifier_dropout=0.2",
    ),
    {
      num_hidden_layers: 2,
      hidden_dropout_prob: 0,
      use_cache: false,
      hidden_act: "gelu",
      classifier_dropout: 0.2,
    },
  );
  assert.deepEqual(parseConfigOverrides("classifier_dropout=None"), { classifier_dropout: null });
  assert.throws(() => parseConfigOverrides("num_hidden_layers=2.5"), /expected an integer/);
  assert.throws(
    () => parseConfigOverrides("hidden_size=big"),
    /hidden_size=big: expected a number/,
  );
  assert.throws(() => parseConfigOverrides("use_cache=maybe"), /expected true or false/);
  assert.throws(() => parseConfigOverrides("hidden_size"), /"hidden_size" is not key=value/);
  assert.throws(() => parseConfigOverrides("hidden_size=8,hidden_size=16"), /given twice/);
});

Deno.test("train-mc --config_overrides num_hidden_layer=2: exit 2 before any work, nothing written", async () => {
  const out = await Deno.makeTempDir({ prefix: "models_config_cli_" });
  await Deno.remove(out);
  const S = new URL("../data/sample/", import.meta.url).pathname;
  const r = await runDeno([
    "run",
    "-A",
    "cli.ts",
    "train-mc",
    "--train_file",
    `${S}train.json`,
    "--context_file",
    `${S}context.json`,
    "--tokenizer_name",
    S,
    "--config_overrides",
    "num_hidden_layer=2",
    "--output_dir",
    out,
  ]);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(
    r.stderr.trim(),
    'error: --config_overrides: unknown config key "num_hidden_layer"; did you mean ' +
      "num_hidden_layers?",
  );
  await assert.rejects(() => Deno.stat(out), Deno.errors.NotFound);
});
