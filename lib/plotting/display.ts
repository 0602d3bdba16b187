/**
 * Showing figures in a Deno Jupyter notebook through the Plotly MIME bundle
 * (`application/vnd.plotly.v1+json`, rendered by JupyterLab, VS Code and nbviewer) with fallbacks:
 * the PNG (when rendered) as `image/png` and in `text/html`, and a plain-text summary.
 * @module
 */
import { Buffer } from "node:buffer";
import { dirname, relative, resolve } from "node:path";
import { type PlotlyFigure } from "./figures.ts";
import { type SavedFigure, saveFigure } from "./export.ts";
import { escapeHtml } from "./html.ts";

/** MIME type of Plotly figures in Jupyter. */
export const PLOTLY_MIME = "application/vnd.plotly.v1+json";

/** A Jupyter MIME bundle. */
export type MimeBundle = Record<string, unknown>;

/** One line per trace: name, type and number of points. */
export function figureSummary(fig: PlotlyFigure): string {
  const title = String((fig.layout.title as { text?: string } | undefined)?.text ?? "figure");
  const lines = [`Figure: ${title}`];
  for (const t of fig.data) {
    const n = Array.isArray(t.y) ? t.y.length : Array.isArray(t.x) ? t.x.length : 0;
    lines.push(`  - ${String(t.name ?? t.type)} (${String(t.type)}, ${n} points)`);
  }
  return lines.join("\n");
}

/**
 * Builds the MIME bundle for a figure. With `pngBytes`, the bundle also carries `image/png` and an
 * HTML fallback showing that image (plus a link to `htmlHref`, the saved interactive file);
 * otherwise the HTML fallback is the text summary.
 */
export function figureMimeBundle(
  fig: PlotlyFigure,
  opts: { pngBytes?: Uint8Array; htmlHref?: string } = {},
): MimeBundle {
  const summary = figureSummary(fig);
  const bundle: MimeBundle = {
    [PLOTLY_MIME]: { data: fig.data, layout: fig.layout },
    "text/plain": summary,
  };
  const link = opts.htmlHref
    ? `<div><a href="${escapeHtml(opts.htmlHref)}">interactive figure</a></div>`
    : "";
  if (opts.pngBytes) {
    const b64 = Buffer.from(opts.pngBytes).toString("base64");
    bundle["image/png"] = b64;
    bundle["text/html"] = `<img src="data:image/png;base64,${b64}" alt="${
      escapeHtml(summary.split("\n")[0])
    }">${link}`;
  } else {
    bundle["text/html"] = `<pre>${escapeHtml(summary)}</pre>${link}`;
  }
  return bundle;
}

interface JupyterApi {
  display(obj: unknown, opts?: { raw?: boolean }): Promise<void>;
}

function jupyter(): JupyterApi | undefined {
  return (Deno as unknown as { jupyter?: JupyterApi }).jupyter;
}

/** Displays a MIME bundle in the Deno kernel; outside Jupyter prints its text/plain part. */
export async function displayBundle(bundle: MimeBundle): Promise<void> {
  const j = jupyter();
  if (j) await j.display(bundle, { raw: true });
  else console.log(String(bundle["text/plain"] ?? ""));
}

/** Displays a figure (Plotly bundle + text fallback) without saving it. */
export async function displayFigure(fig: PlotlyFigure): Promise<void> {
  await displayBundle(figureMimeBundle(fig));
}

/**
 * A relative link (URL path, `/` separated) from a document in folder `fromDir` to `target`:
 * links written into notebooks and reports never hold the absolute paths of the machine that
 * wrote them.
 */
export function relativeHref(fromDir: string, target: string): string {
  const rel = relative(resolve(fromDir), resolve(target)).split(/[\\/]/).map(encodeURIComponent);
  return rel.join("/");
}

/**
 * Saves a figure (`<dir>/<name>.html` and `.png`, see `saveFigure`) and displays it with the
 * rendered PNG as the fallback and a relative link to the interactive HTML. The link is relative
 * to `linkFrom`, the folder of the document showing it (default: the `notebooks` folder beside
 * `dir`, where the report writes executed notebooks: `outputs/figures` → `outputs/notebooks`).
 * Returns the saved paths.
 */
export async function showFigure(
  fig: PlotlyFigure,
  name: string,
  opts: { dir?: string; png?: boolean; linkFrom?: string } = {},
): Promise<SavedFigure> {
  const saved = await saveFigure(fig, name, opts);
  const pngBytes = saved.png ? await Deno.readFile(saved.png) : undefined;
  const linkFrom = opts.linkFrom ?? `${dirname(resolve(dirname(saved.html)))}/notebooks`;
  const htmlHref = relativeHref(linkFrom, saved.html);
  await displayBundle(figureMimeBundle(fig, { pngBytes, htmlHref }));
  return saved;
}
