/**
 * Showing report blocks in a notebook (the Deno Jupyter kernel's `Deno.jupyter.display`): Markdown
 * and tables as HTML with Markdown / text fallbacks, JSON as text. Outside a kernel the text forms
 * are printed. The notebook shows the same blocks it writes to its metrics file.
 * @module
 */
import { escapeHtml } from "../plotting/mod.ts";
import { markdownToHtml } from "./assemble.ts";
import { cellText, displayJson } from "./format.ts";
import type { Cell, ReportBlock } from "./metrics.ts";

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

/** The plain Markdown table of the text fallback (the report's own adds percent formatting). */
function plainMarkdownTable(columns: readonly string[], rows: readonly Cell[][]): string {
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
  const titled = (title: string | undefined, body: string) => (title ? `${title}\n` : "") + body;
  for (const b of blocks) {
    if (b.kind === "markdown") {
      await displayHtml(markdownToHtml(b.text), b.text);
    } else if (b.kind === "table") {
      await displayHtml(
        tableHtml(b.columns, b.rows, b.title),
        titled(b.title, plainMarkdownTable(b.columns, b.rows)),
      );
    } else if (b.kind === "json") {
      const text = titled(b.title, displayJson(b.value));
      await displayHtml(`<pre>${escapeHtml(text)}</pre>`, text);
    }
  }
}
