/**
 * Opens saved figure HTML in a real headless Chromium and checks the plot was drawn: a PNG of the
 * figure's size whose pixels contain the traces' colours.
 */
import assert from "node:assert/strict";
import {
  countColor,
  decodePng,
  findChromium,
  nonBackgroundFraction,
  PALETTE,
  recordsToLog,
  saveFigure,
  trainingCurvesFigure,
} from "../lib/plotting/mod.ts";

function log() {
  const recs: Record<string, unknown>[] = [];
  for (let i = 0; i < 60; i++) {
    recs.push({
      step: i + 1,
      epoch: Math.floor(i / 20),
      loss: 2 * Math.exp(-i / 20) + 0.1 * Math.sin(i),
      running_accuracy: 0.25 + 0.5 * (1 - Math.exp(-i / 15)),
    });
  }
  return recordsToLog(recs);
}

Deno.test({
  name: "saved figure HTML renders in headless Chromium (PNG of expected size, plot drawn)",
  async fn() {
    assert.ok(
      findChromium(),
      "Chromium is required (Debian package chromium; .ci/run installs it)",
    );
    const dir = await Deno.makeTempDir({ prefix: "plotting-render-" });
    try {
      const fig = trainingCurvesFigure(log(), { title: "render test" });
      fig.layout.width = 640;
      fig.layout.height = 420;
      const saved = await saveFigure(fig, "curves", { dir });
      assert.equal(saved.html, `${dir}/curves.html`);
      assert.equal(saved.png, `${dir}/curves.png`);
      const img = decodePng(await Deno.readFile(saved.png!));
      assert.equal(img.width, 640);
      assert.equal(img.height, 420);
      // Something besides the white page was drawn, and the traces' colours are there.
      assert.ok(nonBackgroundFraction(img) > 0.01, "PNG is blank");
      assert.ok(countColor(img, PALETTE[0], 10) > 200, "loss trace not drawn");
      assert.ok(countColor(img, PALETTE[1], 10) > 200, "running-accuracy trace not drawn");

      // Control: the same page with the figure's traces removed has no trace colour.
      const empty = { data: [], layout: fig.layout };
      const saved2 = await saveFigure(empty, "empty", { dir });
      const img2 = decodePng(await Deno.readFile(saved2.png!));
      assert.equal(countColor(img2, PALETTE[1], 10), 0);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("without a browser the HTML is still written and the PNG is skipped with a reason", async () => {
  const dir = await Deno.makeTempDir({ prefix: "plotting-nobrowser-" });
  const prev = Deno.env.get("CHROMIUM_PATH");
  const warn = console.warn;
  const warnings: string[] = [];
  console.warn = (...a: unknown[]) => warnings.push(a.join(" "));
  try {
    Deno.env.set("CHROMIUM_PATH", "");
    const fig = trainingCurvesFigure(log());
    const a = await saveFigure(fig, "a", { dir });
    const b = await saveFigure(fig, "b", { dir });
    assert.equal(a.png, undefined);
    assert.match(a.pngSkipped ?? "", /no headless browser/);
    // One plotly.js bundle for the folder, loaded by each (small) figure file.
    const bundle = await Deno.stat(`${dir}/plotly.min.js`);
    assert.ok(bundle.size > 1_000_000);
    assert.ok((await Deno.stat(a.html)).size < 100_000);
    assert.match(await Deno.readTextFile(b.html), /<script src="plotly\.min\.js">/);
    assert.equal(
      (await Deno.stat(`${dir}/plotly.min.js`)).mtime?.getTime(),
      bundle.mtime?.getTime(),
    );
    await assert.rejects(Deno.stat(`${dir}/a.png`));
    assert.ok(warnings.length <= 1, "one message per process");
  } finally {
    console.warn = warn;
    if (prev === undefined) Deno.env.delete("CHROMIUM_PATH");
    else Deno.env.set("CHROMIUM_PATH", prev);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "PNG export draws Chinese glyphs (a CJK font is installed), not boxes",
  async fn() {
    assert.ok(findChromium(), "Chromium is required (Debian package chromium)");
    const dir = await Deno.makeTempDir({ prefix: "plotting-cjk-" });
    try {
      // Without a CJK font every character is the same .notdef box, so two different texts give
      // the same pixels; with one, the glyphs differ.
      const render = async (text: string, name: string) => {
        const fig = {
          data: [],
          layout: {
            width: 400,
            height: 160,
            title: { text, font: { size: 64 } },
            xaxis: { visible: false },
            yaxis: { visible: false },
          },
        };
        const saved = await saveFigure(fig, name, { dir });
        return decodePng(await Deno.readFile(saved.png!));
      };
      const a = await render("問答模型", "a");
      const b = await render("閱讀理解", "b");
      assert.ok(nonBackgroundFraction(a) > 0.005, "no text drawn");
      let differ = 0;
      for (let i = 0; i < a.pixels.length; i += a.channels) {
        if (Math.abs(a.pixels[i] - b.pixels[i]) > 64) differ++;
      }
      assert.ok(
        differ > 500,
        `different Chinese texts render alike (${differ} pixels differ): no CJK font ` +
          "(install Debian's fonts-noto-cjk)",
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
