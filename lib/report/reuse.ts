/**
 * The reuse rule of the study's runs: a run folder holding `all_results.json` and a
 * `training_args.json` equal (as JSON, key order ignored) to the arguments the run would use,
 * defaults filled in, is read back instead of trained again. Anything else (no results: never
 * finished or killed; other arguments, other seed, other data path) trains afresh
 * (`trainOrReuse` in study_runs.ts).
 * @module
 */
import { MC_DEFAULTS, MLM_DEFAULTS, QA_DEFAULTS, withDefaults } from "../pipeline/mod.ts";
import { readRunJson, type RunTask } from "./run_record.ts";

function defaultsOf(task: RunTask): Record<string, unknown> {
  return task === "pretrain" ? MLM_DEFAULTS : task === "mc" ? MC_DEFAULTS : QA_DEFAULTS;
}

/** JSON with object keys sorted and undefined values left out, for comparing arguments. */
function canonical(v: unknown): string {
  const sort = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(sort);
    if (x && typeof x === "object") {
      const o: Record<string, unknown> = {};
      for (const k of Object.keys(x).sort()) {
        const val = (x as Record<string, unknown>)[k];
        if (val !== undefined) o[k] = sort(val);
      }
      return o;
    }
    return x;
  };
  return JSON.stringify(sort(v));
}

/** The arguments a run saves: the requested ones over the task's defaults (as the runners do). */
export function filledArgs(task: RunTask, args: Record<string, unknown>): Record<string, unknown> {
  return withDefaults(args, defaultsOf(task));
}

/**
 * Why a finished run in `dir` can't be reused for `args` (null when it can): no results, no
 * saved arguments, or the keys whose values differ.
 */
export async function reuseMismatch(
  task: RunTask,
  dir: string,
  args: Record<string, unknown>,
): Promise<string | null> {
  const results = await readRunJson(`${dir}/all_results.json`);
  if (!results) return "no all_results.json (not trained, or not finished)";
  const saved = await readRunJson(`${dir}/training_args.json`);
  if (!saved) return "no training_args.json";
  const want = filledArgs(task, args);
  if (canonical(saved) === canonical(want)) return null;
  const keys = [...new Set([...Object.keys(saved), ...Object.keys(want)])].sort();
  const diff = keys.filter((k) => canonical(saved[k]) !== canonical(want[k]));
  return `arguments differ: ${
    diff.map((k) => `${k} ${JSON.stringify(saved[k])} -> ${JSON.stringify(want[k])}`).join(", ")
  }`;
}
