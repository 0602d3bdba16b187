/**
 * `deno task report [--profile default|full|smoke] [--data DIR] [--seeds N]`: regenerates the
 * whole study — checks the data, executes
 * notebooks/q1…q4 in order on the Deno Jupyter kernel (installing the kernelspec if missing),
 * stopping at the first failing cell, and assembles outputs/report.md and outputs/report.html.
 * With `--plan`: the memory plan, number of updates and estimated wall time of each stage on this
 * machine, from a few timed micro-batches, without training.
 * @module
 */
import { SEED } from "../lib/args/mod.ts";
import { type CommandSpec, parseFlags, UsageError } from "../lib/cli/args.ts";
import { NotebookError, type Profile, PROFILES, runStudy } from "../lib/report/mod.ts";
import { planStudy } from "../lib/report/plan.ts";
import { initBackend } from "../lib/backend/mod.ts";

/** Flags of `deno task report`. */
export const spec: CommandSpec = {
  name: "report",
  summary: "Execute notebooks/q1..q4 on the Deno Jupyter kernel and assemble outputs/report.md " +
    "and outputs/report.html from this run's metrics and figures.",
  flags: {
    profile: {
      type: "string",
      choices: PROFILES,
      default: "default",
      help: "smoke: seconds, for CI; default: this repository only, <= 15 min on 2 CPU cores; " +
        "full: the study's scale on a GPU host, reading the environment variables " +
        "ADL_DATA_DIR (ADL HW2 data; else data/adl), BERT_BASE_CHINESE_DIR (else " +
        "models/bert-base-chinese) and ROBERTA_WWM_EXT_DIR (else " +
        "models/chinese-roberta-wwm-ext), local Hugging Face folders. Also read: TFJS_BACKEND " +
        "(force a backend), REPORT_PYTHON (Python with nbclient), CHROMIUM_PATH (PNG export)",
    },
    seed: {
      type: "int",
      default: SEED.default,
      help: "Seed passed to the notebooks (REPORT_SEED)",
    },
    seeds: {
      type: "int",
      default: 1,
      min: 1,
      help: "Run Q2 and Q4 with N seeds (seed, seed+1, ...) and report each number's spread",
    },
    data: {
      type: "string",
      help: "An ADL folder (context.json, train.json, valid.json, test.json[, test_gold.json]) " +
        "to run the profile's recipe on instead of its own data; checked before anything trains",
    },
    notebooks_dir: { type: "string", default: "notebooks", help: "Directory of the notebooks" },
    output_dir: { type: "string", default: "outputs", help: "Where everything is written" },
    plan: {
      type: "boolean",
      default: false,
      help: "Only plan: memory plan, updates and estimated time of each stage (nothing trained)",
    },
    plan_steps: {
      type: "int",
      min: 1,
      default: 2,
      help: "With --plan: timed micro-batches per fine-tuning stage",
    },
  },
  epilog: "Notebooks read REPORT_PROFILE, REPORT_OUTPUT_DIR, REPORT_SEED (and REPORT_DATA_DIR " +
    "for --data) in their parameter cell and write <output_dir>/metrics/<q>.json, from which the " +
    "report is assembled. The report also writes <output_dir>/readme_numbers.md, which " +
    "`deno task readme-numbers` copies into README.md.",
};

async function main(argv: string[]): Promise<number> {
  let flags;
  try {
    flags = parseFlags(
      spec,
      argv,
      (s) => console.log(s.replace("deno task cli report", "deno task report")),
    );
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`error: ${e.message.replace("deno task cli report", "deno task report")}`);
      return 2;
    }
    throw e;
  }
  if (flags === null) return 0;
  if (flags.plan) {
    try {
      await initBackend();
      await planStudy(flags.profile as Profile, { timedSteps: flags.plan_steps as number });
      return 0;
    } catch (e) {
      console.error(`\n[report] plan FAILED: ${(e as Error).message}`);
      return 1;
    }
  }
  try {
    await runStudy({
      profile: flags.profile as Profile,
      seed: flags.seed as number,
      notebooksDir: flags.notebooks_dir as string,
      outputDir: flags.output_dir as string,
      seeds: flags.seeds as number,
      dataDir: flags.data as string | undefined,
    });
    return 0;
  } catch (e) {
    const msg = e instanceof NotebookError ? e.message : (e as Error).message;
    console.error(`\n[report] FAILED: ${msg}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
