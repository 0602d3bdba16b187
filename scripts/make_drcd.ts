/**
 * Builds `data/drcd/` (ADL HW2 layout) from DRCD's test and dev files (SQuAD layout, CC BY-SA
 * 3.0), or with `--check` verifies that the committed files equal a fresh build byte for byte.
 *
 *   deno run -A scripts/make_drcd.ts [--drcd_dir ../shared/data/drcd] [--output_dir data/drcd]
 *     [--seed 42] [--check]
 *
 * Steps: the two files' articles are merged by article id (DRCD spreads some articles over both
 * files; merged, a distractor never comes from the question's own article); whole articles are
 * assigned to test / valid / train with a seeded shuffle (no paragraph of a valid or test article
 * is the relevant paragraph of a training question); then every question gets 3 seeded
 * distractor paragraphs from other articles OF ITS OWN SPLIT (`importSquad` with
 * `articleGroups`, the `import-squad` command's code), so that training never shows a valid or
 * test paragraph as a (always wrong) distractor; training questions are written in a seeded
 * random order. `test.json` has no `relevant` / `answer` (as in ADL); `test_gold.json` keeps them.
 * @module
 */
import { parseFlags } from "../lib/cli/args.ts";
import type { CommandSpec } from "../lib/cli/args.ts";
import {
  type AdlExample,
  dataJson,
  importSquad,
  readJsonFile,
  toFileRecords,
} from "../lib/data/mod.ts";
import { createRng, deriveSeed } from "../lib/util/random.ts";
import { writeFileAtomic } from "../lib/util/atomic.ts";

/** Questions (at least) held out for test and for validation. */
export const HELD_OUT_QUESTIONS = { test: 600, valid: 600 } as const;

type SplitName = "test" | "valid" | "train";

const ROOT = new URL("../", import.meta.url).pathname.replace(/\/$/, "");

/** The files of `data/drcd/` as text, by file name. */
export async function buildDrcd(
  drcdDir: string,
  seed = 42,
): Promise<{ files: Map<string, string>; counts: Record<string, number> }> {
  type Article = { title: string; id: string; paragraphs: unknown[] };
  const merged: Article[] = [];
  const byId = new Map<string, Article>();
  for (const name of ["DRCD_test.json", "DRCD_dev.json"]) {
    const file = `${drcdDir}/${name}`;
    const squad = await readJsonFile(file) as { data?: Article[] };
    if (!Array.isArray(squad?.data)) throw new Error(`${file}: no "data" array (SQuAD layout)`);
    for (const a of squad.data) {
      const key = String(a.id ?? a.title);
      const prev = byId.get(key);
      if (prev) prev.paragraphs.push(...a.paragraphs);
      else {
        const copy = { title: a.title, id: key, paragraphs: [...a.paragraphs] };
        byId.set(key, copy);
        merged.push(copy);
      }
    }
  }
  // Split first: whole articles (those with questions) go to test / valid / train in a seeded
  // order until each held-out split has its questions; then distractors are drawn only from
  // articles of the same split, so no split's questions show another split's paragraphs.
  const questionsOf = merged.map((a) =>
    (a.paragraphs as { qas?: unknown[] }[]).reduce((n, p) => n + (p.qas?.length ?? 0), 0)
  );
  const withQuestions = merged.map((_, i) => i).filter((i) => questionsOf[i] > 0);
  const order = createRng(deriveSeed(seed, "drcd-split")).shuffle(withQuestions);
  const groups: SplitName[] = merged.map(() => "train");
  const taken = { test: 0, valid: 0 };
  for (const a of order) {
    const g: SplitName = taken.test < HELD_OUT_QUESTIONS.test
      ? "test"
      : taken.valid < HELD_OUT_QUESTIONS.valid
      ? "valid"
      : "train";
    groups[a] = g;
    if (g !== "train") taken[g] += questionsOf[a];
  }
  const imported = importSquad({ data: merged }, {
    seed,
    numChoices: 4,
    file: `${drcdDir}/DRCD_{test,dev}.json`,
    articleGroups: groups,
  });
  // Article of each paragraph (context index).
  const articleOfContext: number[] = [];
  merged.forEach((a, i) => a.paragraphs.forEach(() => articleOfContext.push(i)));
  const split = { test: [] as AdlExample[], valid: [] as AdlExample[], train: [] as AdlExample[] };
  for (const e of imported.examples) split[groups[articleOfContext[e.relevant!]]].push(e);
  // Valid and test questions in input order; training questions shuffled with the seed, so
  // that `--max_train_samples N` (the first N, as in Hugging Face's scripts) spans many articles.
  const rank = new Map(imported.examples.map((e, i) => [e.id, i]));
  for (const s of [split.valid, split.test]) s.sort((x, y) => rank.get(x.id)! - rank.get(y.id)!);
  split.train.sort((x, y) => rank.get(x.id)! - rank.get(y.id)!);
  createRng(deriveSeed(seed, "drcd-train-order")).shuffle(split.train);
  const ctx = imported.contexts;
  const files = new Map<string, string>([
    ["context.json", dataJson(ctx)],
    ["train.json", dataJson(toFileRecords(split.train, ctx))],
    ["valid.json", dataJson(toFileRecords(split.valid, ctx))],
    ["test.json", dataJson(toFileRecords(split.test, ctx, { withGold: false }))],
    ["test_gold.json", dataJson(toFileRecords(split.test, ctx))],
  ]);
  return {
    files,
    counts: {
      articles: merged.length,
      paragraphs: ctx.length,
      train: split.train.length,
      valid: split.valid.length,
      test: split.test.length,
    },
  };
}

const spec: CommandSpec = {
  name: "make-drcd",
  summary: "Build data/drcd (ADL layout) from DRCD_test.json + DRCD_dev.json.",
  flags: {
    drcd_dir: {
      type: "string",
      default: `${ROOT}/../shared/data/drcd`,
      help: "Folder with DRCD_test.json and DRCD_dev.json.",
    },
    output_dir: { type: "string", default: `${ROOT}/data/drcd`, help: "Where to write." },
    seed: { type: "int", default: 42, help: "Seed of distractors and of the split." },
    check: { type: "boolean", default: false, help: "Only compare with the files there." },
  },
};

if (import.meta.main) {
  try {
    const flags = parseFlags(spec, Deno.args);
    if (flags !== null) {
      const out = String(flags.output_dir);
      const { files, counts } = await buildDrcd(String(flags.drcd_dir), Number(flags.seed));
      if (flags.check) {
        const differ: string[] = [];
        for (const [name, text] of files) {
          const have = await Deno.readTextFile(`${out}/${name}`).catch(() => null);
          if (have !== text) differ.push(name);
        }
        if (differ.length) throw new Error(`${out}: differs from a fresh build: ${differ}`);
        console.log(`${out}: equal to a fresh build`);
      } else {
        await Deno.mkdir(out, { recursive: true });
        for (const [name, text] of files) await writeFileAtomic(`${out}/${name}`, text);
        console.log(`wrote ${out}: ${JSON.stringify(counts)}`);
      }
    }
  } catch (e) {
    console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
    Deno.exit(1);
  }
}
