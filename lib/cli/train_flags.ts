/**
 * The flag tables of the training commands (`train-mc`, `train-qa`, `pretrain-mlm`), made from
 * the argument schema (lib/args: names, types, defaults, help), and the one conversion of parsed
 * flags to a run's arguments: paths checked, then the schema's check, before any work.
 * @module
 */
import { checkPath, type FlagSpec, type ParsedFlags, UsageError } from "./args.ts";
import {
  type ArgSchema,
  type ArgSpec,
  ArgumentError,
  resolveArgs,
  type ResolvedArgs,
} from "../args/mod.ts";

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

/** The flags of a training command: its schema's, then `--progress`. */
export function trainingFlags(schema: ArgSchema): Record<string, FlagSpec> {
  return { ...flagTable(schema), progress: PROGRESS_FLAG };
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

/** Checks the path arguments of a schema that are set: each must exist and be of its kind. */
export async function checkPathArgs(schema: ArgSchema, a: Record<string, unknown>) {
  for (const [k, s] of Object.entries(schema.args)) {
    const v = a[k];
    if (!s.path || typeof v !== "string") continue;
    if (s.path === "checkpoint" && v === "latest") continue;
    const kind = s.path === "config"
      ? (v.endsWith(".json") ? "file" : "dir")
      : s.path === "checkpoint"
      ? "dir"
      : s.path;
    await checkPath(v, k, kind);
  }
}

/**
 * Converts parsed flags to the run's resolved arguments: the paths checked, then the schema's
 * check (the one check of the command; the pipeline takes the result as it is), errors as usage
 * errors in flag names.
 */
export async function resolveFlags<A extends Record<string, ArgSpec>>(
  flags: ParsedFlags,
  schema: ArgSchema<A>,
): Promise<ResolvedArgs<A>> {
  const args: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(flags)) if (v !== undefined && k !== "progress") args[k] = v;
  await checkPathArgs(schema, args);
  return asUsage(() => resolveArgs(schema, args));
}

/** Prints a short summary after training. */
export function summary(
  task: string,
  r: { eval: Record<string, number>; trainSeconds: number; train: { completedSteps: number } },
  outputDir?: string,
): string {
  // Percents (accuracy, exact_match, f1) with 2 decimals; losses and the like with 4.
  const ev = Object.entries(r.eval).map(([k, v]) =>
    `${k}=${/accuracy|exact_match|(^|_)f1$/.test(k) ? v.toFixed(2) : Number(v.toFixed(4))}`
  ).join(" ");
  return `${task}: ${r.train.completedSteps} updates in ${r.trainSeconds.toFixed(1)} s` +
    (ev ? `; validation ${ev}` : "") + (outputDir ? `; model saved to ${outputDir}` : "");
}
