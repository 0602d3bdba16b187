/**
 * `BertConfig`: the fields and defaults of Hugging Face's `transformers.BertConfig`, read from and
 * written to `config.json` (unknown keys in a file are kept), changed by `--config_overrides`
 * (unknown keys refused), printed like `transformers` logs it, and compared key by key.
 * @module
 */
import { closestName } from "../util/text.ts";

/** Hugging Face BERT configuration. Unknown keys from `config.json` are kept as-is. */
export interface BertConfig {
  vocab_size: number;
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  hidden_act: string;
  hidden_dropout_prob: number;
  attention_probs_dropout_prob: number;
  max_position_embeddings: number;
  type_vocab_size: number;
  initializer_range: number;
  layer_norm_eps: number;
  pad_token_id: number;
  position_embedding_type: string;
  use_cache: boolean;
  classifier_dropout: number | null;
  model_type: string;
  architectures?: string[];
  [key: string]: unknown;
}

/** The defaults of `transformers.BertConfig()` (bert-base-uncased sizes). */
export const BERT_CONFIG_DEFAULTS: Readonly<BertConfig> = Object.freeze({
  vocab_size: 30522,
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 3072,
  hidden_act: "gelu",
  hidden_dropout_prob: 0.1,
  attention_probs_dropout_prob: 0.1,
  max_position_embeddings: 512,
  type_vocab_size: 2,
  initializer_range: 0.02,
  layer_norm_eps: 1e-12,
  pad_token_id: 0,
  position_embedding_type: "absolute",
  use_cache: true,
  classifier_dropout: null,
  model_type: "bert",
});

/** The fields that fix the weights' shapes (a config that differs in one cannot load them). */
export const SHAPE_FIELDS = [
  "vocab_size",
  "hidden_size",
  "num_hidden_layers",
  "num_attention_heads",
  "intermediate_size",
  "max_position_embeddings",
  "type_vocab_size",
] as const;
const INT_FIELDS = [...SHAPE_FIELDS, "pad_token_id"] as const;
const INT_KEYS: ReadonlySet<string> = new Set(INT_FIELDS);
const NUM_FIELDS = [
  "hidden_dropout_prob",
  "attention_probs_dropout_prob",
  "initializer_range",
  "layer_norm_eps",
] as const;

/**
 * Builds a config from (partial) JSON values over the Hugging Face defaults and validates it.
 * `source` names the file in error messages.
 */
export function makeBertConfig(
  values: Record<string, unknown> = {},
  source = "config",
): BertConfig {
  const cfg = { ...BERT_CONFIG_DEFAULTS, ...values } as BertConfig;
  const bad = (key: string, why: string) =>
    new Error(`${source}: field "${key}" ${why} (got ${JSON.stringify(cfg[key])})`);
  for (const k of INT_FIELDS) {
    const v = cfg[k];
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
      throw bad(k, "must be a non-negative integer");
    }
  }
  for (const k of ["vocab_size", "hidden_size", "num_attention_heads"] as const) {
    if (cfg[k] === 0) throw bad(k, "must be positive");
  }
  for (const k of NUM_FIELDS) {
    if (typeof cfg[k] !== "number" || !Number.isFinite(cfg[k])) throw bad(k, "must be a number");
  }
  if (cfg.classifier_dropout !== null && typeof cfg.classifier_dropout !== "number") {
    throw bad("classifier_dropout", "must be a number or null");
  }
  if (cfg.hidden_size % cfg.num_attention_heads !== 0) {
    throw bad(
      "hidden_size",
      `must be a multiple of num_attention_heads (${cfg.num_attention_heads})`,
    );
  }
  if (cfg.hidden_act !== "gelu" && cfg.hidden_act !== "gelu_python") {
    // Only the exact (erf) GELU is implemented; HF's "gelu" and "gelu_python" are both exact.
    throw bad("hidden_act", 'is not supported (only the exact "gelu")');
  }
  if (cfg.position_embedding_type !== "absolute") {
    throw bad("position_embedding_type", 'is not supported (only "absolute")');
  }
  if (cfg.pad_token_id >= cfg.vocab_size) throw bad("pad_token_id", "must be < vocab_size");
  return cfg;
}

/**
 * Parses `--config_overrides` ("a=1,b=0.1,c=true,d=null") against the config it changes, with
 * the rules of Hugging Face's `PretrainedConfig.update_from_string` (what `run_mlm.py` calls): a
 * key the config does not have is an error (HF: "key … isn't in the original config dict"), here
 * with the closest known key as a did-you-mean, so a typo never reaches `config.json`; a value
 * takes the type of the value it replaces (bool: true/false/1/0/yes/no; int: an integer; float:
 * a number; string: as written). Deviation: a key whose current value is null (HF's
 * `classifier_dropout`) takes a number or null, where HF refuses any update.
 *
 * `base` is the config being changed (default: `BertConfig()`'s fields).
 *
 * @example
 * ```ts
 * import { parseConfigOverrides } from "./config.ts";
 * const o = parseConfigOverrides("num_hidden_layers=2,hidden_act=gelu,use_cache=false");
 * console.assert(o.num_hidden_layers === 2 && o.use_cache === false);
 * let message = "";
 * try {
 *   parseConfigOverrides("num_hidden_layer=2");
 * } catch (e) {
 *   message = (e as Error).message;
 * }
 * console.assert(message.includes("did you mean num_hidden_layers?"));
 * ```
 */
export function parseConfigOverrides(
  text: string,
  base: Readonly<Record<string, unknown>> = BERT_CONFIG_DEFAULTS,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const known = Object.keys(base).sort();
  const bad = (msg: string) => new Error(`--config_overrides: ${msg}`);
  for (const part of text.split(",")) {
    const p = part.trim();
    if (!p) continue;
    const eq = p.indexOf("=");
    if (eq <= 0) throw bad(`"${p}" is not key=value (e.g. num_hidden_layers=2)`);
    const key = p.slice(0, eq).trim();
    const raw = p.slice(eq + 1).trim();
    if (!Object.hasOwn(base, key)) {
      const near = closestName(key, known);
      throw bad(
        `unknown config key "${key}"` +
          (near ? `; did you mean ${near}?` : ` (the config's keys: ${known.join(", ")})`),
      );
    }
    if (key in out) throw bad(`"${key}" is given twice`);
    const old = base[key];
    const typeError = (what: string) =>
      bad(`${key}=${raw}: expected ${what} (the config has ${JSON.stringify(old)})`);
    let value: unknown;
    if (typeof old === "boolean") {
      const s = raw.toLowerCase();
      if (["true", "1", "y", "yes"].includes(s)) value = true;
      else if (["false", "0", "n", "no"].includes(s)) value = false;
      else throw typeError("true or false");
    } else if (typeof old === "number") {
      const n = Number(raw);
      if (raw === "" || !Number.isFinite(n)) throw typeError("a number");
      if (INT_KEYS.has(key) && !Number.isInteger(n)) {
        throw typeError("an integer");
      }
      value = n;
    } else if (typeof old === "string") {
      value = raw;
    } else if (old === null) {
      if (raw === "null" || raw === "None") value = null;
      else if (raw !== "" && Number.isFinite(Number(raw))) value = Number(raw);
      else throw typeError("a number or null");
    } else {
      throw bad(
        `${key} holds ${JSON.stringify(old)}; only numbers, booleans and strings can be set`,
      );
    }
    out[key] = value;
  }
  return out;
}

/** Reads `DIR/config.json` (or the given file path if it ends in `.json`). */
export async function readConfig(dirOrFile: string): Promise<BertConfig> {
  const file = dirOrFile.endsWith(".json") ? dirOrFile : `${dirOrFile}/config.json`;
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    throw new Error(`${file}: cannot read model config (${(e as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: invalid JSON (${(e as Error).message})`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new Error(`${file}: expected a JSON object`);
  }
  const mt = (json as Record<string, unknown>).model_type;
  if (mt !== undefined && mt !== "bert") {
    throw new Error(`${file}: model_type ${JSON.stringify(mt)} is not supported (only "bert")`);
  }
  return makeBertConfig(json as Record<string, unknown>, file);
}

/**
 * The JSON text Hugging Face writes: `json.dumps(config, indent=2, sort_keys=True) + "\n"`.
 * (JavaScript prints whole floats without ".0", e.g. `1` where Python prints `1.0`.)
 */
export function configToJsonString(config: BertConfig): string {
  return JSON.stringify(sortKeysDeep(config), null, 2) + "\n";
}

/** Writes `DIR/config.json`. */
export async function writeConfig(config: BertConfig, dir: string): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(`${dir}/config.json`, configToJsonString(config));
}

/** The text `transformers` logs when it loads a config: `Model config BertConfig { ... }`. */
export function formatConfig(config: BertConfig): string {
  return `Model config BertConfig ${configToJsonString(config).trimEnd()}`;
}

function sortKeysDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeysDeep);
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeysDeep((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

/** One key in which two configs differ (`undefined` = absent on that side). */
export interface ConfigDifference {
  key: string;
  a: unknown;
  b: unknown;
}

/** Keys (sorted) whose values differ between `a` and `b`, compared as JSON. */
export function diffConfigs(a: BertConfig, b: BertConfig): ConfigDifference[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  const same = (x: unknown, y: unknown) =>
    JSON.stringify(sortKeysDeep(x)) === JSON.stringify(sortKeysDeep(y));
  return keys.filter((k) => !same(a[k], b[k])).map((k) => ({ key: k, a: a[k], b: b[k] }));
}

function escapeHtml(s: string): string {
  return s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

/**
 * Renders two configs side by side, one row per key (sorted), marking the keys that differ:
 * as text (`*` in the first column) or as an HTML table (differing rows get `class="diff"` and
 * a highlighted background).
 */
export function renderConfigDiff(
  a: BertConfig,
  b: BertConfig,
  opts: { format?: "text" | "html"; labels?: [string, string] } = {},
): string {
  const [la, lb] = opts.labels ?? ["a", "b"];
  const differing = new Set(diffConfigs(a, b).map((d) => d.key));
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  const show = (v: unknown) => (v === undefined ? "(absent)" : JSON.stringify(v));
  if (opts.format === "html") {
    const rows = keys.map((k) => {
      const attr = differing.has(k) ? ' class="diff" style="background:#ffe08a"' : "";
      return `<tr${attr}><td>${escapeHtml(k)}</td><td>${escapeHtml(show(a[k]))}</td><td>${
        escapeHtml(show(b[k]))
      }</td></tr>`;
    });
    return `<table><thead><tr><th>key</th><th>${escapeHtml(la)}</th><th>${
      escapeHtml(lb)
    }</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
  }
  const wk = Math.max(3, ...keys.map((k) => k.length));
  const wa = Math.max(la.length, ...keys.map((k) => show(a[k]).length));
  const lines = [`  ${"key".padEnd(wk)}  ${la.padEnd(wa)}  ${lb}`];
  for (const k of keys) {
    lines.push(
      `${differing.has(k) ? "*" : " "} ${k.padEnd(wk)}  ${show(a[k]).padEnd(wa)}  ${show(b[k])}`,
    );
  }
  return lines.join("\n");
}

/**
 * Refuses a window longer than the model's position table: `--flag N is longer than DIR's
 * max_position_embeddings (M); set --flag to M or less` (a RangeError), before anything runs.
 */
export function checkWindowFits(
  config: Pick<BertConfig, "max_position_embeddings">,
  length: number,
  flag: string,
  dir: string,
): void {
  const max = config.max_position_embeddings;
  if (length > max) {
    throw new RangeError(
      `--${flag} ${length} is longer than ${dir}'s max_position_embeddings (${max}); ` +
        `set --${flag} to ${max} or less`,
    );
  }
}
