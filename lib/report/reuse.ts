/**
 * The reuse rule of the study's runs: a run folder holding `all_results.json` and a
 * `training_args.json` whose run-identity arguments (those the schema marks `identity`: all but
 * `output_dir`, `checkpointing_steps`, `resume_from_checkpoint`) equal (as JSON, key order
 * ignored) those the run would use, defaults filled in, is read back instead of trained again.
 * Anything else (no results: never finished or killed; other arguments, other seed, other data
 * path) trains afresh (`trainOrReuse` in study_runs.ts).
 * @module
 */
import { type ArgSchema, MC_ARGS, MLM_ARGS, QA_ARGS, resolveArgs } from "../args/mod.ts";
import { readRunJson, type RunTask } from "./run_record.ts";

/** The argument schema of a study task. */
export function schemaOf(task: RunTask): ArgSchema {
  return task === "pretrain" ? MLM_ARGS : task === "mc" ? MC_ARGS : QA_ARGS;
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

/** The arguments a run saves: the requested ones resolved by the task's schema (as the runners
 *  do). */
export function filledArgs(task: RunTask, args: Record<string, unknown>): Record<string, unknown> {
  return resolveArgs(schemaOf(task), args);
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
  const written = await readRunJson(`${dir}/training_args.json`);
  if (!written) return "no training_args.json";
  const want = filledArgs(task, args);
  // The saved arguments with today's defaults filled (a run saved before an argument had a
  // default used what is its default now); unknown or invalid ones leave them as written.
  let saved = written;
  try {
    saved = filledArgs(task, written);
  } catch { /* compared as written: the differing keys are listed */ }
  // Arguments the schema does not know (an older run's) count: such a run trains afresh.
  const schema = schemaOf(task);
  const keys = [...new Set([...Object.keys(saved), ...Object.keys(want)])].sort()
    .filter((k) => schema.args[k]?.identity ?? true);
  const diff = keys.filter((k) => canonical(saved[k]) !== canonical(want[k]));
  if (diff.length === 0) return null;
  return `arguments differ: ${
    diff.map((k) => `${k} ${JSON.stringify(saved[k])} -> ${JSON.stringify(want[k])}`).join(", ")
  }`;
}
