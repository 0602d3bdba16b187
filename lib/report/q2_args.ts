/**
 * Q2 "Args": the arguments the runs were trained with, under their Hugging Face flag names
 * (`run_swag_no_trainer.py`, `run_qa_no_trainer.py`, `run_mlm_no_trainer.py` + `--masking`).
 * @module
 */
import type { Cell, ReportBlock } from "./metrics.ts";
import { effectiveBatchSize, type StudyRun } from "./run_record.ts";
import type { VariantRuns } from "./study_runs.ts";

/** The optimisation flags every task shares (batching, length of training, learning rate). */
const OPTIMIZATION_KEYS = [
  "per_device_train_batch_size",
  "gradient_accumulation_steps",
  "num_train_epochs",
  "max_train_steps",
  "learning_rate",
  "weight_decay",
  "lr_scheduler_type",
  "num_warmup_steps",
];

/** Fine-tuning flags shown, in table order. */
const FINE_TUNING_KEYS = [
  "max_seq_length",
  "doc_stride",
  ...OPTIMIZATION_KEYS,
  "max_grad_norm",
  "per_device_eval_batch_size",
  "n_best_size",
  "max_answer_length",
  "max_train_samples",
  "max_eval_samples",
  "seed",
];

/** Masked-LM pretraining flags shown, in table order. */
const PRETRAINING_KEYS = [
  "masking",
  "max_seq_length",
  "mlm_probability",
  ...OPTIMIZATION_KEYS,
  "config_overrides",
  "seed",
];

/** An argument's value as shown; "—" where a run does not have it. */
const shownArg = (v: unknown) => (v === undefined ? "—" : String(v));

/** One value when the runs agree, else `variant: value` per run; null when none has the key. */
function argValue(runs: readonly StudyRun[], key: string): Cell {
  const vals = runs.map((r) => r.args[key]);
  if (vals.every((v) => v === undefined)) return null;
  if (vals.every((v) => JSON.stringify(v) === JSON.stringify(vals[0]))) return shownArg(vals[0]);
  return runs.map((r, i) => `${r.variant}: ${shownArg(vals[i])}`).join("; ");
}

/** Q2 "Args": the arguments the runs were trained with (Hugging Face flag names). */
export function argsBlocks(variants: readonly VariantRuns[]): ReportBlock[] {
  const mc = variants.map((v) => v.mc), qa = variants.map((v) => v.qa);
  const rows: Cell[][] = [];
  for (const k of FINE_TUNING_KEYS) {
    const a = argValue(mc, k), b = argValue(qa, k);
    if (a === null && b === null) continue;
    rows.push([`--${k}`, a ?? "—", b ?? "—"]);
  }
  rows.push([
    "optimizer updates (from the log)",
    mc.map((r) => `${r.variant}: ${r.steps}`).join("; "),
    qa.map((r) => `${r.variant}: ${r.steps}`).join("; "),
  ]);
  rows.push([
    "effective batch (batch × accumulation)",
    effectiveBatchSize(mc[0]),
    effectiveBatchSize(qa[0]),
  ]);
  const pre = variants.filter((v) => v.pretrain).map((v) => v.pretrain!);
  const blocks: ReportBlock[] = [{
    kind: "table",
    title: "Fine-tuning arguments (run_swag_no_trainer.py / run_qa_no_trainer.py flags)",
    columns: ["argument", "multiple choice", "question answering"],
    rows,
  }];
  if (pre.length > 0) {
    blocks.push({
      kind: "table",
      title: "Masked-LM pretraining arguments (run_mlm_no_trainer.py flags + --masking)",
      columns: ["argument", ...pre.map((p) => p.label)],
      rows: PRETRAINING_KEYS.filter((k) => pre.some((p) => p.args[k] !== undefined)).map((k) => [
        `--${k}`,
        ...pre.map((p) => shownArg(p.args[k])),
      ]),
    });
  }
  return blocks;
}
