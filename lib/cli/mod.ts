/**
 * The command-line layer: the flag parser every command uses. Commands live beside it, one module
 * each (`spec` + `run`), and are registered in `/cli.ts`.
 * @module
 */
export {
  type CommandSpec,
  type FlagSpec,
  type FlagType,
  formatHelp,
  type ParsedFlags,
  parseFlags,
  UsageError,
} from "./args.ts";
