/**
 * Q2 "Args": the arguments the runs were trained with, under their Hugging Face flag names
 * (`run_swag_no_trainer.py`, `run_qa_no_trainer.py`, `run_mlm_no_trainer.py` + `--masking`); the
 * rows are the schema's report keys (lib/args).
 * @module
 */
import { MLM_ARGS, QA_ARGS } from "../args/mod.ts";
import type { Cell, ReportBlock } from "./metrics.ts";
import { effectiveBatchSize, type StudyRun } from "./run_record.ts";
import type { VariantRuns } from "./study_runs.ts";

/** Fine-tuning flags shown, in table order (QA's report keys hold MC's). */
const FINE_TUNING_KEYS = QA_ARGS.reportKeys;

/** Masked-LM pretraining flags shown, in table order. */
const PRETRAINING_KEYS = MLM_ARGS.reportKeys;

/** An argument's value as shown; "—" where a run does not have it. */
const shownArg = (v: unknown) => (v === undefined ? "—" : String(v));

/** One value when the runs agree, else `variant: value` per run; null when none has the key. */
function argValue(runs: readonly StudyRun[], key: string): Cell {
  const vals = runs.map((r) => r.args[key]);
  if (vals.every((v) => v === undefined)) return null;
  if (vals.every((v) => JSON.stringify(v) === JSON.stringify(vals[0]))) return shownArg(vals[0]);
  return runs.map((r, i) => `${r.variant}: ${shownArg(vals[i])}`).join("; ");
}

/** Epochs a run went through, from its log (a run cut short by --max_train_steps: a fraction). */
const epochsRan = (r: StudyRun) => String(Math.round(r.epochsRun * 100) / 100);

/** Q2 "Args": the arguments the runs were trained with (Hugging Face flag names), and what the
 *  logs say they ran (updates, epochs), since `--max_train_steps` overrides `--num_train_epochs`. */
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
    "epochs run (from the log)",
    mc.map((r) => `${r.variant}: ${epochsRan(r)}`).join("; "),
    qa.map((r) => `${r.variant}: ${epochsRan(r)}`).join("; "),
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
      rows: [
        ...PRETRAINING_KEYS.filter((k) => pre.some((p) => p.args[k] !== undefined)).map((k) => [
          `--${k}`,
          ...pre.map((p) => shownArg(p.args[k])),
        ]),
        ["optimizer updates (from the log)", ...pre.map((p) => String(p.steps))],
        ["epochs run (from the log)", ...pre.map(epochsRan)],
      ],
    });
  }
  return blocks;
}
