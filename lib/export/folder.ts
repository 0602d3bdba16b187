/**
 * A trained run exported as a folder that transformers.js (`@huggingface/transformers`) loads as
 * it is, in the layout of Hugging Face's ONNX exports:
 *
 * - `config.json` — the model's config, `architectures` naming its head;
 * - `tokenizer.json`, `tokenizer_config.json` (+ `vocab.txt`, `special_tokens_map.json`) — the
 *   run's tokenizer as the project saves it, `model_max_length` clamped to the model's
 *   `max_position_embeddings` (transformers.js truncates to it);
 * - `onnx/model.onnx` — the fp32 graph ({@link bertToOnnx});
 * - `onnx/model_quantized.onnx` with `quantize: "int8"` — the name transformers.js loads for
 *   `dtype: "q8"`, its default in browsers.
 * @module
 */
import {
  type BertModel,
  checkModelForTask,
  configToJsonString,
  inspectModelFolder,
  loadPretrained,
  type Task,
  taskOfFolder,
} from "../models/mod.ts";
import { BertTokenizer } from "../tokenization/mod.ts";
import { writeFileAtomic } from "../util/atomic.ts";
import { exists } from "../util/fs.ts";
import { bertToOnnx, EXPORT_TASKS } from "./bert_onnx.ts";
import { encodeModel } from "./onnx_proto.ts";

/** File names of the ONNX models inside the exported folder (transformers.js's names). */
export const ONNX_FILES = {
  fp32: "onnx/model.onnx",
  int8: "onnx/model_quantized.onnx",
} as const;

/** Options of {@link exportOnnx}. */
export interface ExportOnnxOptions {
  /** Trained model folder (Hugging Face layout: config.json, weights, tokenizer files). */
  modelDir: string;
  /** Folder to write into (created when missing; other files in it are left alone). */
  outputDir: string;
  /** Head to export; default: the one the folder holds (`config.json`'s `architectures`). */
  task?: Task;
  /** Also write the int8 dynamically quantized model. */
  quantize?: "int8";
  /** Progress lines. */
  log?: (message: string) => void;
}

/** What {@link exportOnnx} wrote. */
export interface ExportOnnxResult {
  task: Task;
  /** Files written, relative to the output folder, with their sizes in bytes. */
  files: { path: string; bytes: number }[];
  /** `model_max_length` written to tokenizer_config.json. */
  modelMaxLength: number;
}

/**
 * The head to export from `dir`: `task` when given (the folder must hold a trained model of it),
 * else the one the folder holds (lib/models `taskOfFolder`: its `architectures`, its head's
 * weights). Throws lib/models' `WrongModelError` naming the folder (as `--flag dir` when `flag`
 * is given), what it holds and what was wanted.
 */
export async function exportTask(dir: string, task?: Task, flag?: string): Promise<Task> {
  if (task !== undefined && !EXPORT_TASKS.includes(task)) {
    throw new Error(`no ONNX export for the ${task} head (exportable: ${EXPORT_TASKS.join(", ")})`);
  }
  if (task !== undefined) {
    await checkModelForTask(dir, task as Exclude<Task, "base">, { flag });
    return task;
  }
  return taskOfFolder(
    await inspectModelFolder(dir),
    flag ? `--${flag} ${dir}` : dir,
    `; pass --task (${EXPORT_TASKS.join(", ")}) to export a head the folder holds`,
  );
}

/** Loads the trained model; weights the checkpoint lacks are an error, not random values. */
async function loadTrained(dir: string, task: Task): Promise<BertModel> {
  const model = await loadPretrained(dir, task, { log: () => {} });
  const missing = model.loadReport.missingKeys;
  if (missing.length > 0) {
    model.dispose();
    throw new Error(
      `${dir}: the checkpoint lacks weights of ${model.architecture} (missing ` +
        `${missing.join(", ")}); export a complete trained model`,
    );
  }
  return model;
}

/** Writes the exported folder (see the module docs). */
export async function exportOnnx(opts: ExportOnnxOptions): Promise<ExportOnnxResult> {
  const log = opts.log ?? (() => {});
  const task = await exportTask(opts.modelDir, opts.task);
  let tokenizer: BertTokenizer;
  try {
    tokenizer = await BertTokenizer.fromPretrained(opts.modelDir);
  } catch (e) {
    throw new Error(`cannot load the tokenizer from ${opts.modelDir}: ${(e as Error).message}`);
  }
  const model = await loadTrained(opts.modelDir, task);
  if (tokenizer.vocabSize > model.config.vocab_size) {
    model.dispose();
    // Ids past the embeddings would make onnxruntime's Gather fail at run time.
    throw new Error(
      `${opts.modelDir}: the tokenizer has ${tokenizer.vocabSize} tokens but the model's ` +
        `vocab_size is ${model.config.vocab_size}; export the model with its own tokenizer`,
    );
  }
  const files: { path: string; bytes: number }[] = [];
  const write = async (path: string, data: string | Uint8Array) => {
    await writeFileAtomic(`${opts.outputDir}/${path}`, data);
    files.push({
      path,
      bytes: typeof data === "string" ? new TextEncoder().encode(data).length : data.length,
    });
  };
  try {
    const modelMaxLength = Math.min(tokenizer.modelMaxLength, model.config.max_position_embeddings);
    await write(
      "config.json",
      configToJsonString({ ...model.config, architectures: [model.architecture] }),
    );
    await tokenizer.withModelMaxLength(modelMaxLength).save(opts.outputDir);
    for (
      const name of [
        "tokenizer.json",
        "tokenizer_config.json",
        "vocab.txt",
        "special_tokens_map.json",
      ]
    ) {
      files.push({ path: name, bytes: (await Deno.stat(`${opts.outputDir}/${name}`)).size });
    }
    log(`${model.architecture}: writing ${ONNX_FILES.fp32}`);
    await write(ONNX_FILES.fp32, encodeModel(bertToOnnx(model)));
    if (opts.quantize === "int8") {
      log(`${model.architecture}: writing ${ONNX_FILES.int8} (int8 dynamic quantization)`);
      await write(ONNX_FILES.int8, encodeModel(bertToOnnx(model, { quantize: "int8" })));
    } else {
      // A quantized file left from an earlier export would be what browsers load by default.
      const stale = `${opts.outputDir}/${ONNX_FILES.int8}`;
      if (await exists(stale)) {
        log(`removing ${stale} from an earlier export (not quantizing this time)`);
        await Deno.remove(stale);
      }
    }
    return { task, files, modelMaxLength };
  } finally {
    model.dispose();
  }
}
