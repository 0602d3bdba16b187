/**
 * A small, strict command-line flag parser shared by every `deno task cli` command.
 *
 * Flags use Hugging Face's names (`--model_name_or_path`, `--max_seq_length`, ...). Every flag
 * is declared with a type, a default and a help line; unknown flags, missing values and values
 * of the wrong type are errors raised before any work starts. `--help` prints every flag with
 * its default.
 * @module
 */
import { isAbsolute, resolve } from "node:path";
import { closestName } from "../util/text.ts";

// The did-you-mean rule lives in lib/util (the config, data and args layers use it too).
export { closestName };

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
  /** A file or folder: a relative value is the user's (resolved by {@link resolvePathFlags}). */
  path?: boolean;
  /** Lower bound for numeric flags (inclusive). */
  min?: number;
  /** Upper bound for numeric flags (inclusive). */
  max?: number;
  /** What `--help` shows as the value (default: the choices, else the type). */
  metavar?: string;
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

/** Width of the terminal (columns), or `fallback` when stdout is not a terminal. */
export function terminalWidth(fallback = 80): number {
  try {
    return Deno.stdout.isTerminal() ? Deno.consoleSize().columns : fallback;
  } catch {
    return fallback;
  }
}

/** Word-wraps `text` to lines of at most `width` characters (words longer than that stay whole). */
export function wrapText(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** The default part of a flag's help line: stated once, whatever the help text already says. */
function defaultNote(f: FlagSpec): string {
  if (/\(default:/.test(f.help)) return "";
  if (f.required) return " (required)";
  if (f.default === undefined) return " (default: none)";
  return ` (default: ${f.default})`;
}

/**
 * Formats `--help` text for a command: one entry per flag, the help text aligned in one column
 * and wrapped to `width` (default: the terminal's width, at most 100 columns).
 */
export function formatHelp(spec: CommandSpec, width = Math.min(terminalWidth(100), 100)): string {
  const lines = [`Usage: deno task cli ${spec.name} [flags]`, ""];
  lines.push(...wrapText(spec.summary, width), "", "Flags:");
  const entries: [string, string][] = Object.entries(spec.flags).map(([name, f]) => {
    const meta = f.type === "boolean"
      ? ""
      : ` <${f.metavar ?? (f.choices ? f.choices.join("|") : f.type)}>`;
    return [`--${name}${meta}`, f.help + defaultNote(f)];
  });
  entries.push(["--help", "Show this help and exit."]);
  const left = Math.min(Math.max(...entries.map(([l]) => l.length)), 40);
  const indent = " ".repeat(2 + left + 2);
  const helpWidth = Math.max(30, width - indent.length);
  for (const [l, help] of entries) {
    const wrapped = wrapText(help, helpWidth);
    if (l.length > left) {
      lines.push(`  ${l}`);
      for (const w of wrapped) lines.push(indent + w);
      continue;
    }
    lines.push(`  ${l.padEnd(left)}  ${wrapped[0] ?? ""}`);
    for (const w of wrapped.slice(1)) lines.push(indent + w);
  }
  if (spec.epilog) {
    lines.push("");
    // Long prose lines are wrapped; indented lines (commands) stay as written.
    for (const l of spec.epilog.split("\n")) {
      lines.push(...(l.length > width && !/^\s/.test(l) ? wrapText(l, width) : [l]));
    }
  }
  return lines.join("\n");
}

/**
 * The folder the user ran the command from: `deno task` runs in the project's root and names the
 * user's folder in `INIT_CWD`; a plain `deno run` leaves it in the working directory.
 */
export function userDir(): string {
  return Deno.env.get("INIT_CWD") || Deno.cwd();
}

/** A path from the command line, resolved against {@link userDir} (absolute paths stay). */
export function userPath(path: string): string {
  return isAbsolute(path) ? path : resolve(userDir(), path);
}

/**
 * Resolves every `path` flag that was given against the user's folder ({@link userPath}), so that
 * `cd data && deno task cli check-data --model_name_or_path sample` reads `data/sample`, and
 * messages show the path that was looked at.
 */
export function resolvePathFlags(spec: CommandSpec, flags: ParsedFlags): ParsedFlags {
  for (const [name, f] of Object.entries(spec.flags)) {
    if (f.path && typeof flags[name] === "string") flags[name] = userPath(flags[name] as string);
  }
  return flags;
}

/** Flags whose value is a model folder (a missing one gets the "how to get a model" hint). */
const MODEL_FLAGS = new Set([
  "model_name_or_path",
  "tokenizer_name",
  "config_name",
  "mc_model",
  "qa_model",
]);

/** What to do when a model folder is missing: models are local folders, never downloaded. */
export function modelFolderHint(path: string): string {
  const id = path.replace(/^\.?\/?(models\/)?/, "").replace(/\/+$/, "") || "bert-base-chinese";
  const name = id.split("/").at(-1);
  return `models are local folders in Hugging Face layout (config.json, model.safetensors or ` +
    `pytorch_model.bin, vocab.txt); nothing is downloaded. To get one from the hub: ` +
    `'huggingface-cli download ${id} --local-dir models/${name}' (pip install huggingface_hub), ` +
    `or 'git lfs install && git clone https://huggingface.co/${id} models/${name}'; then pass ` +
    `models/${name}`;
}

/** Whether a model name as typed reads as a Hugging Face hub id (`name` or `org/name`). */
export function looksLikeHubId(name: string): boolean {
  return /^[A-Za-z0-9][\w.-]*(\/[A-Za-z0-9][\w.-]*)?$/.test(name) &&
    !/^(outputs|runs|data)\//.test(name);
}

/**
 * Checks a path given with `--flag` before any work: it must exist and be a file or a folder.
 * A missing model folder explains where models come from (`given`: the value as typed, when
 * `path` is it resolved). Throws a {@link UsageError}.
 */
export async function checkPath(
  path: string,
  flag: string,
  kind: "file" | "dir" | "any",
  given = path,
) {
  let st: Deno.FileInfo;
  try {
    st = await Deno.stat(path);
  } catch {
    // The hint names the model as the user typed it, and only when that reads as a hub id
    // (`name` or `org/name`): a missing local path (`./runs/mc`, `outputs/runs/x/best`) gets none.
    const hint = MODEL_FLAGS.has(flag) && kind !== "file" && looksLikeHubId(given)
      ? `: ${modelFolderHint(given)}`
      : "";
    throw new UsageError(`--${flag} ${path}: not found${hint}`);
  }
  if (kind === "file" && !st.isFile) throw new UsageError(`--${flag} ${path}: not a file`);
  if (kind === "dir" && !st.isDirectory) throw new UsageError(`--${flag} ${path}: not a folder`);
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
      if (f.max !== undefined && v > f.max) {
        throw new UsageError(`--${name} must be <= ${f.max}, got ${v}`);
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
      if (f.max !== undefined && v > f.max) {
        throw new UsageError(`--${name} must be <= ${f.max}, got ${v}`);
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
          `--${name} must be one of ${f.choices.join(", ")}; got ${JSON.stringify(raw)}` +
            ((n) => n ? ` (did you mean ${n}?)` : "")(closestName(raw, f.choices)),
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
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    const f = spec.flags[name];
    if (!f) {
      // Flag names are Hugging Face's, with underscores; `--learning-rate` is not accepted.
      const near = closestName(name, Object.keys(spec.flags));
      const underscores = near !== undefined && near === name.replaceAll("-", "_");
      const hint = near === undefined ? "." : `; did you mean --${near}?` +
        (underscores ? " Flag names use underscores, as in Hugging Face's scripts." : "");
      throw new UsageError(
        `unknown flag --${name} for '${spec.name}'${hint} ` +
          `Run 'deno task cli ${spec.name} --help' for the list.`,
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
