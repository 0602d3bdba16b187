/**
 * `deno task cli export-onnx --model_name_or_path RUN --output_dir DIR [--quantize int8]`: a
 * trained run exported to ONNX in the folder layout transformers.js loads (see
 * `lib/export/folder.ts` and docs/EXPORT.md).
 * @module
 */
import { checkPath, type CommandSpec, type ParsedFlags, UsageError } from "./args.ts";
import { initBackend } from "../backend/mod.ts";
import { EXPORT_TASKS, exportOnnx, exportTask } from "../export/mod.ts";
import { type Task, WrongModelError } from "../models/mod.ts";

/** Flags of the `export-onnx` command. */
export const spec: CommandSpec = {
  name: "export-onnx",
  summary: "Export a trained model folder to ONNX (config, tokenizer, onnx/model.onnx) for " +
    "transformers.js and onnxruntime.",
  flags: {
    model_name_or_path: {
      type: "string",
      path: true,
      required: true,
      help: "Trained model folder (config.json, model.safetensors or pytorch_model.bin, tokenizer)",
    },
    output_dir: {
      type: "string",
      path: true,
      required: true,
      help: "Folder to write (created when missing; other files in it are left alone)",
    },
    task: {
      type: "string",
      choices: EXPORT_TASKS,
      help: "Head to export: qa, mc or mlm; the folder must hold it trained (default: the one " +
        "the folder holds, as config.json's architectures names)",
    },
    quantize: {
      type: "string",
      choices: ["int8"],
      help: "Also write onnx/model_quantized.onnx with int8 dynamic quantization (default: none)",
    },
  },
  epilog: "Inputs input_ids, attention_mask, token_type_ids (int64, dynamic batch and sequence " +
    "axes); outputs start_logits/end_logits (qa), logits [batch, choices] (mc) or " +
    "[batch, tokens, vocab] (mlm).",
};

/** Runs the command. */
export async function run(flags: ParsedFlags): Promise<void> {
  const modelDir = String(flags.model_name_or_path);
  const outputDir = String(flags.output_dir);
  await checkPath(modelDir, "model_name_or_path", "dir");
  try {
    await Deno.stat(`${modelDir}/config.json`);
  } catch {
    throw new UsageError(
      `--model_name_or_path ${modelDir}: no config.json (not a Hugging Face model folder)`,
    );
  }
  if (modelDir.replace(/\/+$/, "") === outputDir.replace(/\/+$/, "")) {
    throw new UsageError("--output_dir must differ from --model_name_or_path");
  }
  // The folder must hold a trained model of the head (lib/models' task check), before any work.
  let task: Task;
  try {
    task = await exportTask(modelDir, flags.task as Task | undefined, "model_name_or_path");
  } catch (e) {
    throw e instanceof WrongModelError ? new UsageError(e.message) : e;
  }
  await initBackend({ quiet: true });
  const result = await exportOnnx({
    modelDir,
    outputDir,
    task,
    quantize: flags.quantize as "int8" | undefined,
    log: (m) => console.error(m),
  });
  for (const f of result.files) {
    console.log(`${outputDir}/${f.path}  ${(f.bytes / 1e6).toFixed(1)} MB`);
  }
  console.log(`exported the ${result.task} head (model_max_length ${result.modelMaxLength})`);
}
