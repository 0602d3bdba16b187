/**
 * The check every command that answers with a model runs first (`predict`, `evaluate`; `ask`,
 * `serve`, `export-onnx` too): each model folder must hold a model of its task (its
 * `architectures` and the heads in its weights, see `checkModelsForTasks` in lib/models), before
 * any check that reads the run's own training arguments. A mismatch is a usage error (exit 2):
 * the command line named the wrong folder.
 * @module
 */
import { UsageError } from "./args.ts";
import {
  checkModelsForTasks,
  type ModelFolderInfo,
  type ModelUse,
  WrongModelError,
} from "../models/mod.ts";

/**
 * Checks the answer models named on the command line, e.g.
 * `[{ dir: mcDir, task: "mc", flag: "mc_model" }, { dir: qaDir, task: "qa", flag: "qa_model" }]`;
 * a folder of another task throws a {@link UsageError} naming the flag, both architectures and
 * heads (and "look swapped" when they are).
 */
export async function checkAnswerModels(uses: readonly ModelUse[]): Promise<ModelFolderInfo[]> {
  // A folder without config.json is not a model folder: said with the flag that named it.
  for (const u of uses) {
    const st = await Deno.stat(`${u.dir}/config.json`).catch(() => undefined);
    if (!st?.isFile) {
      throw new UsageError(
        `${u.flag ? `--${u.flag} ` : ""}${u.dir}: no config.json, so not a model folder (a ` +
          "training run's output_dir, or a Hugging Face folder: config.json, model.safetensors " +
          "or pytorch_model.bin, vocab.txt)",
      );
    }
  }
  try {
    return await checkModelsForTasks(uses);
  } catch (e) {
    if (e instanceof WrongModelError) throw new UsageError(e.message);
    throw e;
  }
}
