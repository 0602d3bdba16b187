/**
 * The report's baselines (lib/features/baselines.ts) on the very questions the models are scored
 * on, with the same per-question scores, bootstrap intervals and keys as a model variant
 * (`mc_accuracy`, `qa_exact_match`, `qa_f1`, `end_to_end_exact_match`, `end_to_end_f1`), so the
 * summary and Q2 put them beside the models:
 *
 * - `overlap`: MC by character overlap over the whole candidate paragraphs; QA by the sliding
 *   window on the gold paragraph; end to end: the sliding window on the paragraph overlap chose;
 * - `overlap_visible`: the same, each candidate limited to what the MC model reads at its
 *   `max_seq_length` (the QA side reads the whole paragraph, as the QA model does with its
 *   windows).
 * @module
 */
import type { AdlExample } from "../data/mod.ts";
import {
  chooseByOverlap,
  type FeatureTokenizer,
  inverseParagraphFrequency,
  mcVisibleEnds,
  slidingWindowAnswer,
} from "../features/mod.ts";
import { BertTokenizer } from "../tokenization/mod.ts";
import type { StudyProfile } from "./profiles.ts";
import { runNumber } from "./run_record.ts";
import { qaRunSettings } from "./run_models.ts";
import { answerScores, type QuestionScores } from "./scores.ts";
import type { VariantRuns } from "./study_runs.ts";
import { validationExamples } from "./validation.ts";

/** One baseline's per-question scores. */
export interface BaselineSystem {
  /** Key prefix in the metrics' `intervals` and `scores` (`overlap`, `overlap_visible`). */
  id: "overlap" | "overlap_visible";
  /** Shown in tables and the summary. */
  label: string;
  scores: QuestionScores;
}

/** Settings of {@link baselineSystems}: the MC model's reading length and tokenizer. */
export interface BaselineSettings {
  /** Tokenizer of the MC model (for what it reads at `mcMaxSeqLength`). */
  tokenizer: FeatureTokenizer;
  mcMaxSeqLength: number;
  /** Longest answer, in characters (the QA runs' `max_answer_length`, in tokens). */
  maxAnswerLength: number;
}

/** Scores of both baselines on `examples` (questions with answers), in the examples' order. */
export function baselineSystems(
  examples: readonly AdlExample[],
  contexts: readonly string[],
  s: BaselineSettings,
): BaselineSystem[] {
  const weights = inverseParagraphFrequency(contexts);
  const answer = (ex: AdlExample, p: number) =>
    slidingWindowAnswer(ex.question, contexts[p], weights, { maxAnswerLength: s.maxAnswerLength })
      .text;
  const gold = examples.map((ex) => answer(ex, ex.relevant!));
  const qa = answerScores(examples, gold);
  const visible = mcVisibleEnds(examples, contexts, s.tokenizer, s.mcMaxSeqLength);
  const system = (
    id: BaselineSystem["id"],
    label: string,
    ends?: number[][],
  ): BaselineSystem => {
    const chosen = examples.map((ex, i) =>
      ex.paragraphs[
        chooseByOverlap(ex.question, ex.paragraphs.map((p) => contexts[p]), weights, ends?.[i])
      ]
    );
    const e2e = answerScores(
      examples,
      examples.map((ex, i) => (chosen[i] === ex.relevant ? gold[i] : answer(ex, chosen[i]))),
    );
    return {
      id,
      label,
      scores: {
        ids: examples.map((x) => x.id),
        scores: {
          mc_accuracy: chosen.map((p, i) => (p === examples[i].relevant ? 100 : 0)),
          qa_exact_match: qa.exact_match,
          qa_f1: qa.f1,
          end_to_end_exact_match: e2e.exact_match,
          end_to_end_f1: e2e.f1,
        },
      },
    };
  };
  return [
    system("overlap", "character overlap (no training)"),
    system(
      "overlap_visible",
      `character overlap, first ${s.mcMaxSeqLength} tokens (what the MC model reads)`,
      visible,
    ),
  ];
}

/**
 * Both baselines on the profile's validation questions (the ones Q2 scores the variants on),
 * reading like `runs`' MC model (its tokenizer and `max_seq_length`) and answering at most its QA
 * run's `max_answer_length` characters.
 */
export async function evaluateBaselines(
  profile: StudyProfile,
  runs: VariantRuns,
): Promise<BaselineSystem[]> {
  const { contexts, examples } = await validationExamples(profile);
  const tokenizer = await BertTokenizer.fromPretrained(runs.mc.dir);
  return baselineSystems(examples, contexts, {
    tokenizer,
    mcMaxSeqLength: runNumber(runs.mc, "max_seq_length"),
    maxAnswerLength: qaRunSettings(runs.qa).maxAnswerLength,
  });
}
