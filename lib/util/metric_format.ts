/**
 * How a metric is shown, the one rule for logs, the progress bar, command summaries, report
 * tables and figure labels.
 *
 * - **Which metric is a percent.** Accuracy, exact match and F1 are percents (0–100) everywhere
 *   in the project (`computeQaMetrics`, `mcMetrics`, the loop's running metric), and so is any
 *   key ending in `_pct`. A key names a percent when its last word is one of
 *   {@link PERCENT_METRICS} or `pct`, alone or after a prefix: `accuracy`, `eval_f1`,
 *   `running_exact_match`, `bert-char_qa_em`, `multi_window_pct`. A table column, whose title is
 *   written for people, holds percents when the title names one of them as a word ("MC
 *   accuracy", "QA EM (gold paragraph)", "exact match", "F1"), says "percent" or has a `%`.
 * - **How it is shown.** A percent with 2 decimals (`54.00`, never `54`); any other number by
 *   {@link formatNumber}: integers as they are, otherwise 4 significant digits (as
 *   `displayJson` in the report shows JSON), whole numbers of 1000 and more without decimals,
 *   and magnitudes below 0.001 in exponent form (a learning rate is `5.00e-5`).
 * @module
 */

/** The percent metrics (0–100) by the last word of their keys. */
export const PERCENT_METRICS = ["accuracy", "exact_match", "f1", "em"] as const;

const PERCENT_KEY = new RegExp(`(^|_)(${[...PERCENT_METRICS, "pct"].join("|")})$`);

const PERCENT_TITLE = new RegExp(
  `\\b(${PERCENT_METRICS.map((m) => m.replace("_", "[ _]")).join("|")}|percent)\\b|%`,
  "i",
);

/**
 * Whether the metric `key` is a percent (0–100), see the module documentation.
 *
 * @example
 * ```ts
 * import { isPercentMetric } from "./metric_format.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(isPercentMetric("eval_exact_match") && isPercentMetric("multi_window_pct"));
 * assert.ok(!isPercentMetric("eval_loss") && !isPercentMetric("learning_rate"));
 * ```
 */
export function isPercentMetric(key: string): boolean {
  return PERCENT_KEY.test(key);
}

/** Whether a table column titled `title` (written for people) holds percents. */
export function isPercentColumn(title: string): boolean {
  return PERCENT_TITLE.test(title);
}

/**
 * A number as shown: integers as they are, otherwise 4 significant digits, no decimals from
 * 1000 on, exponent form below 0.001; non-finite values as `String` gives them.
 *
 * @example
 * ```ts
 * import { formatNumber } from "./metric_format.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(
 *   [1.38629, 0.15634, 123.456, 2345.6, 5e-5, 300].map(formatNumber),
 *   ["1.386", "0.1563", "123.5", "2346", "5.00e-5", "300"],
 * );
 * ```
 */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v) || Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  if (a < 1e-3) return v.toExponential(2);
  if (a >= 1000) return v.toFixed(0);
  return v.toPrecision(4);
}

/** A percent as shown: 2 decimals (`54.00`, never `54`); non-finite values as `String` gives. */
export function formatPercent(v: number): string {
  return Number.isFinite(v) ? v.toFixed(2) : String(v);
}

/**
 * A metric as shown: percents (see {@link isPercentMetric}) by {@link formatPercent}, other
 * metrics by {@link formatNumber}.
 *
 * @example
 * ```ts
 * import { formatMetric } from "./metric_format.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatMetric("exact_match", 54), "54.00");
 * assert.equal(formatMetric("eval_loss", 1.38629), "1.386");
 * ```
 */
export function formatMetric(key: string, v: number): string {
  return isPercentMetric(key) ? formatPercent(v) : formatNumber(v);
}
