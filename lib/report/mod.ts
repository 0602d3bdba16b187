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
  checkNotebooksExist,
  runStudy,
  STUDY_NOTEBOOKS,
  type StudyNotebook,
  type StudyOptions,
} from "./study.ts";
