/**
 * Loading and validating the ADL HW2 layout: `context.json` (an array of paragraph strings) and
 * `train.json` / `valid.json` / `test.json` (arrays of question records).
 *
 * Every problem is reported, naming the file, the record (0-based index and id), the field and
 * what is wrong; repeated problems are counted, and a test file given where answers are needed,
 * or a context file too short for the question file, is said in one line. Nothing is dropped or repaired silently: by default any problem throws a `DataError`
 * listing all of them; with `skipInvalid` the bad records are left out and each one is reported
 * (returned in `skipped` and logged).
 * @module
 */
import { readJsonFile } from "./json.ts";
import { codePointToUtf16 } from "./offsets.ts";
import {
  type AdlExample,
  type AdlSplit,
  DataError,
  type DataProblem,
  formatProblem,
  formatRecord,
  type SkippedRecord,
  summariseProblems,
} from "./types.ts";
import { plural } from "../util/text.ts";

/** Loads `context.json`: a JSON array of strings (paragraphs), indexed by position. */
export async function loadContexts(path: string): Promise<string[]> {
  const data = await readJsonFile(path);
  return validateContexts(data, path);
}

/** Checks that `data` is an array of strings; throws a `DataError` listing every bad element. */
export function validateContexts(data: unknown, file: string): string[] {
  if (!Array.isArray(data)) {
    throw new DataError({
      file,
      message: `expected a JSON array of paragraph strings, got ${describe(data)}`,
    });
  }
  const problems: DataProblem[] = [];
  data.forEach((p, i) => {
    if (typeof p !== "string") {
      problems.push({ file, index: i, message: `paragraph must be a string, got ${describe(p)}` });
    }
  });
  if (problems.length) throw new DataError(problems);
  return data as string[];
}

/** Options of `loadExamples` / `readExamples`. */
export interface LoadExamplesOptions {
  /** `train` and `valid` records need `relevant` and `answer`; `test` records may omit them. */
  split: AdlSplit;
  /** Leave bad records out (each reported) instead of throwing. Default false. */
  skipInvalid?: boolean;
  /**
   * Number of candidate paragraphs each record must have. Default: the count of the first
   * record that has a paragraph list, so all records of a file agree.
   */
  numChoices?: number;
  /** Where skipped records are reported (default `console.warn`); only with `skipInvalid`. */
  log?: (line: string) => void;
}

/** Result of `readExamples`: the valid records and those skipped (only with `skipInvalid`). */
export interface ExamplesReport {
  examples: AdlExample[];
  skipped: SkippedRecord[];
}

/**
 * Loads a question file (`train.json`, `valid.json`, `test.json`) and validates it against
 * `contexts`. Returns the records (with `answer.start` as a JavaScript string index, see
 * `types.ts`). Throws a `DataError` on any problem unless `skipInvalid`, in which case bad
 * records are skipped and logged; use `readExamples` to also get the list of skips.
 */
export async function loadExamples(
  path: string,
  contexts: readonly string[],
  opts: LoadExamplesOptions,
): Promise<AdlExample[]> {
  return (await readExamples(path, contexts, opts)).examples;
}

/** Like `loadExamples`, returning the skipped records too. */
export async function readExamples(
  path: string,
  contexts: readonly string[],
  opts: LoadExamplesOptions,
): Promise<ExamplesReport> {
  const data = await readJsonFile(path);
  return validateExamples(data, contexts, path, opts);
}

/**
 * Validates parsed question records (see `loadExamples`). `file` names the source in messages.
 * Checks, per record: an object; `id` a non-empty string, unique in the file; `question` a
 * non-empty string; `paragraphs` an array of `numChoices` distinct integer indices into
 * `contexts`; for train/valid (and for test when present) `relevant` an integer among
 * `paragraphs`, `answer` an object with a non-empty string `text` and an integer `start`
 * (code points, as written by Python) at which `text` occurs in the relevant paragraph.
 */
export function validateExamples(
  data: unknown,
  contexts: readonly string[],
  file: string,
  opts: LoadExamplesOptions,
): ExamplesReport {
  if (!Array.isArray(data)) {
    throw new DataError({
      file,
      message: `expected a JSON array of question records, got ${describe(data)}`,
    });
  }
  let numChoices = opts.numChoices;
  if (numChoices === undefined) {
    const first = data.find((r) => isObject(r) && Array.isArray(r.paragraphs));
    numChoices = first ? (first.paragraphs as unknown[]).length : undefined;
  }
  const needGold = opts.split !== "test";
  const seen = new Map<string, number>();
  const examples: AdlExample[] = [];
  const problems: SkippedRecord[] = [];
  const outOfRange: { index: number; id: string; k: number; p: number }[] = [];

  data.forEach((rec, index) => {
    const id = isObject(rec) && typeof rec.id === "string" ? rec.id : undefined;
    const fail = (field: string | undefined, message: string) => {
      problems.push({ file, index, id, field, message });
    };
    if (!isObject(rec)) return fail(undefined, `record must be an object, got ${describe(rec)}`);

    // id
    if (!("id" in rec)) return fail("id", "missing");
    if (typeof rec.id !== "string") return fail("id", `must be a string, got ${describe(rec.id)}`);
    if (rec.id.length === 0) return fail("id", "is empty");
    const prev = seen.get(rec.id);
    if (prev !== undefined) return fail("id", `duplicate id: also used by record ${prev}`);
    seen.set(rec.id, index);

    // question
    if (!("question" in rec)) return fail("question", "missing");
    if (typeof rec.question !== "string") {
      return fail("question", `must be a string, got ${describe(rec.question)}`);
    }
    if (rec.question.trim().length === 0) return fail("question", "is empty");

    // paragraphs
    if (!("paragraphs" in rec)) return fail("paragraphs", "missing");
    const ps = rec.paragraphs;
    if (!Array.isArray(ps)) return fail("paragraphs", `must be an array, got ${describe(ps)}`);
    if (numChoices !== undefined && ps.length !== numChoices) {
      return fail("paragraphs", `has ${ps.length} entries, expected ${numChoices}`);
    }
    if (ps.length === 0) return fail("paragraphs", "is empty");
    for (let k = 0; k < ps.length; k++) {
      const p = ps[k];
      if (typeof p !== "number" || !Number.isInteger(p)) {
        return fail(`paragraphs[${k}]`, `must be an integer paragraph index, got ${describe(p)}`);
      }
      if (p < 0 || p >= contexts.length) {
        outOfRange.push({ index, id: rec.id, k, p });
        return fail(
          `paragraphs[${k}]`,
          `paragraph index ${p} is out of range (the context file has ${contexts.length} paragraphs)`,
        );
      }
      const dup = ps.indexOf(p);
      if (dup < k) return fail(`paragraphs[${k}]`, `paragraph ${p} is listed twice`);
    }
    const example: AdlExample = {
      id: rec.id,
      question: rec.question,
      paragraphs: ps.slice() as number[],
    };

    // relevant + answer
    const hasRelevant = "relevant" in rec && rec.relevant !== undefined;
    const hasAnswer = "answer" in rec && rec.answer !== undefined;
    if (needGold || hasRelevant || hasAnswer) {
      if (!hasRelevant) {
        return fail("relevant", `missing (required for the ${opts.split} split)`);
      }
      const rel = rec.relevant;
      if (typeof rel !== "number" || !Number.isInteger(rel)) {
        return fail("relevant", `must be an integer paragraph index, got ${describe(rel)}`);
      }
      if (!ps.includes(rel)) {
        return fail("relevant", `${rel} is not among paragraphs [${ps.join(", ")}]`);
      }
      if (!hasAnswer) return fail("answer", `missing (required with "relevant")`);
      const ans = rec.answer;
      if (!isObject(ans)) return fail("answer", `must be an object, got ${describe(ans)}`);
      if (!("text" in ans)) return fail("answer.text", "missing");
      if (typeof ans.text !== "string") {
        return fail("answer.text", `must be a string, got ${describe(ans.text)}`);
      }
      if (ans.text.length === 0) return fail("answer.text", "is empty");
      if (!("start" in ans)) return fail("answer.start", "missing");
      const start = ans.start;
      if (typeof start !== "number" || !Number.isInteger(start) || start < 0) {
        return fail("answer.start", `must be a non-negative integer, got ${describe(start)}`);
      }
      const ctx = contexts[rel];
      const u = codePointToUtf16(ctx, start);
      if (u < 0) {
        return fail(
          "answer.start",
          `${start} is past the end of paragraph ${rel} (${Array.from(ctx).length} characters)`,
        );
      }
      if (!ctx.startsWith(ans.text, u)) {
        const found = ctx.slice(u, u + ans.text.length);
        const at = ctx.indexOf(ans.text);
        const where = at < 0
          ? `the text does not occur in paragraph ${rel} at all`
          : `the text occurs at ${Array.from(ctx.slice(0, at)).length}`;
        return fail(
          "answer.start",
          `answer text ${JSON.stringify(ans.text)} is not at ${start} in paragraph ${rel} ` +
            `(found ${JSON.stringify(found)} there; ${where})`,
        );
      }
      example.relevant = rel;
      example.answer = { text: ans.text, start: u };
    }
    examples.push(example);
  });

  if (problems.length && !opts.skipInvalid) {
    const noAnswers = needGold && data.length > 0 &&
      data.every((r) => isObject(r) && r.relevant === undefined && r.answer === undefined);
    if (noAnswers) {
      // A test file given where answers are needed: one line, not one per record.
      throw new DataError(problems, undefined, [
        `${file}: no record has "relevant" or "answer" (${plural(data.length, "record")} ` +
        `read): it looks like a test file (questions without answers), but the ${opts.split} ` +
        "split needs them; give a file with answers (such as valid.json)",
      ]);
    }
    const details = outOfRange.length > 1
      ? [
        outOfRangeLine(outOfRange, data, contexts.length, file),
        ...summariseProblems(problems.filter((p) => !outOfRange.some((o) => o.index === p.index))),
      ]
      : undefined;
    throw new DataError(
      problems,
      `${file}: ${plural(problems.length, "invalid record")} of ${data.length} (fix or remove ` +
        "them):",
      details,
    );
  }
  if (problems.length) {
    const log = opts.log ?? console.warn;
    for (const p of problems) log(`skipped: ${formatProblem(p)}`);
    log(`${file}: skipped ${plural(problems.length, "invalid record")} of ${data.length}`);
  }
  return { examples, skipped: problems };
}

/**
 * One line for the records whose paragraph indices point past the end of the context file
 * (usually the context file of another dataset, or a cut one): how many, the range the file
 * has and the largest index used, and the first few records.
 */
function outOfRangeLine(
  bad: readonly { index: number; id: string; k: number; p: number }[],
  data: readonly unknown[],
  numContexts: number,
  file: string,
): string {
  let largest = 0;
  for (const b of bad) {
    const ps = (data[b.index] as { paragraphs: unknown[] }).paragraphs;
    for (const p of ps) if (typeof p === "number" && p > largest) largest = p;
  }
  const has = numContexts
    ? `${plural(numContexts, "paragraph")}, indices 0–${numContexts - 1}`
    : "no paragraphs";
  const first = bad.slice(0, 3).map((b) =>
    `${formatRecord(b.index, b.id)} paragraphs[${b.k}] = ${b.p}`
  );
  return `${file}: ${plural(bad.length, "record")} of ${data.length} use paragraph indices the ` +
    `context file does not have (it has ${has}; they go up to ${largest}): is it the context ` +
    `file that goes with this file? First: ${first.join("; ")}` +
    (bad.length > 3 ? `; … and ${bad.length - 3} more` : "");
}

/** Files of an ADL dataset; any question file may be omitted. */
export interface AdlDatasetFiles {
  contextFile: string;
  trainFile?: string;
  validationFile?: string;
  testFile?: string;
  skipInvalid?: boolean;
  log?: (line: string) => void;
}

/** A loaded ADL dataset. */
export interface AdlDataset {
  contexts: string[];
  train?: AdlExample[];
  validation?: AdlExample[];
  test?: AdlExample[];
  /** Records left out under `skipInvalid` (file named in each). */
  skipped: SkippedRecord[];
}

/** Loads a context file and any of the train / validation / test files, validating each. */
export async function loadAdlDataset(files: AdlDatasetFiles): Promise<AdlDataset> {
  const contexts = await loadContexts(files.contextFile);
  const out: AdlDataset = { contexts, skipped: [] };
  const parts: [keyof AdlDataset, string | undefined, AdlSplit][] = [
    ["train", files.trainFile, "train"],
    ["validation", files.validationFile, "valid"],
    ["test", files.testFile, "test"],
  ];
  for (const [key, path, split] of parts) {
    if (!path) continue;
    const r = await readExamples(path, contexts, {
      split,
      skipInvalid: files.skipInvalid,
      log: files.log,
    });
    (out as unknown as Record<string, unknown>)[key] = r.examples;
    out.skipped.push(...r.skipped);
  }
  return out;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function describe(x: unknown): string {
  if (x === null) return "null";
  if (Array.isArray(x)) return "an array";
  if (typeof x === "string") {
    return `a string ${JSON.stringify(x.length > 30 ? x.slice(0, 30) + "…" : x)}`;
  }
  if (typeof x === "number") return `the number ${x}`;
  if (typeof x === "object") return "an object";
  return `${typeof x} ${String(x)}`;
}
