/**
 * Features for multiple choice and extractive QA (Hugging Face `run_swag.py` / `run_qa.py`
 * semantics), collation, span decoding (`utils_qa.postprocess_qa_predictions`), EM/F1 metrics,
 * the predictions CSV, dataset checks and notebook views.
 * @module
 */
export type {
  AnswerSpan,
  FeatureTokenizer,
  McFeature,
  QaFeature,
  QaInput,
  TokenizedText,
} from "./types.ts";
export { prepareQaFeatures, prepareQaFeaturesWithStats, windowStarts } from "./qa.ts";
export type { QaFeatureOptions, QaInputStats } from "./qa.ts";
export { prepareMcFeatures } from "./mc.ts";
export type { McExampleLike, McFeatureOptions } from "./mc.ts";
export { collateMc, collateQa } from "./collate.ts";
export type { CollateOptions, IntTensorData, McBatch, QaBatch } from "./collate.ts";
export { postprocessQaPredictions, spanCandidates, topKIndices } from "./decode.ts";
export type { DecodeOptions, QaPrediction, SpanCandidate } from "./decode.ts";
export { computeQaMetrics, exactMatchScore, f1Score, normalizeAnswer } from "./metrics.ts";
export type { QaMetrics } from "./metrics.ts";
export {
  formatPredictionCsv,
  parsePredictionCsv,
  readPredictionCsv,
  writePredictionCsv,
} from "./csv.ts";
export type { PredictionRow } from "./csv.ts";
export { answerRoundtrip, mcTruncationStats, percentiles, windowStatistics } from "./check.ts";
export type {
  McTruncationStats,
  Percentiles,
  RoundtripMiss,
  RoundtripOptions,
  RoundtripResult,
  WindowStats,
} from "./check.ts";
export {
  decodingHtml,
  escapeHtml,
  featureTableHtml,
  illustrativeLogits,
  inputWithMostWindows,
  mcFeatureHtml,
  windowsHtml,
} from "./inspect.ts";
export type { FeatureTableOptions } from "./inspect.ts";
export { examplesToQaInputs } from "./inputs.ts";
export {
  chooseByOverlap,
  inverseParagraphFrequency,
  mcVisibleEnds,
  overlapScore,
  slidingWindowAnswer,
} from "./baselines.ts";
export type { BaselineAnswer, CharWeights } from "./baselines.ts";
