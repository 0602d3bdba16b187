/**
 * `deno task report --plan`: what a profile's study costs on this machine, without training it.
 * For every fine-tuning stage (Q2's variants × MC/QA, Q4's from-scratch run) it prints the memory
 * plan, the number of updates (from the real training features and the profile's arguments) and
 * an estimated wall time from a few timed micro-batches of the real training code (random head
 * weights, nothing saved); and a timed estimate of the two-stage inference on the validation and
 * test questions. In-project pretraining (default / smoke profiles) is not estimated.
 * @module
 */
import { SEED } from "../args/mod.ts";
import * as tf from "@tensorflow/tfjs";
import { loadContexts, loadExamples } from "../data/mod.ts";
import { examplesToQaInputs, prepareMcFeatures, prepareQaFeatures } from "../features/mod.ts";
import {
  loadModelAndTokenizer,
  type ModelSourceArgs,
  predictAnswers,
  predictParagraphs,
  trainMultipleChoice,
  trainQuestionAnswering,
} from "../pipeline/mod.ts";
import { backendMemoryLimit, describePlan, planMemory, planSteps } from "../training/mod.ts";
import { getProfile, type ModelVariant, type StudyProfile } from "./profiles.ts";
import type { Profile } from "./metrics.ts";
import { formatSeconds, plural } from "../util/text.ts";

/** One stage's estimate. */
export interface StagePlan {
  stage: string;
  memoryPlan: string;
  /** Training features (MC: questions; QA: windows). */
  features: number;
  updates: number;
  epochs: number;
  /** Seconds per requested micro-batch (timed). */
  secondsPerMicroBatch: number;
  secondsPerUpdate: number;
  /** Estimated seconds for the whole stage. */
  seconds: number;
}

function source(v: ModelVariant): ModelSourceArgs {
  if (v.modelDir) return { model_name_or_path: v.modelDir };
  const a = v.pretrain!.args;
  return {
    tokenizer_name: a.tokenizer_name as string,
    config_overrides: a.config_overrides as string | undefined,
  };
}

/** Human-readable seconds ("3 h 12 min", "45 s"). */
export function formatDuration(s: number): string {
  if (s < 90) return formatSeconds(s);
  if (s < 5400) return `${(s / 60).toFixed(0)} min`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

/** Plans and times one fine-tuning stage. */
async function planStage(
  profile: StudyProfile,
  v: ModelVariant,
  task: "mc" | "qa",
  timedSteps: number,
  log: (m: string) => void,
): Promise<StagePlan> {
  const args = task === "mc" ? profile.mc : profile.qa;
  const d = profile.data;
  const contexts = await loadContexts(d.context_file);
  const all = await loadExamples(d.train_file, contexts, { split: "train" });
  const cap = args.max_train_samples as number | undefined;
  const train = cap ? all.slice(0, cap) : all;
  const { model, tokenizer } = await loadModelAndTokenizer(
    { ...source(v), seed: SEED.default },
    task,
    () => {},
  );
  const maxLen = args.max_seq_length as number;
  let features: number, longest = 1, perExample = 1;
  if (task === "mc") {
    const f = prepareMcFeatures(train, contexts, tokenizer, { maxSeqLength: maxLen });
    features = f.length;
    perExample = f[0]?.inputIds.length ?? 1;
    for (const x of f) for (const r of x.inputIds) longest = Math.max(longest, r.length);
  } else {
    const f = prepareQaFeatures(examplesToQaInputs(train, contexts), tokenizer, {
      maxSeqLength: maxLen,
      docStride: args.doc_stride as number,
      training: true,
    });
    features = f.length;
    for (const x of f) longest = Math.max(longest, x.inputIds.length);
  }
  const limit = backendMemoryLimit(tf.getBackend());
  const plan = planMemory({
    config: model.config,
    task,
    numParameters: model.numParameters(),
    seqLength: longest,
    sequencesPerExample: perExample,
    batchSize: args.per_device_train_batch_size as number,
    gradientCheckpointing: args.gradient_checkpointing === true,
    training: true,
    backend: tf.getBackend(),
    limitBytes: limit.bytes,
    limitName: limit.name,
    optimizerOnHost: tf.getBackend() === "wasm",
  });
  model.dispose();
  const steps = planSteps(features, {
    perDeviceTrainBatchSize: args.per_device_train_batch_size as number,
    gradientAccumulationSteps: args.gradient_accumulation_steps as number,
    numTrainEpochs: args.num_train_epochs as number,
    maxTrainSteps: args.max_train_steps as number | undefined,
  });
  const stage = `${v.id} ${task}`;
  let secondsPerMicroBatch = NaN;
  if (plan.microBatch > 0) {
    // The real training code on a few micro-batches (one update each, nothing written).
    const run = task === "mc" ? trainMultipleChoice : trainQuestionAnswering;
    const batch = args.per_device_train_batch_size as number;
    const r = await run({
      ...args,
      ...source(v),
      train_file: d.train_file,
      context_file: d.context_file,
      validation_file: undefined,
      output_dir: undefined,
      checkpointing_steps: undefined,
      max_train_samples: batch * (timedSteps + 1),
      max_train_steps: timedSteps + 1,
      gradient_accumulation_steps: 1,
    }, { log: () => {}, progress: "none" });
    r.model.dispose();
    // The first micro-batch warms up (allocation, kernel set-up) and is not counted. Each
    // timed micro-batch holds `batch` rows (QA: windows) and includes one optimizer update.
    const t = r.train.stepLog.map((x) => x.elapsed_s as number);
    secondsPerMicroBatch = t.length > 1
      ? (t[t.length - 1] - t[0]) / (t.length - 1)
      : r.trainSeconds / Math.max(1, t.length);
  }
  const secondsPerUpdate = secondsPerMicroBatch * steps.gradientAccumulationSteps;
  const out: StagePlan = {
    stage,
    memoryPlan: describePlan(plan),
    features,
    updates: steps.maxTrainSteps,
    epochs: steps.numTrainEpochs,
    secondsPerMicroBatch,
    secondsPerUpdate,
    seconds: secondsPerUpdate * steps.maxTrainSteps,
  };
  log(`${stage}: ${out.memoryPlan}`);
  log(
    `${stage}: ${plural(features, "training feature")} -> ${plural(out.updates, "update")} ` +
      `over ${plural(out.epochs, "epoch")}; ${formatSeconds(secondsPerMicroBatch)} per ` +
      `micro-batch, ${formatSeconds(secondsPerUpdate)} per update -> ≈ ` +
      formatDuration(out.seconds),
  );
  return out;
}

/** Times the two-stage inference on a few validation questions and scales to all. */
async function planInference(
  profile: StudyProfile,
  v: ModelVariant,
  sample: number,
  log: (m: string) => void,
): Promise<StagePlan> {
  const d = profile.data;
  const contexts = await loadContexts(d.context_file);
  const valid = await loadExamples(d.validation_file, contexts, { split: "valid" });
  const test = await loadExamples(d.test_file, contexts, { split: "test" });
  const few = valid.slice(0, sample);
  const questions = valid.length + test.length;
  const t0 = performance.now();
  const src = { ...source(v), seed: SEED.default };
  const mc = await loadModelAndTokenizer(src, "mc", () => {});
  await predictParagraphs(mc.model, mc.tokenizer, few, contexts, {
    maxSeqLength: profile.mc.max_seq_length as number,
    batchSize: profile.pipelineBatchSize,
  });
  mc.model.dispose();
  const qa = await loadModelAndTokenizer(src, "qa", () => {});
  await predictAnswers(qa.model, qa.tokenizer, examplesToQaInputs(few, contexts), {
    maxSeqLength: profile.qa.max_seq_length as number,
    docStride: profile.qa.doc_stride as number,
    batchSize: profile.pipelineBatchSize,
  });
  qa.model.dispose();
  const perQuestion = (performance.now() - t0) / 1000 / Math.max(1, few.length);
  const out: StagePlan = {
    stage: `${v.id} two-stage inference`,
    memoryPlan: "",
    features: questions,
    updates: 0,
    epochs: 0,
    secondsPerMicroBatch: perQuestion,
    secondsPerUpdate: 0,
    seconds: perQuestion * questions,
  };
  log(
    `${out.stage}: ${plural(questions, "validation + test question")}, ` +
      `${formatSeconds(perQuestion)} per question (MC + QA, timed on ${few.length}) -> ≈ ` +
      `${formatDuration(out.seconds)} per ` +
      `pass (the study runs it for validation and test of each variant)`,
  );
  return out;
}

/**
 * The plan of a profile: every fine-tuning stage, Q4's scratch run (same cost as its pretrained
 * counterpart) and inference; returns the stages and logs one line each.
 */
export async function planStudy(
  name: Profile,
  opts: { timedSteps?: number; inferenceSample?: number; log?: (m: string) => void } = {},
): Promise<{ stages: StagePlan[]; totalSeconds: number }> {
  const log = opts.log ?? ((m: string) => console.log(m));
  const profile = getProfile(name);
  log(`plan of the ${profile.name} profile on ${tf.getBackend()} (nothing is trained or saved)`);
  if (profile.variants.some((v) => v.pretrain)) {
    log("in-project pretraining is not estimated; fine-tuning uses the variants' configs");
  }
  const stages: StagePlan[] = [];
  for (const v of profile.variants) {
    for (const task of ["mc", "qa"] as const) {
      stages.push(await planStage(profile, v, task, opts.timedSteps ?? 2, log));
    }
  }
  const q4 = stages.find((s) => s.stage === `${profile.q4.variant} ${profile.q4.task}`);
  if (q4) {
    stages.push({ ...q4, stage: `Q4 from scratch ${profile.q4.task}` });
    log(`Q4 from scratch ${profile.q4.task}: as ${q4.stage} -> ≈ ${formatDuration(q4.seconds)}`);
  }
  for (const v of profile.variants) {
    const inf = await planInference(profile, v, opts.inferenceSample ?? 4, log);
    stages.push({ ...inf, seconds: 2 * inf.seconds });
  }
  const totalSeconds = stages.reduce((s, x) => s + (Number.isFinite(x.seconds) ? x.seconds : 0), 0);
  log(`total ≈ ${formatDuration(totalSeconds)} on this machine`);
  return { stages, totalSeconds };
}
