/**
 * Learning-rate schedules with the values of `transformers.get_scheduler` (a `LambdaLR` over the
 * base learning rate). `lrAt(k)` is the rate used by the (k+1)-th optimizer update, i.e. after
 * `k` calls of `scheduler.step()`; so with warm-up the first update uses rate 0, as in
 * Hugging Face.
 * @module
 */

import { MC_ARGS, SCHEDULER_TYPES, type SchedulerType } from "../args/mod.ts";

// Schedule names (Hugging Face `SchedulerType` values) belong to the argument schema.
export { SCHEDULER_TYPES, type SchedulerType };

/** Options for `createScheduler`. */
export interface SchedulerOptions {
  learningRate: number;
  numWarmupSteps?: number;
  /** Total optimizer updates (required by `linear` and `cosine`). */
  numTrainingSteps?: number;
  /** Cosine cycles (Hugging Face default 0.5: one half-cosine from 1 to 0). */
  numCycles?: number;
}

/** Serialisable scheduler state (for checkpoints). */
export interface SchedulerState {
  type: SchedulerType;
  learningRate: number;
  numWarmupSteps: number;
  numTrainingSteps: number;
  numCycles: number;
  /** Number of `step()` calls so far (`LambdaLR.last_epoch`). */
  stepCount: number;
}

/** The multiplier `lr_lambda(step)` of the Hugging Face schedule. */
export function lrLambda(
  type: SchedulerType,
  step: number,
  numWarmupSteps: number,
  numTrainingSteps: number,
  numCycles = 0.5,
): number {
  switch (type) {
    case "constant":
      // get_constant_schedule ignores warm-up.
      return 1;
    case "constant_with_warmup":
      return step < numWarmupSteps ? step / Math.max(1, numWarmupSteps) : 1;
    case "linear":
      if (step < numWarmupSteps) return step / Math.max(1, numWarmupSteps);
      return Math.max(
        0,
        (numTrainingSteps - step) / Math.max(1, numTrainingSteps - numWarmupSteps),
      );
    case "cosine": {
      if (step < numWarmupSteps) return step / Math.max(1, numWarmupSteps);
      const progress = (step - numWarmupSteps) / Math.max(1, numTrainingSteps - numWarmupSteps);
      return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * numCycles * 2 * progress)));
    }
    default:
      throw new Error(`unknown lr_scheduler_type '${type}'`);
  }
}

/** A stateful schedule: `current()` is the rate for the next update, `step()` advances. */
export class Scheduler {
  readonly type: SchedulerType;
  readonly learningRate: number;
  readonly numWarmupSteps: number;
  readonly numTrainingSteps: number;
  readonly numCycles: number;
  /** Number of `step()` calls so far. */
  stepCount = 0;

  constructor(type: SchedulerType, opts: SchedulerOptions) {
    if (!SCHEDULER_TYPES.includes(type)) {
      throw new Error(
        `unknown lr_scheduler_type '${type}' (expected one of ${SCHEDULER_TYPES.join(", ")})`,
      );
    }
    // Its bounds are checked with the run's arguments (lib/args).
    const warm = opts.numWarmupSteps ?? MC_ARGS.args.num_warmup_steps.default;
    if ((type === "linear" || type === "cosine") && opts.numTrainingSteps === undefined) {
      throw new Error(`lr_scheduler_type '${type}' needs num_training_steps`);
    }
    this.type = type;
    this.learningRate = opts.learningRate;
    this.numWarmupSteps = warm;
    this.numTrainingSteps = opts.numTrainingSteps ?? 0;
    this.numCycles = opts.numCycles ?? 0.5;
  }

  /** Learning rate after `k` scheduler steps. */
  lrAt(k: number): number {
    return this.learningRate *
      lrLambda(this.type, k, this.numWarmupSteps, this.numTrainingSteps, this.numCycles);
  }

  /** Learning rate for the next optimizer update. */
  current(): number {
    return this.lrAt(this.stepCount);
  }

  /** Advances one update. */
  step(): void {
    this.stepCount++;
  }

  /** Serialisable state. */
  state(): SchedulerState {
    return {
      type: this.type,
      learningRate: this.learningRate,
      numWarmupSteps: this.numWarmupSteps,
      numTrainingSteps: this.numTrainingSteps,
      numCycles: this.numCycles,
      stepCount: this.stepCount,
    };
  }

  /**
   * Restores the step count; the schedule's type, rate and warm-up must match. Its length may
   * differ: as PyTorch's `LambdaLR.load_state_dict` (the lambda is the new run's), a resumed run
   * with a larger `max_train_steps` continues on the new schedule.
   */
  loadState(s: SchedulerState): void {
    const mine = this.state();
    const flags = {
      type: "--lr_scheduler_type",
      learningRate: "--learning_rate",
      numWarmupSteps: "--num_warmup_steps",
    } as const;
    for (const k of Object.keys(flags) as (keyof typeof flags)[]) {
      if (s[k] !== mine[k]) {
        throw new Error(
          `the checkpoint's schedule has ${flags[k]} ${s[k]}, this run has ${mine[k]}`,
        );
      }
    }
    this.stepCount = s.stepCount;
  }
}

/** Creates a schedule like `transformers.get_scheduler(type, optimizer, ...)`. */
export function createScheduler(type: SchedulerType, opts: SchedulerOptions): Scheduler {
  return new Scheduler(type, opts);
}
