/**
 * The study's training runs, trained or reused, for the Q2–Q4 notebooks: each run is a call of
 * the library's task runner (`pretrainMaskedLm`, `trainMultipleChoice`,
 * `trainQuestionAnswering`) with Hugging Face arguments built from a {@link StudyProfile}, writing
 * under `<output dir>/runs/<profile>/<variant>/<task>`. A finished identical run is reused
 * (the rule is in reuse.ts).
 * @module
 */
import { resolveArgs } from "../args/mod.ts";
import {
  type McRunArgs,
  type MlmRunArgs,
  pretrainMaskedLm,
  type QaRunArgs,
  trainMultipleChoice,
  trainQuestionAnswering,
} from "../pipeline/mod.ts";
import type { ProgressMode } from "../training/mod.ts";
import { getVariant, runDir, type StudyProfile } from "./profiles.ts";
import { reuseMismatch, schemaOf } from "./reuse.ts";
import { readStudyRun, type RunTask, type StudyRun } from "./run_record.ts";

/** Options shared by the run helpers. */
export interface ExperimentOptions {
  /** The report's output directory (runs go under `runs/`). */
  outputDir: string;
  /** Seed of every run (`--seed`). */
  seed: number;
  /** Messages (default console.log). */
  log?: (message: string) => void;
  /** Training progress display (default "auto": one updating display in a notebook). */
  progress?: ProgressMode;
  /** Train even when a matching finished run exists. */
  force?: boolean;
}

/** A Q2 variant's runs. */
export interface VariantRuns {
  variant: string;
  label: string;
  analogueOf: string;
  pretrain?: StudyRun;
  mc: StudyRun;
  qa: StudyRun;
}

/** Q4's pair: the same config and arguments from scratch and from the pretrained weights. */
export interface ScratchComparison {
  task: "mc" | "qa";
  pretrained: StudyRun;
  scratch: StudyRun;
}

/**
 * Trains one run with `args` into `dir`, or reuses a finished identical one (see reuse.ts);
 * before training, the stale `all_results.json` is removed. `args` are the runner's arguments
 * without `output_dir` and `seed`.
 */
export async function trainOrReuse(
  task: RunTask,
  variant: string,
  label: string,
  dir: string,
  args: Record<string, unknown>,
  opts: ExperimentOptions,
): Promise<StudyRun> {
  const log = opts.log ?? ((m: string) => console.log(m));
  // Resolved (defaults filled, checked) once: the reuse rule and the runner take it as it is.
  const full = resolveArgs(schemaOf(task), { ...args, output_dir: dir, seed: opts.seed });
  const why = opts.force ? "forced" : await reuseMismatch(task, dir, full);
  if (why === null) {
    log(`[${variant}/${task}] reusing the finished run in ${dir} (same training_args.json)`);
    return await readStudyRun(task, variant, label, dir, true);
  }
  log(`[${variant}/${task}] training into ${dir} (${why})`);
  await Deno.mkdir(dir, { recursive: true });
  await Deno.remove(`${dir}/all_results.json`).catch(() => {});
  const runnerOpts = { log, progress: opts.progress };
  const r = task === "pretrain"
    ? await pretrainMaskedLm(full as unknown as MlmRunArgs, runnerOpts)
    : task === "mc"
    ? await trainMultipleChoice(full as unknown as McRunArgs, runnerOpts)
    : await trainQuestionAnswering(full as unknown as QaRunArgs, runnerOpts);
  r.model.dispose();
  const mismatch = await reuseMismatch(task, dir, full);
  if (mismatch !== null) {
    // The rule must hold for the next call, or every report would retrain.
    throw new Error(`${dir}: the run just trained is not reusable: ${mismatch}`);
  }
  return await readStudyRun(task, variant, label, dir, false);
}

/** Data arguments of a task run. */
function dataArgs(profile: StudyProfile, task: "mc" | "qa"): Record<string, unknown> {
  return {
    ...(task === "mc" ? profile.mc : profile.qa),
    train_file: profile.data.train_file,
    validation_file: profile.data.validation_file,
    context_file: profile.data.context_file,
  };
}

/** The pretraining run of an in-project variant (undefined for a downloaded checkpoint). */
export async function pretrainVariant(
  profile: StudyProfile,
  variantId: string,
  opts: ExperimentOptions,
): Promise<StudyRun | undefined> {
  const v = getVariant(profile, variantId);
  if (!v.pretrain) return undefined;
  const args: Record<string, unknown> = {
    ...v.pretrain.args,
    masking: v.pretrain.masking,
    context_file: profile.data.context_file,
    ...(v.pretrain.withTrainQuestions ? { train_file: profile.data.train_file } : {}),
  };
  return await trainOrReuse(
    "pretrain",
    v.id,
    v.label,
    runDir(opts.outputDir, profile, v.id, "pretrain"),
    args,
    opts,
  );
}

/** The folder a variant's fine-tuning starts from (its checkpoint or its pretraining run). */
async function variantSource(
  profile: StudyProfile,
  variantId: string,
  opts: ExperimentOptions,
): Promise<{ dir: string; pretrain?: StudyRun }> {
  const v = getVariant(profile, variantId);
  if (v.modelDir) {
    try {
      Deno.statSync(`${v.modelDir}/config.json`);
    } catch {
      throw new Error(
        `variant ${v.id}: ${v.modelDir}/config.json not found — put the Hugging Face folder of ` +
          `${v.analogueOf} there or point the profile's environment variable at it`,
      );
    }
    return { dir: v.modelDir };
  }
  const pretrain = await pretrainVariant(profile, variantId, opts);
  if (!pretrain) throw new Error(`variant ${v.id} has neither modelDir nor pretrain`);
  return { dir: pretrain.dir, pretrain };
}

/** Fine-tunes one task of a variant from `sourceDir` (training or reusing). */
async function fineTuneVariant(
  profile: StudyProfile,
  variantId: string,
  task: "mc" | "qa",
  sourceDir: string,
  opts: ExperimentOptions,
): Promise<StudyRun> {
  const v = getVariant(profile, variantId);
  return await trainOrReuse(
    task,
    v.id,
    v.label,
    runDir(opts.outputDir, profile, v.id, task),
    { ...dataArgs(profile, task), model_name_or_path: sourceDir },
    opts,
  );
}

/** Fine-tunes one task of a variant from its pretrained weights (training or reusing). */
export async function runTask(
  profile: StudyProfile,
  variantId: string,
  task: "mc" | "qa",
  opts: ExperimentOptions,
): Promise<StudyRun> {
  const src = await variantSource(profile, variantId, opts);
  return await fineTuneVariant(profile, variantId, task, src.dir, opts);
}

/** A Q2 variant: its pretraining (when in-project), then MC and QA fine-tuning. */
export async function runVariant(
  profile: StudyProfile,
  variantId: string,
  opts: ExperimentOptions,
): Promise<VariantRuns> {
  const v = getVariant(profile, variantId);
  const src = await variantSource(profile, variantId, opts);
  const mc = await fineTuneVariant(profile, variantId, "mc", src.dir, opts);
  const qa = await fineTuneVariant(profile, variantId, "qa", src.dir, opts);
  return {
    variant: v.id,
    label: v.label,
    analogueOf: v.analogueOf,
    pretrain: src.pretrain,
    mc,
    qa,
  };
}

/**
 * Q4: trains `profile.q4.task` from scratch with the config and tokenizer of the Q4 variant's
 * pretrained model (`--config_name` + `--tokenizer_name`, no `--model_name_or_path`, as the HF
 * scripts train from scratch) and with exactly the arguments of the pretrained run, which is
 * the variant's Q2 run (reused when Q2 already trained it).
 */
export async function runScratchComparison(
  profile: StudyProfile,
  opts: ExperimentOptions,
): Promise<ScratchComparison> {
  const { task, variant } = profile.q4;
  const src = await variantSource(profile, variant, opts);
  const pretrained = await fineTuneVariant(profile, variant, task, src.dir, opts);
  const scratch = await trainOrReuse(
    task,
    "scratch",
    `from scratch (${getVariant(profile, variant).label}'s config)`,
    runDir(opts.outputDir, profile, "scratch", task),
    { ...dataArgs(profile, task), config_name: src.dir, tokenizer_name: src.dir },
    opts,
  );
  return { task, pretrained, scratch };
}
