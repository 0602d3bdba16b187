/**
 * Hugging Face model folders: load (`config.json` + `model.safetensors` or `pytorch_model.bin`)
 * and save (`model.safetensors` + `config.json`).
 *
 * Loading maps checkpoint names onto the model's parameters the way `transformers` does: the
 * `bert.` prefix is optional, legacy `LayerNorm.gamma`/`beta` mean `weight`/`bias`, extra keys
 * are reported and ignored, and missing head weights are initialised as Hugging Face does and
 * reported in one line. Before anything is built, `config.json` is checked against the weight
 * file's own header (encoder layer count, the encoder tensors' names, every shape and dtype), so
 * a config that does not describe the weights is a one-line error at once. Every tensor is
 * validated and converted before the first tf.Variable is created, so an error never leaves a
 * half-loaded model behind.
 * @module
 */
import { SEED } from "../args/mod.ts";
import * as tf from "@tensorflow/tfjs";
import { deriveSeed } from "../util/random.ts";
import { exists } from "../util/fs.ts";
import { plural } from "../util/text.ts";
import {
  BertModel,
  initialValues,
  makeVariable,
  parameterSpecs,
  type Task,
  TASK_ARCHITECTURES,
  TASKS,
} from "./bert.ts";
import { type BertConfig, configToJsonString, readConfig } from "./config.ts";
import { parseSafetensors, readSafetensorsHeader, serializeSafetensors } from "./safetensors.ts";
import type { RawTensor } from "./tensors.ts";
import { parseTorchCheckpoint, readTorchCheckpoint } from "./torch_pickle.ts";

/** What loading matched, ignored and initialised. */
export interface LoadReport {
  /** The weights file read. */
  file: string;
  /** Model parameters not found in the checkpoint (freshly initialised). */
  missingKeys: string[];
  /** Checkpoint keys the model does not use. */
  unexpectedKeys: string[];
}

/** Options of {@link loadPretrained}. */
export interface LoadOptions {
  /** Seed for initialising weights missing from the checkpoint (default 42). */
  seed?: number;
  /** Where the warnings about missing/unused weights go (default `console.warn`). */
  log?: (message: string) => void;
}

/** A tensor as a weight file's header describes it (no values). */
export type TensorInfo = Pick<RawTensor, "dtype" | "shape">;

/** The weights file of a model folder (safetensors preferred, like `transformers`). */
async function findWeightsFile(dir: string): Promise<{ file: string; format: "st" | "bin" }> {
  const st = `${dir}/model.safetensors`;
  const bin = `${dir}/pytorch_model.bin`;
  if (await exists(st)) return { file: st, format: "st" };
  if (await exists(bin)) return { file: bin, format: "bin" };
  for (const idx of ["model.safetensors.index.json", "pytorch_model.bin.index.json"]) {
    if (await exists(`${dir}/${idx}`)) {
      throw new Error(`${dir}/${idx}: sharded checkpoints are not supported`);
    }
  }
  throw new Error(`${dir}: no model.safetensors or pytorch_model.bin found`);
}

/** Reads the weights of a model folder (safetensors preferred, like `transformers`). */
export async function readCheckpointTensors(
  dir: string,
): Promise<{ file: string; tensors: Map<string, RawTensor> }> {
  const { file, format } = await findWeightsFile(dir);
  const bytes = await Deno.readFile(file);
  const tensors = format === "st"
    ? parseSafetensors(bytes, file).tensors
    : parseTorchCheckpoint(bytes, file);
  return { file, tensors };
}

/**
 * The names, dtypes and shapes of a model folder's weights, validated, without their values:
 * a safetensors file's header only (8 + N bytes read, whatever the file's size); a
 * `pytorch_model.bin` is read whole and its pickle parsed (nothing converted).
 */
export async function readCheckpointHeader(
  dir: string,
): Promise<{ file: string; tensors: Map<string, TensorInfo> }> {
  const { file, format } = await findWeightsFile(dir);
  if (format === "bin") return { file, tensors: await readTorchCheckpoint(file) };
  const { entries } = await readSafetensorsHeader(file);
  return { file, tensors: new Map(entries.map((e) => [e.name, e])) };
}

/** Checkpoint key → canonical name (`bert.`-prefixed encoder names, HF weight/bias). */
export function canonicalKey(key: string): string {
  let k = key.replace(/LayerNorm\.gamma$/, "LayerNorm.weight").replace(
    /LayerNorm\.beta$/,
    "LayerNorm.bias",
  );
  if (/^(embeddings|encoder|pooler)\./.test(k)) k = `bert.${k}`;
  return k;
}

/** Keys `transformers` leaves out of its reports (buffers and tied duplicates). */
function ignoredUnexpected(key: string, task: Task): boolean {
  if (key.endsWith("embeddings.position_ids")) return true; // old persistent buffer
  if (key === "cls.predictions.decoder.weight" || key === "cls.predictions.decoder.bias") {
    return task === "mlm"; // tied to the word embeddings / cls.predictions.bias
  }
  // BertForQuestionAnswering and BertForMaskedLM ignore an unused pooler.
  return (task === "qa" || task === "mlm") && key.startsWith("bert.pooler.");
}

/**
 * Checkpoint keys by canonical name (see {@link canonicalKey}), with the tied MLM pair stored
 * under the decoder's names only mapped to the names the model uses.
 */
export function canonicalNames(tensorNames: Iterable<string>, file: string): Map<string, string> {
  const byName = new Map<string, string>();
  for (const key of tensorNames) {
    const c = canonicalKey(key);
    if (byName.has(c)) {
      throw new Error(`${file}: tensors "${byName.get(c)}" and "${key}" both map to ${c}`);
    }
    byName.set(c, key);
  }
  // The MLM bias may only be stored as the decoder's (tied) bias.
  if (!byName.has("cls.predictions.bias") && byName.has("cls.predictions.decoder.bias")) {
    byName.set("cls.predictions.bias", byName.get("cls.predictions.decoder.bias")!);
  }
  // Tied pair stored under the decoder's name only (a converter may keep either name).
  if (
    !byName.has("bert.embeddings.word_embeddings.weight") &&
    byName.has("cls.predictions.decoder.weight")
  ) {
    byName.set(
      "bert.embeddings.word_embeddings.weight",
      byName.get("cls.predictions.decoder.weight")!,
    );
  }
  return byName;
}

/** The config fields a parameter's shape comes from (named when a shape does not match). */
function shapeFields(name: string): string {
  if (name.endsWith("word_embeddings.weight")) return "vocab_size, hidden_size";
  if (name.endsWith("position_embeddings.weight")) return "max_position_embeddings, hidden_size";
  if (name.endsWith("token_type_embeddings.weight")) return "type_vocab_size, hidden_size";
  if (name === "cls.predictions.bias") return "vocab_size";
  if (/\.intermediate\.dense\.|\.layer\.\d+\.output\.dense\.weight$/.test(name)) {
    return "hidden_size, intermediate_size";
  }
  return "hidden_size";
}

/** Encoder layer indices of canonical names (`bert.encoder.layer.N.…`). */
function layerIndices(names: Iterable<string>): Set<number> {
  const out = new Set<number>();
  for (const n of names) {
    const m = /^bert\.encoder\.layer\.(\d+)\./.exec(n);
    if (m) out.add(Number(m[1]));
  }
  return out;
}

/**
 * Checks a config against a weight file's own header before any model is built (nothing is
 * allocated, no value read): the encoder layer count (`num_hidden_layers`), the presence of
 * every encoder tensor the config needs (embeddings and layers; only task heads and the pooler
 * may be missing, they are then initialised and reported), and each present tensor's shape
 * and dtype. `byName` is {@link canonicalNames} of the file; `configFile` names the config in
 * messages. Throws a one-line error naming the file, the tensor or the config field.
 */
export function checkConfigAgainstWeights(
  config: BertConfig,
  task: Task,
  tensors: ReadonlyMap<string, TensorInfo>,
  byName: ReadonlyMap<string, string>,
  file: string,
  configFile = "the config",
): void {
  const layers = layerIndices(byName.keys());
  const n = config.num_hidden_layers;
  if (layers.size === 0 && n > 0) {
    throw new Error(
      `${file} holds no encoder layers (no bert.encoder.layer.* tensors) but ${configFile} says ` +
        `num_hidden_layers ${n}`,
    );
  }
  const top = layers.size ? Math.max(...layers) : -1;
  if (top + 1 !== layers.size) {
    const gaps = [];
    for (let l = 0; l <= top && gaps.length < 5; l++) if (!layers.has(l)) gaps.push(l);
    throw new Error(
      `${file}: encoder layer(s) ${gaps.join(", ")} missing (its layers go up to ${top})`,
    );
  }
  if (layers.size !== n) {
    throw new Error(
      `${file} holds ${plural(layers.size, "encoder layer")} (bert.encoder.layer.0–${top}) but ` +
        `${configFile} says num_hidden_layers ${n}: the config does not describe these weights`,
    );
  }
  // The layer count now matches the file, so the list below is as long as the file's.
  const lacking: string[] = [];
  for (const spec of parameterSpecs(config, task)) {
    const key = byName.get(spec.name);
    if (key === undefined) {
      if (/^bert\.(embeddings|encoder)\./.test(spec.name)) lacking.push(spec.name);
      continue;
    }
    const t = tensors.get(key)!;
    if (t.shape.join(",") !== spec.shape.join(",")) {
      throw new Error(
        `${file}: tensor "${key}" has shape [${t.shape}] but the config expects [${spec.shape}] ` +
          `for ${spec.name} (from ${configFile}'s ${shapeFields(spec.name)})`,
      );
    }
    if (!["F32", "F16", "BF16", "F64"].includes(t.dtype)) {
      throw new Error(`${file}: tensor "${key}" has dtype ${t.dtype}, expected a float type`);
    }
  }
  if (lacking.length) {
    throw new Error(
      `${file} lacks ${plural(lacking.length, "encoder tensor")} that ${configFile} needs: ` +
        lacking.slice(0, 3).join(", ") + (lacking.length > 3 ? ", …" : ""),
    );
  }
}

/**
 * Builds a model from named tensors (already read from `file`); used by {@link loadPretrained}.
 * The config is checked against the tensors' names and shapes first
 * ({@link checkConfigAgainstWeights}), before any value is converted or variable created.
 */
export function modelFromTensors<T extends Task>(
  config: BertConfig,
  task: T,
  tensors: Map<string, RawTensor>,
  file: string,
  seed: number = SEED.default,
  configFile = "the config",
): { model: BertModel<T>; report: LoadReport } {
  const byName = canonicalNames(tensors.keys(), file);
  checkConfigAgainstWeights(config, task, tensors, byName, file, configFile);
  const specs = parameterSpecs(config, task);
  const values: Float32Array[] = [];
  const used = new Set<string>();
  const missingKeys: string[] = [];
  for (const spec of specs) {
    const key = byName.get(spec.name);
    if (key === undefined) {
      missingKeys.push(spec.name);
      values.push(initialValues(spec, config, deriveSeed(seed, spec.name)));
      continue;
    }
    const v = tensors.get(key)!.toFloat32();
    for (let i = 0; i < v.length; i++) {
      if (!Number.isFinite(v[i])) {
        throw new Error(`${file}: tensor "${key}" contains a non-finite value at index ${i}`);
      }
    }
    values.push(v);
    used.add(key);
  }
  if (task === "mlm") {
    const dec = byName.get("cls.predictions.decoder.weight");
    if (dec !== undefined) used.add(dec);
    const decB = byName.get("cls.predictions.decoder.bias");
    if (decB !== undefined) used.add(decB);
  }
  const unexpectedKeys = [...tensors.keys()].filter((k) =>
    !used.has(k) && !ignoredUnexpected(canonicalKey(k), task)
  );
  const vars = new Map<string, tf.Variable>();
  try {
    specs.forEach((spec, i) => vars.set(spec.name, makeVariable(values[i], spec.shape)));
    return {
      model: new BertModel(config, task, vars),
      report: { file, missingKeys, unexpectedKeys },
    };
  } catch (e) {
    for (const v of vars.values()) v.dispose();
    throw e;
  }
}

/** Task heads and the pooler: what a checkpoint of another task has or lacks. */
const HEAD_PREFIXES: readonly [prefix: string, name: string][] = [
  ["classifier.", "classifier head"],
  ["qa_outputs.", "qa_outputs head"],
  ["cls.predictions.", "masked-LM head (cls.predictions)"],
  ["cls.seq_relationship.", "next-sentence head (cls.seq_relationship)"],
  ["bert.pooler.", "pooler"],
];

/** Keys grouped by head: "cls.predictions.* (5 tensors)"; other keys as they are (first 5). */
function groupKeys(keys: readonly string[]): string {
  const groups: string[] = [];
  const rest: string[] = [];
  for (const [prefix] of HEAD_PREFIXES) {
    const n = keys.filter((k) => canonicalKey(k).startsWith(prefix)).length;
    if (n) groups.push(`${prefix}* (${plural(n, "tensor")})`);
  }
  for (const k of keys) {
    if (!HEAD_PREFIXES.some(([p]) => canonicalKey(k).startsWith(p))) rest.push(k);
  }
  if (rest.length) {
    groups.push(
      rest.slice(0, 5).join(", ") + (rest.length > 5 ? ` and ${rest.length - 5} more` : ""),
    );
  }
  return groups.join(", ");
}

/**
 * The warning `transformers` prints for a load report, as one line (`undefined` when everything
 * matched): which weights are newly initialised, naming the new head (fine-tuning from an MLM
 * run or `bert-base-chinese` gets a new classifier / qa_outputs head), and which checkpoint
 * weights are not used (grouped by head). Hugging Face prints two multi-line warnings.
 */
export function formatLoadReport(report: LoadReport, dir: string, task: Task): string | undefined {
  const arch = TASK_ARCHITECTURES[task];
  const parts: string[] = [];
  if (report.missingKeys.length) {
    const heads = HEAD_PREFIXES.filter(([p]) => report.missingKeys.some((k) => k.startsWith(p)))
      .map(([, name]) => name);
    parts.push(
      `Some weights of ${arch} were not initialized from the model checkpoint at ${dir} and are ` +
        `newly initialized: ${JSON.stringify(report.missingKeys)} (new: ${
          heads.join(" and ") || "see the list"
        }; train the model before using it for predictions)`,
    );
  }
  if (report.unexpectedKeys.length) {
    const unused = groupKeys(report.unexpectedKeys);
    parts.push(
      parts.length
        ? `not used from the checkpoint: ${unused}`
        : `Some weights of the model checkpoint at ${dir} were not used when initializing ${arch}: ${unused}`,
    );
  }
  return parts.length ? parts.join("; ") : undefined;
}

/**
 * Loads a Hugging Face BERT folder for `task`. The config is checked against the weight file
 * first ({@link checkConfigAgainstWeights}). Missing head weights (another task's checkpoint,
 * e.g. an MLM run fine-tuned for multiple choice) are initialised (normal(0,
 * initializer_range), zero bias, LayerNorm ones/zeros) and, with unused keys, reported in one
 * line ({@link formatLoadReport}); see {@link LoadOptions}. The report is also on
 * `model.loadReport`. Whether the folder suits a task's answers is `checkModelForTask`'s
 * question (lib/models/task_check.ts), not this one's.
 */
export async function loadPretrained<T extends Task>(
  dir: string,
  task: T,
  opts: LoadOptions = {},
): Promise<BertModel<T> & { loadReport: LoadReport }> {
  if (!TASKS.includes(task)) {
    throw new Error(`loadPretrained: unknown task ${JSON.stringify(task)}`);
  }
  const config = await readConfig(dir);
  const { file, tensors } = await readCheckpointTensors(dir);
  const { model, report } = modelFromTensors(
    config,
    task,
    tensors,
    file,
    opts.seed ?? SEED.default,
    `${dir}/config.json`,
  );
  const log = opts.log ?? ((m: string) => console.warn(m));
  const warning = formatLoadReport(report, dir, task);
  if (warning) log(warning);
  return Object.assign(model, { loadReport: report });
}

/** Checkpoint name of a model parameter (`BertModel` has no `bert.` prefix in HF). */
function savedName(name: string, task: Task): string {
  return task === "base" && name.startsWith("bert.") ? name.slice(5) : name;
}

/**
 * Writes `DIR/model.safetensors` (F32, Hugging Face names and shapes; the tied MLM decoder is
 * left out as `transformers` does) and `DIR/config.json` with `architectures` set. Files are
 * written to a temporary name and renamed, so a failed save leaves no partial file.
 */
export async function saveModel(model: BertModel, dir: string): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const entries = [];
  for (const spec of parameterSpecs(model.config, model.task)) {
    const v = model.variables.get(spec.name)!;
    entries.push({
      name: savedName(spec.name, model.task),
      shape: spec.shape,
      data: (await v.data()) as Float32Array,
    });
  }
  const bytes = serializeSafetensors(entries, { format: "pt" });
  const config: BertConfig = { ...model.config, architectures: [model.architecture] };
  const write = async (name: string, data: Uint8Array) => {
    const tmp = `${dir}/.${name}.tmp`;
    await Deno.writeFile(tmp, data);
    await Deno.rename(tmp, `${dir}/${name}`);
  };
  await write("model.safetensors", bytes);
  await write("config.json", new TextEncoder().encode(configToJsonString(config)));
}
