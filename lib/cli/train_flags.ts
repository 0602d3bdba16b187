/**
 * The flag tables of the training commands (`train-mc`, `train-qa`, `pretrain-mlm`), made from
 * the argument schema (lib/args: names, types, defaults, help), and the one conversion of parsed
 * flags to a run's arguments: paths checked, then the schema's check, before any work.
 * @module
 */
import { checkPath, type FlagSpec, type ParsedFlags, UsageError, userPath } from "./args.ts";
import {
  type ArgSchema,
  type ArgSpec,
  ArgumentError,
  resolveArgs,
  type ResolvedArgs,
} from "../args/mod.ts";
import { parseConfigOverrides } from "../models/mod.ts";
import { formatMetric } from "../util/metric_format.ts";
import { plural } from "../util/text.ts";

/** The flag of one schema entry: type, default and help; the checks stay the schema's. */
export function flagOf(s: ArgSpec, help = s.help): FlagSpec {
  const f: FlagSpec = {
    type: s.type,
    help: s.defaultText ? `${help} (default: ${s.defaultText})` : help,
  };
  if (s.default !== undefined && !s.defaultText) f.default = s.default as FlagSpec["default"];
  if (s.required) f.required = true;
  if (s.choices) f.metavar = s.choices.join("|");
  return f;
}

/**
 * The flag of a schema entry for a command that does not resolve its flags through the schema
 * (`check-data`): the flag parser checks the entry's lower bound.
 */
export function boundedFlagOf(s: ArgSpec, help = s.help): FlagSpec {
  return s.min === undefined ? flagOf(s, help) : { ...flagOf(s, help), min: s.min };
}

/** The flag table of a schema, in its order. */
export function flagTable(schema: ArgSchema): Record<string, FlagSpec> {
  return Object.fromEntries(Object.entries(schema.args).map(([k, s]) => [k, flagOf(s)]));
}

/** The display flag of every training command (not a run argument: not saved, not compared). */
const PROGRESS_FLAG: FlagSpec = {
  type: "string",
  choices: ["auto", "tty", "lines", "none"],
  default: "auto",
  help: "Progress display (auto: a redrawn line on a terminal, periodic lines otherwise)",
};

/** Where a training command without `--output_dir` saves its run (under the user's folder). */
export function defaultOutputDir(command: string, now = new Date()): string {
  const iso = now.toISOString(); // 2026-12-03T17:40:05.123Z -> 20261203-174005 (UTC)
  const stamp = `${iso.slice(0, 10).replaceAll("-", "")}-${iso.slice(11, 19).replaceAll(":", "")}`;
  return userPath(`outputs/runs/${command}-${stamp}`);
}

/** The flags of a training command: its schema's, then `--progress`. */
export function trainingFlags(schema: ArgSchema): Record<string, FlagSpec> {
  const flags: Record<string, FlagSpec> = { ...flagTable(schema), progress: PROGRESS_FLAG };
  // A command never trains and saves nothing (a library call without output_dir keeps it all
  // in memory).
  flags.output_dir = {
    ...flags.output_dir,
    help: `${flags.output_dir.help} (default: outputs/runs/${schema.command}-<date>-<time> in ` +
      `the working directory, printed at the start)`,
  };
  return flags;
}

/** Runs a check whose error is about the command line, with its error as a usage error. */
export function asUsage<T>(check: () => T): T {
  try {
    return check();
  } catch (e) {
    if (e instanceof ArgumentError) throw new UsageError(e.message);
    throw e;
  }
}

/** Checks the path arguments of a schema that are set: each must exist and be of its kind
 *  (`given`: the values as typed, for the hints). */
export async function checkPathArgs(
  schema: ArgSchema,
  a: Record<string, unknown>,
  given: Record<string, unknown> = a,
) {
  for (const [k, s] of Object.entries(schema.args)) {
    const v = a[k];
    if (!s.path || typeof v !== "string") continue;
    if (s.path === "checkpoint" && v === "latest") continue;
    const kind = s.path === "config"
      ? (v.endsWith(".json") ? "file" : "dir")
      : s.path === "checkpoint"
      ? "dir"
      : s.path;
    await checkPath(v, k, kind, String(given[k] ?? v));
  }
}

/**
 * Converts parsed flags to the run's resolved arguments: relative paths resolved against the
 * user's folder (`INIT_CWD` under `deno task`), a default `output_dir` when none is given (said
 * through `log`), the paths checked, then the schema's check (the one check of the command; the
 * pipeline takes the result as it is), errors as usage errors in flag names.
 */
export async function resolveFlags<A extends Record<string, ArgSpec>>(
  flags: ParsedFlags,
  schema: ArgSchema<A>,
  log: (m: string) => void = console.log,
): Promise<ResolvedArgs<A>> {
  const args: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(flags)) if (v !== undefined && k !== "progress") args[k] = v;
  // Relative paths are the user's (`deno task` runs in the project's root).
  const given = { ...args };
  for (const [k, s] of Object.entries(schema.args)) {
    const v = args[k];
    if ((s.path || k === "output_dir") && typeof v === "string" && v !== "latest") {
      args[k] = userPath(v);
    }
  }
  const defaultDir = args.output_dir === undefined && "output_dir" in schema.args;
  if (defaultDir) args.output_dir = defaultOutputDir(schema.command);
  await checkPathArgs(schema, args, given);
  const resolved = asUsage(() => resolveArgs(schema, args));
  // Unknown config keys are refused before any work (the owner of the keys is lib/models; with
  // --config_name, that file's own keys count too, checked when the config is read).
  if (typeof args.config_overrides === "string" && !args.config_name) {
    try {
      parseConfigOverrides(args.config_overrides as string);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  if (defaultDir) {
    log(`${schema.command}: no --output_dir given; the run goes to ${args.output_dir}`);
  }
  return resolved;
}

/** Prints a short summary after training. */
export function summary(
  task: string,
  r: { eval: Record<string, number>; trainSeconds: number; train: { completedSteps: number } },
  outputDir?: string,
): string {
  const ev = Object.entries(r.eval).map(([k, v]) => `${k}=${formatMetric(k, v)}`).join(" ");
  return `${task}: ${plural(r.train.completedSteps, "update")} in ${r.trainSeconds.toFixed(1)} s` +
    (ev ? `; validation ${ev}` : "") + (outputDir ? `; model saved to ${outputDir}` : "");
}
