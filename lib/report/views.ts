/**
 * What the Q2–Q4 notebooks show, as report blocks built from this run's results: model, performance,
 * arguments, loss and optimizer (text generated from the saved arguments and the optimizer's
 * actual settings), config differences, curves, and Q4's comparison and conclusion. A notebook
 * displays the blocks (`displayBlocks`) and writes the same blocks to its metrics file, so the
 * notebook and the report show the same thing.
 * @module
 */
import { diffConfigs } from "../models/mod.ts";
import type { PipelineEvaluation } from "../pipeline/mod.ts";
import { escapeHtml, formatNumber, type TrainingLog } from "../plotting/mod.ts";
import { AdamW } from "../training/mod.ts";
import type { ScratchComparison, StudyRun, TestPrediction, VariantRuns } from "./experiments.ts";
import type { Cell, ReportBlock } from "./metrics.ts";
import { markdownToHtml } from "./assemble.ts";
import {
  BOOTSTRAP,
  compare,
  type Comparison,
  COMPARISON_COLUMNS,
  comparisonRows,
  intervalsOf,
  METRIC_NAMES,
  type QuestionScores,
} from "./scores.ts";
import { bootstrapMean, formatInterval, type Interval } from "./stats.ts";

// ---------------------------------------------------------------- display

function cellText(c: Cell): string {
  if (c === null) return "";
  if (typeof c === "number") return formatNumber(c);
  return String(c);
}

/** An HTML table (numbers right-aligned). */
export function tableHtml(columns: readonly string[], rows: readonly Cell[][], title?: string) {
  const th = columns.map((c) => `<th style="text-align:left">${escapeHtml(c)}</th>`).join("");
  const body = rows.map((r) =>
    "<tr>" + r.map((c) =>
      `<td style="text-align:${typeof c === "number" ? "right" : "left"}">${
        escapeHtml(cellText(c))
      }</td>`
    ).join("") + "</tr>"
  ).join("");
  return (title ? `<p><strong>${escapeHtml(title)}</strong></p>` : "") +
    `<table><thead><tr>${th}</tr></thead><tbody>${body}</tbody></table>`;
}

function mdTable(columns: readonly string[], rows: readonly Cell[][]): string {
  const esc = (c: Cell) => cellText(c).replaceAll("|", "\\|");
  return [
    `| ${columns.map(esc).join(" | ")} |`,
    `| ${columns.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.map(esc).join(" | ")} |`),
  ].join("\n");
}

interface JupyterApi {
  display(obj: unknown, opts?: { raw?: boolean }): Promise<void>;
}

function jupyter(): JupyterApi | undefined {
  try {
    return (Deno as unknown as { jupyter?: JupyterApi }).jupyter;
  } catch {
    return undefined;
  }
}

/** Shows raw HTML in the notebook (plain text elsewhere is the caller's business). */
export async function displayHtml(html: string, text = ""): Promise<void> {
  const j = jupyter();
  if (j) await j.display({ "text/html": html, "text/plain": text || html }, { raw: true });
  else console.log(text || html);
}

/**
 * Displays blocks in the notebook: Markdown and tables as HTML (with Markdown / text fallbacks),
 * JSON as text. Figure blocks are skipped (figures are shown when saved, see `showFigure`).
 * Outside a kernel, prints the text forms.
 */
export async function displayBlocks(blocks: readonly ReportBlock[]): Promise<void> {
  for (const b of blocks) {
    if (b.kind === "markdown") {
      await displayHtml(markdownToHtml(b.text), b.text);
    } else if (b.kind === "table") {
      await displayHtml(
        tableHtml(b.columns, b.rows, b.title),
        (b.title ? `${b.title}\n` : "") + mdTable(b.columns, b.rows),
      );
    } else if (b.kind === "json") {
      // Non-integer numbers to 4 significant digits, as in the report (no 16-digit floats).
      const json = JSON.stringify(
        b.value,
        (_k, v) => (typeof v === "number" && !Number.isInteger(v) ? Number(v.toPrecision(4)) : v),
        2,
      );
      const text = (b.title ? `${b.title}\n` : "") + json;
      await displayHtml(`<pre>${escapeHtml(text)}</pre>`, text);
    }
  }
}

// ---------------------------------------------------------------- helpers

const pct = (x: number) => Math.round(x * 100) / 100; // a percent (0..100), 2 decimals
const r2 = (x: number) => Math.round(x * 100) / 100;
const r4 = (x: number) => Math.round(x * 10000) / 10000;

function num(run: StudyRun, key: string): number {
  const v = run.args[key];
  if (typeof v !== "number") throw new Error(`${run.dir}/training_args.json: no numeric '${key}'`);
  return v;
}

function shortPath(p: unknown): string {
  const s = String(p);
  const cwd = (() => {
    try {
      return Deno.cwd();
    } catch {
      return "";
    }
  })();
  const parts = s.split("/");
  return s.startsWith("/") && parts.length > 3 ? `…/${parts.slice(-3).join("/")}` : s.replace(
    `${cwd}/`,
    "",
  );
}

function describeSource(v: VariantRuns): string {
  if (v.pretrain) {
    const a = v.pretrain.args;
    const r = v.pretrain.results;
    return `pretrained in this run: masked-LM with ${
      a.masking === "wwm" ? "whole-word" : "character"
    } masking, ${v.pretrain.steps} updates (held-out masked-token accuracy ${
      r.eval_accuracy !== undefined ? `${pct(r.eval_accuracy)}%` : "n/a"
    }, perplexity ${r.eval_perplexity !== undefined ? formatNumber(r.eval_perplexity) : "n/a"})`;
  }
  return `Hugging Face checkpoint ${shortPath(v.mc.args.model_name_or_path)}`;
}

// ---------------------------------------------------------------- Q2

/** Q2 "Model": one row per variant (what it stands for, where its weights come from, shape). */
export function modelBlocks(variants: readonly VariantRuns[]): ReportBlock[] {
  const rows: Cell[][] = variants.map((v) => {
    const c = v.mc.config;
    return [
      v.label,
      v.analogueOf,
      describeSource(v),
      c.num_hidden_layers,
      c.hidden_size,
      c.num_attention_heads,
      c.intermediate_size,
      c.vocab_size,
      v.mc.numParameters,
      v.qa.numParameters,
    ];
  });
  return [
    {
      kind: "markdown",
      text: "Both tasks fine-tune a BERT encoder: `BertForMultipleChoice` (a linear layer on the " +
        "pooled `[CLS]` output scores each candidate paragraph) and `BertForQuestionAnswering` " +
        "(a linear layer on every token gives a start and an end logit).",
    },
    {
      kind: "table",
      title: "Models",
      columns: [
        "variant",
        "stands for",
        "initial weights",
        "layers",
        "hidden",
        "heads",
        "intermediate",
        "vocab",
        "parameters (MC)",
        "parameters (QA)",
      ],
      rows,
    },
  ];
}

/** One variant's validation evaluation, for {@link performanceBlocks}. */
export interface VariantEvaluation {
  runs: VariantRuns;
  evaluation: PipelineEvaluation;
  /** Per-question scores (percent) of the same evaluation (lib/report/scores.ts). */
  scores: QuestionScores;
}

const PERF_KEYS = [
  "mc_accuracy",
  "qa_exact_match",
  "qa_f1",
  "end_to_end_exact_match",
  "end_to_end_f1",
] as const;

/** Q2's paired comparisons: A vs B on every metric, then gold paragraph vs end to end. */
export function q2Comparisons(evals: readonly VariantEvaluation[]): Comparison[] {
  const out: Comparison[] = [];
  if (evals.length >= 2) {
    const [a, b] = evals;
    const na = a.runs.label.split(":")[0], nb = b.runs.label.split(":")[0];
    for (const k of PERF_KEYS) {
      out.push(
        compare("A vs B", k, { name: na, scores: a.scores }, { name: nb, scores: b.scores }),
      );
    }
  }
  for (const e of evals) {
    const n = e.runs.label.split(":")[0];
    for (const m of ["exact_match", "f1"]) {
      out.push(compare(`${n}: gold paragraph vs end to end`, m, {
        name: "end to end",
        scores: e.scores,
        key: `end_to_end_${m}`,
      }, { name: "gold paragraph", scores: e.scores, key: `qa_${m}` }));
    }
  }
  return out;
}

/**
 * Q2 "Performance": MC accuracy, QA EM/F1/loss (gold paragraph) and end to end, per variant,
 * each with its 95% bootstrap interval over questions; then the paired comparisons.
 */
export function performanceBlocks(
  evals: readonly VariantEvaluation[],
  test?: TestPrediction,
): ReportBlock[] {
  const rows: Cell[][] = evals.map(({ runs, evaluation: e, scores }) => {
    const iv = intervalsOf(scores);
    return [
      runs.label,
      ...PERF_KEYS.map((k) => formatInterval(iv[k])),
      r4(e.mc.loss),
      r4(e.qaGoldParagraph.loss),
      runs.mc.trainSeconds + runs.qa.trainSeconds > 0
        ? Math.round(runs.mc.trainSeconds + runs.qa.trainSeconds)
        : null,
    ];
  });
  const n = evals[0]?.evaluation.n ?? 0;
  const comparisons = q2Comparisons(evals);
  const blocks: ReportBlock[] = [
    {
      kind: "table",
      title: `Validation (${n} questions), through the MC → QA pipeline; percent, with 95% ` +
        `bootstrap intervals over questions`,
      columns: [
        "variant",
        "MC accuracy",
        "QA EM (gold paragraph)",
        "QA F1 (gold paragraph)",
        "end-to-end EM",
        "end-to-end F1",
        "MC loss",
        "QA loss",
        "training s (MC+QA)",
      ],
      rows,
    },
    {
      kind: "markdown",
      text:
        "QA columns use the gold paragraph (the QA model alone); end to end uses the paragraph " +
        "the MC model chose, as `prediction.csv` does. Intervals: percentile bootstrap, " +
        `${BOOTSTRAP.samples} resamples of the ${n} questions. Inconsistent rows (MC right but ` +
        `an answer different from the gold-paragraph answer): ${
          evals.map((e) => `${e.runs.label} ${e.evaluation.inconsistent}`).join(", ")
        }.`,
    },
    {
      kind: "table",
      title: "Paired comparisons on the same questions (paired bootstrap of the difference)",
      columns: COMPARISON_COLUMNS,
      rows: comparisonRows(comparisons),
    },
  ];
  if (test) {
    const score = test.scores
      ? ` Scored against the held-out test answers (\`test_gold.json\`): EM ${
        formatInterval(bootstrapMean(test.scores.scores.exact_match, BOOTSTRAP))
      }, F1 ${
        formatInterval(bootstrapMean(test.scores.scores.f1, BOOTSTRAP))
      } (compare with the end-to-end validation numbers above).`
      : " The data have no test answers, so the file is not scored.";
    blocks.push({
      kind: "markdown",
      text: `\`prediction.csv\`: ${test.ids.length} rows, one per test id in the test file's ` +
        `order, answered by ${test.variant} (best end-to-end validation EM).${score}`,
    });
  }
  return blocks;
}

const ARG_KEYS = [
  "max_seq_length",
  "doc_stride",
  "per_device_train_batch_size",
  "gradient_accumulation_steps",
  "num_train_epochs",
  "max_train_steps",
  "learning_rate",
  "weight_decay",
  "lr_scheduler_type",
  "num_warmup_steps",
  "max_grad_norm",
  "per_device_eval_batch_size",
  "n_best_size",
  "max_answer_length",
  "max_train_samples",
  "max_eval_samples",
  "seed",
];

function argValue(runs: readonly StudyRun[], key: string): Cell {
  const vals = runs.map((r) => r.args[key]);
  if (vals.every((v) => v === undefined)) return null;
  const show = (v: unknown) => (v === undefined ? "—" : String(v));
  if (vals.every((v) => JSON.stringify(v) === JSON.stringify(vals[0]))) return show(vals[0]);
  return runs.map((r, i) => `${r.variant}: ${show(vals[i])}`).join("; ");
}

/** Q2 "Args": the arguments the runs were trained with (Hugging Face flag names). */
export function argsBlocks(variants: readonly VariantRuns[]): ReportBlock[] {
  const mc = variants.map((v) => v.mc), qa = variants.map((v) => v.qa);
  const rows: Cell[][] = [];
  for (const k of ARG_KEYS) {
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
    num(mc[0], "per_device_train_batch_size") * num(mc[0], "gradient_accumulation_steps"),
    num(qa[0], "per_device_train_batch_size") * num(qa[0], "gradient_accumulation_steps"),
  ]);
  const pre = variants.filter((v) => v.pretrain).map((v) => v.pretrain!);
  const blocks: ReportBlock[] = [{
    kind: "table",
    title: "Fine-tuning arguments (run_swag_no_trainer.py / run_qa_no_trainer.py flags)",
    columns: ["argument", "multiple choice", "question answering"],
    rows,
  }];
  if (pre.length > 0) {
    const keys = [
      "masking",
      "max_seq_length",
      "mlm_probability",
      "per_device_train_batch_size",
      "gradient_accumulation_steps",
      "num_train_epochs",
      "max_train_steps",
      "learning_rate",
      "weight_decay",
      "lr_scheduler_type",
      "num_warmup_steps",
      "config_overrides",
      "seed",
    ];
    blocks.push({
      kind: "table",
      title: "Masked-LM pretraining arguments (run_mlm_no_trainer.py flags + --masking)",
      columns: ["argument", ...pre.map((p) => p.label)],
      rows: keys.filter((k) => pre.some((p) => p.args[k] !== undefined)).map((k) => [
        `--${k}`,
        ...pre.map((p) => (p.args[k] === undefined ? "—" : String(p.args[k]))),
      ]),
    });
  }
  return blocks;
}

function scheduleText(run: StudyRun): string {
  const type = String(run.args.lr_scheduler_type);
  const warm = num(run, "num_warmup_steps");
  const lr = num(run, "learning_rate");
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

function optimizerText(run: StudyRun, name: string): string {
  // The optimizer the training loop builds (lib/training/loop.ts): AdamW with the run's weight
  // decay; betas/eps read from the class so the text follows the code.
  const opt = new AdamW(new Map(), { weightDecay: num(run, "weight_decay") });
  const clip = typeof run.args.max_grad_norm === "number" && run.args.max_grad_norm > 0
    ? `; gradients clipped to global norm ${run.args.max_grad_norm}`
    : "; no gradient clipping";
  return `- **${name}**: AdamW (β1 ${opt.beta1}, β2 ${opt.beta2}, ε ${opt.epsilon}, decoupled ` +
    `weight decay ${opt.weightDecay} on all weights except biases and LayerNorm weights), ` +
    `learning rate ${scheduleText(run)}; micro-batches of ${
      num(run, "per_device_train_batch_size")
    } with ${num(run, "gradient_accumulation_steps")}-step gradient accumulation (one update ` +
    `per ${
      num(run, "per_device_train_batch_size") * num(run, "gradient_accumulation_steps")
    } examples)${clip}; ${run.steps} updates over ${num(run, "num_train_epochs")} epoch(s).`;
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

/** Q2 "Config": the two variants' configs side by side, differing keys marked. */
export function configBlocks(a: VariantRuns, b: VariantRuns): ReportBlock[] {
  const ca = a.qa.config, cb = b.qa.config;
  const diff = diffConfigs(ca, cb);
  const differing = new Set(diff.map((d) => d.key));
  const keys = [...new Set([...Object.keys(ca), ...Object.keys(cb)])].sort();
  const show = (v: unknown) => (v === undefined ? "(absent)" : JSON.stringify(v));
  const summary = diff.length === 0
    ? `The two configs are identical (${keys.length} keys): the variants differ only in how ` +
      "their weights were pretrained."
    : `${diff.length} of ${keys.length} keys differ: ${
      diff.map((d) => `\`${d.key}\``).join(", ")
    } (marked ◆).`;
  return [
    { kind: "markdown", text: summary },
    {
      kind: "table",
      title: "config.json of the fine-tuned QA models",
      columns: ["key", a.label, b.label],
      rows: keys.map((k) => [differing.has(k) ? `${k} ◆` : k, show(ca[k]), show(cb[k])]),
    },
  ];
}

// ---------------------------------------------------------------- Q3 / Q4

/** Final and best numbers of a training log, for tables. */
export function logSummary(log: TrainingLog): Record<string, number> {
  const out: Record<string, number> = {};
  const last = log.steps.at(-1);
  if (last) {
    out.steps = last.step;
    out.final_loss_avg = log.steps.reduce((s, x) => s + x.loss, 0) / log.steps.length;
    if (last.running_accuracy !== undefined) out.final_running_accuracy = last.running_accuracy;
    if (last.running_exact_match !== undefined) {
      out.final_running_exact_match = last.running_exact_match;
    }
  }
  const ev = log.evals.at(-1);
  if (ev) {
    for (const k of ["accuracy", "exact_match", "f1", "eval_loss"] as const) {
      if (ev[k] !== undefined) out[`valid_${k}`] = ev[k]!;
    }
  }
  return out;
}

function mainMetric(task: "mc" | "qa"): { key: string; name: string; scale: number } {
  return task === "mc"
    ? { key: "eval_accuracy", name: "validation accuracy", scale: 1 }
    : { key: "eval_exact_match", name: "validation EM", scale: 1 };
}

/**
 * Q4's paired comparisons (scratch = A, pretrained = B) of QA on the same validation questions,
 * from {@link scoreQaRun}'s per-question scores.
 */
export function q4Comparisons(
  scores: { pretrained: QuestionScores; scratch: QuestionScores },
): Comparison[] {
  return ["exact_match", "f1"].map((m) =>
    compare("pretrained vs scratch", m, { name: "from scratch", scores: scores.scratch }, {
      name: "pretrained",
      scores: scores.pretrained,
    })
  );
}

/** Q4 table of the paired comparisons. */
export function q4PairedBlocks(paired: readonly Comparison[]): ReportBlock[] {
  if (paired.length === 0) return [];
  return [{
    kind: "table",
    title: `QA with the gold paragraph on the same ${
      paired[0].diff.n
    } validation questions: percent, 95% bootstrap intervals, paired difference`,
    columns: COMPARISON_COLUMNS,
    rows: comparisonRows(paired),
  }];
}

/** Q4 table: pretrained vs from scratch, same config and arguments. */
export function comparisonBlocks(c: ScratchComparison): ReportBlock[] {
  const rows: Cell[][] = [c.pretrained, c.scratch].map((r) => {
    const res = r.results;
    return c.task === "mc"
      ? [
        r.label,
        r.pretrained ? "pretrained" : "random init",
        r2(res.eval_accuracy),
        r4(
          res.eval_loss,
        ),
        r.steps,
        Math.round(r.trainSeconds),
      ]
      : [
        r.label,
        r.pretrained ? "pretrained" : "random init",
        r2(res.eval_exact_match),
        r2(res.eval_f1),
        r4(res.eval_loss),
        r.steps,
        Math.round(r.trainSeconds),
      ];
  });
  const columns = c.task === "mc"
    ? ["run", "weights", "validation accuracy %", "validation loss", "updates", "training s"]
    : [
      "run",
      "weights",
      "validation EM",
      "validation F1",
      "validation loss",
      "updates",
      "training s",
    ];
  return [{
    kind: "table",
    title: `${c.task === "mc" ? "Multiple choice" : "Question answering"}: pretrained vs scratch`,
    columns,
    rows,
  }];
}

/** The same config and arguments? Lists what differs (should be only the model source). */
export function comparisonArgsDiff(c: ScratchComparison): string[] {
  const skip = new Set(["model_name_or_path", "config_name", "tokenizer_name", "output_dir"]);
  const keys = new Set([...Object.keys(c.pretrained.args), ...Object.keys(c.scratch.args)]);
  const out: string[] = [];
  for (const k of [...keys].sort()) {
    if (skip.has(k)) continue;
    if (JSON.stringify(c.pretrained.args[k]) !== JSON.stringify(c.scratch.args[k])) out.push(k);
  }
  for (const d of diffConfigs(c.pretrained.config, c.scratch.config)) out.push(`config.${d.key}`);
  return out;
}

/** Q4 conclusion, every number from this run's results and logs. */
export function conclusionBlock(
  c: ScratchComparison,
  logs: { pretrained: TrainingLog; scratch: TrainingLog },
  paired: readonly Comparison[] = [],
): ReportBlock {
  const m = mainMetric(c.task);
  const p = c.pretrained.results[m.key] * m.scale;
  const s = c.scratch.results[m.key] * m.scale;
  const d = p - s;
  const lp = logSummary(logs.pretrained), ls = logSummary(logs.scratch);
  const cfg = c.pretrained.config;
  const differs = comparisonArgsDiff(c);
  const verdict = Math.abs(d) < 0.005
    ? "the same"
    : d > 0
    ? `${r2(d)} points higher`
    : `${r2(-d)} points lower`;
  const lossWord = lp.final_loss_avg < ls.final_loss_avg ? "lower" : "higher";
  const lines = [
    `With the same config (${cfg.num_hidden_layers} layers, hidden ${cfg.hidden_size}, ` +
    `${c.pretrained.numParameters.toLocaleString("en-US")} parameters) and the same arguments ` +
    `(${c.pretrained.steps} updates, learning rate ${c.pretrained.args.learning_rate}, seed ${c.pretrained.args.seed}), ` +
    `the pretrained model's ${m.name} is ${r2(p)} against ${r2(s)} from scratch: ${verdict}.`,
    `Its average training loss over the run is ${lossWord} (${r4(lp.final_loss_avg)} vs ${
      r4(ls.final_loss_avg)
    }).`,
  ];
  const rm = c.task === "mc" ? "final_running_accuracy" : "final_running_exact_match";
  if (lp[rm] !== undefined && ls[rm] !== undefined) {
    lines.push(
      `The running training ${c.task === "mc" ? "accuracy" : "EM"} ends at ${pct(lp[rm])} vs ${
        pct(ls[rm])
      } (%).`,
    );
  }
  if (paired.length > 0) {
    lines.push(
      `Scored again on the same ${paired[0].diff.n} validation questions (gold paragraph), ` +
        paired.map((p) => `${METRIC_NAMES[p.metric] ?? p.metric}: ${p.sentence}`).join("; ") +
        ".",
    );
  }
  lines.push(
    differs.length === 0
      ? "The two runs' saved arguments and configs differ only in where the weights come from."
      : `Note: the runs also differ in ${differs.join(", ")}.`,
  );
  return { kind: "markdown", text: lines.join(" ") };
}

/**
 * Q2 headline numbers for the report (percent, 2 decimals): per variant, validation side by side;
 * the test CSV and its score. Their intervals are in {@link q2Intervals}.
 */
export function q2Metrics(
  evals: readonly VariantEvaluation[],
  test?: TestPrediction,
): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const { runs, evaluation: e, scores } of evals) {
    const p = runs.variant;
    const iv = intervalsOf(scores);
    for (const k of PERF_KEYS) out[`${p}_${k}`] = r2(iv[k].value);
    out[`${p}_mc_loss`] = r4(e.mc.loss);
    out[`${p}_qa_loss`] = r4(e.qaGoldParagraph.loss);
  }
  if (test) {
    out.prediction_csv_rows = test.ids.length;
    out.prediction_csv_variant = test.variant;
    if (test.scores) {
      for (const k of ["exact_match", "f1"]) {
        const iv = bootstrapMean(test.scores.scores[k], BOOTSTRAP);
        out[`test_end_to_end_${k}`] = r2(iv.value);
      }
    }
  }
  return out;
}

/** Intervals of every Q2 metric by `<variant>_<metric>` (and `test_end_to_end_*`). */
export function q2Intervals(
  evals: readonly VariantEvaluation[],
  test?: TestPrediction,
): Record<string, Interval> {
  const out: Record<string, Interval> = {};
  for (const { runs, scores } of evals) {
    for (const [k, iv] of Object.entries(intervalsOf(scores))) out[`${runs.variant}_${k}`] = iv;
  }
  if (test?.scores) {
    for (const k of ["exact_match", "f1"]) {
      out[`test_end_to_end_${k}`] = bootstrapMean(test.scores.scores[k], BOOTSTRAP);
    }
  }
  return out;
}
