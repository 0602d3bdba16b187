/**
 * `prediction.csv` (header `id,answer`), written and read with papaparse so that commas, quotes,
 * newlines and leading/trailing spaces in answers round-trip exactly.
 * @module
 */
import Papa from "papaparse";
import { writeFileAtomic } from "../util/atomic.ts";

/** One row of a predictions file. */
export interface PredictionRow {
  id: string;
  answer: string;
}

/** Formats rows as CSV text (header `id,answer`, every field quoted, `\n` line ends). */
export function formatPredictionCsv(rows: readonly PredictionRow[]): string {
  const seen = new Set<string>();
  for (const r of rows) {
    if (seen.has(r.id)) throw new Error(`prediction CSV: duplicate id ${JSON.stringify(r.id)}`);
    seen.add(r.id);
  }
  return Papa.unparse(
    { fields: ["id", "answer"], data: rows.map((r) => [r.id, r.answer]) },
    { quotes: true, newline: "\n" },
  ) + "\n";
}

/** Writes rows to `path` atomically (header `id,answer`). Duplicate ids are refused. */
export async function writePredictionCsv(
  path: string | URL,
  rows: readonly PredictionRow[],
): Promise<void> {
  await writeFileAtomic(path instanceof URL ? path.pathname : path, formatPredictionCsv(rows));
}

/**
 * Parses CSV text with columns `id` and `answer` (others are ignored). `source` names the file in
 * error messages. Refuses malformed CSV, missing columns, empty or duplicate ids.
 */
export function parsePredictionCsv(text: string, source = "prediction CSV"): PredictionRow[] {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const parsed = Papa.parse<Record<string, string>>(text, {
    header: true,
    delimiter: ",",
    skipEmptyLines: true,
  });
  const fields = parsed.meta.fields ?? [];
  for (const col of ["id", "answer"]) {
    if (!fields.includes(col)) {
      throw new Error(
        `${source}: missing column "${col}" (header is ${JSON.stringify(fields.join(","))})`,
      );
    }
  }
  if (parsed.errors.length > 0) {
    const e = parsed.errors[0];
    const row = e.row === undefined ? "" : ` at data row ${e.row + 1}`;
    throw new Error(`${source}: malformed CSV${row}: ${e.message}`);
  }
  const seen = new Map<string, number>();
  return parsed.data.map((r, i) => {
    const id = r.id;
    if (id === undefined || id === "") {
      throw new Error(`${source}: data row ${i + 1} has an empty id`);
    }
    const first = seen.get(id);
    if (first !== undefined) {
      throw new Error(
        `${source}: duplicate id ${JSON.stringify(id)} at data rows ${first + 1} and ${i + 1}`,
      );
    }
    seen.set(id, i);
    return { id, answer: r.answer ?? "" };
  });
}

/** Reads a predictions file written by {@link writePredictionCsv} (or any CSV with those columns). */
export async function readPredictionCsv(path: string | URL): Promise<PredictionRow[]> {
  return parsePredictionCsv(await Deno.readTextFile(path), String(path));
}
