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

/**
 * Opens `htmlPath` in headless Chromium with a window of exactly width × height and screenshots
 * it to `pngPath`. Throws with the browser's stderr tail if no PNG was produced.
 */
export async function renderHtmlToPng(
  htmlPath: string,
  pngPath: string,
  opts: RenderOptions,
): Promise<void> {
  const chromium = opts.chromium ?? findChromium();
  if (!chromium) throw new Error("no Chromium/Chrome executable found");
  const abs = (p: string) => (p.startsWith("/") ? p : `${Deno.cwd()}/${p}`);
  const profile = await Deno.makeTempDir({ prefix: "chromium-profile-" });
  try {
    try {
      await Deno.remove(pngPath);
    } catch {
      // no previous PNG
    }
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
      // Virtual time runs the page's scripts (plotly's drawing) to completion before capture.
      `--virtual-time-budget=${opts.virtualTimeBudgetMs ?? 10000}`,
      `--screenshot=${abs(pngPath)}`,
      new URL(`file://${abs(htmlPath)}#static`).href,
    ];
    const out = await new Deno.Command(chromium, {
      args,
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
      signal: AbortSignal.timeout(opts.timeoutMs ?? 120_000),
    }).output();
    if (!isFile(pngPath)) {
      const err = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-5).join("\n");
      throw new Error(
        `Chromium (${chromium}) exited with code ${out.code} without writing ${pngPath}:\n${err}`,
      );
    }
  } finally {
    await Deno.remove(profile, { recursive: true }).catch(() => {});
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
