/**
 * Self-contained interactive HTML for a figure: the plotly.js bundle from the npm package
 * `plotly.js-dist-min` (never a CDN) is inlined, so the file opens offline anywhere.
 * @module
 */
import { DEFAULT_SIZE, type PlotlyFigure } from "./figures.ts";

let bundleCache: string | undefined;

function candidateBundlePaths(): string[] {
  const out: string[] = [];
  try {
    // Resolves through the import map to the installed npm package (node_modules).
    const url = import.meta.resolve("plotly.js-dist-min");
    if (url.startsWith("file:")) out.push(new URL(url).pathname);
  } catch {
    // not resolvable from here; fall back to looking for node_modules
  }
  let dir = new URL(".", import.meta.url);
  for (let i = 0; i < 6; i++) {
    out.push(new URL("node_modules/plotly.js-dist-min/plotly.min.js", dir).pathname);
    dir = new URL("..", dir);
  }
  return out;
}

/**
 * The plotly.js bundle's source (read once, then cached). Throws a message naming the paths tried
 * and the fix (`deno install`) when the npm package is not installed.
 */
export function plotlyBundleSource(): string {
  if (bundleCache !== undefined) return bundleCache;
  const tried = candidateBundlePaths();
  for (const path of tried) {
    try {
      bundleCache = Deno.readTextFileSync(path);
      return bundleCache;
    } catch {
      // try the next candidate
    }
  }
  throw new Error(
    `plotly.js bundle not found (npm package plotly.js-dist-min; tried ${tried.join(", ")}). ` +
      "Run 'deno install' in the project root.",
  );
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}

/** JSON safe to embed inside a `<script>` element. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replaceAll("<", "\\u003c").replaceAll("\u2028", "\\u2028")
    .replaceAll("\u2029", "\\u2029");
}

/** Width and height of a figure in pixels (its layout's, else the defaults). */
export function figureSize(fig: PlotlyFigure): { width: number; height: number } {
  const w = fig.layout.width, h = fig.layout.height;
  return {
    width: typeof w === "number" ? w : DEFAULT_SIZE.width,
    height: typeof h === "number" ? h : DEFAULT_SIZE.height,
  };
}

/**
 * A complete HTML document drawing `fig` with plotly.js inlined. The page has no margins and is
 * exactly the figure's size, so a screenshot of that window size is the figure. When the plot has
 * been drawn, `document.body.dataset.rendered` is set to `"1"`.
 */
export function figureToHtml(fig: PlotlyFigure, opts: { title?: string } = {}): string {
  const { width, height } = figureSize(fig);
  const layout = { ...fig.layout, width, height };
  const title = opts.title ??
    String((fig.layout.title as { text?: string } | undefined)?.text ?? "figure");
  return [
    "<!DOCTYPE html>",
    '<html><head><meta charset="utf-8">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>html,body{margin:0;padding:0;background:#fff;overflow:hidden}` +
    `#plot{width:${width}px;height:${height}px}</style>`,
    `<script>${plotlyBundleSource().replaceAll("</script", "<\\/script")}</script>`,
    '</head><body><div id="plot"></div>',
    "<script>",
    `const fig = ${scriptJson({ data: fig.data, layout })};`,
    // "#static" (used for the PNG export) hides the mode bar.
    'const config = {displaylogo: false, responsive: false, displayModeBar: location.hash !== "#static" && "hover"};',
    'Plotly.newPlot("plot", fig.data, fig.layout, config)',
    '  .then(() => { document.body.dataset.rendered = "1"; });',
    "</script></body></html>",
    "",
  ].join("\n");
}
