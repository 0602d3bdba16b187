/**
 * The Q2 notebook's last cell: ask both variants one question (typed, or a validation question
 * with its candidate paragraphs) through `answer()` and show, side by side, the paragraph with
 * the answer highlighted, the MC probabilities and the best alternatives with their scores.
 * @module
 */
import type { AdlExample } from "../data/mod.ts";
import { Answerer, type AnswerResult } from "../pipeline/mod.ts";
import { escapeHtml } from "../plotting/mod.ts";
import type { VariantRuns } from "./study_runs.ts";

/** A question and its paragraphs (one, or several for the MC model to choose from). */
export interface AskInput {
  question: string;
  paragraphs: string[];
  /** The gold answer, for a validation question. */
  gold?: { text: string; paragraph: number };
}

/** A validation question with its candidate paragraphs and gold answer. */
export function askFromValidation(example: AdlExample, contexts: readonly string[]): AskInput {
  const input: AskInput = {
    question: example.question,
    paragraphs: example.paragraphs.map((p) => contexts[p]),
  };
  if (example.answer && example.relevant !== undefined) {
    input.gold = {
      text: example.answer.text,
      paragraph: example.paragraphs.indexOf(example.relevant),
    };
  }
  return input;
}

/** One variant's answer. */
export interface VariantAnswer {
  label: string;
  result: AnswerResult;
}

/**
 * Asks each variant (its MC and QA runs, with the settings they were trained with) the
 * question; `topK` answers each.
 */
export async function askVariants(
  variants: readonly VariantRuns[],
  input: AskInput,
  topK = 3,
): Promise<VariantAnswer[]> {
  const out: VariantAnswer[] = [];
  for (const v of variants) {
    const answerer = await Answerer.load({
      qaModel: v.qa.dir,
      mcModel: v.mc.dir,
      top_k: topK,
      log: () => {},
    });
    try {
      const q = input.paragraphs.length === 1
        ? { question: input.question, context: input.paragraphs[0] }
        : { question: input.question, paragraphs: input.paragraphs };
      out.push({ label: v.label, result: await answerer.answer(q) });
    } finally {
      answerer.dispose();
    }
  }
  return out;
}

function highlighted(paragraph: string, start: number, end: number): string {
  const cps = [...paragraph];
  return escapeHtml(cps.slice(0, start).join("")) +
    `<mark>${escapeHtml(cps.slice(start, end).join(""))}</mark>` +
    escapeHtml(cps.slice(end).join(""));
}

/** The answers side by side as HTML (one column per variant). */
export function askHtml(input: AskInput, answers: readonly VariantAnswer[]): string {
  const col = ({ label, result: r }: VariantAnswer) => {
    const para = input.paragraphs[r.paragraph];
    const mc = r.paragraph_scores
      ? `<p>MC probabilities: ${
        r.paragraph_scores.map((p, i) =>
          i === r.paragraph ? `<strong>${p.toFixed(3)}</strong>` : p.toFixed(3)
        ).join(", ")
      }</p>`
      : "";
    const rows = (r.top_k ?? [r]).map((a, i) =>
      `<tr><td>${i + 1}</td><td>${escapeHtml(a.answer)}</td><td style="text-align:right">${
        a.score.toFixed(4)
      }</td><td style="text-align:right">${a.paragraph}</td></tr>`
    ).join("");
    return `<div style="flex:1;min-width:18rem"><h4>${escapeHtml(label)}</h4>` +
      `<p><strong>${escapeHtml(r.answer)}</strong> (score ${r.score.toFixed(4)}, paragraph ` +
      `${r.paragraph}, characters ${r.start}–${r.end})</p>${mc}` +
      `<div style="line-height:1.7;border:1px solid #ddd;padding:0.5rem">${
        highlighted(para, r.start, r.end)
      }</div>` +
      `<table><thead><tr><th>#</th><th>answer</th><th>score</th><th>paragraph</th></tr></thead>` +
      `<tbody>${rows}</tbody></table></div>`;
  };
  const gold = input.gold
    ? `<p>Gold answer: <strong>${
      escapeHtml(input.gold.text)
    }</strong> (paragraph ${input.gold.paragraph})</p>`
    : "";
  return `<p>Question: <strong>${
    escapeHtml(input.question)
  }</strong> (${input.paragraphs.length} ` +
    `paragraph${input.paragraphs.length === 1 ? "" : "s"})</p>${gold}` +
    `<div style="display:flex;gap:1rem;flex-wrap:wrap">${answers.map(col).join("")}</div>`;
}

/** The same as plain text (the answer in 【】). */
export function askText(input: AskInput, answers: readonly VariantAnswer[]): string {
  const lines = [`question: ${input.question}`];
  if (input.gold) lines.push(`gold: ${input.gold.text} (paragraph ${input.gold.paragraph})`);
  for (const { label, result: r } of answers) {
    const cps = [...input.paragraphs[r.paragraph]];
    lines.push(
      `${label}: ${r.answer} (score ${r.score.toFixed(4)}, paragraph ${r.paragraph})`,
      `  ${cps.slice(0, r.start).join("")}【${r.answer}】${cps.slice(r.end).join("")}`,
      ...(r.top_k ?? []).slice(1).map((a, i) =>
        `  alternative ${i + 2}: ${a.answer} (score ${a.score.toFixed(4)})`
      ),
    );
  }
  return lines.join("\n");
}
