/**
 * Report assembly: `outputs/report.md` and `outputs/report.html` with the study's sections (Q1 data
 * processing, Q2 models, Q3 curves, Q4 pretrained vs not), filled from the metrics files the
 * notebooks wrote in this run and linking the figures they saved.
 * @module
 */
import { escapeHtml } from "../plotting/html.ts";
import { formatMetric, formatPercent, isPercentColumn } from "../util/metric_format.ts";
import { cellText, displayJson } from "./format.ts";
import { notebookToHtml } from "./runner.ts";
import {
  type Cell,
  readSectionMetrics,
  type ReportBlock,
  type SectionId,
  type SectionMetrics,
  SECTIONS,
} from "./metrics.ts";

/** Section headings of the study. */
export const SECTION_TITLES: Record<SectionId, string> = {
  q1: "Q1 Data processing",
  q2: "Q2 Models",
  q3: "Q3 Curves",
  q4: "Q4 Pretrained vs not pretrained",
};

/** Subsections Q2 must have (matched case-insensitively by prefix). */
export const Q2_SUBSECTIONS = ["Performance", "Args", "Loss and optimizer", "Config"] as const;

/** One executed notebook, for the run summary. */
export interface NotebookRunInfo {
  name: string;
  /** Executed notebook, relative to the output dir. */
  path: string;
  /** The same notebook rendered as HTML by nbconvert, relative to the output dir (when made). */
  html?: string;
  seconds: number;
  cells: number;
}

/** Facts about this run shown at the top of the report. */
export interface RunInfo {
  profile: string;
  startedAt: string;
  finishedAt: string;
  notebooks: NotebookRunInfo[];
  denoVersion?: string;
  /** Blocks shown first, before the run table (the summary, lib/report/summary.ts). */
  summary?: ReportBlock[];
}

/** Figure files present for a figure block (paths relative to the output dir). */
interface FigureFiles {
  png?: string;
  html?: string;
}

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

function figureFiles(outputDir: string, name: string, source: string): FigureFiles {
  const out: FigureFiles = {};
  if (exists(`${outputDir}/figures/${name}.png`)) out.png = `figures/${name}.png`;
  if (exists(`${outputDir}/figures/${name}.html`)) out.html = `figures/${name}.html`;
  if (!out.png && !out.html) {
    throw new Error(
      `${source}: figure '${name}' has no file ${outputDir}/figures/${name}.html or .png`,
    );
  }
  return out;
}

/** Cells of a row as shown: numbers in percent columns with 2 decimals (never "54" for 54.00). */
function shownRow(columns: readonly string[], row: readonly Cell[]): Cell[] {
  return row.map((c, i) =>
    typeof c === "number" && isPercentColumn(columns[i] ?? "") ? formatPercent(c) : c
  );
}

/** Labels of headline numbers the notebooks write (others: underscores become spaces). */
const METRIC_LABELS: Record<string, string> = {
  paragraphs: "paragraphs (context.json)",
  validation_questions: "validation questions",
  tokenizer_vocab_size: "tokenizer vocabulary size",
  qa_max_seq_length: "QA max_seq_length (tokens per window)",
  qa_doc_stride: "QA doc_stride (window overlap, tokens)",
  qa_windows: "QA windows (validation)",
  multi_window_pct: "questions whose paragraph needs more than one window (%)",
  context_tokens_p50: "paragraph tokens, median",
  context_tokens_p95: "paragraph tokens, 95th percentile",
  context_tokens_max: "paragraph tokens, maximum",
  answer_roundtrip_pct: "gold answers recovered by decoding their gold tokens (%)",
};

function humanKey(k: string): string {
  if (METRIC_LABELS[k]) return METRIC_LABELS[k];
  return k.replace(/_pct$/, " (%)").replace(/(^|_)em$/, "$1exact match").replace(/_p(\d+)$/, " p$1")
    // QA's running training EM counts only the windows that hold the answer (qaExactPositions).
    .replace(/running_exact_match$/, "running exact match (answer windows)")
    .replaceAll("_", " ");
}

/** What the report's evaluations use (see `loadRunModel` in run_models.ts). */
export const MODELS_REPORTED =
  "the final model of each run (runs/<name>/), not the best/ checkpoint kept during training";

/** The run's facts as a two-column table (labelled header, no empty cells). */
function runRows(run: RunInfo): Cell[][] {
  return [
    ["profile", run.profile],
    ["started", run.startedAt],
    ["finished", run.finishedAt],
    ...(run.denoVersion ? [["deno", run.denoVersion] as Cell[]] : []),
    ["models evaluated", MODELS_REPORTED],
  ];
}

/**
 * Table cells: break opportunities (`<wbr>`, invisible when copied) after the commas of long
 * unbroken text such as a `--config_overrides` value, so a table wraps between values instead of
 * growing wider than the page or breaking inside a word. Links are left alone.
 */
function breakable(text: string): string {
  if (text.includes("](")) return text;
  return text.replace(/[^\s]{30,}/g, (w) => w.replaceAll(",", ",<wbr>"));
}

// ---------------------------------------------------------------- Markdown

function mdCell(c: Cell): string {
  return breakable(cellText(c)).replaceAll("|", "\\|").replaceAll(/\r?\n/g, "<br>");
}

function mdTable(columns: readonly string[], rows: readonly Cell[][]): string {
  return [
    `| ${columns.map(mdCell).join(" | ")} |`,
    `| ${columns.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${shownRow(columns, r).map(mdCell).join(" | ")} |`),
  ].join("\n");
}

function mdBlock(b: ReportBlock, outputDir: string, source: string): string {
  switch (b.kind) {
    case "markdown":
      return b.text.trim();
    case "table":
      return (b.title ? `**${b.title}**\n\n` : "") + mdTable(b.columns, b.rows);
    case "json":
      return (b.title ? `**${b.title}**\n\n` : "") +
        "```json\n" + displayJson(b.value) + "\n```";
    case "figure": {
      const f = figureFiles(outputDir, b.name, source);
      const title = b.title ?? b.name;
      const parts = [`**${title}**`];
      if (f.png) parts.push(`![${title}](${f.png})`);
      if (f.html) parts.push(`[interactive figure](${f.html})`);
      if (b.caption) parts.push(`_${b.caption}_`);
      return parts.join("\n\n");
    }
  }
}

function metricsRows(m: SectionMetrics): Cell[][] {
  return Object.entries(m.metrics ?? {}).map((
    [k, v],
  ) => [
    humanKey(k),
    typeof v === "number" ? formatMetric(k, v) : v,
  ]);
}

function missingQ2(m: SectionMetrics): string[] {
  const titles = (m.subsections ?? []).map((s) => s.title.toLowerCase());
  return Q2_SUBSECTIONS.filter((want) => !titles.some((t) => t.startsWith(want.toLowerCase())));
}

/** Renders the report as Markdown (paths relative to the output dir, where report.md lives). */
export function renderReportMarkdown(
  sections: readonly SectionMetrics[],
  run: RunInfo,
  outputDir: string,
): string {
  const out: string[] = ["# Study report", ""];
  for (const b of run.summary ?? []) out.push(mdBlock(b, outputDir, "summary"), "");
  out.push(
    mdTable(["run", "value"], runRows(run)),
    "",
  );
  if (run.notebooks.length > 0) {
    out.push(
      "Executed notebooks (Deno kernel, Jupyter headless executor):",
      "",
      mdTable(
        ["notebook", "code cells", "seconds"],
        run.notebooks.map((n) => [notebookLinks(n, "md"), n.cells, n.seconds.toFixed(1)]),
      ),
      "",
    );
  }
  for (const m of sections) {
    const source = `metrics/${m.section}.json`;
    out.push(`## ${SECTION_TITLES[m.section]}`, "");
    if (m.notebook) out.push(`_From ${m.notebook}._`, "");
    const rows = metricsRows(m);
    if (rows.length > 0) out.push(mdTable(["headline number", "value"], rows), "");
    for (const b of m.blocks ?? []) out.push(mdBlock(b, outputDir, source), "");
    for (const s of m.subsections ?? []) {
      out.push(`### ${s.title}`, "");
      for (const b of s.blocks) out.push(mdBlock(b, outputDir, source), "");
    }
    if (m.section === "q2") {
      for (const t of missingQ2(m)) out.push(`### ${t}`, "", "_Not provided by the notebook._", "");
    }
  }
  return out.join("\n").replace(/\n{3,}/g, "\n\n").trimEnd() + "\n";
}

// ---------------------------------------------------------------- HTML

/** Inline Markdown subset for notebook-written text: **bold**, `code`, [links](url), _em_. */
function inlineHtml(text: string): string {
  return escapeHtml(text)
    .replace(/`([^`]+)`/g, "<code>$1</code>")
    .replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>")
    .replace(/(^|\W)_([^_]+)_(?=\W|$)/g, "$1<em>$2</em>")
    .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, '<a href="$2">$1</a>');
}

/** Block Markdown subset: paragraphs, `- ` lists, `#`-headings. */
export function markdownToHtml(text: string): string {
  const out: string[] = [];
  for (const para of text.trim().split(/\n\s*\n/)) {
    const lines = para.split("\n");
    if (lines.every((l) => /^\s*[-*] /.test(l))) {
      out.push(
        "<ul>" + lines.map((l) => `<li>${inlineHtml(l.replace(/^\s*[-*] /, ""))}</li>`).join("") +
          "</ul>",
      );
    } else if (/^#{1,6} /.test(lines[0]) && lines.length === 1) {
      const level = Math.min(6, lines[0].indexOf(" ") + 2);
      out.push(`<h${level}>${inlineHtml(lines[0].replace(/^#+ /, ""))}</h${level}>`);
    } else {
      out.push(`<p>${lines.map(inlineHtml).join("<br>")}</p>`);
    }
  }
  return out.join("\n");
}

/**
 * Links to an executed notebook: its HTML rendering (nbconvert) when there is one, the `.ipynb`
 * beside it. Relative to the output dir, where the report lives.
 */
function notebookLinks(n: NotebookRunInfo, format: "md" | "html"): string {
  const link = (text: string, href: string) =>
    format === "md"
      ? `[${text}](${href})`
      : `<a href="${escapeHtml(href)}">${escapeHtml(text)}</a>`;
  return n.html
    ? `${link(n.name.replace(/\.ipynb$/, ""), n.html)} (${link(".ipynb", n.path)})`
    : link(n.name, n.path);
}

/** `--flag_names` kept on one line (the browser would break after their "--"). */
function unbrokenFlags(html: string): string {
  return html.replace(/(^|[\s(])(--[\w.-]+)/g, '$1<span class="nw">$2</span>');
}

function htmlTable(columns: readonly string[], rows: readonly Cell[][], title?: string): string {
  const head = columns.map((c) => `<th>${escapeHtml(c)}</th>`).join("");
  const body = rows.map((r) =>
    `<tr>${
      shownRow(columns, r).map((c, i) =>
        `<td${typeof r[i] === "number" ? ' class="num"' : ""}>${
          unbrokenFlags(breakable(escapeHtml(cellText(c))))
        }</td>`
      ).join("")
    }</tr>`
  ).join("\n");
  return (title ? `<p><strong>${escapeHtml(title)}</strong></p>\n` : "") +
    `<div class="tw"><table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table></div>`;
}

function htmlBlock(b: ReportBlock, outputDir: string, source: string): string {
  switch (b.kind) {
    case "markdown":
      return markdownToHtml(b.text);
    case "table":
      return htmlTable(b.columns, b.rows, b.title);
    case "json":
      return (b.title ? `<p><strong>${escapeHtml(b.title)}</strong></p>\n` : "") +
        `<pre>${escapeHtml(displayJson(b.value))}</pre>`;
    case "figure": {
      const f = figureFiles(outputDir, b.name, source);
      const title = escapeHtml(b.title ?? b.name);
      const img = f.png ? `<img src="${escapeHtml(f.png)}" alt="${title}">` : "";
      const link = f.html ? `<a href="${escapeHtml(f.html)}">interactive figure</a>` : "";
      const cap = b.caption ? ` — ${escapeHtml(b.caption)}` : "";
      return `<figure>${
        f.html && img ? `<a href="${escapeHtml(f.html)}">${img}</a>` : img
      }<figcaption><strong>${title}</strong>${cap} ${link}</figcaption></figure>`;
    }
  }
}

const CSS =
  `body{font-family:Arial,Helvetica,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.45}table{border-collapse:collapse;margin:.6em 0;max-width:100%}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top;
overflow-wrap:normal;word-break:normal;hyphens:none}.tw{overflow-x:auto}.nw{white-space:nowrap}td.num{text-align:right;font-variant-numeric:
tabular-nums}th{background:#eef0f8}pre{background:#f6f6f6;padding:.6em;overflow:auto;font-size:12px}
figure{margin:1em 0}img{max-width:100%;border:1px solid #eee}h2{border-bottom:2px solid #dde;
padding-bottom:.2em;margin-top:2em}code{background:#f3f3f3;padding:0 .2em}`;

/** Renders the report as a standalone HTML page (images and figure links relative to it). */
export function renderReportHtml(
  sections: readonly SectionMetrics[],
  run: RunInfo,
  outputDir: string,
): string {
  const out: string[] = [
    "<!DOCTYPE html>",
    '<html><head><meta charset="utf-8"><title>Study report</title>',
    `<style>${CSS}</style></head><body>`,
    "<h1>Study report</h1>",
    ...(run.summary ?? []).map((b) => htmlBlock(b, outputDir, "summary")),
    htmlTable(["run", "value"], runRows(run)),
  ];
  if (run.notebooks.length > 0) {
    const rows = run.notebooks.map((n) =>
      `<tr><td>${notebookLinks(n, "html")}</td>` +
      `<td class="num">${n.cells}</td><td class="num">${n.seconds.toFixed(1)}</td></tr>`
    ).join("\n");
    out.push(
      "<p>Executed notebooks (Deno kernel, Jupyter headless executor):</p>",
      `<table><thead><tr><th>notebook</th><th>code cells</th><th>seconds</th></tr></thead>` +
        `<tbody>\n${rows}\n</tbody></table>`,
    );
  }
  for (const m of sections) {
    const source = `metrics/${m.section}.json`;
    out.push(`<h2>${escapeHtml(SECTION_TITLES[m.section])}</h2>`);
    if (m.notebook) out.push(`<p><em>From ${escapeHtml(m.notebook)}.</em></p>`);
    const rows = metricsRows(m);
    if (rows.length > 0) out.push(htmlTable(["headline number", "value"], rows));
    for (const b of m.blocks ?? []) out.push(htmlBlock(b, outputDir, source));
    for (const s of m.subsections ?? []) {
      out.push(`<h3>${escapeHtml(s.title)}</h3>`);
      for (const b of s.blocks) out.push(htmlBlock(b, outputDir, source));
    }
    if (m.section === "q2") {
      for (const t of missingQ2(m)) {
        out.push(`<h3>${escapeHtml(t)}</h3>`, "<p><em>Not provided by the notebook.</em></p>");
      }
    }
  }
  out.push("</body></html>", "");
  return out.join("\n");
}

/**
 * Renders each executed notebook to HTML beside it (`notebooks/<name>.html`, nbconvert), for the
 * report to link instead of raw `.ipynb` JSON. Without nbconvert the `.ipynb` stays the link and
 * one line says why.
 */
export async function renderNotebooksHtml(
  outputDir: string,
  notebooks: readonly NotebookRunInfo[],
  log: (line: string) => void = console.warn,
): Promise<NotebookRunInfo[]> {
  const out: NotebookRunInfo[] = [];
  let warned = false;
  for (const n of notebooks) {
    try {
      const html = await notebookToHtml(`${outputDir}/${n.path}`);
      out.push({ ...n, html: n.path.replace(/[^/]+$/, html.split("/").at(-1)!) });
    } catch (e) {
      if (!warned) log(`[report] notebooks are linked as .ipynb: ${(e as Error).message}`);
      warned = true;
      out.push(n);
    }
  }
  return out;
}

/**
 * Reads `<outputDir>/metrics/q1..q4.json` and writes `<outputDir>/report.md` and `report.html`.
 * Throws naming the file when a section's metrics are missing or invalid, or a figure is missing.
 */
export async function writeReport(
  outputDir: string,
  run: RunInfo,
  sections: readonly SectionId[] = SECTIONS,
): Promise<{ markdown: string; html: string }> {
  const metrics: SectionMetrics[] = [];
  for (const s of sections) metrics.push(await readSectionMetrics(outputDir, s));
  run = { ...run, notebooks: await renderNotebooksHtml(outputDir, run.notebooks) };
  const md = renderReportMarkdown(metrics, run, outputDir);
  const html = renderReportHtml(metrics, run, outputDir);
  const mdPath = `${outputDir}/report.md`, htmlPath = `${outputDir}/report.html`;
  await Deno.writeTextFile(`${mdPath}.tmp`, md);
  await Deno.rename(`${mdPath}.tmp`, mdPath);
  await Deno.writeTextFile(`${htmlPath}.tmp`, html);
  await Deno.rename(`${htmlPath}.tmp`, htmlPath);
  return { markdown: mdPath, html: htmlPath };
}
