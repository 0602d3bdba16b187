/**
 * Q2 "Loss and optimizer": prose generated from the runs' saved arguments and AdamW's defaults
 * (`ADAMW_DEFAULTS` of lib/training, the settings the training loop builds its optimizer with),
 * so the text follows the code and the run.
 * @module
 */
import { ADAMW_DEFAULTS } from "../training/mod.ts";
import type { ReportBlock } from "./metrics.ts";
import { effectiveBatchSize, runNumber, type StudyRun } from "./run_record.ts";
import type { VariantRuns } from "./study_runs.ts";

/** The learning-rate schedule of a run, in words. */
function scheduleText(run: StudyRun): string {
  const type = String(run.args.lr_scheduler_type);
  const warm = runNumber(run, "num_warmup_steps");
  const lr = runNumber(run, "learning_rate");
  const warmText = warm > 0 ? `linear warm-up from 0 over ${warm} updates, then ` : "";
  switch (type) {
    case "linear":
      return `${warmText}linear decay from ${lr} to 0 at update ${run.steps}`;
    case "cosine":
      return `${warmText}half-cosine decay from ${lr} to 0 at update ${run.steps}`;
    case "constant":
      return `constant ${lr}`;
    case "constant_with_warmup":
      return `${warmText}constant ${lr}`;
    default:
      return `${type} from ${lr}`;
  }
}

/**
 * One list item: the optimizer the training loop builds (lib/training/loop.ts: AdamW with the
 * run's weight decay, betas and ε at their defaults), the schedule, batching and clipping.
 */
/**
 * The epochs the run went through (from its log), and what was asked when that differs: HF's
 * scripts stop at `max_train_steps` before `num_train_epochs` when both are given.
 */
function epochsText(run: StudyRun): string {
  const asked = runNumber(run, "num_train_epochs");
  const ran = Math.round(run.epochsRun * 100) / 100;
  const word = (x: number) => `${x} epoch${x === 1 ? "" : "s"}`;
  return Math.abs(ran - asked) < 0.005
    ? word(ran)
    : `${word(ran)} run (num_train_epochs ${asked}; max_train_steps stopped it first)`;
}

function optimizerText(run: StudyRun, name: string): string {
  const { beta1, beta2, epsilon } = ADAMW_DEFAULTS;
  const clip = typeof run.args.max_grad_norm === "number" && run.args.max_grad_norm > 0
    ? `; gradients clipped to global norm ${run.args.max_grad_norm}`
    : "; no gradient clipping";
  return `- **${name}**: AdamW (β1 ${beta1}, β2 ${beta2}, ε ${epsilon}, decoupled weight decay ` +
    `${runNumber(run, "weight_decay")} on all weights except biases and LayerNorm weights), ` +
    `learning rate ${scheduleText(run)}; micro-batches of ${
      runNumber(run, "per_device_train_batch_size")
    } with ${runNumber(run, "gradient_accumulation_steps")}-step gradient accumulation (one ` +
    `update per ${effectiveBatchSize(run)} examples)${clip}; ${run.steps} updates, ${
      epochsText(run)
    }.`;
}

/**
 * Q2 "Loss and optimizer": generated from the runs' saved arguments and the optimizer's settings.
 * `numChoices` is the number of candidate paragraphs per question in the data.
 */
export function lossOptimizerBlocks(runs: VariantRuns, numChoices: number): ReportBlock[] {
  const lines = [
    "**Loss functions**",
    "",
    `- **Multiple choice**: cross-entropy over the ${numChoices} candidate paragraphs of a ` +
    "question — each `[CLS] question [SEP] paragraph [SEP]` gets one score, the scores go " +
    "through a softmax across candidates, and the loss is −log p(relevant paragraph), averaged " +
    "over the batch.",
    "- **Question answering**: the mean of two cross-entropies over the tokens of the window, " +
    "one for the start position and one for the end position of the answer: " +
    "(CE(start) + CE(end)) / 2; windows without the answer point at `[CLS]` (position 0), and " +
    "positions outside the sequence are clamped and ignored, as `BertForQuestionAnswering` does.",
  ];
  if (runs.pretrain) {
    lines.push(
      `- **Masked-LM pretraining**: cross-entropy of the original token at each masked position ` +
        `(${runs.pretrain.args.mlm_probability} of the tokens, ${
          runs.pretrain.args.masking === "wwm" ? "whole jieba words" : "single characters"
        } at a time; 80% [MASK], 10% random, 10% unchanged).`,
    );
  }
  lines.push("", "**Optimizer and schedule** (as trained, per task)", "");
  lines.push(optimizerText(runs.mc, "Multiple choice"));
  lines.push(optimizerText(runs.qa, "Question answering"));
  if (runs.pretrain) lines.push(optimizerText(runs.pretrain, "Masked-LM pretraining"));
  return [{ kind: "markdown", text: lines.join("\n") }];
}
