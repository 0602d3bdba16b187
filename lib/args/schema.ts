/**
 * The machinery of the typed argument schema: one {@link ArgSpec} per run argument (Hugging Face
 * flag name, type, default, bounds, help, run identity), and the one function that fills the
 * defaults and checks a run's arguments, {@link resolveArgs}. The task schemas themselves are in
 * `tasks.ts`. Errors name the flags (`--learning_rate`), never internal names.
 * @module
 */
import { closestName } from "../util/text.ts";

/** Type of an argument's value (as on the command line). */
export type ArgType = "string" | "int" | "float" | "boolean";

/** What a path argument must be; the command line checks it before any work. */
export type PathKind =
  | "file"
  | "dir"
  | "any"
  /** A folder, or a `.json` file (`--config_name`). */
  | "config"
  /** A checkpoint folder, or `latest` (`--resume_from_checkpoint`). */
  | "checkpoint";

/** Carries an argument's value type (types only; never set). */
declare const VALUE: unique symbol;

/** One run argument. */
export interface ArgSpec<V = unknown> {
  /** The value type (types only). */
  readonly [VALUE]?: V;
  type: ArgType;
  /** Help line (the default is added by `--help`, from `default`). */
  help: string;
  /** The default; absent means "no value" (undefined). */
  default?: V;
  /** How `--help` states a default that is not a plain value (e.g. "from the model, else 20"). */
  defaultText?: string;
  required?: boolean;
  /** Allowed values of a string argument. */
  choices?: readonly string[];
  /** Lower bound (inclusive unless `minExclusive`). */
  min?: number;
  minExclusive?: boolean;
  /** Upper bound (inclusive unless `maxExclusive`). */
  max?: number;
  maxExclusive?: boolean;
  /** Part of what makes a run the run it is (its model and logs): the reuse rule compares these. */
  identity: boolean;
  /** Handed to the training loop under its camelCase name (`learning_rate` → `learningRate`). */
  loop?: boolean;
  /** A path argument (checked to exist by the command line). */
  path?: PathKind;
  /** Turns a valid value into the value the run uses (e.g. "12" → 12); throws a message. */
  parse?: (v: unknown) => unknown;
}

/** A rule between arguments: the problem in flag names, or undefined when the rule holds. */
export type ArgRule = (a: Record<string, unknown>) => string | undefined;

/** The arguments of one command (task), in `--help` order, with the rules between them. */
export interface ArgSchema<A extends Record<string, ArgSpec> = Record<string, ArgSpec>> {
  /** The command, for messages ("train-qa"). */
  command: string;
  args: A;
  rules: readonly ArgRule[];
  /** Arguments shown in the report's argument table, in table order. */
  reportKeys: readonly string[];
}

/** A bad run argument; the message names the flag. The command line shows it as a usage error. */
export class ArgumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ArgumentError";
  }
}

/** How often {@link resolveArgs} has checked arguments in this process (tests count the calls
 *  of a command: one). */
export const argChecks = { count: 0 };

const RESOLVED = new WeakSet<object>();

/** Whether `a` came out of {@link resolveArgs} (its defaults filled, its checks passed). */
export function isResolved(a: object): boolean {
  return RESOLVED.has(a);
}

/** Marks an object derived from resolved arguments (e.g. the loop's camelCase ones) resolved. */
export function markResolved<T extends object>(a: T): T {
  RESOLVED.add(a);
  return a;
}

/** The bounds of a numeric argument as words ("> 0 and < 1"). */
export function boundsText(s: ArgSpec): string {
  const parts = [];
  if (s.min !== undefined) parts.push(`${s.minExclusive ? ">" : ">="} ${s.min}`);
  if (s.max !== undefined) parts.push(`${s.maxExclusive ? "<" : "<="} ${s.max}`);
  return parts.join(" and ");
}

/** The problem with one value, or undefined. */
function problem(name: string, s: ArgSpec, v: unknown): string | undefined {
  const flag = `--${name}`;
  const got = `got ${JSON.stringify(v)}`;
  switch (s.type) {
    case "boolean":
      return typeof v === "boolean" ? undefined : `${flag} expects true or false, ${got}`;
    case "string":
      if (s.parse) return undefined;
      if (typeof v !== "string") return `${flag} expects a string, ${got}`;
      if (s.choices && !s.choices.includes(v)) {
        const near = closestName(v, s.choices);
        return `${flag} must be one of ${s.choices.join(", ")}; ${got}` +
          (near ? ` (did you mean ${near}?)` : "");
      }
      return undefined;
    default: {
      if (typeof v !== "number" || !Number.isFinite(v)) {
        return `${flag} expects ${s.type === "int" ? "an integer" : "a number"}, ${got}`;
      }
      if (s.type === "int" && !Number.isInteger(v)) return `${flag} expects an integer, ${got}`;
      const low = s.min !== undefined && (s.minExclusive ? v <= s.min : v < s.min);
      const high = s.max !== undefined && (s.maxExclusive ? v >= s.max : v > s.max);
      if (!low && !high) return undefined;
      const positiveInt = s.type === "int" && s.min === 1 && !s.minExclusive && s.max === undefined;
      return `${flag} must be ${positiveInt ? "a positive integer" : boundsText(s)}, got ${v}`;
    }
  }
}

/**
 * The arguments a run uses: `input` checked against `schema` (unknown names, types, bounds,
 * choices, the rules between arguments) with the defaults filled, in schema order. The one check
 * of a command's arguments: resolved arguments pass through unchanged (and unchecked), so a
 * command that resolves its flags first and hands them to the pipeline checks them once.
 * Throws an {@link ArgumentError} in flag names.
 *
 * @example
 * ```ts
 * import { QA_ARGS, resolveArgs } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const a = resolveArgs(QA_ARGS, {
 *   train_file: "train.json", context_file: "context.json", tokenizer_name: "vocab",
 * });
 * assert.equal(a.doc_stride, QA_ARGS.args.doc_stride.default);
 * assert.throws(() => resolveArgs(QA_ARGS, { ...a, learning_rate: -1 }), /--learning_rate/);
 * ```
 */
export function resolveArgs<A extends Record<string, ArgSpec>>(
  schema: ArgSchema<A>,
  input: Partial<ResolvedArgs<A>> | Record<string, unknown>,
): ResolvedArgs<A> {
  if (isResolved(input)) return input as ResolvedArgs<A>;
  argChecks.count++;
  const given = input as Record<string, unknown>;
  const names = Object.keys(schema.args);
  for (const k of Object.keys(given)) {
    if (k in schema.args || given[k] === undefined) continue;
    const near = closestName(k, names);
    throw new ArgumentError(
      `unknown argument --${k} for '${schema.command}'${near ? `; did you mean --${near}?` : ""}`,
    );
  }
  const out: Record<string, unknown> = {};
  for (const [k, s] of Object.entries(schema.args)) {
    let v = given[k] ?? s.default;
    if (v === undefined) {
      if (s.required) throw new ArgumentError(`'${schema.command}' needs --${k} (${s.help})`);
      continue;
    }
    const bad = problem(k, s, v);
    if (bad) throw new ArgumentError(bad);
    if (s.parse) {
      try {
        v = s.parse(v);
      } catch (e) {
        throw new ArgumentError(`--${k} ${(e as Error).message}`);
      }
    }
    out[k] = v;
  }
  for (const rule of schema.rules) {
    const bad = rule(out);
    if (bad) throw new ArgumentError(bad);
  }
  return markResolved(out) as ResolvedArgs<A>;
}

/** The value type of an argument spec. */
export type ValueOf<S> = S extends { readonly [VALUE]?: infer V } ? Exclude<V, undefined> : never;

/** Resolved arguments: those with a default (or required) always present. */
export type ResolvedArgs<A extends Record<string, ArgSpec>> =
  & {
    [K in keyof A as A[K] extends { default: unknown } | { required: true } ? K : never]: ValueOf<
      A[K]
    >;
  }
  & {
    [K in keyof A as A[K] extends { default: unknown } | { required: true } ? never : K]?: ValueOf<
      A[K]
    >;
  };

/** The defaults of a schema (arguments without a default left out). */
export function defaultsOf<A extends Record<string, ArgSpec>>(schema: ArgSchema<A>): DefaultsOf<A> {
  const out: Record<string, unknown> = {};
  for (const [k, s] of Object.entries(schema.args)) if (s.default !== undefined) out[k] = s.default;
  return out as DefaultsOf<A>;
}

/** `learning_rate` → `learningRate`. */
export function camelCase(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** The run-identity argument names of a schema. */
export function identityKeys(schema: ArgSchema): string[] {
  return Object.entries(schema.args).filter(([, s]) => s.identity).map(([k]) => k);
}

/** The defaults of a schema's entries, typed. */
export type DefaultsOf<A extends Record<string, ArgSpec>> = {
  [K in keyof A as A[K] extends { default: unknown } ? K : never]: ValueOf<A[K]>;
};

/** What a caller passes: the required arguments, and any others. */
export type ArgsInput<A extends Record<string, ArgSpec>> =
  & { [K in keyof A as A[K] extends { required: true } ? K : never]: ValueOf<A[K]> }
  & { [K in keyof A as A[K] extends { required: true } ? never : K]?: ValueOf<A[K]> };
