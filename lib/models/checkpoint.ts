/**
 * Hugging Face model folders: load (`config.json` + `model.safetensors` or `pytorch_model.bin`)
 * and save (`model.safetensors` + `config.json`).
 *
 * Loading maps checkpoint names onto the model's parameters the way `transformers` does: the
 * `bert.` prefix is optional, legacy `LayerNorm.gamma`/`beta` mean `weight`/`bias`, extra keys
 * are reported and ignored, and missing ones are initialised as Hugging Face does and reported.
 * Every tensor is validated and converted before the first tf.Variable is created, so an error
 * never leaves a half-loaded model behind.
 * @module
 */
import { SEED } from "../args/mod.ts";
import * as tf from "@tensorflow/tfjs";
import { deriveSeed } from "../util/random.ts";
import { exists } from "../util/fs.ts";
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
import { parseSafetensors, serializeSafetensors } from "./safetensors.ts";
import type { RawTensor } from "./tensors.ts";
import { parseTorchCheckpoint } from "./torch_pickle.ts";

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

/** Reads the weights of a model folder (safetensors preferred, like `transformers`). */
export async function readCheckpointTensors(
  dir: string,
): Promise<{ file: string; tensors: Map<string, RawTensor> }> {
  const st = `${dir}/model.safetensors`;
  const bin = `${dir}/pytorch_model.bin`;
  if (await exists(st)) {
    return { file: st, tensors: parseSafetensors(await Deno.readFile(st), st).tensors };
  }
  if (await exists(bin)) {
    return { file: bin, tensors: parseTorchCheckpoint(await Deno.readFile(bin), bin) };
  }
  for (const idx of ["model.safetensors.index.json", "pytorch_model.bin.index.json"]) {
    if (await exists(`${dir}/${idx}`)) {
      throw new Error(`${dir}/${idx}: sharded checkpoints are not supported`);
    }
  }
  throw new Error(`${dir}: no model.safetensors or pytorch_model.bin found`);
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
 * Builds a model from named tensors (already read from `file`); used by {@link loadPretrained}.
 * Validates every shape before creating any variable.
 */
export function modelFromTensors(
  config: BertConfig,
  task: Task,
  tensors: Map<string, RawTensor>,
  file: string,
  seed: number = SEED.default,
): { model: BertModel; report: LoadReport } {
  const byName = new Map<string, string>();
  for (const key of tensors.keys()) {
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
    const t = tensors.get(key)!;
    if (t.shape.join(",") !== spec.shape.join(",")) {
      throw new Error(
        `${file}: tensor "${key}" has shape [${t.shape}] but the config expects [${spec.shape}] for ${spec.name}`,
      );
    }
    if (!["F32", "F16", "BF16", "F64"].includes(t.dtype)) {
      throw new Error(`${file}: tensor "${key}" has dtype ${t.dtype}, expected a float type`);
    }
    const v = t.toFloat32();
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

/** The warnings `transformers` prints for a load report (empty when everything matched). */
export function formatLoadReport(report: LoadReport, dir: string, task: Task): string[] {
  const arch = TASK_ARCHITECTURES[task];
  const out: string[] = [];
  if (report.unexpectedKeys.length) {
    out.push(
      `Some weights of the model checkpoint at ${dir} were not used when initializing ${arch}: ${
        JSON.stringify(report.unexpectedKeys)
      }`,
    );
  }
  if (report.missingKeys.length) {
    out.push(
      `Some weights of ${arch} were not initialized from the model checkpoint at ${dir} and are newly initialized: ${
        JSON.stringify(report.missingKeys)
      }\nYou should probably TRAIN this model on a down-stream task to be able to use it for predictions and inference.`,
    );
  }
  return out;
}

/**
 * Loads a Hugging Face BERT folder for `task`. Missing head weights are initialised
 * (normal(0, initializer_range), zero bias, LayerNorm ones/zeros) and reported, unused keys
 * reported; see {@link LoadOptions}. The report is also on `model.loadReport`.
 */
export async function loadPretrained(
  dir: string,
  task: Task,
  opts: LoadOptions = {},
): Promise<BertModel & { loadReport: LoadReport }> {
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
  );
  const log = opts.log ?? ((m: string) => console.warn(m));
  for (const line of formatLoadReport(report, dir, task)) log(line);
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
