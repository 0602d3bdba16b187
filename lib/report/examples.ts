/**
 * A few validation questions answered by each variant, in Chinese as they are: the question, an
 * excerpt of the paragraph the MC model chose with the model's answer in **bold** and the gold
 * answer in 【…】, and what went right or wrong — exact answers, partly right spans, wrong spans
 * and wrong paragraphs, the first of each kind in question order.
 * @module
 */
import type { AdlExample } from "../data/mod.ts";
import type { PipelineEvaluation } from "../pipeline/mod.ts";
import { fmt } from "./stats.ts";
import type { ReportBlock } from "./metrics.ts";
import type { QuestionScores } from "./scores.ts";

/** One variant's evaluation, as {@link exampleBlocks} reads it. */
export interface ExampleSource {
  label: string;
  evaluation: PipelineEvaluation;
  scores: QuestionScores;
}

/** The kinds of example shown, in this order. */
const KINDS = [
  { id: "exact", title: "exact answer" },
  { id: "partial", title: "right paragraph, partly right span" },
  { id: "wrong_span", title: "right paragraph, wrong span" },
  { id: "wrong_paragraph", title: "wrong paragraph" },
] as const;

type Kind = typeof KINDS[number]["id"];

/** Characters of context shown on each side of the marked spans. */
const AROUND = 40;

/** Markdown's emphasis and code characters as their full-width forms, so text stays text. */
const plain = (s: string) =>
  s.replaceAll("*", "＊").replaceAll("_", "＿").replaceAll("`", "｀").replaceAll("[", "［")
    .replaceAll("]", "］").replaceAll("\n", " ");

/**
 * `text` with `marks` (UTF-16 `[start, end)` spans, each with its opening and closing marker)
 * inserted, cut to {@link AROUND} characters around them with "…" where cut.
 */
export function markedExcerpt(
  text: string,
  marks: readonly { start: number; end: number; open: string; close: string }[],
): string {
  let lo = Math.max(0, Math.min(...marks.map((m) => m.start)) - AROUND);
  let hi = Math.min(text.length, Math.max(...marks.map((m) => m.end)) + AROUND);
  // Never cut a surrogate pair (a character outside the BMP) in two.
  const low = (i: number) => i > 0 && i < text.length && /[\udc00-\udfff]/.test(text[i]);
  if (low(lo)) lo--;
  if (low(hi)) hi++;
  // Outer spans open first and close last; at one position closings come before openings.
  const order = [...marks].sort((a, b) => a.start - b.start || b.end - a.end);
  const opens = new Map<number, string>(), closes = new Map<number, string>();
  order.forEach((m) => {
    opens.set(m.start, (opens.get(m.start) ?? "") + m.open);
    closes.set(m.end, m.close + (closes.get(m.end) ?? ""));
  });
  let out = lo > 0 ? "…" : "";
  for (let i = lo; i <= hi; i++) {
    out += (closes.get(i) ?? "") + (opens.get(i) ?? "");
    if (i < hi) out += plain(text[i]);
  }
  return out + (hi < text.length ? "…" : "");
}

function kindOf(ex: AdlExample, paragraph: number, em: number, f1: number): Kind {
  if (paragraph !== ex.relevant) return "wrong_paragraph";
  if (em === 100) return "exact";
  return f1 > 0 ? "partial" : "wrong_span";
}

function describe(
  ex: AdlExample,
  contexts: readonly string[],
  paragraph: number,
  answer: string,
  kind: Kind,
  f1: number,
): string {
  const ctx = contexts[paragraph];
  const predStart = answer === "" ? -1 : ctx.indexOf(answer);
  const marks = [];
  if (predStart >= 0) {
    marks.push({ start: predStart, end: predStart + answer.length, open: "**", close: "**" });
  }
  const gold = ex.answer!;
  if (paragraph === ex.relevant) {
    marks.push({ start: gold.start, end: gold.start + gold.text.length, open: "【", close: "】" });
  }
  const lines = [
    `**${KINDS.find((k) => k.id === kind)!.title}** (F1 ${fmt(f1)}) — 問題：${plain(ex.question)}`,
    `answer ${answer === "" ? "(empty)" : `「${plain(answer)}」`}, gold 「${plain(gold.text)}」; ` +
    `paragraph ${paragraph}${paragraph === ex.relevant ? " (the gold one)" : ""}: ` +
    (marks.length > 0 ? markedExcerpt(ctx, marks) : plain(ctx.slice(0, 2 * AROUND)) + "…"),
  ];
  if (paragraph !== ex.relevant) {
    const g = contexts[ex.relevant!];
    lines.push(
      `gold paragraph ${ex.relevant}: ${
        markedExcerpt(g, [{
          start: gold.start,
          end: gold.start + gold.text.length,
          open: "【",
          close: "】",
        }])
      }`,
    );
  }
  return lines.join("\n");
}

/**
 * Markdown blocks of examples for each variant: for every kind (exact answer, partly right span,
 * wrong span, wrong paragraph) the first `perKind` validation questions of that kind, end to end
 * (the paragraph the MC model chose, then QA on it).
 */
export function exampleBlocks(
  examples: readonly AdlExample[],
  contexts: readonly string[],
  variants: readonly ExampleSource[],
  perKind = 1,
): ReportBlock[] {
  const blocks: ReportBlock[] = [{
    kind: "markdown",
    text: "Validation questions answered end to end (the paragraph the MC model chose, then QA " +
      "on it): the model's answer in **bold**, the gold answer in 【…】, an excerpt of " +
      `${AROUND} characters around them (the answer marked where its text first occurs); for ` +
      "each variant the first question of each kind.",
  }];
  for (const v of variants) {
    const { rows } = v.evaluation;
    if (rows.length !== examples.length) {
      throw new Error(`${v.label}: ${rows.length} answers for ${examples.length} questions`);
    }
    const em = v.scores.scores.end_to_end_exact_match, f1 = v.scores.scores.end_to_end_f1;
    const picked = new Map<Kind, number[]>();
    examples.forEach((ex, i) => {
      const k = kindOf(ex, rows[i].paragraph, em[i], f1[i]);
      const list = picked.get(k) ?? [];
      if (list.length < perKind) picked.set(k, [...list, i]);
    });
    const parts = KINDS.flatMap((k) => picked.get(k.id) ?? []).map((i) =>
      describe(
        examples[i],
        contexts,
        rows[i].paragraph,
        rows[i].answer,
        kindOf(
          examples[i],
          rows[i].paragraph,
          em[i],
          f1[i],
        ),
        f1[i],
      )
    );
    const missing = KINDS.filter((k) => !picked.has(k.id)).map((k) => k.title);
    blocks.push({
      kind: "markdown",
      text: `**${v.label}**\n\n` + parts.join("\n\n") +
        (missing.length > 0
          ? `\n\nNo question of the ${examples.length} was a case of: ${missing.join("; ")}.`
          : ""),
    });
  }
  return blocks;
}
