/**
 * Training: AdamW, learning-rate schedules, losses, the generic loop with gradient accumulation,
 * logs, checkpoints/resume and a progress bar.
 * @module
 */
export {
  AdamW,
  ADAMW_DEFAULTS,
  type AdamWOptions,
  type AdamWStateData,
  defaultNoDecay,
} from "./adamw.ts";
export {
  createScheduler,
  lrLambda,
  Scheduler,
  SCHEDULER_TYPES,
  type SchedulerOptions,
  type SchedulerState,
  type SchedulerType,
} from "./schedules.ts";
export {
  countCorrect,
  crossEntropy,
  type Labels,
  mcLoss,
  mlmLoss,
  qaExactPositions,
  qaLoss,
} from "./losses.ts";
export {
  type CheckpointParts,
  latestCheckpoint,
  loadOptimizerState,
  OPTIMIZER_FILE,
  readCheckpointMeta,
  readSafetensorsF32,
  saveCheckpoint,
  saveOptimizerState,
  SCHEDULER_FILE,
  TRAINER_STATE_FILE,
  type TrainerState,
  writeSafetensorsF32,
} from "./checkpoint.ts";
export {
  EVAL_LOG,
  JsonlCsvLog,
  type LogRecord,
  readJsonl,
  recordsToCsv,
  STEP_LOG,
} from "./logging.ts";
export {
  formatDuration,
  jupyterBroadcast,
  ProgressBar,
  type ProgressMode,
  type ProgressOptions,
  type ProgressUpdate,
} from "./progress.ts";
export {
  epochOrder,
  globalNorm,
  loadVariables,
  type LossContext,
  type LossResult,
  NonFiniteLossError,
  planSteps,
  type ResolvedTrainingArgs,
  resolveTrainingArgs,
  saveVariables,
  train,
  Trainer,
  type TrainingArgs,
  type TrainOptions,
  type TrainResult,
} from "./loop.ts";
export {
  activationBytes,
  backendMemoryLimit,
  describePlan,
  doesNotFitError,
  formatBytes,
  isOutOfMemory,
  keptActivationBytes,
  memoryAdvice,
  type MemoryPlan,
  type MemoryPlanInput,
  OutOfMemoryError,
  parseBytes,
  planMemory,
  splitMessage,
  trainingOutOfMemoryError,
  USABLE_FRACTION,
  WASM_HEAP_LIMIT,
} from "./memory.ts";
