/**
 * Plotting: training logs → Plotly JSON figures (pure builders), notebook display through the
 * Plotly MIME bundle, and saving as self-contained HTML plus a headless-Chromium PNG.
 * @module
 */
export * from "./log.ts";
export {
  comparisonFigure,
  type ComparisonOptions,
  DEFAULT_SIZE,
  finalMetricsBarFigure,
  type MetricsRow,
  metricsTableFigure,
  type NamedRun,
  PALETTE,
  type PlotlyFigure,
  trainingCurvesFigure,
  type TrainingCurvesOptions,
  validationFigure,
  type ValidationOptions,
  wrapTitle,
} from "./figures.ts";
export {
  escapeHtml,
  type FigureHtmlOptions,
  figureSize,
  figureToHtml,
  PLOTLY_BUNDLE_FILE,
  plotlyBundleSource,
  scriptJson,
} from "./html.ts";
export {
  DEFAULT_FIGURE_DIR,
  findChromium,
  renderHtmlToPng,
  type RenderOptions,
  type SavedFigure,
  saveFigure,
  writePlotlyBundle,
} from "./export.ts";
export {
  displayBundle,
  displayFigure,
  figureMimeBundle,
  figureSummary,
  type MimeBundle,
  PLOTLY_MIME,
  relativeHref,
  showFigure,
} from "./display.ts";
export { type DrawnLayout, drawnLayout, layoutProblems, type TextBox } from "./layout_check.ts";
export { countColor, type DecodedPng, decodePng, nonBackgroundFraction } from "./png.ts";
