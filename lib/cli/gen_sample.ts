/**
 * `deno task cli gen-sample`: writes the deterministic sample dataset (`data/sample/` by
 * default), or with `--check` verifies that a folder holds exactly what the generator makes.
 * @module
 */
import type { CommandSpec, ParsedFlags } from "./args.ts";
import {
  DEFAULT_SAMPLE_SEED,
  generateSampleDataset,
  SAMPLE_FILES,
  sampleDatasetFiles,
} from "../data/mod.ts";
import { writeFileAtomic } from "../util/atomic.ts";

/** Flags of `gen-sample`. */
export const spec: CommandSpec = {
  name: "gen-sample",
  summary: "Generate the invented Traditional Chinese sample dataset (ADL HW2 layout + vocab.txt).",
  flags: {
    output_dir: { type: "string", default: "data/sample", help: "Folder to write the files to." },
    seed: { type: "int", default: DEFAULT_SAMPLE_SEED, help: "Generator seed." },
    check: {
      type: "boolean",
      default: false,
      help: "Write nothing; exit with an error unless the folder equals a fresh generation.",
    },
  },
  epilog: `Files: ${SAMPLE_FILES.join(", ")}.`,
};

/** Runs `gen-sample`. */
export async function run(flags: ParsedFlags): Promise<void> {
  const dir = String(flags.output_dir);
  const files = sampleDatasetFiles(generateSampleDataset(Number(flags.seed)));
  if (flags.check) {
    const differ: string[] = [];
    for (const name of SAMPLE_FILES) {
      let text: string | null = null;
      try {
        text = await Deno.readTextFile(`${dir}/${name}`);
      } catch {
        text = null;
      }
      if (text !== files[name]) differ.push(text === null ? `${name} (missing)` : name);
    }
    if (differ.length) {
      throw new Error(
        `${dir}: ${differ.join(", ")} differ from a fresh generation (seed ${flags.seed}); ` +
          "regenerate with 'deno run -A scripts/gen_sample.ts'",
      );
    }
    console.log(`${dir}: all ${SAMPLE_FILES.length} files equal a fresh generation`);
    return;
  }
  for (const name of SAMPLE_FILES) await writeFileAtomic(`${dir}/${name}`, files[name]);
  console.log(`wrote ${SAMPLE_FILES.map((n) => `${dir}/${n}`).join(", ")}`);
}
