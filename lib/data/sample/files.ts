/**
 * The files of `data/sample/` as text (so a test can compare the committed files with a fresh
 * generation byte for byte), and statistics of the generated dataset.
 * @module
 */
import { basicTokenize } from "../vocab.ts";
import { dataJson, toFileRecords } from "../write.ts";
import type { SampleDataset } from "./generate.ts";

/** Names of the files written to `data/sample/`, in writing order. */
export const SAMPLE_FILES = [
  "context.json",
  "train.json",
  "valid.json",
  "test.json",
  "test_gold.json",
  "vocab.txt",
  "README.md",
] as const;

/** Statistics of a sample dataset. */
export interface SampleStats {
  seed: number;
  questions: { train: number; valid: number; test: number };
  paragraphs: number;
  /** Distinct characters of all paragraphs and questions. */
  distinctChars: number;
  vocabSize: number;
  paragraphChars: {
    min: number;
    p10: number;
    p50: number;
    p90: number;
    max: number;
    mean: number;
    over400: number;
  };
  questionChars: { min: number; p50: number; max: number };
  /** Basic-tokenizer words of `question + paragraph` for the relevant paragraph (+3 specials). */
  pairWords: {
    p50: number;
    p90: number;
    p99: number;
    max: number;
    over128: number;
    over192: number;
  };
  /** Answer start / paragraph length, quartiles. */
  answerRelativeStart: { p25: number; p50: number; p75: number };
  /** Questions per entity type and asked field. */
  askedFields: Record<string, number>;
  /**
   * Fractions of distractors: same type stating the asked fact (`hard`), same type without it,
   * other type; and the fraction of questions with at least one hard distractor.
   */
  distractors: { hard: number; sameType: number; otherType: number; questionsWithHard: number };
  /** Bytes per file (README excluded). */
  fileBytes: Record<string, number>;
}

/** Text of every file of `data/sample/` (see `SAMPLE_FILES`). */
export function sampleDatasetFiles(ds: SampleDataset): Record<string, string> {
  const files: Record<string, string> = {
    "context.json": dataJson(ds.contexts),
    "train.json": dataJson(toFileRecords(ds.train, ds.contexts)),
    "valid.json": dataJson(toFileRecords(ds.valid, ds.contexts)),
    "test.json": dataJson(toFileRecords(ds.test, ds.contexts, { withGold: false })),
    "test_gold.json": dataJson(toFileRecords(ds.test, ds.contexts)),
    "vocab.txt": ds.vocab.join("\n") + "\n",
  };
  files["README.md"] = sampleReadme(sampleStats(ds, files));
  return files;
}

/** Computes `SampleStats`; `files` (texts by name) gives the file sizes. */
export function sampleStats(ds: SampleDataset, files: Record<string, string> = {}): SampleStats {
  const enc = new TextEncoder();
  const all = [...ds.train, ...ds.valid, ...ds.test];
  const plen = ds.contexts.map((c) => Array.from(c).length).sort((a, b) => a - b);
  const qlen = all.map((e) => Array.from(e.question).length).sort((a, b) => a - b);
  const pair = all.map((e) =>
    basicTokenize(e.question).length + basicTokenize(ds.contexts[e.relevant!]).length + 3
  ).sort((a, b) => a - b);
  const rel = all.map((e) => e.answer!.start / ds.contexts[e.relevant!].length).sort((a, b) =>
    a - b
  );
  const chars = new Set<string>();
  for (const c of ds.contexts) for (const ch of c) chars.add(ch);
  for (const e of all) for (const ch of e.question) chars.add(ch);
  const asked: Record<string, number> = {};
  const kinds = { hard: 0, sameType: 0, otherType: 0 };
  let withHard = 0;
  for (const e of all) {
    const k = ds.info.get(e.id)!;
    const key = `${k.type}.${k.field}`;
    asked[key] = (asked[key] ?? 0) + 1;
    let hard = 0;
    for (const p of e.paragraphs) {
      if (p === e.relevant) continue;
      const d = ds.paragraphInfo[p];
      if (d.type !== k.type) kinds.otherType++;
      else if (d.fields.includes(k.field)) hard++;
      else kinds.sameType++;
    }
    kinds.hard += hard;
    if (hard > 0) withHard++;
  }
  const nd = Math.max(1, 3 * all.length);
  const q = (a: number[], f: number) => a[Math.min(a.length - 1, Math.floor(f * a.length))];
  const fileBytes: Record<string, number> = {};
  for (const [name, text] of Object.entries(files)) {
    if (name !== "README.md") fileBytes[name] = enc.encode(text).length;
  }
  return {
    seed: ds.seed,
    questions: { train: ds.train.length, valid: ds.valid.length, test: ds.test.length },
    paragraphs: ds.contexts.length,
    distinctChars: chars.size,
    vocabSize: ds.vocab.length,
    paragraphChars: {
      min: plen[0],
      p10: q(plen, 0.1),
      p50: q(plen, 0.5),
      p90: q(plen, 0.9),
      max: plen[plen.length - 1],
      mean: Math.round(plen.reduce((a, b) => a + b, 0) / plen.length),
      over400: plen.filter((n) => n > 400).length,
    },
    questionChars: { min: qlen[0], p50: q(qlen, 0.5), max: qlen[qlen.length - 1] },
    pairWords: {
      p50: q(pair, 0.5),
      p90: q(pair, 0.9),
      p99: q(pair, 0.99),
      max: pair[pair.length - 1],
      over128: pair.filter((n) => n > 128).length,
      over192: pair.filter((n) => n > 192).length,
    },
    answerRelativeStart: {
      p25: round2(q(rel, 0.25)),
      p50: round2(q(rel, 0.5)),
      p75: round2(q(rel, 0.75)),
    },
    askedFields: Object.fromEntries(Object.entries(asked).sort(([a], [b]) => (a < b ? -1 : 1))),
    distractors: {
      hard: round2(kinds.hard / nd),
      sameType: round2(kinds.sameType / nd),
      otherType: round2(kinds.otherType / nd),
      questionsWithHard: round2(withHard / all.length),
    },
    fileBytes,
  };
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** The generated `data/sample/README.md`. */
export function sampleReadme(s: SampleStats): string {
  const pc = s.paragraphChars;
  const pw = s.pairWords;
  const lines = [
    "# Sample dataset (generated — do not edit)",
    "",
    "Invented Traditional Chinese reading-comprehension data in the ADL HW2 layout, so the",
    "project runs with no downloads. Written by `deno run -A scripts/gen_sample.ts` from",
    `\`generateSampleDataset(${s.seed})\` in \`lib/data/sample/generate.ts\`; the same seed`,
    "gives byte-identical files (a test checks that these files equal a fresh generation).",
    "All people, places, organisations, events and numbers are invented.",
    "",
    "## Files",
    "",
    "| file | content | bytes |",
    "| --- | --- | --- |",
    `| context.json | ${s.paragraphs} paragraphs (array of strings) | ${
      s.fileBytes["context.json"]
    } |`,
    `| train.json | ${s.questions.train} questions with \`relevant\` and \`answer\` | ${
      s.fileBytes["train.json"]
    } |`,
    `| valid.json | ${s.questions.valid} questions with \`relevant\` and \`answer\` | ${
      s.fileBytes["valid.json"]
    } |`,
    `| test.json | ${s.questions.test} questions without \`relevant\` / \`answer\` | ${
      s.fileBytes["test.json"]
    } |`,
    `| test_gold.json | the same test questions with their gold, to score end to end | ${
      s.fileBytes["test_gold.json"]
    } |`,
    `| vocab.txt | ${s.vocabSize}-token WordPiece vocabulary from \`buildVocab\` (uncased) | ${
      s.fileBytes["vocab.txt"]
    } |`,
    "",
    "`answer.start` counts Unicode code points, like files written by Python (no character",
    "here is outside the Basic Multilingual Plane, so it equals the JavaScript string index).",
    "",
    "## How it is built",
    "",
    "- Each paragraph is about one invented entity (person, place, organisation or event): an",
    "  intro sentence naming it, then 3–5 fact sentences in random order, each from several",
    "  phrasings, sometimes filler sentences that carry other years, places and numbers.",
    "  Later sentences refer to the entity as 他/她/該市/該公司..., sometimes by name again.",
    "- A question names its entity, which appears in the relevant paragraph and in none of",
    "  the 3 distractors. The distractors are other paragraphs of the same split whose entity",
    '  names share at most one character with the asked name: "hard" ones about an entity of',
    "  the same type that also state the asked fact (only the name tells them apart), others of",
    "  the same type without that fact (same templates and vocabulary), others of another",
    "  type. The relevant paragraph is at a random position among the 4.",
    "- Answers are spans: names, years, dates, numbers with units, latin words and product names.",
    "  A paragraph holds several values of the same kind (two years, two places...), so the",
    "  question's wording decides which is asked.",
    "- Splits use disjoint entities; distractors come from the same split.",
    "",
    "## Statistics",
    "",
    `- questions: train ${s.questions.train}, valid ${s.questions.valid}, test ${s.questions.test}`,
    `- paragraphs: ${s.paragraphs}; distinct characters (paragraphs + questions): ${s.distinctChars}`,
    `- paragraph length in characters: min ${pc.min}, p10 ${pc.p10}, median ${pc.p50}, p90 ${pc.p90},` +
    ` max ${pc.max}, mean ${pc.mean}; ${pc.over400} paragraphs longer than 400 characters`,
    `- question length in characters: min ${s.questionChars.min}, median ${s.questionChars.p50},` +
    ` max ${s.questionChars.max}`,
    `- [CLS] question [SEP] relevant paragraph [SEP], in basic-tokenizer words (about the token`,
    `  count with this vocabulary): median ${pw.p50}, p90 ${pw.p90}, p99 ${pw.p99}, max ${pw.max};` +
    ` ${pw.over128} over 128, ${pw.over192} over 192`,
    `- answer start / paragraph length: quartiles ${s.answerRelativeStart.p25},` +
    ` ${s.answerRelativeStart.p50}, ${s.answerRelativeStart.p75}`,
    `- distractors: ${s.distractors.hard} same type stating the asked fact (hard), ` +
    `${s.distractors.sameType} same type without it, ${s.distractors.otherType} other type; ` +
    `${s.distractors.questionsWithHard} of the questions have a hard distractor`,
    "- questions by entity type and asked field:",
    "",
    "| field | questions |",
    "| --- | --- |",
    ...Object.entries(s.askedFields).map(([k, v]) => `| ${k} | ${v} |`),
    "",
  ];
  return lines.join("\n");
}
