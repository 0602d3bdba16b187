/**
 * The training loop's arguments: the schema's `loop` entries under their camelCase names
 * (`learning_rate` → `learningRate`), fully resolved. The pipeline hands the loop
 * {@link loopArgs} of its resolved arguments; a direct caller of the loop passes some of them and
 * gets the rest from the schema through {@link resolveLoopArgs} (checked there, once).
 * @module
 */
import {
  type ArgSchema,
  type ArgSpec,
  camelCase,
  isResolved,
  markResolved,
  resolveArgs,
} from "./schema.ts";
import { MC_ARGS, type SchedulerType } from "./tasks.ts";

/** The loop's hyper-parameters, resolved (Hugging Face flag names in camelCase). */
export interface LoopArgs {
  numTrainEpochs: number;
  /** Total optimizer updates; overrides `numTrainEpochs` when set. */
  maxTrainSteps: number | undefined;
  perDeviceTrainBatchSize: number;
  gradientAccumulationSteps: number;
  learningRate: number;
  weightDecay: number;
  lrSchedulerType: SchedulerType;
  numWarmupSteps: number;
  /** Global-norm clipping threshold; undefined or 0 disables (the no_trainer scripts don't). */
  maxGradNorm: number | undefined;
  seed: number;
  /** "epoch", a number of updates, or undefined (no intermediate checkpoints). */
  checkpointingSteps: "epoch" | number | undefined;
  /** Also evaluate every N updates inside an epoch; undefined: at epoch ends only. */
  evalSteps: number | undefined;
  /** A checkpoint directory, or "latest" for the newest under `outputDir`. */
  resumeFromCheckpoint: string | undefined;
  /** Where logs, checkpoints, `best/` and the final model go; undefined keeps logs in memory. */
  outputDir: string | undefined;
}

/** The loop's entries of the schema (every task has the same ones). */
const LOOP_ENTRIES: Record<string, ArgSpec> = Object.fromEntries(
  Object.entries(MC_ARGS.args).filter(([, s]) => s.loop),
);

/** The loop's own schema (for a direct caller of the loop; the tasks' rules are theirs). */
const LOOP_ARGS: ArgSchema = { command: "train", args: LOOP_ENTRIES, rules: [], reportKeys: [] };

/** The loop's camelCase arguments of a task's resolved arguments (all loop entries present). */
export function loopArgs(resolved: Record<string, unknown>): LoopArgs {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(LOOP_ENTRIES)) out[camelCase(k)] = resolved[k];
  return markResolved(out) as unknown as LoopArgs;
}

/**
 * The loop's arguments with the schema's defaults filled and its checks run, from camelCase ones
 * (resolved ones pass through unchanged). Errors name the flags.
 */
export function resolveLoopArgs(args: Partial<LoopArgs>): LoopArgs {
  if (isResolved(args)) return args as LoopArgs;
  const given = args as Record<string, unknown>;
  const snake: Record<string, unknown> = {};
  for (const k of Object.keys(LOOP_ENTRIES)) snake[k] = given[camelCase(k)];
  return loopArgs(resolveArgs(LOOP_ARGS, snake));
}
