/**
 * The study's training runs, trained or reused, for the Q2–Q4 notebooks: each run is a call of
 * the library's task runner (`pretrainMaskedLm`, `trainMultipleChoice`,
 * `trainQuestionAnswering`) with Hugging Face arguments built from a {@link StudyProfile}, writing
 * under `<output dir>/runs/<profile>/<variant>/<task>`.
 *
 * Reuse rule: a run folder holding `all_results.json` and a `training_args.json` equal (as JSON,
 * key order ignored) to the arguments the run would use, defaults filled in, is read back instead
 * of trained again. Anything else (no results: never finished or killed; other arguments, other
 * seed, other data path) trains afresh, after removing the stale `all_results.json`.
 * @module
 */
import {
  type BertConfig,
  type BertModel,
  parameterSpecs,
  readConfig,
  type Task,
} from "../models/mod.ts";
import {
  evaluatePipeline,
  loadModelAndTokenizer,
  MC_DEFAULTS,
  MLM_DEFAULTS,
  type PipelineEvaluation,
  type PipelineOptions,
  predictAnswers,
  type PretrainArgs,
  pretrainMaskedLm,
  QA_DEFAULTS,
  type QaTrainArgs,
  runPipeline,
  type Stage,
  type TaskTrainArgs,
  trainMultipleChoice,
  trainQuestionAnswering,
  withDefaults,
  writePipelineCsv,
} from "../pipeline/mod.ts";
import { type AdlExample, loadContexts, loadExamples } from "../data/mod.ts";
import { computeQaMetrics, examplesToQaInputs, readPredictionCsv } from "../features/mod.ts";
import type { BertTokenizer } from "../tokenization/mod.ts";
import type { ProgressMode } from "../training/mod.ts";
import { getVariant, runDir, type StudyProfile } from "./profiles.ts";
import { answerScores, pipelineScores, type QuestionScores } from "./scores.ts";

/** What a run trains. */
export type RunTask = "pretrain" | "mc" | "qa";

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
  /** The model's config (`config.json` of the run). */
  config: BertConfig;
  numParameters: number;
  /** Whether the run started from pretrained weights. */
  pretrained: boolean;
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

const TASK_OF: Record<RunTask, Task> = { pretrain: "mlm", mc: "mc", qa: "qa" };

function defaultsOf(task: RunTask): Record<string, unknown> {
  return task === "pretrain" ? MLM_DEFAULTS : task === "mc" ? MC_DEFAULTS : QA_DEFAULTS;
}

function canonical(v: unknown): string {
  const sort = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(sort);
    if (x && typeof x === "object") {
      const o: Record<string, unknown> = {};
      for (const k of Object.keys(x).sort()) {
        const val = (x as Record<string, unknown>)[k];
        if (val !== undefined) o[k] = sort(val);
      }
      return o;
    }
    return x;
  };
  return JSON.stringify(sort(v));
}

/** The arguments a run saves: the requested ones over the task's defaults (as the runners do). */
export function filledArgs(task: RunTask, args: Record<string, unknown>): Record<string, unknown> {
  return withDefaults(args, defaultsOf(task));
}

async function readJson(path: string): Promise<Record<string, unknown> | null> {
  try {
    return JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw new Error(`${path}: ${(e as Error).message}`);
  }
}

/**
 * Why a finished run in `dir` can't be reused for `args` (null when it can): no results, no
 * saved arguments, or the keys whose values differ.
 */
export async function reuseMismatch(
  task: RunTask,
  dir: string,
  args: Record<string, unknown>,
): Promise<string | null> {
  const results = await readJson(`${dir}/all_results.json`);
  if (!results) return "no all_results.json (not trained, or not finished)";
  const saved = await readJson(`${dir}/training_args.json`);
  if (!saved) return "no training_args.json";
  const want = filledArgs(task, args);
  if (canonical(saved) === canonical(want)) return null;
  const keys = [...new Set([...Object.keys(saved), ...Object.keys(want)])].sort();
  const diff = keys.filter((k) => canonical(saved[k]) !== canonical(want[k]));
  return `arguments differ: ${
    diff.map((k) => `${k} ${JSON.stringify(saved[k])} -> ${JSON.stringify(want[k])}`).join(", ")
  }`;
}

async function stepStats(dir: string): Promise<{ steps: number; seconds: number }> {
  let text = "";
  try {
    text = await Deno.readTextFile(`${dir}/train_log.jsonl`);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  if (lines.length === 0) return { steps: 0, seconds: 0 };
  const last = JSON.parse(lines[lines.length - 1]);
  return { steps: Number(last.step ?? lines.length), seconds: Number(last.elapsed_s ?? 0) };
}

function countParameters(config: BertConfig, task: Task): number {
  return parameterSpecs(config, task).reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
}

async function describeRun(
  task: RunTask,
  variant: string,
  label: string,
  dir: string,
  reused: boolean,
): Promise<StudyRun> {
  const args = (await readJson(`${dir}/training_args.json`)) ?? {};
  const results = (await readJson(`${dir}/all_results.json`)) as Record<string, number> ?? {};
  const config = await readConfig(dir);
  const { steps, seconds } = await stepStats(dir);
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
    config,
    numParameters: countParameters(config, TASK_OF[task]),
    pretrained: typeof args.model_name_or_path === "string",
  };
}

/**
 * Trains one run with `args` into `dir`, or reuses a finished identical one (see the module
 * rule). `args` are the runner's arguments without `output_dir` and `seed`.
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
  const full = { ...args, output_dir: dir, seed: opts.seed };
  const why = opts.force ? "forced" : await reuseMismatch(task, dir, full);
  if (why === null) {
    log(`[${variant}/${task}] reusing the finished run in ${dir} (same training_args.json)`);
    return await describeRun(task, variant, label, dir, true);
  }
  log(`[${variant}/${task}] training into ${dir} (${why})`);
  await Deno.mkdir(dir, { recursive: true });
  await Deno.remove(`${dir}/all_results.json`).catch(() => {});
  const runnerOpts = { log, progress: opts.progress };
  const r = task === "pretrain"
    ? await pretrainMaskedLm(full as unknown as PretrainArgs, runnerOpts)
    : task === "mc"
    ? await trainMultipleChoice(full as unknown as TaskTrainArgs, runnerOpts)
    : await trainQuestionAnswering(full as unknown as QaTrainArgs, runnerOpts);
  r.model.dispose();
  const mismatch = await reuseMismatch(task, dir, full);
  if (mismatch !== null) {
    // The rule must hold for the next call, or every report would retrain.
    throw new Error(`${dir}: the run just trained is not reusable: ${mismatch}`);
  }
  return await describeRun(task, variant, label, dir, false);
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

/** Q4's pair: the same config and arguments from scratch and from the pretrained weights. */
export interface ScratchComparison {
  task: "mc" | "qa";
  pretrained: StudyRun;
  scratch: StudyRun;
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

/** A trained model loaded for inference, with its tokenizer. */
export interface LoadedStage extends Stage {
  model: BertModel;
  tokenizer: BertTokenizer;
  dispose(): void;
}

/** Loads a run's final model and tokenizer (Hugging Face layout) for the pipeline. */
export async function loadRunModel(run: StudyRun): Promise<LoadedStage> {
  if (run.task === "pretrain") throw new Error(`${run.dir}: a pretraining run has no task head`);
  const { model, tokenizer } = await loadModelAndTokenizer(
    { model_name_or_path: run.dir },
    TASK_OF[run.task],
    () => {},
  );
  return { model, tokenizer, dispose: () => model.dispose() };
}

/** Pipeline settings of a variant: each stage with the lengths it was trained with. */
export function pipelineOptions(runs: VariantRuns, batchSize: number): PipelineOptions {
  const num = (r: StudyRun, k: string) => {
    const v = r.args[k];
    if (typeof v !== "number") throw new Error(`${r.dir}/training_args.json: no numeric ${k}`);
    return v;
  };
  return {
    mcMaxSeqLength: num(runs.mc, "max_seq_length"),
    qaMaxSeqLength: num(runs.qa, "max_seq_length"),
    docStride: num(runs.qa, "doc_stride"),
    nBestSize: num(runs.qa, "n_best_size"),
    maxAnswerLength: num(runs.qa, "max_answer_length"),
    batchSize,
  };
}

async function withStages<T>(
  runs: VariantRuns,
  fn: (mc: LoadedStage, qa: LoadedStage) => Promise<T>,
): Promise<T> {
  const mc = await loadRunModel(runs.mc);
  try {
    const qa = await loadRunModel(runs.qa);
    try {
      return await fn(mc, qa);
    } finally {
      qa.dispose();
    }
  } finally {
    mc.dispose();
  }
}

/** The profile's validation questions for the pipeline (`evalSamples` first ones, or all). */
export async function validationExamples(
  profile: StudyProfile,
): Promise<{ contexts: string[]; examples: AdlExample[] }> {
  const contexts = await loadContexts(profile.data.context_file);
  const all = await loadExamples(profile.data.validation_file, contexts, { split: "valid" });
  return {
    contexts,
    examples: profile.evalSamples ? all.slice(0, profile.evalSamples) : all,
  };
}

/**
 * Validation side by side for a variant through the two-stage pipeline: MC accuracy, QA with the
 * gold paragraph (EM, F1, loss) and end to end with the MC-chosen paragraph.
 */
export async function evaluateVariant(
  profile: StudyProfile,
  runs: VariantRuns,
): Promise<PipelineEvaluation> {
  const { contexts, examples } = await validationExamples(profile);
  return await withStages(
    runs,
    (mc, qa) =>
      evaluatePipeline(
        examples,
        contexts,
        mc,
        qa,
        pipelineOptions(runs, profile.pipelineBatchSize),
      ),
  );
}

/** {@link evaluateVariant} with the per-question scores (percent) of every metric. */
export async function evaluateVariantScored(
  profile: StudyProfile,
  runs: VariantRuns,
): Promise<{ evaluation: PipelineEvaluation; scores: QuestionScores }> {
  const { examples } = await validationExamples(profile);
  const evaluation = await evaluateVariant(profile, runs);
  return { evaluation, scores: pipelineScores(examples, evaluation) };
}

/**
 * Per-question EM / F1 (percent) of a QA run given the gold paragraph, on the profile's
 * validation questions (the ones Q2's pipeline evaluation scores), with the lengths the run was
 * trained with. Q4 scores its pretrained and scratch runs with it, so they compare pairwise.
 */
export async function scoreQaRun(profile: StudyProfile, run: StudyRun): Promise<QuestionScores> {
  if (run.task !== "qa") throw new Error(`${run.dir}: not a QA run`);
  const { contexts, examples } = await validationExamples(profile);
  const stage = await loadRunModel(run);
  try {
    const num = (k: string) => Number(run.args[k]);
    const res = await predictAnswers(
      stage.model,
      stage.tokenizer,
      examplesToQaInputs(examples, contexts),
      {
        batchSize: profile.pipelineBatchSize,
        maxSeqLength: num("max_seq_length"),
        docStride: num("doc_stride"),
        nBestSize: num("n_best_size"),
        maxAnswerLength: num("max_answer_length"),
      },
    );
    const s = answerScores(examples, res.predictions.map((p) => p.text));
    return { ids: examples.map((e) => e.id), scores: { exact_match: s.exact_match, f1: s.f1 } };
  } finally {
    stage.dispose();
  }
}

/** What {@link predictTest} wrote. */
export interface TestPrediction {
  /** The CSV written. */
  path: string;
  /** Test ids in file order; the CSV has one row per id, in this order. */
  ids: string[];
  /** Variant whose models answered. */
  variant: string;
  /** End-to-end EM / F1 of the CSV read back, against the test gold when the profile has it. */
  score?: { exact_match: number; f1: number };
  /** The same, per test question (percent). */
  scores?: QuestionScores;
}

/**
 * Answers the test split with a variant's MC → QA pipeline and writes `prediction.csv`
 * (`id,answer`, one row per test id in input order). The CSV is read back and checked; with a
 * test gold file (the sample has one) it is scored, so a validation/test gap shows at once.
 */
export async function predictTest(
  profile: StudyProfile,
  runs: VariantRuns,
  csvPath: string,
): Promise<TestPrediction> {
  const contexts = await loadContexts(profile.data.context_file);
  const test = await loadExamples(profile.data.test_file, contexts, { split: "test" });
  const result = await withStages(
    runs,
    (mc, qa) =>
      runPipeline(test, contexts, mc, qa, pipelineOptions(runs, profile.pipelineBatchSize)),
  );
  const dir = csvPath.slice(0, csvPath.lastIndexOf("/"));
  if (dir) await Deno.mkdir(dir, { recursive: true });
  await writePipelineCsv(csvPath, result.rows);
  const back = await readPredictionCsv(csvPath);
  if (back.length !== test.length || back.some((r, i) => r.id !== test[i].id)) {
    throw new Error(`${csvPath}: rows do not follow ${profile.data.test_file}'s ids and order`);
  }
  const out: TestPrediction = {
    path: csvPath,
    ids: test.map((t) => t.id),
    variant: runs.variant,
  };
  if (profile.data.test_gold_file) {
    const gold = await loadExamples(profile.data.test_gold_file, contexts, { split: "valid" });
    const byId = new Map(gold.map((g) => [g.id, g.answer!.text]));
    const golds = back.map((r) => {
      const g = byId.get(r.id);
      if (g === undefined) {
        throw new Error(`${profile.data.test_gold_file}: no gold answer for test id ${r.id}`);
      }
      return { id: r.id, text: g };
    });
    out.score = computeQaMetrics(back.map((r) => ({ id: r.id, text: r.answer })), golds);
    const goldOf = new Map(gold.map((g) => [g.id, g]));
    const s = answerScores(back.map((r) => goldOf.get(r.id)!), back.map((r) => r.answer));
    out.scores = { ids: back.map((r) => r.id), scores: s };
  }
  return out;
}
