/**
 * `deno task cli logits --model_name_or_path DIR --task base|mc|qa|mlm --input inputs.json`:
 * runs a Hugging Face BERT folder on given token ids and prints one JSON object with the raw
 * outputs (for comparing with PyTorch `transformers`):
 * `{"last_hidden_state", "pooler_output"}` (base), `{"logits"}` (mc, mlm),
 * `{"start_logits", "end_logits"}` (qa).
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { checkPath, type CommandSpec, type ParsedFlags } from "./args.ts";
import { initBackend } from "../backend/mod.ts";
import { type BertConfig, loadPretrained, type Task, TASKS } from "../models/mod.ts";

/** Flags of the `logits` command. */
export const spec: CommandSpec = {
  name: "logits",
  summary: "Run a BERT model folder on token ids from a JSON file and print its outputs as JSON.",
  flags: {
    model_name_or_path: {
      type: "string",
      path: true,
      required: true,
      help: "Folder with config.json and model.safetensors or pytorch_model.bin",
    },
    task: {
      type: "string",
      default: "base",
      choices: TASKS,
      help: "Head: base (encoder), mc (multiple choice), qa (span), mlm (masked LM)",
    },
    input: {
      type: "string",
      path: true,
      required: true,
      help:
        'JSON file {"input_ids", "token_type_ids"?, "attention_mask"?}: [B][T] ([B][C][T] for mc)',
    },
  },
  epilog: "Warnings about unused or newly initialised weights go to stderr; stdout is the JSON.",
};

/** Model inputs as nested arrays, validated. */
export interface LogitsInput {
  input_ids: number[][] | number[][][];
  token_type_ids?: number[][] | number[][][];
  attention_mask?: number[][] | number[][][];
}

function shapeOf(v: unknown, rank: number, where: string): number[] {
  const shape: number[] = [];
  let level: unknown = v;
  for (let d = 0; d < rank; d++) {
    if (!Array.isArray(level) || level.length === 0) {
      throw new Error(`${where}: expected a non-empty nested array of rank ${rank}`);
    }
    shape.push(level.length);
    level = level[0];
  }
  const check = (x: unknown, d: number, path: string) => {
    if (d === rank) {
      if (typeof x !== "number" || !Number.isInteger(x)) {
        throw new Error(`${where}${path}: expected an integer, got ${JSON.stringify(x)}`);
      }
      return;
    }
    if (!Array.isArray(x) || x.length !== shape[d]) {
      throw new Error(`${where}${path}: expected an array of length ${shape[d]} (ragged input)`);
    }
    x.forEach((y, i) => check(y, d + 1, `${path}[${i}]`));
  };
  check(v, 0, "");
  return shape;
}

/**
 * Validates `json` (from `file`) against `config` and `task`; returns int32 tensors.
 * Errors name the file, the field and the position.
 */
export function inputsFromJson(
  json: unknown,
  config: BertConfig,
  task: Task,
  file: string,
): { inputIds: tf.Tensor; tokenTypeIds?: tf.Tensor; attentionMask?: tf.Tensor } {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new Error(`${file}: expected a JSON object with "input_ids"`);
  }
  const o = json as Record<string, unknown>;
  if (!("input_ids" in o)) throw new Error(`${file}: field "input_ids" is missing`);
  const rank = task === "mc" ? 3 : 2;
  const shape = shapeOf(o.input_ids, rank, `${file}: field "input_ids"`);
  const T = shape[rank - 1];
  if (T > config.max_position_embeddings) {
    throw new Error(
      `${file}: field "input_ids": sequence length ${T} exceeds max_position_embeddings ${config.max_position_embeddings}`,
    );
  }
  const limits: Record<string, [number, number]> = {
    input_ids: [0, config.vocab_size - 1],
    token_type_ids: [0, config.type_vocab_size - 1],
    attention_mask: [0, 1],
  };
  const tensors: Record<string, tf.Tensor> = {};
  for (const field of ["input_ids", "token_type_ids", "attention_mask"]) {
    if (o[field] === undefined) continue;
    const where = `${file}: field "${field}"`;
    const s = shapeOf(o[field], rank, where);
    if (s.join(",") !== shape.join(",")) {
      throw new Error(`${where} has shape [${s}] but input_ids has [${shape}]`);
    }
    const values = (o[field] as unknown[]).flat(rank) as number[];
    const [lo, hi] = limits[field];
    const bad = values.findIndex((v) => v < lo || v > hi);
    if (bad >= 0) {
      throw new Error(
        `${where}: value ${values[bad]} at flat index ${bad} is outside [${lo}, ${hi}]`,
      );
    }
    tensors[field] = tf.tensor(values, shape, "int32");
  }
  return {
    inputIds: tensors.input_ids,
    tokenTypeIds: tensors.token_type_ids,
    attentionMask: tensors.attention_mask,
  };
}

/** Runs the model on the input file and returns the JSON-ready outputs. */
export async function computeLogits(
  dir: string,
  task: Task,
  inputFile: string,
): Promise<Record<string, unknown>> {
  let json: unknown;
  try {
    json = JSON.parse(await Deno.readTextFile(inputFile));
  } catch (e) {
    throw new Error(`${inputFile}: cannot read JSON input (${(e as Error).message})`);
  }
  const model = await loadPretrained(dir, task);
  const x = (() => {
    try {
      return inputsFromJson(json, model.config, task, inputFile);
    } catch (e) {
      model.dispose();
      throw e;
    }
  })();
  try {
    const out = model.forward(x);
    const names: Record<string, string> = {
      lastHiddenState: "last_hidden_state",
      poolerOutput: "pooler_output",
      logits: "logits",
      startLogits: "start_logits",
      endLogits: "end_logits",
    };
    const result: Record<string, unknown> = {};
    for (const [k, t] of Object.entries(out)) {
      if (t) result[names[k]] = await (t as tf.Tensor).array();
    }
    tf.dispose(Object.values(out) as tf.Tensor[]);
    return result;
  } finally {
    tf.dispose(Object.values(x).filter((t) => t) as tf.Tensor[]);
    model.dispose();
  }
}

/** Runs the command. */
export async function run(flags: ParsedFlags): Promise<void> {
  await checkPath(String(flags.model_name_or_path), "model_name_or_path", "dir");
  await initBackend({ quiet: true });
  const result = await computeLogits(
    String(flags.model_name_or_path),
    String(flags.task) as Task,
    String(flags.input),
  );
  console.log(JSON.stringify(result));
}
