/**
 * Checks a saved figure's drawn layout for overlapping text: the figure's HTML page
 * (lib/plotting/html.ts) opened with `#check` in headless Chromium draws the plot at the figure's
 * size and writes the bounding boxes Plotly's layout gave its texts (title, axis titles, each
 * axis's tick labels, legend, annotations) into the page; `--dump-dom` hands them back.
 * {@link layoutProblems} lists the pairs that overlap and the texts outside the figure.
 * @module
 */
import { runHeadlessChromium, stderrTail } from "./export.ts";

/** One text (or group of tick labels) and its box in CSS pixels, as the browser drew it. */
export interface TextBox {
  kind: "title" | "axis-title" | "ticks" | "legend" | "annotation";
  name: string;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** The drawn figure: the window, the figure's SVG box and its texts. */
export interface DrawnLayout {
  width: number;
  height: number;
  figure: { x0: number; y0: number; x1: number; y1: number };
  items: TextBox[];
}

function unescapeHtml(s: string): string {
  return s.replaceAll("&quot;", '"').replaceAll("&lt;", "<").replaceAll("&gt;", ">")
    .replaceAll("&#39;", "'").replaceAll("&nbsp;", "\u00a0").replaceAll("&amp;", "&");
}

/**
 * Opens `htmlPath` (a page of `figureToHtml`) with `#check` at `width` × `height` in headless
 * Chromium and returns the drawn text boxes. Throws when the page did not report them.
 */
export async function drawnLayout(
  htmlPath: string,
  opts: { width: number; height: number; chromium?: string; timeoutMs?: number },
): Promise<DrawnLayout> {
  const { out } = await runHeadlessChromium(htmlPath, "check", ["--dump-dom"], opts);
  const dom = new TextDecoder().decode(out.stdout);
  const m = dom.match(/<pre id="layout-check">([\s\S]*?)<\/pre>/);
  if (!m) {
    throw new Error(
      `${htmlPath}: the page reported no layout (exit ${out.code}):\n${stderrTail(out)}`,
    );
  }
  return JSON.parse(unescapeHtml(m[1]));
}

const overlap = (a: TextBox, b: TextBox, tol: number) =>
  Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0) > tol &&
  Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0) > tol;

/**
 * What is wrong with a drawn layout: every pair of texts whose boxes overlap by more than `tol`
 * pixels both ways, and every text closer than `inset` pixels to the figure's edge (cut off, or
 * touching it).
 */
export function layoutProblems(layout: DrawnLayout, tol = 1, inset = 2): string[] {
  const out: string[] = [];
  const { items, figure } = layout;
  for (const it of items) {
    if (
      it.x0 < figure.x0 + inset || it.y0 < figure.y0 + inset || it.x1 > figure.x1 - inset ||
      it.y1 > figure.y1 - inset
    ) {
      out.push(`${it.kind} "${it.name}" reaches the figure's edge`);
    }
  }
  for (let i = 0; i < items.length; i++) {
    for (let j = i + 1; j < items.length; j++) {
      if (overlap(items[i], items[j], tol)) {
        out.push(
          `${items[i].kind} "${items[i].name}" overlaps ${items[j].kind} "${items[j].name}"`,
        );
      }
    }
  }
  return out;
}
