/**
 * Writes the sample dataset to `data/sample/` (or `--output_dir`), or with `--check` verifies
 * that the files there equal a fresh generation byte for byte.
 *
 *   deno run -A scripts/gen_sample.ts [--output_dir data/sample] [--seed N] [--check]
 * @module
 */
import { parseFlags } from "../lib/cli/args.ts";
import { run, spec } from "../lib/cli/gen_sample.ts";

if (import.meta.main) {
  try {
    const flags = parseFlags(spec, Deno.args);
    if (flags !== null) await run(flags);
  } catch (e) {
    console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
    Deno.exit(1);
  }
}
