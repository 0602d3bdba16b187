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
  /** Record index in the file's top-level array; absent for whole-file problems. */
  index?: number;
  /** The record's id when it has a readable one. */
  id?: string;
  /** Dotted field path (e.g. `answer.start`); absent for whole-record problems. */
  field?: string;
  /** What is wrong. */
  message: string;
}

/** Formats a problem as one line: `file: record 3 (id "x"): field "answer.start": message`. */
export function formatProblem(p: DataProblem): string {
  const parts = [p.file];
  if (p.index !== undefined) {
    parts.push(`record ${p.index}` + (p.id !== undefined ? ` (id ${JSON.stringify(p.id)})` : ""));
  }
  if (p.field !== undefined) parts.push(`field "${p.field}"`);
  return `${parts.join(": ")}: ${p.message}`;
}

/**
 * A malformed data file. The message names the file, the record index and id, the field and
 * what is wrong; `problems` lists every problem found (a loader reports all bad records, not
 * only the first).
 */
export class DataError extends Error {
  readonly problems: DataProblem[];
  constructor(problems: DataProblem[] | DataProblem, summary?: string) {
    const list = Array.isArray(problems) ? problems : [problems];
    const shown = list.slice(0, 20).map(formatProblem);
    let message = shown.join("\n");
    if (list.length > 20) message += `\n... and ${list.length - 20} more problem(s)`;
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
