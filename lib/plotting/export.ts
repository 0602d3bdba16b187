/**
 * Saving figures: interactive HTML always (loading one shared `plotly.min.js` per folder), and a PNG rendered by a real headless
 * Chromium when one is installed. Without a browser the PNG is skipped with one clear message.
 * @module
 */
import { type PlotlyFigure } from "./figures.ts";
import { figureSize, figureToHtml, PLOTLY_BUNDLE_FILE, plotlyBundleSource } from "./html.ts";

/** Where figures go by default, relative to the working directory. */
export const DEFAULT_FIGURE_DIR = "outputs/figures";

const CHROMIUM_CANDIDATES = [
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
  "/usr/bin/google-chrome-stable",
];

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/**
 * Path of a Chromium/Chrome executable: `$CHROMIUM_PATH` (empty string = none, to force the
 * no-browser path), else the first installed of the usual Debian/Chrome locations; null if none.
 */
export function findChromium(): string | null {
  const env = Deno.env.get("CHROMIUM_PATH");
  if (env !== undefined) return env === "" ? null : (isFile(env) ? env : null);
  return CHROMIUM_CANDIDATES.find(isFile) ?? null;
}

/** Options for {@link renderHtmlToPng}. */
export interface RenderOptions {
  width: number;
  height: number;
  /** Browser executable; default {@link findChromium}. */
  chromium?: string;
  /** Virtual time given to the page to load and draw before the screenshot (ms). */
  virtualTimeBudgetMs?: number;
  /** Kill the browser after this many ms. */
  timeoutMs?: number;
}

/** A path as the browser's `file://` URL needs it: absolute. */
function absolute(p: string): string {
  return p.startsWith("/") ? p : `${Deno.cwd()}/${p}`;
}

/**
 * Opens the page `htmlPath` at `#hash` in headless Chromium, with a window of exactly width ×
 * height, a fresh profile (removed afterwards) and virtual time for the page's scripts (plotly's
 * drawing) to run to completion; `output` are the flags of what to hand back (`--screenshot=…`,
 * `--dump-dom`). The one launch of the browser for the figures' PNGs and their layout check.
 */
export async function runHeadlessChromium(
  htmlPath: string,
  hash: string,
  output: string[],
  opts: RenderOptions,
): Promise<{ chromium: string; out: Deno.CommandOutput }> {
  const chromium = opts.chromium ?? findChromium();
  if (!chromium) throw new Error("no Chromium/Chrome executable found");
  const profile = await Deno.makeTempDir({ prefix: "chromium-profile-" });
  try {
    const args = [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-extensions",
      "--hide-scrollbars",
      "--force-device-scale-factor=1",
      `--user-data-dir=${profile}`,
      `--window-size=${opts.width},${opts.height}`,
      `--virtual-time-budget=${opts.virtualTimeBudgetMs ?? 10000}`,
      ...output,
      new URL(`file://${absolute(htmlPath)}#${hash}`).href,
    ];
    const out = await new Deno.Command(chromium, {
      args,
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
      signal: AbortSignal.timeout(opts.timeoutMs ?? 120_000),
    }).output();
    return { chromium, out };
  } finally {
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
}

/** The last lines of a browser's stderr, for an error message. */
export function stderrTail(out: Deno.CommandOutput): string {
  return new TextDecoder().decode(out.stderr).trim().split("\n").slice(-5).join("\n");
}

/**
 * Opens `htmlPath` in headless Chromium with a window of exactly width × height and screenshots
 * it to `pngPath`. Throws with the browser's stderr tail if no PNG was produced.
 */
export async function renderHtmlToPng(
  htmlPath: string,
  pngPath: string,
  opts: RenderOptions,
): Promise<void> {
  try {
    await Deno.remove(pngPath);
  } catch {
    // no previous PNG
  }
  const { chromium, out } = await runHeadlessChromium(
    htmlPath,
    "static",
    [`--screenshot=${absolute(pngPath)}`],
    opts,
  );
  if (!isFile(pngPath)) {
    throw new Error(
      `Chromium (${chromium}) exited with code ${out.code} without writing ${pngPath}:\n` +
        stderrTail(out),
    );
  }
}

/** Result of {@link saveFigure}. */
export interface SavedFigure {
  /** Path of the interactive HTML. */
  html: string;
  /** Path of the PNG, when one was rendered. */
  png?: string;
  /** Why there is no PNG. */
  pngSkipped?: string;
}

let warnedNoBrowser = false;

/**
 * Writes `<dir>/plotly.min.js` (the plotly.js bundle, once per folder: rewritten only when it
 * differs) and returns its path.
 */
export async function writePlotlyBundle(dir: string): Promise<string> {
  const path = `${dir}/${PLOTLY_BUNDLE_FILE}`;
  const source = plotlyBundleSource();
  let same = false;
  try {
    same = (await Deno.stat(path)).size === new TextEncoder().encode(source).length &&
      (await Deno.readTextFile(path)) === source;
  } catch {
    // not written yet
  }
  if (!same) {
    await Deno.writeTextFile(`${path}.tmp`, source);
    await Deno.rename(`${path}.tmp`, path);
  }
  return path;
}

/**
 * Writes `<dir>/<name>.html` (loading `<dir>/plotly.min.js`, written once per folder) and `<dir>/<name>.png` (headless
 * Chromium screenshot of that HTML, at the figure's size). Without a browser, prints one message
 * per process and returns `pngSkipped`; the HTML is still written.
 */
export async function saveFigure(
  fig: PlotlyFigure,
  name: string,
  opts: { dir?: string; png?: boolean } = {},
): Promise<SavedFigure> {
  if (!/^[\w.-]+$/.test(name)) {
    throw new Error(`figure name ${JSON.stringify(name)} must use only letters, digits, . _ -`);
  }
  const dir = opts.dir ?? DEFAULT_FIGURE_DIR;
  await Deno.mkdir(dir, { recursive: true });
  const html = `${dir}/${name}.html`;
  const tmp = `${html}.tmp`;
  await writePlotlyBundle(dir);
  await Deno.writeTextFile(tmp, figureToHtml(fig, { bundleSrc: PLOTLY_BUNDLE_FILE }));
  await Deno.rename(tmp, html);
  if (opts.png === false) return { html, pngSkipped: "PNG export not requested" };
  const chromium = findChromium();
  if (!chromium) {
    const reason = "no headless browser (install Debian's 'chromium' or set CHROMIUM_PATH); " +
      "PNG figures are skipped, interactive HTML is still written";
    if (!warnedNoBrowser) {
      console.warn(`[plotting] ${reason}`);
      warnedNoBrowser = true;
    }
    return { html, pngSkipped: reason };
  }
  const png = `${dir}/${name}.png`;
  await renderHtmlToPng(html, png, { ...figureSize(fig), chromium });
  return { html, png };
}
