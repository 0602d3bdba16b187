/**
 * The study's validation evaluations: a variant through the MC → QA pipeline (MC accuracy, QA with
 * the gold paragraph, end to end), and a single QA run given the gold paragraph, each with the
 * per-question scores (percent) the report's intervals and paired comparisons are computed from.
 * @module
 */
import { type AdlExample, loadContexts, loadExamples } from "../data/mod.ts";
import { examplesToQaInputs } from "../features/mod.ts";
import { evaluatePipeline, type PipelineEvaluation, predictAnswers } from "../pipeline/mod.ts";
import type { StudyProfile } from "./profiles.ts";
import { loadRunModel, pipelineOptions, qaRunSettings, withStages } from "./run_models.ts";
import type { StudyRun } from "./run_record.ts";
import { answerScores, pipelineScores, type QuestionScores } from "./scores.ts";
import type { VariantRuns } from "./study_runs.ts";

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

async function evaluateOn(
  profile: StudyProfile,
  runs: VariantRuns,
  { contexts, examples }: { contexts: string[]; examples: AdlExample[] },
): Promise<PipelineEvaluation> {
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

/**
 * Validation side by side for a variant through the two-stage pipeline (MC accuracy, QA with the
 * gold paragraph: EM, F1, loss; end to end with the MC-chosen paragraph), with the per-question
 * scores (percent) of every metric.
 */
export async function evaluateVariantScored(
  profile: StudyProfile,
  runs: VariantRuns,
): Promise<{ evaluation: PipelineEvaluation; scores: QuestionScores }> {
  const validation = await validationExamples(profile);
  const evaluation = await evaluateOn(profile, runs, validation);
  return { evaluation, scores: pipelineScores(validation.examples, evaluation) };
}

/**
 * Per-question EM / F1 (percent) of a QA run given the gold paragraph, on the profile's
 * validation questions (the ones Q2's pipeline evaluation scores), with the lengths the run was
 * trained with. Q4 scores its pretrained and scratch runs with it, so they compare pairwise.
 */
export async function scoreQaRun(profile: StudyProfile, run: StudyRun): Promise<QuestionScores> {
  if (run.task !== "qa") throw new Error(`${run.dir}: not a QA run`);
  const { contexts, examples } = await validationExamples(profile);
  const stage = await loadRunModel(run, "qa");
  try {
    const res = await predictAnswers(
      stage.model,
      stage.tokenizer,
      examplesToQaInputs(examples, contexts),
      { batchSize: profile.pipelineBatchSize, ...qaRunSettings(run) },
    );
    const s = answerScores(examples, res.predictions.map((p) => p.text));
    return { ids: examples.map((e) => e.id), scores: { exact_match: s.exact_match, f1: s.f1 } };
  } finally {
    stage.dispose();
  }
}
