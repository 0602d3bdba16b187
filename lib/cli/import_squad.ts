/**
 * `deno task cli import-squad`: converts a SQuAD-layout file (e.g. DRCD) to the ADL HW2 layout:
 * `context.json` and one question file, then reloads both with full validation.
 * @module
 */
import { SEED } from "../args/mod.ts";
import { type CommandSpec, type ParsedFlags, UsageError } from "./args.ts";
import {
  importSquad,
  loadContexts,
  readExamples,
  readJsonFile,
  writeContexts,
  writeExamples,
} from "../data/mod.ts";
import { plural } from "../util/text.ts";

/** Flags of `import-squad`. */
export const spec: CommandSpec = {
  name: "import-squad",
  summary: "Convert a SQuAD-layout file (DRCD uses it) to the ADL HW2 layout: each question " +
    "gets its paragraph plus distractor paragraphs from other articles, chosen with the seed.",
  flags: {
    input: {
      type: "string",
      path: true,
      required: true,
      help: "SQuAD-layout JSON file (one split).",
    },
    output_dir: {
      type: "string",
      path: true,
      required: true,
      help: "Folder for context.json and the questions.",
    },
    seed: {
      type: "int",
      default: SEED.default,
      help: "Seed of the distractor choice and relevant position.",
    },
    num_choices: {
      type: "int",
      default: 4,
      min: 2,
      help: "Candidate paragraphs per question (the relevant one + distractors).",
    },
    split_name: {
      type: "string",
      default: "valid",
      help: "Name of the question file written: <split_name>.json (e.g. train, valid, test).",
    },
    skip_invalid: {
      type: "boolean",
      default: false,
      help: "Leave out questions that cannot be imported (each is reported) instead of failing.",
    },
  },
  epilog: [
    "Writes <output_dir>/context.json (every paragraph of the input, in input order) and",
    "<output_dir>/<split_name>.json (records {id, question, paragraphs, relevant, answer}, with",
    "the first answer of each question; answer.start in code points). The input is one split,",
    "so it becomes one question file; import each split into its own folder. The files are",
    "then reloaded with validation and counts are printed.",
  ].join("\n"),
};

/** Runs `import-squad`. */
export async function run(flags: ParsedFlags): Promise<void> {
  const input = String(flags.input);
  const dir = String(flags.output_dir);
  const split = String(flags.split_name);
  if (!/^[A-Za-z0-9_.-]+$/.test(split) || split === "context") {
    throw new UsageError(
      `--split_name must be a plain file name other than "context", got ${JSON.stringify(split)}`,
    );
  }
  const squad = await readJsonFile(input);
  const imported = importSquad(squad, {
    seed: Number(flags.seed),
    numChoices: Number(flags.num_choices),
    skipInvalid: Boolean(flags.skip_invalid),
    file: input,
  });
  const contextFile = `${dir}/context.json`;
  const questionFile = `${dir}/${split}.json`;
  await writeContexts(contextFile, imported.contexts);
  await writeExamples(questionFile, imported.examples, imported.contexts);

  // Round trip: what was written must load with full validation.
  const contexts = await loadContexts(contextFile);
  const loaded = await readExamples(questionFile, contexts, {
    split: split === "test" ? "test" : split === "train" ? "train" : "valid",
  });
  console.log(
    `imported ${input}: ${plural(loaded.examples.length, "question")}, ${
      plural(contexts.length, "paragraph")
    }` +
      (imported.skipped.length ? `, ${plural(imported.skipped.length, "question")} skipped` : "") +
      ` -> ${contextFile}, ${questionFile} (validated)`,
  );
}
