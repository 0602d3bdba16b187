/**
 * Figure builders: pure functions from training logs and metrics to plain Plotly JSON specs
 * (`{data, layout}`), which render the same in a notebook (Plotly MIME bundle), in saved HTML and
 * in the PNG export.
 * @module
 */
import {
  cumulativeMean,
  emaBetaFor,
  epochBoundaries,
  evalEpochs,
  type EvalRecord,
  exponentialMovingAverage,
  runningMetricOf,
  type StepRecord,
  type TrainingLog,
} from "./log.ts";
import { formatMetric, formatNumber, isPercentMetric } from "../util/metric_format.ts";

/** A Plotly figure as JSON: traces and layout. */
export interface PlotlyFigure {
  data: Record<string, unknown>[];
  layout: Record<string, unknown>;
}

/**
 * Default figure size in CSS pixels: the PNG's size. Interactive figures (HTML, notebooks) leave
 * the width to the window and keep only the height.
 */
export const DEFAULT_SIZE = { width: 900, height: 600 } as const;

/** Qualitative palette (Plotly's default colour sequence). */
export const PALETTE = [
  "#636efa",
  "#ef553b",
  "#00cc96",
  "#ab63fa",
  "#ffa15a",
  "#19d3f3",
  "#ff6692",
  "#b6e880",
] as const;

const METRIC_LABEL: Record<string, string> = {
  running_accuracy: "running accuracy",
  running_exact_match: "running exact match (answer windows)",
  accuracy: "accuracy",
  exact_match: "exact match",
  f1: "F1",
  eval_loss: "validation loss",
  loss: "loss",
  learning_rate: "learning rate",
  grad_norm: "gradient norm",
};

/**
 * Short names for axis titles, which must fit beside a panel of a multi-panel figure (the legend
 * and the caption carry the long names).
 */
const AXIS_NAME: Record<string, string> = {
  running_accuracy: "running accuracy",
  running_exact_match: "running EM",
  accuracy: "accuracy",
  exact_match: "EM",
  f1: "F1",
  eval_loss: "validation loss",
  loss: "loss",
  learning_rate: "learning rate",
  grad_norm: "gradient norm",
};

/** Axis title for a metric: its short name, with the unit for percent metrics. */
function axisLabel(key: string): string {
  const name = AXIS_NAME[key] ?? METRIC_LABEL[key] ?? key;
  return isPercentMetric(key) ? `${name} (%)` : name;
}

/** Characters of a title line that fit the default figure width at the title's font size. */
const TITLE_LINE = 70;

/**
 * A long title on two lines, broken at the last separator (", ", " — ", ": " or a space) that
 * keeps the first line within {@link TITLE_LINE} characters.
 */
export function wrapTitle(title: string, max = TITLE_LINE): string {
  if (title.length <= max) return title;
  for (const sep of [", ", " — ", ": ", " "]) {
    const at = title.lastIndexOf(sep, max);
    if (at > max / 3) {
      return `${title.slice(0, at + sep.trimEnd().length)}<br>${title.slice(at + sep.length)}`;
    }
  }
  return title;
}

function baseLayout(title: string, height: number): Record<string, unknown> {
  const text = wrapTitle(title);
  const lines = text.split("<br>").length;
  return {
    // The title sits in the middle of the top margin (Plotly's default place), above every panel
    // and axis title; the margin grows with its lines.
    title: { text, x: 0.5, xanchor: "center" },
    height,
    paper_bgcolor: "#ffffff",
    plot_bgcolor: "#ffffff",
    // Chinese text (titles, run names) needs a CJK font: Noto CJK (Debian fonts-noto-cjk).
    font: {
      family: "Arial, Helvetica, 'Noto Sans CJK TC', 'Noto Sans CJK SC', sans-serif",
      size: 13,
    },
    // Below everything, at the bottom of the figure: never over an axis title.
    legend: LEGEND_BELOW,
    margin: { l: 80, r: 80, t: 70 + 26 * (lines - 1), b: 60 },
  };
}

/** A horizontal legend at the bottom of the figure (in the bottom margin, which grows for it). */
const LEGEND_BELOW = {
  orientation: "h",
  x: 0.02,
  xref: "container",
  y: 0.01,
  yref: "container",
  yanchor: "bottom",
} as const;

function axis(title: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    title: { text: title },
    showgrid: true,
    gridcolor: "#e5e5e5",
    zeroline: false,
    linecolor: "#444",
    showline: true,
    // Margins grow to fit tick labels and titles instead of letting them overlap.
    automargin: true,
    ...extra,
  };
}

/** Vertical dotted lines (and labels) at epoch boundaries, spanning the whole plot height. */
function epochShapes(
  log: TrainingLog,
  xref = "x",
): { shapes: Record<string, unknown>[]; annotations: Record<string, unknown>[] } {
  const shapes: Record<string, unknown>[] = [];
  const annotations: Record<string, unknown>[] = [];
  for (const b of epochBoundaries(log.steps)) {
    shapes.push({
      type: "line",
      xref,
      yref: "paper",
      x0: b.step,
      x1: b.step,
      y0: 0,
      y1: 1,
      line: { color: "#888", width: 1, dash: "dot" },
    });
    annotations.push({
      xref,
      yref: "paper",
      x: b.step,
      y: 1,
      yanchor: "bottom",
      text: `epoch ${b.epoch}`,
      showarrow: false,
      font: { size: 10, color: "#666" },
    });
  }
  return { shapes, annotations };
}

/** Options for {@link trainingCurvesFigure}. */
export interface TrainingCurvesOptions {
  title?: string;
  height?: number;
}

/**
 * Training curves per step: the loss of each step (thin) with its cumulative average (the study's
 * curve) and an exponential moving average (which follows recent steps); the logged running
 * accuracy (MC) or running exact match (QA, cumulative as the loop logs it); and, when logged, the
 * learning rate and the gradient norm of each update. Epoch boundaries are dotted lines.
 */
export function trainingCurvesFigure(
  log: TrainingLog,
  opts: TrainingCurvesOptions = {},
): PlotlyFigure {
  const steps = log.steps.map((s) => s.step);
  const losses = log.steps.map((s) => s.loss);
  const metric = runningMetricOf(log);
  const beta = emaBetaFor(losses.length);
  /** One line trace over steps, on the panel of `yaxis`. */
  const line = (
    name: string,
    x: number[],
    y: (number | undefined)[],
    color: number,
    width: number,
    yaxis: string,
    extra: Record<string, unknown> = {},
  ) => ({
    type: "scatter",
    mode: "lines",
    name,
    x,
    y,
    line: { color: PALETTE[color], width },
    xaxis: "x",
    yaxis,
    ...extra,
  });
  /** The steps that logged `key`, as one trace. */
  const logged = (key: keyof StepRecord, name: string, color: number, width: number, y: string) => {
    const pts = log.steps.filter((s) => s[key] !== undefined);
    return pts.length
      ? [line(name, pts.map((s) => s.step), pts.map((s) => s[key]), color, width, y)]
      : [];
  };
  const data: Record<string, unknown>[] = [
    line("loss (per step)", steps, losses, 0, 1, "y", { opacity: 0.35 }),
    line("loss (cumulative average)", steps, cumulativeMean(losses), 0, 2.5, "y"),
    line(
      `loss (EMA, β=${beta.toFixed(2)})`,
      steps,
      exponentialMovingAverage(losses, beta),
      2,
      2,
      "y",
    ),
    ...(metric ? logged(metric, METRIC_LABEL[metric], 1, 2.5, "y2") : []),
    ...logged("learning_rate", "learning rate", 3, 2, "y3"),
    ...logged("grad_norm", "gradient norm", 4, 1.5, "y4"),
  ];
  const optimizer = log.steps.some((s) =>
    s.learning_rate !== undefined || s.grad_norm !== undefined
  );
  // Panels from the top: loss, running metric, learning rate / gradient norm.
  const panels = 1 + (metric ? 1 : 0) + (optimizer ? 1 : 0);
  const gap = 0.08;
  const h = (1 - gap * (panels - 1)) / panels;
  const domain = (k: number): [number, number] => {
    const top = 1 - k * (h + gap);
    return [Math.max(0, top - h), top];
  };
  const { shapes, annotations } = epochShapes(log);
  const layout = baseLayout(
    opts.title ?? "Training curves",
    opts.height ?? Math.round(DEFAULT_SIZE.height * (panels === 3 ? 1.3 : 1)),
  );
  layout.xaxis = axis("step", {
    anchor: `y${panels === 1 ? "" : panels === 2 ? "2" : "3"}`,
    // Updates are whole numbers: no 1.5 ticks on a short run.
    ...(steps.length <= 12 ? { dtick: 1 } : {}),
  });
  layout.yaxis = axis("loss", { domain: domain(0) });
  if (metric) {
    layout.yaxis2 = axis(axisLabel(metric), {
      domain: domain(1),
      anchor: "x",
      rangemode: "tozero",
    });
  }
  if (optimizer) {
    const d = domain(panels - 1);
    layout.yaxis3 = axis("learning rate", { domain: d, anchor: "x", exponentformat: "e" });
    layout.yaxis4 = axis("gradient norm", {
      domain: d,
      anchor: "x",
      ...(log.steps.some((s) => s.learning_rate !== undefined) ? { overlaying: "y3" } : {}),
      side: "right",
      showgrid: false,
    });
  }
  layout.shapes = shapes;
  layout.annotations = annotations;
  return { data, layout };
}

/** Options for {@link validationFigure}. */
export interface ValidationOptions {
  title?: string;
  height?: number;
}

/**
 * Validation metrics per epoch: accuracy (MC) or exact match and F1 (QA) on the left axis and the
 * validation loss on the right axis, one marker per evaluated epoch; both axes start at 0. With a
 * single evaluation there is no curve to draw: the figure shows its values as labelled bars
 * instead (percent metrics left, the loss right), not a lone dot on a line chart.
 */
export function validationFigure(
  evals: readonly EvalRecord[],
  opts: ValidationOptions = {},
): PlotlyFigure {
  const title = opts.title ?? "Validation metrics per epoch";
  if (evals.length === 1) return singleEvaluationFigure(evals[0], title, opts.height);
  const data: Record<string, unknown>[] = [];
  const epochs = evals.map(evalEpochs);
  let color = 0;
  for (const key of ["accuracy", "exact_match", "f1"] as const) {
    const pts = evals.filter((e) => e[key] !== undefined);
    if (pts.length === 0) continue;
    data.push({
      type: "scatter",
      mode: "lines+markers",
      name: METRIC_LABEL[key],
      x: pts.map(evalEpochs),
      y: pts.map((e) => e[key]),
      line: { color: PALETTE[color++ % PALETTE.length], width: 2.5 },
      marker: { size: 8 },
      yaxis: "y",
    });
  }
  const losses = evals.filter((e) => e.eval_loss !== undefined);
  if (losses.length > 0) {
    data.push({
      type: "scatter",
      mode: "lines+markers",
      name: METRIC_LABEL.eval_loss,
      x: losses.map(evalEpochs),
      y: losses.map((e) => e.eval_loss),
      line: { color: "#555", width: 2, dash: "dash" },
      marker: { size: 8, symbol: "square" },
      yaxis: "y2",
    });
  }
  const layout = baseLayout(title, opts.height ?? DEFAULT_SIZE.height);
  // Whole epochs as ticks; fractional ones (--eval_steps) on a plain axis.
  layout.xaxis = epochs.every(Number.isInteger)
    ? axis("epochs done", { tickmode: "array", tickvals: epochs })
    : axis("epochs done");
  const shown = (["accuracy", "exact_match", "f1"] as const).filter((k) =>
    evals.some((e) => e[k] !== undefined)
  );
  layout.yaxis = axis(
    shown.length ? `${shown.map((k) => AXIS_NAME[k]).join(" / ")} (%)` : "",
    { rangemode: "tozero" },
  );
  if (losses.length > 0) {
    layout.yaxis2 = axis("validation loss", {
      overlaying: "y",
      side: "right",
      showgrid: false,
      rangemode: "tozero",
    });
  }
  return { data, layout };
}

/** One evaluation as labelled bars: percent metrics (0–100 axis) and the loss beside them. */
function singleEvaluationFigure(e: EvalRecord, title: string, height?: number): PlotlyFigure {
  const pct = (["accuracy", "exact_match", "f1"] as const).filter((k) => e[k] !== undefined);
  const data: Record<string, unknown>[] = [];
  const hasLoss = e.eval_loss !== undefined;
  if (pct.length > 0) {
    data.push({
      type: "bar",
      name: "validation",
      x: pct.map((k) => METRIC_LABEL[k]),
      y: pct.map((k) => e[k]),
      text: pct.map((k) => formatMetric(k, e[k]!)),
      textposition: "outside",
      cliponaxis: false,
      marker: { color: PALETTE[0] },
      xaxis: "x",
      yaxis: "y",
      showlegend: false,
    });
  }
  if (hasLoss) {
    data.push({
      type: "bar",
      name: METRIC_LABEL.eval_loss,
      x: [METRIC_LABEL.eval_loss],
      y: [e.eval_loss],
      text: [formatNumber(e.eval_loss!)],
      textposition: "outside",
      cliponaxis: false,
      marker: { color: "#777" },
      xaxis: pct.length > 0 ? "x2" : "x",
      yaxis: pct.length > 0 ? "y2" : "y",
      showlegend: false,
    });
  }
  const layout = baseLayout(title, height ?? DEFAULT_SIZE.height);
  const split = pct.length > 0 && hasLoss;
  const epochs = evalEpochs(e);
  layout.xaxis = axis(
    `one evaluation, after ${formatNumber(epochs)} epoch${epochs === 1 ? "" : "s"}`,
    { domain: split ? [0, 0.6] : [0, 1], anchor: "y" },
  );
  layout.yaxis = axis(pct.length > 0 ? "percent" : "validation loss", {
    range: pct.length > 0 ? [0, 105] : [0, 1.15 * (e.eval_loss ?? 1)],
    anchor: "x",
  });
  if (split) {
    layout.xaxis2 = axis("", { domain: [0.75, 1], anchor: "y2" });
    layout.yaxis2 = axis("validation loss", {
      range: [0, 1.15 * e.eval_loss!],
      anchor: "x2",
    });
  }
  layout.bargap = 0.4;
  // No legend below: the bottom margin is for the axis title alone.
  layout.margin = { ...layout.margin as Record<string, number>, b: 80 };
  return { data, layout };
}

/** One named run for overlays. */
export interface NamedRun {
  name: string;
  log: TrainingLog;
}

/** Options for {@link comparisonFigure}. */
export interface ComparisonOptions {
  title?: string;
  height?: number;
  /** Validation metric to draw per epoch; default: `accuracy` if any run has it, else `exact_match`. */
  evalMetric?: "accuracy" | "exact_match" | "f1" | "eval_loss";
}

/**
 * Overlay of several runs (e.g. pretrained vs from scratch): cumulative average training loss per
 * step, the logged running metric per step, and a validation metric per epoch, one colour per run.
 */
export function comparisonFigure(
  runs: readonly NamedRun[],
  opts: ComparisonOptions = {},
): PlotlyFigure {
  const evalMetric = opts.evalMetric ??
    (runs.some((r) => r.log.evals.some((e) => e.accuracy !== undefined))
      ? "accuracy"
      : "exact_match");
  const data: Record<string, unknown>[] = [];
  const oneEval = runs.every((r) =>
    r.log.evals.filter((e) => e[evalMetric] !== undefined).length <= 1
  );
  runs.forEach((run, i) => {
    const color = PALETTE[i % PALETTE.length];
    const common = { legendgroup: run.name, line: { color, width: 2.5 } };
    data.push({
      type: "scatter",
      mode: "lines",
      name: run.name,
      x: run.log.steps.map((s) => s.step),
      y: cumulativeMean(run.log.steps.map((s) => s.loss)),
      xaxis: "x",
      yaxis: "y",
      ...common,
    });
    const metric = runningMetricOf(run.log);
    if (metric) {
      const pts = run.log.steps.filter((s) => s[metric] !== undefined);
      data.push({
        type: "scatter",
        mode: "lines",
        name: run.name,
        showlegend: false,
        x: pts.map((s) => s.step),
        y: pts.map((s) => s[metric]),
        xaxis: "x2",
        yaxis: "y2",
        ...common,
      });
    }
    const ev = run.log.evals.filter((e) => e[evalMetric] !== undefined);
    data.push(
      oneEval
        ? {
          // One evaluation per run: a labelled bar per run, not a one-point line.
          type: "bar",
          name: run.name,
          showlegend: false,
          legendgroup: run.name,
          x: [run.name],
          y: ev.map((e) => e[evalMetric]),
          text: ev.map((e) => formatMetric(evalMetric, e[evalMetric]!)),
          textposition: "outside",
          cliponaxis: false,
          marker: { color },
          xaxis: "x3",
          yaxis: "y3",
        }
        : {
          type: "scatter",
          mode: "lines+markers",
          name: run.name,
          showlegend: false,
          x: ev.map(evalEpochs),
          y: ev.map((e) => e[evalMetric]),
          marker: { size: 8, color },
          xaxis: "x3",
          yaxis: "y3",
          ...common,
        },
    );
  });
  const metricName = runs.map((r) => runningMetricOf(r.log)).find((m) => m) ?? "running_accuracy";
  const layout = baseLayout(
    opts.title ?? "Runs compared",
    opts.height ?? Math.round(DEFAULT_SIZE.height * 1.4),
  );
  layout.xaxis = axis("step", { domain: [0, 0.42], anchor: "y" });
  layout.yaxis = axis("training loss (cum. avg.)", { domain: [0.6, 1], anchor: "x" });
  layout.xaxis2 = axis("step", { domain: [0.58, 1], anchor: "y2" });
  layout.yaxis2 = axis(axisLabel(metricName), {
    domain: [0.6, 1],
    anchor: "x2",
    rangemode: "tozero",
  });
  const evalMax = Math.max(
    0,
    ...runs.flatMap((r) => r.log.evals.map((e) => e[evalMetric] ?? 0)),
  );
  layout.xaxis3 = oneEval
    ? axis("", { domain: [0, 1], anchor: "y3" })
    : axis("epoch", { domain: [0, 1], anchor: "y3", dtick: 1 });
  layout.yaxis3 = axis(`validation ${axisLabel(evalMetric)}`, {
    domain: [0, 0.4],
    anchor: "x3",
    ...(oneEval ? { range: [0, Math.max(1, evalMax) * 1.2] } : { rangemode: "tozero" }),
  });
  if (oneEval) layout.bargap = 0.5;
  return { data, layout };
}

/** Final metrics of one run (or model) for the bar/table views. */
export interface MetricsRow {
  name: string;
  metrics: Record<string, number>;
  /** 95% intervals of the metrics (bootstrap over questions), drawn as error bars. */
  intervals?: Record<string, { low: number; high: number }>;
  /** Questions the metrics are over, said in the axis title. */
  n?: number;
}

function metricKeys(rows: readonly MetricsRow[]): string[] {
  const keys: string[] = [];
  for (const r of rows) for (const k of Object.keys(r.metrics)) if (!keys.includes(k)) keys.push(k);
  return keys;
}

/** Plotly's default gap between bar groups (fraction of a category). */
const BAR_GAP = 0.2;

/**
 * Grouped bars of final metrics: one group per metric, one bar per run, from 0, with the
 * bootstrap interval of each bar as an error bar and its value (and interval) written above the
 * error bar, where neither the bar nor the whisker hides it.
 */
export function finalMetricsBarFigure(
  rows: readonly MetricsRow[],
  opts: { title?: string; height?: number } = {},
): PlotlyFigure {
  const keys = metricKeys(rows);
  const top = (r: MetricsRow, k: string) => r.intervals?.[k]?.high ?? r.metrics[k] ?? 0;
  const data = rows.map((r, i) => ({
    type: "bar",
    name: r.name,
    x: keys.map((k) => METRIC_LABEL[k] ?? k),
    y: keys.map((k) => r.metrics[k] ?? null),
    ...(r.intervals
      ? {
        error_y: {
          type: "data",
          symmetric: false,
          array: keys.map((k) => (r.intervals?.[k] ? r.intervals[k].high - r.metrics[k] : 0)),
          arrayminus: keys.map((k) => (r.intervals?.[k] ? r.metrics[k] - r.intervals[k].low : 0)),
          color: "#333",
          thickness: 1.5,
          width: 6,
        },
      }
      : {}),
    marker: { color: PALETTE[i % PALETTE.length] },
    hovertemplate: "%{y:.2f}<extra>%{fullData.name}</extra>",
  }));
  // Labels as annotations at each bar's centre (category k, bar i of the group), above the bar's
  // interval.
  const width = (1 - BAR_GAP) / Math.max(1, rows.length);
  const annotations = rows.flatMap((r, i) =>
    keys.flatMap((k, j) => {
      const v = r.metrics[k];
      if (v === undefined) return [];
      const iv = r.intervals?.[k];
      return [{
        xref: "x",
        yref: "y",
        x: j - (1 - BAR_GAP) / 2 + (i + 0.5) * width,
        y: top(r, k),
        yanchor: "bottom",
        yshift: 3,
        showarrow: false,
        text: formatMetric(k, v) +
          (iv ? `<br>[${formatMetric(k, iv.low)}, ${formatMetric(k, iv.high)}]` : ""),
        font: { size: 11 },
      }];
    })
  );
  const max = Math.max(1, ...rows.flatMap((r) => keys.map((k) => top(r, k))));
  const layout = baseLayout(opts.title ?? "Final metrics", opts.height ?? DEFAULT_SIZE.height);
  layout.barmode = "group";
  layout.bargap = BAR_GAP;
  layout.xaxis = axis("");
  const n = rows.find((r) => r.n !== undefined)?.n;
  const unit = keys.every(isPercentMetric) ? "percent (0–100)" : "value";
  layout.yaxis = axis(n !== undefined ? `${unit}, ${n} questions` : unit, {
    // From 0, with room for the labels above the highest interval.
    range: [0, max * 1.25],
  });
  layout.annotations = annotations;
  return { data, layout };
}

/** The same final metrics as a Plotly table (runs as rows, metrics as columns). */
export function metricsTableFigure(
  rows: readonly MetricsRow[],
  opts: { title?: string; height?: number } = {},
): PlotlyFigure {
  const keys = metricKeys(rows);
  const columns = [rows.map((r) => r.name)].concat(
    keys.map((k) =>
      rows.map((r) => (r.metrics[k] === undefined ? "" : formatMetric(k, r.metrics[k])))
    ),
  );
  const data = [{
    type: "table",
    header: {
      values: ["run", ...keys.map((k) => METRIC_LABEL[k] ?? k)],
      fill: { color: "#dfe3f5" },
      align: "left",
      font: { size: 13 },
    },
    cells: { values: columns, align: "left", height: 26, font: { size: 13 } },
  }];
  const layout = baseLayout(
    opts.title ?? "Final metrics",
    opts.height ?? 140 + 30 * rows.length,
  );
  layout.margin = { l: 20, r: 20, t: 50, b: 10 };
  return { data, layout };
}
