/**
 * A small, strict command-line flag parser shared by every `deno task cli` command.
 *
 * Flags use Hugging Face's names (`--model_name_or_path`, `--max_seq_length`, ...). Every flag
 * is declared with a type, a default and a help line; unknown flags, missing values and values
 * of the wrong type are errors raised before any work starts. `--help` prints every flag with
 * its default.
 * @module
 */

/** Type of a flag's value. */
export type FlagType = "string" | "int" | "float" | "boolean";

/** Declaration of one flag. */
export interface FlagSpec {
  type: FlagType;
  help: string;
  /** Default value; absent means the flag is optional with no value (undefined). */
  default?: string | number | boolean;
  /** The flag must be given. */
  required?: boolean;
  /** Allowed values (strings) for enumerations. */
  choices?: readonly string[];
  /** Lower bound for numeric flags (inclusive). */
  min?: number;
}

/** Declaration of a command. */
export interface CommandSpec {
  name: string;
  summary: string;
  flags: Record<string, FlagSpec>;
  /** Extra lines printed after the flag list in --help. */
  epilog?: string;
}

/** Parsed flag values. */
export type ParsedFlags = Record<string, string | number | boolean | undefined>;

/** Error in the command line; the message is meant for the user. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Formats `--help` text for a command. */
export function formatHelp(spec: CommandSpec): string {
  const lines = [`Usage: deno task cli ${spec.name} [flags]`, "", spec.summary, "", "Flags:"];
  const names = Object.keys(spec.flags);
  const width = Math.max(...names.map((n) => n.length + 2), 10);
  for (const name of names) {
    const f = spec.flags[name];
    const meta = f.type === "boolean" ? "" : ` <${f.choices ? f.choices.join("|") : f.type}>`;
    let dflt = "";
    if (f.required) dflt = " (required)";
    else if (f.default !== undefined) dflt = ` (default: ${JSON.stringify(f.default)})`;
    lines.push(`  --${name.padEnd(width)}${meta}  ${f.help}${dflt}`);
  }
  lines.push(`  --${"help".padEnd(width)}  Show this help and exit.`);
  if (spec.epilog) lines.push("", spec.epilog);
  return lines.join("\n");
}

function convert(name: string, f: FlagSpec, raw: string): string | number | boolean {
  switch (f.type) {
    case "int": {
      if (!/^[+-]?\d+$/.test(raw)) {
        throw new UsageError(`--${name} expects an integer, got ${JSON.stringify(raw)}`);
      }
      const v = Number(raw);
      if (f.min !== undefined && v < f.min) {
        throw new UsageError(`--${name} must be >= ${f.min}, got ${v}`);
      }
      return v;
    }
    case "float": {
      const v = Number(raw);
      if (raw.trim() === "" || !Number.isFinite(v)) {
        throw new UsageError(`--${name} expects a number, got ${JSON.stringify(raw)}`);
      }
      if (f.min !== undefined && v < f.min) {
        throw new UsageError(`--${name} must be >= ${f.min}, got ${v}`);
      }
      return v;
    }
    case "boolean": {
      const s = raw.toLowerCase();
      if (["true", "1", "yes"].includes(s)) return true;
      if (["false", "0", "no"].includes(s)) return false;
      throw new UsageError(`--${name} expects true or false, got ${JSON.stringify(raw)}`);
    }
    default:
      if (f.choices && !f.choices.includes(raw)) {
        throw new UsageError(
          `--${name} must be one of ${f.choices.join(", ")}; got ${JSON.stringify(raw)}`,
        );
      }
      return raw;
  }
}

/**
 * Parses `argv` against `spec`. Returns `null` when `--help` was asked (help already printed).
 * Accepts `--flag value`, `--flag=value`, and bare `--flag` for booleans.
 */
export function parseFlags(
  spec: CommandSpec,
  argv: readonly string[],
  print: (s: string) => void = console.log,
): ParsedFlags | null {
  const out: ParsedFlags = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--help" || arg === "-h") {
      print(formatHelp(spec));
      return null;
    }
    if (!arg.startsWith("--")) {
      throw new UsageError(
        `unexpected argument ${
          JSON.stringify(arg)
        } for '${spec.name}' (flags look like --name value)`,
      );
    }
    const eq = arg.indexOf("=");
    const name = (eq >= 0 ? arg.slice(2, eq) : arg.slice(2)).replaceAll("-", "_");
    const f = spec.flags[name];
    if (!f) {
      throw new UsageError(
        `unknown flag --${name} for '${spec.name}'. Run 'deno task cli ${spec.name} --help'.`,
      );
    }
    let raw: string;
    if (eq >= 0) raw = arg.slice(eq + 1);
    else if (f.type === "boolean" && (i + 1 >= argv.length || argv[i + 1].startsWith("--"))) {
      raw = "true";
    } else {
      if (i + 1 >= argv.length) throw new UsageError(`--${name} needs a value`);
      raw = argv[++i];
    }
    if (name in out) throw new UsageError(`--${name} given twice`);
    out[name] = convert(name, f, raw);
  }
  for (const [name, f] of Object.entries(spec.flags)) {
    if (out[name] === undefined) {
      if (f.required) {
        throw new UsageError(
          `missing required flag --${name} for '${spec.name}' (${f.help}). Run with --help.`,
        );
      }
      out[name] = f.default;
    }
  }
  return out;
}
