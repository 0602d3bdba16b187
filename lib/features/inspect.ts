/**
 * HTML views of features and decoding for notebooks (return strings; display them with
 * `Deno.jupyter.display({ "text/html": html }, { raw: true })`). No logic here that the features
 * themselves do not already hold: these only lay out what the builders and the decoder produce.
 * @module
 */
import { createRng } from "../util/random.ts";
import { codePointTable } from "../data/mod.ts";
import { spanCandidates } from "./decode.ts";
import type { DecodeOptions } from "./decode.ts";
import type { McFeature, QaFeature, QaInput } from "./types.ts";
import { plural } from "../util/text.ts";

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}

const TABLE_STYLE = "border-collapse:collapse;font-family:monospace;font-size:12px;margin:4px 0";
const CELL = "border:1px solid #ccc;padding:2px 6px;text-align:left";
const MARK = "background:#ffe08a";

function table(head: string[], rows: { cells: string[]; mark?: boolean }[], caption?: string) {
  const th = head.map((h) => `<th style="${CELL};background:#f3f3f3">${escapeHtml(h)}</th>`).join(
    "",
  );
  const body = rows.map((r) =>
    `<tr${r.mark ? ` style="${MARK}"` : ""}>` +
    r.cells.map((c) => `<td style="${CELL}">${c}</td>`).join("") + "</tr>"
  ).join("\n");
  const cap = caption
    ? `<caption style="text-align:left;font-weight:bold">${escapeHtml(caption)}</caption>`
    : "";
  return `<table style="${TABLE_STYLE}">${cap}<thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** Options of {@link featureTableHtml}. */
export interface FeatureTableOptions {
  /** Token strings by id (the tokenizer's `vocab`). */
  vocab: readonly string[];
  /** The example's context, to show the text under each offset. */
  context: string;
  /** Token range to highlight (default: the feature's start/end positions when not `[CLS]`). */
  highlight?: [number, number];
  /** Show at most this many rows: the first ones and those around the highlight. Default all. */
  maxRows?: number;
  caption?: string;
}

/**
 * A table with one row per token of a feature: position, token, id, token type, attention mask,
 * offsets (`null` outside the context) and the context text under the offsets; the answer span
 * is highlighted.
 */
export function featureTableHtml(feature: QaFeature, opts: FeatureTableOptions): string {
  const n = feature.inputIds.length;
  let hl = opts.highlight;
  if (!hl && feature.startPosition && feature.endPosition !== undefined) {
    hl = [feature.startPosition, feature.endPosition];
  }
  const shown = new Set<number>();
  const maxRows = opts.maxRows ?? n;
  if (maxRows >= n) { for (let i = 0; i < n; i++) shown.add(i); }
  else {
    const head = hl ? Math.floor(maxRows / 2) : maxRows;
    for (let i = 0; i < Math.min(head, n); i++) shown.add(i);
    if (hl) {
      const around = maxRows - head;
      const from = Math.max(0, hl[0] - Math.floor((around - (hl[1] - hl[0] + 1)) / 2));
      for (let i = from; i < Math.min(n, from + around); i++) shown.add(i);
    }
  }
  const rows: { cells: string[]; mark?: boolean }[] = [];
  const cp = codePointTable(opts.context); // offsets are shown in code points, as Python has them
  let last = -1;
  for (const i of [...shown].sort((a, b) => a - b)) {
    if (i !== last + 1) rows.push({ cells: ["…", "…", "", "", "", "", ""] });
    last = i;
    const off = feature.offsetMapping[i];
    rows.push({
      cells: [
        String(i),
        escapeHtml(opts.vocab[feature.inputIds[i]] ?? `<id ${feature.inputIds[i]}>`),
        String(feature.inputIds[i]),
        String(feature.tokenTypeIds[i]),
        String(feature.attentionMask[i]),
        off ? `[${cp[off[0]]}, ${cp[off[1]]})` : "null",
        off ? escapeHtml(JSON.stringify(opts.context.slice(off[0], off[1]))) : "",
      ],
      mark: hl !== undefined && i >= hl[0] && i <= hl[1],
    });
  }
  if (last !== n - 1) rows.push({ cells: ["…", "…", "", "", "", "", ""] });
  return table(
    ["#", "token", "input_id", "token_type_id", "attention_mask", "offset", "context[offset]"],
    rows,
    opts.caption,
  );
}

/**
 * The windows of one example: for each, its token count, the context characters it covers, its
 * labels, and the covered text with the gold answer highlighted.
 */
export function windowsHtml(input: QaInput, windows: readonly QaFeature[]): string {
  const a = input.answer;
  const cp = codePointTable(input.context); // character positions in code points, as Python
  const rows = windows.map((f, w) => {
    const ctx = f.offsetMapping.filter((o): o is [number, number] => o !== null);
    const from = ctx.length ? ctx[0][0] : 0;
    const to = ctx.length ? ctx[ctx.length - 1][1] : 0;
    let text = escapeHtml(input.context.slice(from, to));
    if (a) {
      const s = Math.max(a.start, from);
      const e = Math.min(a.start + a.text.length, to);
      if (s < e) {
        text = escapeHtml(input.context.slice(from, s)) + `<mark>` +
          escapeHtml(input.context.slice(s, e)) + `</mark>` +
          escapeHtml(input.context.slice(e, to));
      }
    }
    const held = f.startPosition !== undefined && f.startPosition > 0;
    return {
      cells: [
        String(w),
        String(f.inputIds.length),
        String(ctx.length),
        `[${cp[from]}, ${cp[to]})`,
        f.startPosition === undefined ? "" : `${f.startPosition} / ${f.endPosition}`,
        `<div style="max-width:640px;white-space:normal">${text}</div>`,
      ],
      mark: held,
    };
  });
  return table(
    ["window", "tokens", "context tokens", "context chars", "start / end position", "text"],
    rows,
    `${plural(windows.length, "window")} of example ${input.id} (context ${
      cp[input.context.length]
    } chars)`,
  );
}

/**
 * Illustrative logits for one example's windows: standard-normal noise (seeded) plus `boost` on
 * the labelled start/end tokens, standing in for a model so that the decoder can be shown.
 * Features must carry labels (training mode).
 */
export function illustrativeLogits(
  windows: readonly QaFeature[],
  seed: number,
  boost = 4,
): { startLogits: Float32Array[]; endLogits: Float32Array[] } {
  const rng = createRng(seed);
  const startLogits: Float32Array[] = [];
  const endLogits: Float32Array[] = [];
  for (const f of windows) {
    const s = Float32Array.from(f.inputIds, () => rng.normal());
    const e = Float32Array.from(f.inputIds, () => rng.normal());
    if (f.startPosition !== undefined && f.endPosition !== undefined) {
      s[f.startPosition] += boost;
      e[f.endPosition] += boost;
    }
    startLogits.push(s);
    endLogits.push(e);
  }
  return { startLogits, endLogits };
}

/**
 * The decoder's view of one example: the best `top` valid candidate spans over all its windows
 * (window, token indices, logits, score, text), the chosen one first and highlighted.
 */
export function decodingHtml(
  input: QaInput,
  windows: readonly QaFeature[],
  startLogits: readonly ArrayLike<number>[],
  endLogits: readonly ArrayLike<number>[],
  opts: DecodeOptions & { top?: number } = {},
): string {
  const cands = spanCandidates(input.context, windows, startLogits, endLogits, opts);
  const rows = cands.slice(0, opts.top ?? 10).map((c, k) => ({
    cells: [
      String(k + 1),
      String(c.featureIndex),
      `${c.startIndex}–${c.endIndex}`,
      c.startLogit.toFixed(2),
      c.endLogit.toFixed(2),
      c.score.toFixed(2),
      `[${c.startChar}, ${c.endChar})`,
      escapeHtml(JSON.stringify(c.text)),
    ],
    mark: k === 0,
  }));
  const gold = input.answer ? ` — gold ${JSON.stringify(input.answer.text)}` : "";
  return table(
    ["rank", "window", "tokens", "start logit", "end logit", "score", "chars", "text"],
    rows,
    `${plural(cands.length, "valid candidate span")} for ${input.id}${gold}`,
  );
}

/**
 * The multiple-choice view of one example: for each candidate, its paragraph index, length in
 * tokens (with specials), whether the paragraph was truncated, and the start of its text; the
 * relevant candidate is highlighted.
 */
export function mcFeatureHtml(
  feature: McFeature,
  paragraphs: readonly number[],
  contexts: readonly string[],
  opts: { vocab: readonly string[]; maxSeqLength: number; previewTokens?: number },
): string {
  const preview = opts.previewTokens ?? 24;
  const rows = feature.inputIds.map((ids, k) => ({
    cells: [
      String(k),
      String(paragraphs[k]),
      String(ids.length),
      ids.length >= opts.maxSeqLength ? "yes" : "",
      escapeHtml(
        ids.slice(0, preview).map((id) => opts.vocab[id] ?? `<${id}>`).join(" ") +
          (ids.length > preview ? " …" : ""),
      ),
      escapeHtml(contexts[paragraphs[k]].slice(0, 40) + "…"),
    ],
    mark: k === feature.label,
  }));
  return table(
    ["choice", "paragraph", "tokens", "truncated", "first tokens", "paragraph text"],
    rows,
    `MC feature of ${feature.exampleId}` +
      (feature.label === undefined ? "" : ` — label ${feature.label} (highlighted)`),
  );
}

/** Index of the input with the most windows (the first on ties); −1 for an empty list. */
export function inputWithMostWindows(stats: readonly { windows: number }[]): number {
  let best = -1;
  stats.forEach((s, i) => {
    if (best < 0 || s.windows > stats[best].windows) best = i;
  });
  return best;
}
