/**
 * Re-renders saved figure HTML files to PNG with headless Chromium:
 * `deno run -A scripts/export_png.ts outputs/figures/*.html` writes `<name>.png` beside each.
 * The size is the figure's own (read from the page's embedded layout).
 * @module
 */
import { DEFAULT_SIZE, findChromium, renderHtmlToPng } from "../lib/plotting/mod.ts";

/** Width/height from the `<body data-width data-height>` `figureToHtml` writes; else defaults. */
export function sizeFromHtml(html: string): { width: number; height: number } {
  const m = html.match(/<body data-width="(\d+)" data-height="(\d+)">/);
  return m ? { width: Number(m[1]), height: Number(m[2]) } : { ...DEFAULT_SIZE };
}

async function main(paths: string[]): Promise<number> {
  if (paths.length === 0 || paths.includes("--help")) {
    console.log("Usage: deno run -A scripts/export_png.ts FIGURE.html [...]");
    return paths.length === 0 ? 2 : 0;
  }
  const chromium = findChromium();
  if (!chromium) {
    console.error("no headless browser (install Debian's 'chromium' or set CHROMIUM_PATH)");
    return 1;
  }
  for (const path of paths) {
    const png = path.replace(/\.html?$/, "") + ".png";
    await renderHtmlToPng(path, png, { ...sizeFromHtml(await Deno.readTextFile(path)), chromium });
    console.log(`${path} -> ${png}`);
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
