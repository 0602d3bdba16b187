/**
 * Interactive HTML for a figure with the plotly.js bundle of the npm package `plotly.js-dist-min`
 * (never a CDN): either loaded from a file beside the figure (one `plotly.min.js` per output
 * folder, see `saveFigure`) or inlined, so the file opens offline anywhere. The figure fills the
 * window and follows its size.
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
 * The page script behind `#check` (see lib/plotting/layout_check.ts): the bounding boxes of the
 * drawn figure's texts (title, axis titles, tick labels by axis, legend, annotations), written as
 * JSON into `<pre id="layout-check">` for a headless browser's `--dump-dom`.
 */
const LAYOUT_CHECK = String.raw`function layoutCheck() {
  const box = (el) => {
    const r = el.getBoundingClientRect();
    return { x0: r.left, y0: r.top, x1: r.right, y1: r.bottom };
  };
  const union = (els) => els.map(box).filter((b) => b.x1 > b.x0 && b.y1 > b.y0).reduce((a, b) =>
    a ? { x0: Math.min(a.x0, b.x0), y0: Math.min(a.y0, b.y0), x1: Math.max(a.x1, b.x1),
      y1: Math.max(a.y1, b.y1) } : b, null);
  const items = [];
  const add = (kind, name, els) => {
    const b = union([...els]);
    if (b) items.push({ kind, name, ...b });
  };
  const root = document.getElementById("plot");
  add("title", "title", root.querySelectorAll(".g-gtitle text"));
  root.querySelectorAll("g[class^='g-']").forEach((g) => {
    const cls = g.getAttribute("class");
    if (/^g-[xy]\d*title$/.test(cls)) add("axis-title", cls, g.querySelectorAll("text"));
  });
  root.querySelectorAll("g.subplot").forEach((sp) => {
    const name = sp.getAttribute("class").replace("subplot", "").trim();
    add("ticks", name + " x", sp.querySelectorAll(".xaxislayer-above text"));
    add("ticks", name + " y", sp.querySelectorAll(".yaxislayer-above text"));
  });
  add("legend", "legend", root.querySelectorAll(".legend .bg"));
  root.querySelectorAll(".annotation").forEach((a, i) =>
    add("annotation", "annotation " + i + ": " + a.textContent, [a]));
  const pre = document.createElement("pre");
  pre.id = "layout-check";
  pre.textContent = JSON.stringify({ width: innerWidth, height: innerHeight,
    figure: box(root.querySelector(".main-svg")), items });
  document.body.appendChild(pre);
}`;

/** File name of the shared plotly.js bundle beside saved figures. */
export const PLOTLY_BUNDLE_FILE = "plotly.min.js";

/** Options of {@link figureToHtml}. */
export interface FigureHtmlOptions {
  title?: string;
  /**
   * Relative URL of the plotly.js bundle to load (e.g. `plotly.min.js` beside the figure);
   * default: the bundle is inlined (a self-contained file of about 4.7 MB).
   */
  bundleSrc?: string;
}

/**
 * A complete HTML document drawing `fig` with plotly.js. The plot fills the window and resizes
 * with it (Plotly's `responsive`), so a screenshot of a window of the figure's size is the
 * figure. When the plot has been drawn, `document.body.dataset.rendered` is set to `"1"`.
 */
export function figureToHtml(fig: PlotlyFigure, opts: FigureHtmlOptions = {}): string {
  // Width and height come from the window, not from the layout (they are the PNG's size).
  const size = figureSize(fig);
  const { width: _w, height: _h, ...layout } = fig.layout;
  layout.autosize = true;
  const title = opts.title ??
    String((fig.layout.title as { text?: string } | undefined)?.text ?? "figure");
  const bundle = opts.bundleSrc
    ? `<script src="${escapeHtml(opts.bundleSrc)}"></script>`
    : `<script>${plotlyBundleSource().replaceAll("</script", "<\\/script")}</script>`;
  return [
    "<!DOCTYPE html>",
    '<html><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>html,body{margin:0;padding:0;background:#fff;width:100%;height:100%;overflow:hidden}` +
    `#plot{width:100vw;height:100vh}</style>`,
    bundle,
    // The figure's own size (the PNG's), for tools that screenshot the page.
    `</head><body data-width="${size.width}" data-height="${size.height}"><div id="plot"></div>`,
    "<script>",
    `const fig = ${scriptJson({ data: fig.data, layout })};`,
    // "#static" (used for the PNG export) hides the mode bar.
    'const config = {displaylogo: false, responsive: true, displayModeBar: location.hash !== "#static" && "hover"};',
    // A screenshot (#static) or a layout check (#check) draws at exactly the figure's size: a
    // headless window's viewport can be shorter than the window, which would leave a blank band.
    'if (location.hash !== "") {',
    '  const el = document.getElementById("plot");',
    '  el.style.width = document.body.dataset.width + "px";',
    '  el.style.height = document.body.dataset.height + "px";',
    "  config.responsive = false;",
    "}",
    'Plotly.newPlot("plot", fig.data, fig.layout, config)',
    '  .then(() => { document.body.dataset.rendered = "1"; })',
    '  .then(() => { if (location.hash === "#check") layoutCheck(); });',
    LAYOUT_CHECK,
    "</script></body></html>",
    "",
  ].join("\n");
}
