/**
 * How the report shows values, shared by the notebook display and the report files: a table
 * cell as text, JSON for display, and the rounding of numbers put into tables and metrics.
 * @module
 */
import { formatNumber } from "../util/metric_format.ts";
import type { Cell } from "./metrics.ts";

/** A table cell as text: empty for null, numbers through `formatNumber`. */
export function cellText(c: Cell): string {
  if (c === null) return "";
  if (typeof c === "number") return formatNumber(c);
  return String(c);
}

/** JSON for display: non-integer numbers to 4 significant digits (no 16-digit floats). */
export function displayJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_k, v) => (typeof v === "number" && !Number.isInteger(v) ? Number(v.toPrecision(4)) : v),
    2,
  );
}

/** Rounded to 2 decimals (percents and points in tables and metrics). */
export const round2 = (x: number): number => Math.round(x * 100) / 100;

/** Rounded to 4 decimals (losses). */
export const round4 = (x: number): number => Math.round(x * 10000) / 10000;
