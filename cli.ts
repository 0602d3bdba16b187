/**
 * The project's command line: `deno task cli <command> [flags]`. Each command lives in
 * `lib/cli/<command>.ts` and exports `spec` (its flags) and `run(flags)`.
 * @module
 */
import { type CommandSpec, type ParsedFlags, parseFlags, UsageError } from "./lib/cli/args.ts";

interface CommandModule {
  spec: CommandSpec;
  run(flags: ParsedFlags): Promise<void>;
}

// One line per command; the module is only loaded when the command runs.
const COMMANDS: Record<string, () => Promise<CommandModule>> = {
  "import-squad": () => import("./lib/cli/import_squad.ts"),
  "gen-sample": () => import("./lib/cli/gen_sample.ts"),
  tokenize: () => import("./lib/cli/tokenize.ts"),
  "check-data": () => import("./lib/cli/check_data.ts"),
  logits: () => import("./lib/cli/logits.ts"),
  "train-mc": () => import("./lib/cli/train_mc.ts"),
  "train-qa": () => import("./lib/cli/train_qa.ts"),
  predict: () => import("./lib/cli/predict.ts"),
  evaluate: () => import("./lib/cli/evaluate.ts"),
  "pretrain-mlm": () => import("./lib/cli/pretrain_mlm.ts"),
};

function usage(): string {
  const names = Object.keys(COMMANDS).sort();
  return [
    "Usage: deno task cli <command> [flags]",
    "",
    "Commands:",
    ...names.map((n) => `  ${n}`),
    "",
    "Run 'deno task cli <command> --help' for a command's flags.",
  ].join("\n");
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(usage());
    return name ? 0 : 2;
  }
  const load = COMMANDS[name];
  if (!load) {
    console.error(`error: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  const mod = await load();
  try {
    const flags = parseFlags(mod.spec, rest);
    if (flags === null) return 0;
    await mod.run(flags);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`error: ${e.message}`);
      return 2;
    }
    // Data and model errors carry a user-facing message; the stack is noise unless asked for.
    if (Deno.env.get("DEBUG")) throw e;
    console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
