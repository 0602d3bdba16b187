/**
 * The typed argument schema of every run (MLM, MC, QA, and the inference arguments): names,
 * types, defaults, bounds, help, run identity; the one check; the training loop's camelCase
 * arguments.
 * @module
 */
export {
  argChecks,
  type ArgRule,
  type ArgSchema,
  type ArgsInput,
  type ArgSpec,
  type ArgType,
  ArgumentError,
  boundsText,
  camelCase,
  type DefaultsOf,
  defaultsOf,
  identityKeys,
  isResolved,
  markResolved,
  type PathKind,
  resolveArgs,
  type ResolvedArgs,
  type ValueOf,
} from "./schema.ts";
export {
  ANSWER_ARGS,
  INFERENCE_ARGS,
  type InferenceSettings,
  inferenceSettings,
  MASKING_KINDS,
  type MaskingKind,
  MC_ARGS,
  MLM_ARGS,
  modelSourceRule,
  QA_ARGS,
  QA_WINDOW_RULE,
  resolveSettings,
  SCHEDULER_TYPES,
  type SchedulerType,
  SEED,
  type SettingSource,
} from "./tasks.ts";
export { type LoopArgs, loopArgs, resolveLoopArgs } from "./loop.ts";
