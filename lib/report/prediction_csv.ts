/**
 * `prediction.csv`: the test split answered by a variant's MC → QA pipeline, written as
 * `id,answer` (one row per test id, in the test file's order), read back and checked, and scored
 * against the test answers when the profile has them (`test_gold_file`).
 * @module
 */
import { loadContexts, loadExamples } from "../data/mod.ts";
import { computeQaMetrics, readPredictionCsv } from "../features/mod.ts";
import { runPipeline, writePipelineCsv } from "../pipeline/mod.ts";
import type { StudyProfile } from "./profiles.ts";
import { pipelineOptions, withStages } from "./run_models.ts";
import { answerScores, type QuestionScores } from "./scores.ts";
import type { VariantRuns } from "./study_runs.ts";

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
    const goldOf = new Map(gold.map((g) => [g.id, g]));
    const golds = back.map((r) => {
      const g = goldOf.get(r.id);
      if (g === undefined) {
        throw new Error(`${profile.data.test_gold_file}: no gold answer for test id ${r.id}`);
      }
      return g;
    });
    out.score = computeQaMetrics(
      back.map((r) => ({ id: r.id, text: r.answer })),
      golds.map((g) => ({ id: g.id, text: g.answer!.text })),
    );
    const s = answerScores(golds, back.map((r) => r.answer));
    out.scores = { ids: back.map((r) => r.id), scores: s };
  }
  return out;
}
