/**
 * Task runners and the two-stage pipeline: training multiple choice and QA with the generic loop,
 * batched inference that keeps ids aligned, MC → QA prediction (`prediction.csv`) and the
 * validation report (MC accuracy, QA with the gold paragraph, end to end).
 * @module
 */
export {
  Answerer,
  AnswerInputError,
  type AnswerLoadOptions,
  type AnswerOptions,
  type AnswerQuery,
  type AnswerResult,
  type AnswerSettings,
  answerSettingsOf,
  type AnswerSpan,
  type AnswerStage,
  parseAnswerQuery,
  type QueryLimits,
  resolveAnswerSettings,
} from "./answer.ts";
export {
  assertMcAlignment,
  assertQaAlignment,
  batchIndices,
  type BatchOrder,
  type ForwardModel,
  inferenceBatchSize,
  type InferenceOptions,
  mcLogits,
  type QaLogits,
  qaLogits,
  toTensor,
} from "./inference.ts";
export {
  argmax,
  mcMetrics,
  type McPrediction,
  type McPredictOptions,
  predictParagraphs,
  softmax,
} from "./mc.ts";
export {
  predictAnswers,
  qaLossFromLogits,
  qaMetrics,
  type QaPredictOptions,
  type QaPredictResult,
} from "./qa.ts";
export {
  evaluatePipeline,
  formatEvaluation,
  type PipelineEvaluation,
  type PipelineOptions,
  type PipelineResult,
  type PipelineRow,
  runPipeline,
  type Stage,
  writePipelineCsv,
} from "./two_stage.ts";
export {
  type LoadedModel,
  loadModelAndTokenizer,
  loadTokenizer,
  loadWeightsInto,
  type ModelSourceArgs,
  resolveConfig,
  saveModelAndTokenizer,
} from "./setup.ts";
export {
  type CorpusInfo,
  loadMlmCorpus,
  type MaskingKind,
  MLM_DEFAULTS,
  type MlmRunArgs,
  packMlmFeatures,
  perTokenWords,
  type PretrainArgs,
  pretrainMaskedLm,
  type PretrainResult,
} from "./pretrain.ts";
export {
  MC_DEFAULTS,
  type McRunArgs,
  QA_DEFAULTS,
  type QaRunArgs,
  type QaTrainArgs,
  readTrainingArgs,
  type RunnerOptions,
  type TaskTrainArgs,
  type TaskTrainResult,
  trainMultipleChoice,
  trainQuestionAnswering,
} from "./train.ts";
