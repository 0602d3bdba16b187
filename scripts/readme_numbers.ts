/**
 * Copies the last report's numbers block (`<output_dir>/readme_numbers.md`, written by
 * `deno task report`) into README.md between the markers
 * `<!-- report-numbers:start -->` and `<!-- report-numbers:end -->`.
 *
 *   deno task readme-numbers [--output_dir outputs] [--readme README.md] [--check]
 *
 * With `--check`, only verifies that README.md holds that block (exit 1 otherwise).
 * @module
 */
import { type CommandSpec, parseFlags } from "../lib/cli/args.ts";

const START = "<!-- report-numbers:start -->";
const END = "<!-- report-numbers:end -->";

/** README text with the block between the markers replaced by `block`. */
export function replaceBlock(readme: string, block: string, file = "README.md"): string {
  const a = readme.indexOf(START), b = readme.indexOf(END);
  if (a < 0 || b < a) throw new Error(`${file}: no ${START} … ${END} markers`);
  return readme.slice(0, a + START.length) + "\n" + block.trimEnd() + "\n" + readme.slice(b);
}

/** Text with whitespace runs and table rules collapsed (what `deno fmt` may change). */
export function normalize(text: string): string {
  return text.replace(/-{3,}/g, "---").replace(/\s+/g, " ").trim();
}

const spec: CommandSpec = {
  name: "readme-numbers",
  summary: "Copy outputs/readme_numbers.md (the last report's numbers) into README.md.",
  flags: {
    output_dir: { type: "string", default: "outputs", help: "The report's output folder." },
    readme: { type: "string", default: "README.md", help: "The README to update." },
    check: { type: "boolean", default: false, help: "Only check that README.md has the block." },
  },
};

if (import.meta.main) {
  try {
    const flags = parseFlags(spec, Deno.args);
    if (flags !== null) {
      const src = `${flags.output_dir}/readme_numbers.md`;
      const block = await Deno.readTextFile(src).catch(() => {
        throw new Error(`${src}: not found — run \`deno task report\` first`);
      });
      const path = String(flags.readme);
      const readme = await Deno.readTextFile(path);
      const next = replaceBlock(readme, block, path);
      if (flags.check) {
        // `deno fmt` re-wraps and re-aligns the block in README.md: compare the words.
        if (normalize(next) !== normalize(readme)) {
          throw new Error(`${path}: numbers differ from ${src}`);
        }
        console.log(`${path}: numbers equal ${src}`);
      } else {
        await Deno.writeTextFile(path, next);
        console.log(`${path}: numbers block replaced from ${src}`);
      }
    }
  } catch (e) {
    console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
    Deno.exit(1);
  }
}
