/**
 * Import of SQuAD-layout files (DRCD uses it) into the ADL HW2 layout: every paragraph of the
 * input becomes one entry of the context list (in input order), and every question becomes a
 * record whose candidate paragraphs are its own paragraph plus `numChoices - 1` distractor
 * paragraphs drawn from OTHER articles (optionally only from articles of the same group, e.g. the
 * same split: `articleGroups`), the relevant one put at a random position. All random
 * choices come from the seed (per question, from `deriveSeed(seed, id)`, so a question's
 * candidates do not depend on the other questions). The answer is the question's first answer.
 * @module
 */
import { createRng, deriveSeed } from "../util/random.ts";
import { codePointToUtf16 } from "./offsets.ts";
import { type AdlExample, DataError, type DataProblem, formatProblem } from "./types.ts";
import { plural } from "../util/text.ts";

/** Options of `importSquad`. */
export interface ImportSquadOptions {
  /** Seed of the distractor choice and of the relevant paragraph's position. */
  seed: number;
  /** Candidates per question (relevant + distractors). Default 4. */
  numChoices?: number;
  /** Leave out questions that cannot be imported (reported in `skipped`) instead of throwing. */
  skipInvalid?: boolean;
  /** Name of the input used in messages. Default "SQuAD input". */
  file?: string;
  /** Where skipped questions are reported (default `console.warn`); only with `skipInvalid`. */
  log?: (line: string) => void;
  /**
   * Group of each article (by index in `data`), e.g. its split: when given, a question's
   * distractors come only from other articles of the SAME group, so that a split's questions
   * never show another split's paragraphs. One entry per article. Default: one group.
   */
  articleGroups?: readonly (string | number)[];
}

/** Result of `importSquad`: the ADL context list and records, and what was skipped. */
export interface ImportedSquad {
  contexts: string[];
  examples: AdlExample[];
  skipped: DataProblem[];
}

interface FlatParagraph {
  article: number;
  text: string;
}

/**
 * Converts a parsed SQuAD-layout object (`{data: [{title, paragraphs: [{context, qas: [{id,
 * question, answers: [{text, answer_start}]}]}]}]}`) to the ADL layout (see the module doc).
 * `answer_start` counts code points as in files written by Python; the returned
 * `answer.start` is a JavaScript string index like everything the loaders return.
 * Structural problems (not an object, a missing `data` array, a paragraph without `context`)
 * always throw; per-question problems (no answer, answer text not at `answer_start`, empty
 * question, duplicate id) throw unless `skipInvalid`.
 */
export function importSquad(squad: unknown, opts: ImportSquadOptions): ImportedSquad {
  const file = opts.file ?? "SQuAD input";
  const numChoices = opts.numChoices ?? 4;
  if (!Number.isInteger(numChoices) || numChoices < 1) {
    throw new Error(`importSquad: numChoices must be a positive integer, got ${numChoices}`);
  }
  const bad = (field: string, message: string): never => {
    throw new DataError({ file, field, message });
  };
  if (!isObject(squad) || !Array.isArray(squad.data)) {
    bad("data", 'expected an object with a "data" array of articles (SQuAD layout)');
  }
  const articles = (squad as { data: unknown[] }).data;
  const groups = opts.articleGroups;
  if (groups !== undefined && groups.length !== articles.length) {
    throw new Error(
      `importSquad: articleGroups has ${groups.length} entries for ${articles.length} articles`,
    );
  }

  // Pass 1: the context list.
  const flat: FlatParagraph[] = [];
  const articleOf: number[] = [];
  articles.forEach((art, a) => {
    if (!isObject(art) || !Array.isArray(art.paragraphs)) {
      bad(`data[${a}].paragraphs`, "missing or not an array");
    }
    (art as { paragraphs: unknown[] }).paragraphs.forEach((par, p) => {
      if (!isObject(par) || typeof par.context !== "string") {
        bad(`data[${a}].paragraphs[${p}].context`, "missing or not a string");
      }
      if (!Array.isArray((par as Record<string, unknown>).qas)) {
        bad(`data[${a}].paragraphs[${p}].qas`, "missing or not an array");
      }
      flat.push({ article: a, text: (par as { context: string }).context });
      articleOf.push(a);
    });
  });

  // Pass 2: the questions.
  const problems: DataProblem[] = [];
  const examples: AdlExample[] = [];
  const seen = new Map<string, string>();
  let ctxIndex = -1;
  let qNumber = -1;
  articles.forEach((art, a) => {
    (art as { paragraphs: Record<string, unknown>[] }).paragraphs.forEach((par, p) => {
      ctxIndex++;
      const context = par.context as string;
      (par.qas as unknown[]).forEach((qa, q) => {
        qNumber++;
        const path = `data[${a}].paragraphs[${p}].qas[${q}]`;
        const rawId = isObject(qa) ? qa.id : undefined;
        const id = typeof rawId === "string" || typeof rawId === "number"
          ? String(rawId)
          : undefined;
        const fail = (field: string, message: string) => {
          problems.push({
            file,
            index: qNumber,
            id,
            field: field ? `${path}.${field}` : path,
            message,
          });
        };
        if (!isObject(qa)) return fail("", "question entry must be an object");
        if (id === undefined) return fail("id", "missing or not a string");
        const prev = seen.get(id);
        if (prev !== undefined) return fail("id", `duplicate id: also used at ${prev}`);
        seen.set(id, path);
        if (typeof qa.question !== "string") return fail("question", "missing or not a string");
        if (qa.question.trim() === "") return fail("question", "is empty");
        if (!Array.isArray(qa.answers) || qa.answers.length === 0) {
          return fail("answers", "has no answer (unanswerable questions cannot be imported)");
        }
        const ans = qa.answers[0];
        if (!isObject(ans) || typeof ans.text !== "string" || ans.text === "") {
          return fail("answers[0].text", "missing, not a string or empty");
        }
        const cp = ans.answer_start;
        if (typeof cp !== "number" || !Number.isInteger(cp) || cp < 0) {
          return fail("answers[0].answer_start", "missing or not a non-negative integer");
        }
        const u = codePointToUtf16(context, cp);
        if (u < 0 || !context.startsWith(ans.text, u)) {
          return fail(
            "answers[0].answer_start",
            `answer text ${JSON.stringify(ans.text)} is not at ${cp} in its paragraph` +
              ` (found ${JSON.stringify(u < 0 ? "" : context.slice(u, u + ans.text.length))})`,
          );
        }
        const rng = createRng(deriveSeed(opts.seed, "import-squad", id));
        const distractors = pickDistractors(flat, ctxIndex, numChoices - 1, rng.int, groups);
        if (distractors === null) {
          return fail(
            "",
            `too few paragraphs in other articles${groups ? " of its group" : ""} to draw ${
              numChoices - 1
            } distractors`,
          );
        }
        const pos = rng.int(numChoices);
        const paragraphs = distractors.slice();
        paragraphs.splice(pos, 0, ctxIndex);
        examples.push({
          id,
          question: qa.question,
          paragraphs,
          relevant: ctxIndex,
          answer: { text: ans.text, start: u },
        });
      });
    });
  });

  if (problems.length && !opts.skipInvalid) {
    throw new DataError(
      problems,
      `${file}: ${plural(problems.length, "question")} cannot be imported ` +
        "(fix them, or import-squad --skip_invalid leaves them out):",
    );
  }
  if (problems.length) {
    const log = opts.log ?? console.warn;
    for (const p of problems) log(`skipped: ${formatProblem(p)}`);
  }
  return { contexts: flat.map((f) => f.text), examples, skipped: problems };
}

/**
 * Draws `k` distinct paragraph indices from articles other than `self`'s (and, with `groups`,
 * of the same group as `self`'s article), excluding paragraphs whose text equals `self`'s (a
 * duplicate would make two candidates correct). Rejection sampling with a fallback to an
 * explicit candidate list; `null` when there are too few.
 */
function pickDistractors(
  flat: readonly FlatParagraph[],
  self: number,
  k: number,
  int: (n: number) => number,
  groups?: readonly (string | number)[],
): number[] | null {
  const ok = (i: number) =>
    flat[i].article !== flat[self].article && flat[i].text !== flat[self].text &&
    (groups === undefined || groups[flat[i].article] === groups[flat[self].article]);
  const out: number[] = [];
  let tries = 0;
  while (out.length < k && tries < 50 * (k + 1)) {
    tries++;
    const i = int(flat.length);
    if (ok(i) && !out.includes(i)) out.push(i);
  }
  if (out.length === k) return out;
  const pool: number[] = [];
  for (let i = 0; i < flat.length; i++) if (ok(i) && !out.includes(i)) pool.push(i);
  while (out.length < k && pool.length) out.push(pool.splice(int(pool.length), 1)[0]);
  return out.length === k ? out : null;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}
