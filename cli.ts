/**
 * The project's command line: `deno task cli <command> [flags]`. Each command lives in
 * `lib/cli/<command>.ts` and exports `spec` (its flags) and `run(flags)`.
 * @module
 */
import {
  closestName,
  type CommandSpec,
  type ParsedFlags,
  parseFlags,
  resolvePathFlags,
  UsageError,
} from "./lib/cli/args.ts";

interface CommandModule {
  spec: CommandSpec;
  run(flags: ParsedFlags): Promise<void>;
}

// One entry per command; the module is only loaded when the command runs.
const COMMANDS: Record<string, { about: string; load: () => Promise<CommandModule> }> = {
  "check-data": {
    about: "validate an ADL dataset: counts, window statistics, answer round-trip",
    load: () => import("./lib/cli/check_data.ts"),
  },
  tokenize: {
    about: "stdin lines → JSON lines of tokens, ids and offsets (code points)",
    load: () => import("./lib/cli/tokenize.ts"),
  },
  "import-squad": {
    about: "SQuAD/DRCD file → ADL layout with seeded distractor paragraphs",
    load: () => import("./lib/cli/import_squad.ts"),
  },
  "export-hf-data": {
    about: "ADL folder → the JSON files run_swag_no_trainer.py / run_qa_no_trainer.py read",
    load: () => import("./lib/cli/export_hf_data.ts"),
  },
  "gen-sample": {
    about: "regenerate the embedded sample dataset (data/sample/)",
    load: () => import("./lib/cli/gen_sample.ts"),
  },
  "pretrain-mlm": {
    about: "masked-LM pretraining (--masking char|wwm)",
    load: () => import("./lib/cli/pretrain_mlm.ts"),
  },
  "train-mc": {
    about: "multiple-choice fine-tuning: pick the relevant paragraph",
    load: () => import("./lib/cli/train_mc.ts"),
  },
  "train-qa": {
    about: "extractive QA fine-tuning: find the answer span",
    load: () => import("./lib/cli/train_qa.ts"),
  },
  predict: {
    about: "MC → QA on a test file, writes prediction.csv",
    load: () => import("./lib/cli/predict.ts"),
  },
  evaluate: {
    about: "MC accuracy, QA EM/F1 (gold paragraph) and end-to-end EM/F1",
    load: () => import("./lib/cli/evaluate.ts"),
  },
  ask: {
    about: "answer questions about paragraphs with a QA model (+ MC model): JSON lines",
    load: () => import("./lib/cli/ask.ts"),
  },
  serve: {
    about: "serve a QA model over HTTP: POST /answer, GET /health, a page at /",
    load: () => import("./lib/cli/serve.ts"),
  },
  "export-onnx": {
    about: "trained model → ONNX folder for transformers.js / onnxruntime (--quantize int8)",
    load: () => import("./lib/cli/export_onnx.ts"),
  },
  logits: {
    about: "raw model outputs for given input_ids (parity checks)",
    load: () => import("./lib/cli/logits.ts"),
  },
};

/** The top-level help: every command with its one-line description. */
export function usage(): string {
  const names = Object.keys(COMMANDS);
  const width = Math.max(...names.map((n) => n.length));
  return [
    "Usage: deno task cli <command> [flags]",
    "",
    "Commands:",
    ...names.map((n) => `  ${n.padEnd(width)}  ${COMMANDS[n].about}`),
    "",
    "Run 'deno task cli <command> --help' for a command's flags. With any command, --verbose",
    "(or env DEBUG=1) explains the backend choice and prints stack traces of errors.",
  ].join("\n");
}

async function main(argv: string[]): Promise<number> {
  // `--verbose` works with every command: the same as DEBUG=1 (reasons behind choices, stacks).
  if (argv.includes("--verbose")) {
    argv = argv.filter((a) => a !== "--verbose");
    Deno.env.set("DEBUG", "1");
  }
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(usage());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    const near = closestName(name, Object.keys(COMMANDS));
    console.error(
      `error: unknown command '${name}'${near ? `; did you mean '${near}'?` : ""}\n\n${usage()}`,
    );
    return 2;
  }
  const mod = await command.load();
  try {
    const flags = parseFlags(mod.spec, rest);
    if (flags === null) return 0;
    // Relative paths are the user's folder's (`deno task` runs in the project's root).
    resolvePathFlags(mod.spec, flags);
    // --bf16 (train-mc, train-qa, predict, evaluate): a backend setting, before the backend starts.
    if (flags.bf16) (await import("./lib/backend/bf16.ts")).setMatmulPrecision("bf16");
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
