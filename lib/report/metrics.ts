/**
 * The convention between notebooks and the report: each notebook writes
 * `<output dir>/metrics/<section>.json` (a {@link SectionMetrics}) with the numbers, tables,
 * configs and figure names of its part of the study; the report is assembled from those files.
 * Also the notebooks' parameters, passed by the runner through the environment.
 * @module
 */
import { SEED } from "../args/mod.ts";

/** The study's sections, one per notebook. */
export const SECTIONS = ["q1", "q2", "q3", "q4"] as const;
/** A section id. */
export type SectionId = typeof SECTIONS[number];

/** Report profiles. */
export const PROFILES = ["default", "full", "smoke"] as const;
/** A report profile. */
export type Profile = typeof PROFILES[number];

/** A table cell. */
export type Cell = string | number | boolean | null;

/** A piece of a section. */
export type ReportBlock =
  | { kind: "markdown"; text: string }
  | { kind: "table"; title?: string; columns: string[]; rows: Cell[][] }
  | { kind: "json"; title?: string; value: unknown }
  /** A figure saved under `<output dir>/figures/<name>.{html,png}` (see lib/plotting saveFigure). */
  | { kind: "figure"; name: string; title?: string; caption?: string };

/** A titled part of a section (Q2: performance, args, loss and optimizer, config). */
export interface Subsection {
  title: string;
  blocks: ReportBlock[];
}

/** What one notebook contributes to the report. */
export interface SectionMetrics {
  section: SectionId;
  /** Notebook file that produced it. */
  notebook?: string;
  profile?: string;
  /** Headline numbers (e.g. `mc_accuracy`, `qa_exact_match`), shown first as a table. */
  metrics?: Record<string, number | string>;
  /** Blocks shown after the headline numbers. */
  blocks?: ReportBlock[];
  subsections?: Subsection[];
  /**
   * Per-question scores (percent) by system, e.g. `bert-char` → {ids, scores: {mc_accuracy:
   * [100, 0, ...], ...}}, from which the section's intervals and comparisons are computed
   * (lib/report/scores.ts).
   */
  scores?: Record<string, { ids: string[]; scores: Record<string, number[]> }>;
  /** Means with 95% bootstrap intervals, by `<system>_<metric>`. */
  intervals?: Record<string, { value: number; low: number; high: number; n: number }>;
  /** Paired comparisons (lib/report/scores.ts `Comparison`), for the report's summary. */
  comparisons?: {
    what: string;
    metric: string;
    a: string;
    b: string;
    diff: { value: number; low: number; high: number; n: number };
    better: "a" | "b" | "none";
    sentence: string;
  }[];
  /** Facts for the report's summary (model size, data counts, backend, ...). */
  facts?: Record<string, number | string>;
}

function fail(source: string, what: string): never {
  throw new Error(`${source}: ${what}`);
}

function checkBlocks(blocks: unknown, source: string, where: string): void {
  if (!Array.isArray(blocks)) fail(source, `${where} must be an array of blocks`);
  blocks.forEach((b, i) => {
    const at = `${where}[${i}]`;
    if (b === null || typeof b !== "object") fail(source, `${at} is not an object`);
    const kind = (b as { kind?: unknown }).kind;
    const r = b as Record<string, unknown>;
    if (kind === "markdown") {
      if (typeof r.text !== "string") fail(source, `${at}.text must be a string`);
    } else if (kind === "table") {
      if (!Array.isArray(r.columns) || !Array.isArray(r.rows)) {
        fail(source, `${at} (table) needs 'columns' and 'rows' arrays`);
      }
      (r.rows as unknown[]).forEach((row, j) => {
        if (!Array.isArray(row) || row.length !== (r.columns as unknown[]).length) {
          fail(source, `${at}.rows[${j}] must have ${(r.columns as unknown[]).length} cells`);
        }
      });
    } else if (kind === "json") {
      if (!("value" in r)) fail(source, `${at} (json) needs a 'value'`);
    } else if (kind === "figure") {
      if (typeof r.name !== "string" || !/^[\w.-]+$/.test(r.name)) {
        fail(source, `${at} (figure) needs a file-safe 'name'`);
      }
    } else {
      fail(source, `${at}.kind must be markdown, table, json or figure (got ${String(kind)})`);
    }
  });
}

/** Checks a parsed metrics file; errors name the file and the field. */
export function validateSectionMetrics(value: unknown, source: string): SectionMetrics {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    fail(source, "must hold a JSON object");
  }
  const v = value as Record<string, unknown>;
  if (!SECTIONS.includes(v.section as SectionId)) {
    fail(source, `'section' must be one of ${SECTIONS.join(", ")} (got ${String(v.section)})`);
  }
  if (v.metrics !== undefined) {
    if (v.metrics === null || typeof v.metrics !== "object" || Array.isArray(v.metrics)) {
      fail(source, "'metrics' must be an object of numbers/strings");
    }
    for (const [k, m] of Object.entries(v.metrics as object)) {
      if (typeof m !== "number" && typeof m !== "string") {
        fail(source, `metrics.${k} must be a number or string`);
      }
    }
  }
  if (v.blocks !== undefined) checkBlocks(v.blocks, source, "blocks");
  if (v.scores !== undefined) {
    if (v.scores === null || typeof v.scores !== "object" || Array.isArray(v.scores)) {
      fail(source, "'scores' must be an object of {ids, scores}");
    }
    for (const [sys, x] of Object.entries(v.scores as Record<string, unknown>)) {
      const q = x as { ids?: unknown; scores?: unknown };
      if (!Array.isArray(q?.ids) || !q.scores || typeof q.scores !== "object") {
        fail(source, `scores.${sys} needs 'ids' and 'scores'`);
      }
      for (const [k, arr] of Object.entries(q.scores as Record<string, unknown>)) {
        if (!Array.isArray(arr) || arr.length !== (q.ids as unknown[]).length) {
          fail(source, `scores.${sys}.scores.${k} must have one number per id`);
        }
      }
    }
  }
  if (v.subsections !== undefined) {
    if (!Array.isArray(v.subsections)) fail(source, "'subsections' must be an array");
    v.subsections.forEach((s, i) => {
      if (typeof s?.title !== "string") fail(source, `subsections[${i}].title must be a string`);
      checkBlocks(s.blocks, source, `subsections[${i}].blocks`);
    });
  }
  return v as unknown as SectionMetrics;
}

/** Path of a section's metrics file. */
export function metricsPath(outputDir: string, section: SectionId): string {
  return `${outputDir}/metrics/${section}.json`;
}

/** Writes a section's metrics file (validated first, written atomically). Returns its path. */
export async function writeSectionMetrics(
  outputDir: string,
  metrics: SectionMetrics,
): Promise<string> {
  const path = metricsPath(outputDir, metrics.section);
  validateSectionMetrics(JSON.parse(JSON.stringify(metrics)), path);
  await Deno.mkdir(`${outputDir}/metrics`, { recursive: true });
  await Deno.writeTextFile(`${path}.tmp`, JSON.stringify(metrics, null, 2) + "\n");
  await Deno.rename(`${path}.tmp`, path);
  return path;
}

/** Reads and validates a section's metrics file; throws naming the file if missing or invalid. */
export async function readSectionMetrics(
  outputDir: string,
  section: SectionId,
): Promise<SectionMetrics> {
  const path = metricsPath(outputDir, section);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Error(`${path}: not found — the ${section} notebook did not write its metrics`);
    }
    throw e;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
  }
  const m = validateSectionMetrics(value, path);
  if (m.section !== section) fail(path, `'section' is ${m.section}, expected ${section}`);
  return m;
}

/** Parameters every notebook reads in its parameter cell. */
export interface NotebookParams {
  profile: Profile;
  /** Absolute output directory (figures, metrics, runs). */
  outputDir: string;
  seed: number;
}

/**
 * The notebook parameters from the environment the report runner sets (`REPORT_PROFILE`,
 * `REPORT_OUTPUT_DIR`, `REPORT_SEED`), with defaults for interactive use: profile `default`,
 * `<project>/outputs`, the schema's default seed (lib/args `SEED`).
 */
export function notebookParams(defaults: Partial<NotebookParams> = {}): NotebookParams {
  const profile = Deno.env.get("REPORT_PROFILE") ?? defaults.profile ?? "default";
  if (!PROFILES.includes(profile as Profile)) {
    throw new Error(`REPORT_PROFILE must be one of ${PROFILES.join(", ")} (got ${profile})`);
  }
  const seedText = Deno.env.get("REPORT_SEED");
  const seed = seedText !== undefined ? Number(seedText) : defaults.seed ?? SEED.default;
  if (!Number.isInteger(seed)) throw new Error(`REPORT_SEED must be an integer (got ${seedText})`);
  const outputDir = Deno.env.get("REPORT_OUTPUT_DIR") ?? defaults.outputDir ??
    new URL("../../outputs", import.meta.url).pathname;
  return { profile: profile as Profile, outputDir, seed };
}
