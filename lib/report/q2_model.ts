/**
 * Q2 "Model" and "Config": what each variant is (its analogue, where its initial weights come
 * from, its shape and size) and the two variants' `config.json` side by side.
 * @module
 */
import { diffConfigs } from "../models/mod.ts";
import { formatNumber } from "../util/metric_format.ts";
import { round2 } from "./format.ts";
import type { Cell, ReportBlock } from "./metrics.ts";
import type { VariantRuns } from "./study_runs.ts";

/** A path as shown: relative to the working directory, or its last three parts when absolute. */
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

/** Where a variant's initial weights come from: its pretraining run or a downloaded checkpoint. */
function describeSource(v: VariantRuns): string {
  if (v.pretrain) {
    const a = v.pretrain.args;
    const r = v.pretrain.results;
    return `pretrained in this run: masked-LM with ${
      a.masking === "wwm" ? "whole-word" : "character"
    } masking, ${v.pretrain.steps} updates (held-out masked-token accuracy ${
      r.eval_accuracy !== undefined ? `${round2(r.eval_accuracy)}%` : "n/a"
    }, perplexity ${r.eval_perplexity !== undefined ? formatNumber(r.eval_perplexity) : "n/a"})`;
  }
  return `Hugging Face checkpoint ${shortPath(v.mc.args.model_name_or_path)}`;
}

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
