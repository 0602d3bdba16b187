/**
 * Report: executing the study's notebooks on the Deno Jupyter kernel (headless, cell by cell),
 * the metrics-file convention between notebooks and report, and report assembly (Markdown + HTML).
 * @module
 */
export {
  markdownToHtml,
  type NotebookRunInfo,
  Q2_SUBSECTIONS,
  renderReportHtml,
  renderReportMarkdown,
  type RunInfo,
  SECTION_TITLES,
  writeReport,
} from "./assemble.ts";
export { ensureDenoKernel, findDenoKernelSpec, jupyterDataDirs } from "./kernel.ts";
export {
  type Cell,
  metricsPath,
  type NotebookParams,
  notebookParams,
  type Profile,
  PROFILES,
  readSectionMetrics,
  type ReportBlock,
  type SectionId,
  type SectionMetrics,
  SECTIONS,
  type Subsection,
  validateSectionMetrics,
  writeSectionMetrics,
} from "./metrics.ts";
export {
  DRIVER,
  type FailedCell,
  NotebookError,
  type NotebookRunStatus,
  pythonPath,
  runNotebook,
  type RunNotebookOptions,
} from "./runner.ts";
export {
  evaluateVariant,
  type ExperimentOptions,
  filledArgs,
  type LoadedStage,
  loadRunModel,
  pipelineOptions,
  predictTest,
  pretrainVariant,
  reuseMismatch,
  runScratchComparison,
  type RunTask,
  runTask,
  runVariant,
  type ScratchComparison,
  type StudyRun,
  type TestPrediction,
  trainOrReuse,
  validationExamples,
  type VariantRuns,
} from "./experiments.ts";
export {
  getProfile,
  getVariant,
  type Masking,
  type ModelVariant,
  type PretrainSpec,
  projectRoot,
  type Q4Spec,
  type RunArgs,
  runDir,
  type StudyData,
  type StudyProfile,
} from "./profiles.ts";
export {
  argsBlocks,
  comparisonArgsDiff,
  comparisonBlocks,
  conclusionBlock,
  configBlocks,
  displayBlocks,
  displayHtml,
  logSummary,
  lossOptimizerBlocks,
  modelBlocks,
  performanceBlocks,
  q2Metrics,
  tableHtml,
  type VariantEvaluation,
} from "./views.ts";
export {
  checkNotebooksExist,
  runStudy,
  STUDY_NOTEBOOKS,
  type StudyNotebook,
  type StudyOptions,
} from "./study.ts";
