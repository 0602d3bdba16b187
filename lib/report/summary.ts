/**
 * The report's opening summary and the README's numbers block, generated from the metrics files
 * the notebooks wrote (q1, q2, q4: facts, intervals, paired comparisons) and from the machine
 * the report ran on: what the data are, the models, backend and machine, how this differs from
 * the study's scale, and a few sentences of findings that follow the intervals.
 * @module
 */
import type { Cell, ReportBlock, SectionMetrics } from "./metrics.ts";
import type { StudyProfile } from "./profiles.ts";
import { type Q2Facts, readQ2Facts, readRunCounts } from "./q2_facts.ts";
import { METRIC_NAMES } from "./scores.ts";
import { fmt, formatInterval, type Interval, type Spread } from "./stats.ts";

/** The machine the report ran on. */
export interface MachineInfo {
  cpu: string;
  cores: number;
  os: string;
  /** 1-minute load average at the start and end of the run. */
  loadStart?: number;
  loadEnd?: number;
}

/** Reads the CPU model, core count and OS of this machine. */
export function machineInfo(): MachineInfo {
  let cpu = "unknown CPU";
  try {
    const m = Deno.readTextFileSync("/proc/cpuinfo").match(/^model name\s*:\s*(.+)$/m);
    if (m) cpu = m[1].trim();
  } catch {
    // not Linux
  }
  let os = `${Deno.build.os} ${Deno.build.arch}`;
  try {
    os += ` (${Deno.osRelease()})`;
  } catch {
    // no --allow-sys
  }
  return { cpu, cores: navigator.hardwareConcurrency ?? 0, os };
}

/** The 1-minute load average, when the system reports one. */
export function loadAverage(): number | undefined {
  try {
    return Deno.loadavg()[0];
  } catch {
    return undefined;
  }
}

/** One metric over seeds (`--seeds N`). */
export interface SeedRow {
  key: string;
  spread: Spread;
}

const iv = (m: SectionMetrics | undefined, key: string): Interval | undefined =>
  m?.intervals?.[key];

function ivText(i: Interval | undefined): string {
  return i ? formatInterval(i) : "n/a";
}

/** Variant ids and labels of Q2, in profile order. */
function variantNames(profile: StudyProfile): { id: string; short: string; label: string }[] {
  return profile.variants.map((v) => ({
    id: v.id,
    short: v.label.split(":")[0],
    label: v.label,
  }));
}

/**
 * The models beside the no-training baselines of lib/report/baselines.ts: "MC 28.0 [23.3, 33.3]
 * vs 99.0 [97.7, 100.0] for character overlap", and QA given the gold paragraph vs the sliding
 * window.
 */
function baselineSentence(
  q2: SectionMetrics | undefined,
  names: { id: string; short: string }[],
  f: Q2Facts | undefined,
): string | undefined {
  const mc = iv(q2, "overlap_mc_accuracy"), vis = iv(q2, "overlap_visible_mc_accuracy");
  const qa = iv(q2, "overlap_qa_exact_match"), qaF1 = iv(q2, "overlap_qa_f1");
  if (!mc || !qa) return undefined;
  const models = (key: string) =>
    names.map((v) => `${v.short} ${ivText(iv(q2, `${v.id}_${key}`))}`).join(", ");
  return `What the data allow without training, on the same ${mc.n} questions: MC accuracy ` +
    `${models("mc_accuracy")} vs ${formatInterval(mc)} for character overlap (the candidate ` +
    `sharing the most question characters, weighted by inverse paragraph frequency)` +
    (vis
      ? ` and ${formatInterval(vis)} when it reads only the first ${
        f?.mc_max_seq_length ?? "?"
      } tokens of each candidate, as the MC models do`
      : "") +
    `; QA EM with the gold paragraph ${models("qa_exact_match")} vs ${formatInterval(qa)} ` +
    `(F1 ${models("qa_f1")} vs ${ivText(qaF1)}) for a sliding-window rule that answers with ` +
    `the words around the part of the paragraph most like the question.`;
}

/** 3–5 sentences of findings, each from the numbers and following the intervals. */
export function findings(
  profile: StudyProfile,
  q2: SectionMetrics | undefined,
  q4: SectionMetrics | undefined,
): string[] {
  const out: string[] = [];
  const names = variantNames(profile);
  const f = q2 ? readQ2Facts(q2) : undefined;
  const n = f?.validation_questions;
  if (q2?.intervals) {
    out.push(
      `On ${n ?? "the"} validation questions, ` + names.map((v) =>
        `${v.label} reaches MC accuracy ${ivText(iv(q2, `${v.id}_mc_accuracy`))}, QA EM with ` +
        `the gold paragraph ${ivText(iv(q2, `${v.id}_qa_exact_match`))} and end-to-end EM ` +
        `${ivText(iv(q2, `${v.id}_end_to_end_exact_match`))}`
      ).join("; ") + " (percent, 95% bootstrap intervals).",
    );
  }
  const base = baselineSentence(q2, names, f);
  if (base) out.push(base);
  const choices = f?.mc_choices;
  if (choices && q2?.intervals) {
    const chance = 100 / choices;
    const where = names.map((v) => {
      const i = iv(q2, `${v.id}_mc_accuracy`);
      if (!i) return undefined;
      const rel = i.high < chance ? "below" : i.low > chance ? "above" : "not distinguishable from";
      return `${rel} chance for ${v.short}`;
    }).filter((x) => x !== undefined);
    out.push(
      `Against chance (${fmt(chance)}% with ${choices} candidates), MC accuracy is ${
        where.join(" and ")
      }${
        where.every((w) => !w.startsWith("above"))
          ? ": the MC models did not learn to pick the paragraph at this budget"
          : ""
      }.`,
    );
  }
  const cmp = q2?.comparisons ?? [];
  const ab = cmp.filter((c) => c.what === "A vs B");
  if (ab.length > 0) {
    const differ = ab.filter((c) => c.better !== "none");
    const pick = (k: string) => ab.find((c) => c.metric === k);
    const e2e = pick("end_to_end_exact_match"), mc = pick("mc_accuracy");
    out.push(
      `Character vs whole-word masking (A vs B, paired on the same questions): end-to-end EM ` +
        `${e2e ? e2e.sentence : "n/a"}; MC accuracy ${mc ? mc.sentence : "n/a"}` +
        (differ.length === 0
          ? "; no metric separates the two variants at this scale."
          : `; of the ${ab.length} metrics compared, ${
            differ.map((c) => `${METRIC_NAMES[c.metric] ?? c.metric}: ${c.sentence}`).join("; ")
          }.`),
    );
  }
  const gold = cmp.filter((c) =>
    c.what.endsWith("gold paragraph vs end to end") &&
    c.metric === "exact_match"
  );
  if (gold.length > 0) {
    out.push(
      "Letting the MC model choose the paragraph instead of giving QA the gold one: " +
        gold.map((c) => `${c.what.split(":")[0]}: ${c.sentence}`).join("; ") + ".",
    );
  }
  const p4 = (q4?.comparisons ?? []).find((c) => c.metric === "exact_match");
  if (p4) {
    out.push(
      `In-run masked-LM pretraining vs the same QA run from scratch (Q4, gold paragraph): ` +
        `EM ${p4.sentence}.`,
    );
  }
  const test = iv(q2, "test_end_to_end_exact_match");
  if (test) {
    const low = Math.max(
      ...names.map((v) => iv(q2, `${v.id}_qa_exact_match`)?.value ?? 0),
    ) < 30;
    out.push(
      `\`prediction.csv\` scored on the ${test.n} held-out test answers: EM ${
        formatInterval(test)
      }, F1 ${ivText(iv(q2, "test_end_to_end_f1"))}` +
        (low
          ? ". These scores are low: models this small, trained for minutes on a CPU, learn " +
            "little extractive QA here; they are not the study's numbers."
          : "."),
    );
  }
  return out;
}

/** The summary blocks that open report.md. */
export function summaryBlocks(
  profile: StudyProfile,
  sections: { q1?: SectionMetrics; q2?: SectionMetrics; q4?: SectionMetrics },
  machine: MachineInfo,
  timing: { seconds: number; cpuSeconds?: number },
  seeds?: { seeds: number[]; rows: SeedRow[] },
): ReportBlock[] {
  const { q1, q2, q4 } = sections;
  const f: Partial<Q2Facts> = (q2 && readQ2Facts(q2)) ?? {};
  const d = profile.data;
  const lines: string[] = [];
  const count = (x: unknown) => (typeof x === "number" ? x.toLocaleString("en-US") : "?");
  lines.push(
    `- **Data**: ${d.description}. Licence: ${d.licence}. ${
      count(q1?.metrics?.paragraphs)
    } paragraphs; ${count(f.train_questions_in_file)} training questions, of which the first ${
      count(f.mc_train_questions)
    } (MC) and ${count(f.qa_train_questions)} (QA) are used for fine-tuning; the first ${
      count(f.validation_questions)
    } of the ${
      count(f.validation_questions_in_file)
    } validation questions are scored (every validation number below is on these); ${
      count(f.test_questions)
    } test questions answered in ` +
      `\`prediction.csv\`${q2?.intervals?.test_end_to_end_exact_match ? " and scored" : ""}.`,
  );
  if (f.layers !== undefined) {
    const pre = f.pretrain_updates !== undefined
      ? `pretrained in this run by masked-LM on the data's paragraphs for ${f.pretrain_updates} ` +
        `updates (${
          fmt(f.pretrain_epochs_run ?? NaN, 2)
        } epochs) of ${f.pretrain_batch} × ${f.pretrain_seq_length} tokens (A: character masking, ` +
        `B: whole-word masking over jieba words)`
      : "loaded from Hugging Face checkpoints";
    lines.push(
      `- **Models**: BERT with ${f.layers} layer${
        f.layers === 1 ? "" : "s"
      }, hidden size ${f.hidden_size}, ${f.attention_heads} ` +
        `heads, vocabulary ${count(f.vocab_size)} (${
          f.vocab_size === 21128
            ? "the real `bert-base-chinese` tokenizer"
            : "the tokenizer of the profile's first variant"
        }): ${
          count(f.parameters_qa)
        } parameters; ${pre}; fine-tuned for ${f.mc_updates} MC updates (max_seq_length ${f.mc_max_seq_length}) ` +
        `and ${f.qa_updates} QA updates (windows of ${f.qa_max_seq_length} tokens, doc_stride ${f.qa_doc_stride}).`,
    );
  }
  const counts = [q2, q4].filter((m) => m !== undefined).map(readRunCounts);
  const runs = (k: "runs_trained" | "runs_reused") => counts.reduce((n, c) => n + c[k], 0);
  const reuse = runs("runs_reused") > 0
    ? ` (${runs("runs_trained")} runs trained, ${
      runs("runs_reused")
    } reused from an earlier identical run: inference and figures only for those)`
    : runs("runs_trained") > 0
    ? ` (all ${runs("runs_trained")} runs trained in this report)`
    : "";
  const load = machine.loadStart !== undefined
    ? `; load average ${fmt(machine.loadStart, 2)} at the start, ${
      fmt(machine.loadEnd ?? NaN, 2)
    } at the end`
    : "";
  lines.push(
    `- **Backend and machine**: TensorFlow.js backend \`${f.backend ?? "?"}\` on ${machine.cpu}, ` +
      `${machine.cores} cores, ${machine.os}; the whole report took ${
        Math.round(timing.seconds)
      } s wall${
        timing.cpuSeconds !== undefined
          ? `, ${Math.round(timing.cpuSeconds)} s CPU (this process and its waited-for children)`
          : ""
      }${reuse}${load}. Another CPU (or another thread count) gives other numbers, within the ` +
      `intervals below.`,
  );
  if (profile.name !== "full") {
    lines.push(
      "- **Scale vs the study**: the study fine-tuned `bert-base-chinese` and " +
        "`hfl/chinese-roberta-wwm-ext` (12 layers, hidden 768, about 102 M parameters, " +
        "pretrained on large Chinese corpora) on ADL HW2's ~21.7k training questions on a GPU, " +
        "MC at 512 tokens and QA at 384 / 128. Here the models are about " +
        `${
          typeof f.parameters_qa === "number" && f.parameters_qa > 0
            ? Math.round(102e6 / f.parameters_qa)
            : "?"
        } times smaller, pretrained for minutes on one CPU, and fine-tuned on a subset for ` +
        "one pass: the numbers show what the pipeline does on this data at this scale, not the " +
        "study's results.",
    );
  }
  const blocks: ReportBlock[] = [
    { kind: "markdown", text: `## Summary\n\n${lines.join("\n")}` },
  ];
  const fs = findings(profile, q2, q4);
  if (fs.length > 0) {
    blocks.push({ kind: "markdown", text: `**Findings.** ${fs.join(" ")}` });
  }
  if (seeds && seeds.seeds.length > 1) {
    blocks.push({
      kind: "table",
      title: `Spread over ${seeds.seeds.length} seeds (${seeds.seeds.join(", ")}): every run ` +
        "retrained with each seed",
      columns: ["metric", "mean", "sd", "min", "max", "per seed"],
      rows: seeds.rows.map((r): Cell[] => [
        r.key.replaceAll("_", " "),
        fmt(r.spread.mean, 2),
        fmt(r.spread.sd, 2),
        fmt(r.spread.min, 2),
        fmt(r.spread.max, 2),
        r.spread.values.map((v) => fmt(v, 2)).join(", "),
      ]),
    });
  }
  return blocks;
}

/** Metric keys compared over seeds: Q2's validation numbers and test score, Q4's two sides. */
export function seedMetricKeys(profile: StudyProfile): { section: "q2" | "q4"; key: string }[] {
  const out: { section: "q2" | "q4"; key: string }[] = [];
  for (const v of profile.variants) {
    for (const k of ["mc_accuracy", "qa_exact_match", "end_to_end_exact_match"]) {
      out.push({ section: "q2", key: `${v.id}_${k}` });
    }
  }
  out.push({ section: "q2", key: "test_end_to_end_exact_match" });
  out.push({ section: "q4", key: "pretrained_eval_exact_match" });
  out.push({ section: "q4", key: "scratch_eval_exact_match" });
  return out;
}

/**
 * The README block: the last report's headline numbers with their intervals, in Markdown,
 * between the markers `scripts/readme_numbers.ts` replaces.
 */
export function readmeNumbers(
  profile: StudyProfile,
  q2: SectionMetrics | undefined,
  q4: SectionMetrics | undefined,
  machine: MachineInfo,
  timing: { seconds: number; cpuSeconds?: number },
  finishedAt: string,
): string {
  const names = variantNames(profile);
  const facts = q2 ? readQ2Facts(q2) : undefined;
  const n = facts?.validation_questions ?? "?";
  const rows = names.map((v) =>
    `| ${v.label} | ${ivText(iv(q2, `${v.id}_mc_accuracy`))} | ${
      ivText(iv(q2, `${v.id}_qa_exact_match`))
    } / ${ivText(iv(q2, `${v.id}_qa_f1`))} | ${
      ivText(iv(q2, `${v.id}_end_to_end_exact_match`))
    } / ${ivText(iv(q2, `${v.id}_end_to_end_f1`))} |`
  );
  for (const [id, label] of [["overlap", "character overlap (no training)"]]) {
    if (!iv(q2, `${id}_mc_accuracy`)) continue;
    rows.push(
      `| ${label} | ${ivText(iv(q2, `${id}_mc_accuracy`))} | ${
        ivText(iv(q2, `${id}_qa_exact_match`))
      } / ${ivText(iv(q2, `${id}_qa_f1`))} | ${ivText(iv(q2, `${id}_end_to_end_exact_match`))} / ${
        ivText(iv(q2, `${id}_end_to_end_f1`))
      } |`,
    );
  }
  const lines = [
    `Last \`deno task report --profile ${profile.name}\` (${
      finishedAt.slice(0, 16).replace("T", " ")
    } UTC, ` +
    `${machine.cpu}, ${machine.cores} cores: ${Math.round(timing.seconds)} s wall` +
    (timing.cpuSeconds !== undefined ? `, ${Math.round(timing.cpuSeconds)} s CPU` : "") +
    ([q2, q4].filter((m) => m !== undefined).map(readRunCounts).some((c) => c.runs_reused > 0)
      ? "; training runs reused from an earlier identical run"
      : "") +
    `). Validation, ${n} questions of \`${
      profile.data.dir.split("/").slice(-2).join("/")
    }\`; percent with ` +
    "95% bootstrap intervals over questions:",
    "",
    "| variant | MC accuracy | QA EM / F1 (gold paragraph) | end-to-end EM / F1 (MC → QA) |",
    "| --- | --- | --- | --- |",
    ...rows,
    "",
  ];
  const ab = (q2?.comparisons ?? []).find((c) =>
    c.what === "A vs B" && c.metric === "end_to_end_exact_match"
  );
  if (ab) lines.push(`A vs B, end-to-end EM: ${ab.sentence}.`);
  const p4 = (q4?.comparisons ?? []).find((c) => c.metric === "exact_match");
  if (p4) lines.push(`Q4, QA EM pretrained vs from scratch: ${p4.sentence}.`);
  const test = iv(q2, "test_end_to_end_exact_match");
  if (test) {
    lines.push(
      `\`prediction.csv\` (${q2?.metrics?.prediction_csv_variant}) on the ${test.n} held-out ` +
        `test questions: EM ${formatInterval(test)}, F1 ${ivText(iv(q2, "test_end_to_end_f1"))}.`,
    );
  }
  lines.push(
    "",
    "Another CPU, thread count or TensorFlow.js backend gives somewhat different numbers (floating-" +
      "point order differs); a fresh run's numbers should fall within these intervals.",
  );
  return lines.join("\n") + "\n";
}
