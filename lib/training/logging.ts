/**
 * Training logs as JSON lines and CSV under `output_dir`, so curves can be drawn afterwards:
 *
 * - `train_log.jsonl` / `train_log.csv` — one record per optimizer update (step, epoch, loss,
 *   learning rate, cumulative running averages, gradient norm, ...);
 * - `eval_log.jsonl` / `eval_log.csv` — one record per evaluation (per epoch).
 *
 * JSON lines are appended as training goes; CSV files (papaparse) are rewritten atomically from
 * the records at each flush. On resume the JSON lines are truncated to the number of lines the
 * checkpoint recorded, so a killed-and-resumed run has the same log as an uninterrupted one.
 * @module
 */
import Papa from "papaparse";
import { writeFileAtomic } from "../util/atomic.ts";

/** A log record: flat, JSON-serialisable values. */
export type LogRecord = Record<string, number | string | boolean | null>;

/** File names of the logs. */
export const STEP_LOG = "train_log";
export const EVAL_LOG = "eval_log";

/** Serialises records as CSV with the union of their keys (first-seen order) as columns. */
export function recordsToCsv(records: readonly LogRecord[]): string {
  const fields: string[] = [];
  const seen = new Set<string>();
  for (const r of records) {
    for (const k of Object.keys(r)) {
      if (!seen.has(k)) {
        seen.add(k);
        fields.push(k);
      }
    }
  }
  const data = records.map((r) => fields.map((f) => r[f] ?? ""));
  return Papa.unparse({ fields, data }, { newline: "\n" }) + "\n";
}

/** One log (JSON lines + CSV) kept in memory and on disk. */
export class JsonlCsvLog {
  readonly records: LogRecord[] = [];
  private readonly base: string | null;

  /** `base` is the path without extension; null keeps the log in memory only. */
  constructor(base: string | null) {
    this.base = base;
  }

  /** Path of the JSON-lines file (null in memory-only mode). */
  get jsonlPath(): string | null {
    return this.base ? `${this.base}.jsonl` : null;
  }

  /** Path of the CSV file (null in memory-only mode). */
  get csvPath(): string | null {
    return this.base ? `${this.base}.csv` : null;
  }

  /** Starts a fresh log (removing old files) or, with `keepLines`, keeps that many old lines. */
  async open(keepLines = 0): Promise<void> {
    this.records.length = 0;
    if (!this.base) return;
    if (keepLines > 0) {
      let text = "";
      try {
        text = await Deno.readTextFile(this.jsonlPath!);
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
      const lines = text.split("\n").filter((l) => l.trim() !== "");
      if (lines.length < keepLines) {
        throw new Error(
          `${this.jsonlPath}: has ${lines.length} records, the checkpoint expects ${keepLines}`,
        );
      }
      for (const l of lines.slice(0, keepLines)) this.records.push(JSON.parse(l));
    }
    await writeFileAtomic(
      this.jsonlPath!,
      this.records.map((r) => JSON.stringify(r) + "\n").join(""),
    );
    await this.flush();
  }

  /** Appends one record (to memory and to the JSON-lines file). */
  async append(rec: LogRecord): Promise<void> {
    this.records.push(rec);
    if (this.base) {
      await Deno.writeTextFile(this.jsonlPath!, JSON.stringify(rec) + "\n", { append: true });
    }
  }

  /** Rewrites the CSV file from the records. */
  async flush(): Promise<void> {
    if (this.base) await writeFileAtomic(this.csvPath!, recordsToCsv(this.records));
  }
}

/** Reads a JSON-lines log written by `JsonlCsvLog`. */
export async function readJsonl(path: string): Promise<LogRecord[]> {
  const text = await Deno.readTextFile(path);
  return text.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l));
}
