/**
 * Types of the ADL HW2 data layout and the error raised when a data file is malformed.
 *
 * Offsets: in files (written by Python tools, like DRCD and the ADL HW2 data) `answer.start`
 * counts Unicode code points. In memory (`AdlAnswer.start` returned by the loaders) it is a
 * JavaScript string index (UTF-16 code units), so that
 * `context.slice(start, start + text.length) === text` always holds. The two only differ
 * after characters outside the Basic Multilingual Plane (e.g. rare CJK extension B characters);
 * the loaders and writers convert.
 * @module
 */

/** An answer span: its text and where it starts in the relevant paragraph (UTF-16 index in memory). */
export interface AdlAnswer {
  text: string;
  start: number;
}

/** One question of the ADL HW2 layout. `relevant` and `answer` are absent for the test split. */
export interface AdlExample {
  id: string;
  question: string;
  /** Indices into the context list: the candidate paragraphs (4 in ADL HW2). */
  paragraphs: number[];
  /** Index into the context list of the paragraph that holds the answer; one of `paragraphs`. */
  relevant?: number;
  answer?: AdlAnswer;
}

/** Which split a file holds: train/valid records must carry `relevant` and `answer`. */
export type AdlSplit = "train" | "valid" | "test";

/** One problem found in a data file. */
export interface DataProblem {
  file: string;
  /** Record index in the file's top-level array (0-based); absent for whole-file problems. */
  index?: number;
  /** The record's id when it has a readable one. */
  id?: string;
  /** Dotted field path (e.g. `answer.start`); absent for whole-record problems. */
  field?: string;
  /** What is wrong. */
  message: string;
}

/**
 * How a record is named in messages: `record 3 (0-based, id "x")`. Record numbers are the
 * 0-based positions in the file's top-level array (as `jq '.[3]'` and Python's `data[3]` read
 * them, and like the paragraph indices of the format), and every message says so.
 */
export function formatRecord(index: number, id?: string): string {
  return `record ${index} (0-based${id !== undefined ? `, id ${JSON.stringify(id)}` : ""})`;
}

/** Formats a problem as one line: `file: record 3 (0-based, id "x"): field "answer.start": …`. */
export function formatProblem(p: DataProblem): string {
  const parts = [p.file];
  if (p.index !== undefined) parts.push(formatRecord(p.index, p.id));
  if (p.field !== undefined) parts.push(`field "${p.field}"`);
  return `${parts.join(": ")}: ${p.message}`;
}

/** Problems listed in full before the rest are only counted. */
const SHOWN_PER_KIND = 3;
const SHOWN_KINDS = 10;

/** What a problem is, with its numbers and quoted values left out (to group repeats). */
function problemKind(p: DataProblem): string {
  const field = (p.field ?? "").replace(/\[\d+\]/g, "[]");
  return `${field}|${p.message.replace(/"(?:[^"\\]|\\.)*"/g, '"…"').replace(/\d+/g, "N")}`;
}

/**
 * The lines of a problem list: problems of the same kind (same field and message but for
 * numbers and quoted values) are listed up to 3 times, then counted ("  … and 297 more like
 * these"), so 300 records with one mistake read as 4 lines, not 300; at most 10 kinds are shown.
 */
export function summariseProblems(problems: readonly DataProblem[]): string[] {
  const kinds = new Map<string, DataProblem[]>();
  for (const p of problems) {
    const k = problemKind(p);
    if (!kinds.has(k)) kinds.set(k, []);
    kinds.get(k)!.push(p);
  }
  const lines: string[] = [];
  const groups = [...kinds.values()];
  for (const group of groups.slice(0, SHOWN_KINDS)) {
    for (const p of group.slice(0, SHOWN_PER_KIND)) lines.push(formatProblem(p));
    const more = group.length - SHOWN_PER_KIND;
    if (more > 0) lines.push(`  … and ${more} more ${more === 1 ? "like it" : "like these"}`);
  }
  const rest = groups.slice(SHOWN_KINDS).reduce((n, g) => n + g.length, 0);
  if (rest) lines.push(`… and ${rest} more problem${rest === 1 ? "" : "s"} of other kinds`);
  return lines;
}

/**
 * A malformed data file. The message names the file, the record (0-based index and id), the
 * field and what is wrong, repeated problems counted rather than listed
 * ({@link summariseProblems}) or replaced by one `details` line when a loader recognises the
 * cause (a test file given where answers are needed, a context file that is too short);
 * `problems` lists every problem found (a loader reports all bad records, not only the first).
 */
export class DataError extends Error {
  readonly problems: DataProblem[];
  constructor(problems: DataProblem[] | DataProblem, summary?: string, details?: string[]) {
    const list = Array.isArray(problems) ? problems : [problems];
    let message = (details ?? summariseProblems(list)).join("\n");
    if (summary) message = `${summary}\n${message}`;
    super(message);
    this.name = "DataError";
    this.problems = list;
  }
}

/** A record that `skipInvalid` left out, with the reason. */
export interface SkippedRecord extends DataProblem {
  index: number;
}
