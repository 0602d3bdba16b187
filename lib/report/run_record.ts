/**
 * A finished run of the study, read back from its folder (`training_args.json`,
 * `all_results.json`, `config.json`, the step log): the {@link StudyRun} record the notebooks and
 * the report views work from, and the one reader of a run's numeric arguments.
 * @module
 */
import { type BertConfig, parameterSpecs, readConfig, type Task } from "../models/mod.ts";
import { STEP_LOG } from "../training/mod.ts";

/** What a run trains. */
export type RunTask = "pretrain" | "mc" | "qa";

/** The model task (head) of each run task. */
export const RUN_MODEL_TASK: Record<RunTask, Task> = { pretrain: "mlm", mc: "mc", qa: "qa" };

/** A finished run, trained now or reused. */
export interface StudyRun {
  task: RunTask;
  /** Variant id (`scratch` for Q4's from-scratch run). */
  variant: string;
  label: string;
  /** The run's `output_dir`. */
  dir: string;
  /** Arguments as the runner saved them (`training_args.json`, defaults filled in). */
  args: Record<string, unknown>;
  /** `all_results.json` (`eval_*` metrics). */
  results: Record<string, number>;
  /** True when read back from an earlier identical run. */
  reused: boolean;
  /** Optimizer updates and training seconds, from the run's step log. */
  steps: number;
  trainSeconds: number;
  /** Epochs the run went through (the last step record's `epoch_float`; 0 without a log). */
  epochsRun: number;
  /** The model's config (`config.json` of the run). */
  config: BertConfig;
  numParameters: number;
  /** Whether the run started from pretrained weights. */
  pretrained: boolean;
}

/** A JSON file of a run folder, or null when it is not there. */
export async function readRunJson(path: string): Promise<Record<string, unknown> | null> {
  try {
    return JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw new Error(`${path}: ${(e as Error).message}`);
  }
}

/** Updates, seconds and epochs of the last line of the run's step log (zeros without a log). */
async function stepStats(
  dir: string,
): Promise<{ steps: number; seconds: number; epochs: number }> {
  let text = "";
  try {
    text = await Deno.readTextFile(`${dir}/${STEP_LOG}.jsonl`);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  if (lines.length === 0) return { steps: 0, seconds: 0, epochs: 0 };
  const last = JSON.parse(lines[lines.length - 1]);
  return {
    steps: Number(last.step ?? lines.length),
    seconds: Number(last.elapsed_s ?? 0),
    epochs: Number(last.epoch_float ?? 0),
  };
}

function countParameters(config: BertConfig, task: Task): number {
  return parameterSpecs(config, task).reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
}

/** Reads the finished run in `dir` as a {@link StudyRun}. */
export async function readStudyRun(
  task: RunTask,
  variant: string,
  label: string,
  dir: string,
  reused: boolean,
): Promise<StudyRun> {
  const args = (await readRunJson(`${dir}/training_args.json`)) ?? {};
  const results = (await readRunJson(`${dir}/all_results.json`)) as Record<string, number> ?? {};
  const config = await readConfig(dir);
  const { steps, seconds, epochs } = await stepStats(dir);
  return {
    task,
    variant,
    label,
    dir,
    args,
    results,
    reused,
    steps,
    trainSeconds: seconds,
    epochsRun: epochs,
    config,
    numParameters: countParameters(config, RUN_MODEL_TASK[task]),
    pretrained: typeof args.model_name_or_path === "string",
  };
}

/** A numeric argument the run was trained with; throws naming the file when it has none. */
export function runNumber(run: StudyRun, key: string): number {
  const v = run.args[key];
  if (typeof v !== "number") throw new Error(`${run.dir}/training_args.json: no numeric '${key}'`);
  return v;
}

/** Examples per optimizer update: micro-batch size × gradient accumulation steps. */
export function effectiveBatchSize(run: StudyRun): number {
  return runNumber(run, "per_device_train_batch_size") *
    runNumber(run, "gradient_accumulation_steps");
}
