/**
 * Figures in a real Deno Jupyter kernel (executed through nbclient): the display carries the
 * Plotly MIME bundle plus PNG/HTML/text fallbacks, and the files are saved.
 */
import assert from "node:assert/strict";
import { runNotebook } from "../lib/report/mod.ts";
import { PLOTLY_MIME } from "../lib/plotting/mod.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const PLOTTING = new URL("../lib/plotting/mod.ts", import.meta.url).href;

Deno.test("showFigure in the Deno kernel displays the Plotly bundle with fallbacks", async () => {
  const dir = await Deno.makeTempDir({ prefix: "plotting-notebook-" });
  try {
    const code = [
      `import { showFigure, validationFigure } from "${PLOTTING}";`,
      `const fig = validationFigure([{ epoch: 1, accuracy: 0.5 }, { epoch: 2, accuracy: 0.75 }]);
const saved = await showFigure(fig, "val", { dir: "${dir}/figs" });
console.log(JSON.stringify(saved));`,
    ];
    const nb = {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: { kernelspec: { name: "deno", display_name: "Deno", language: "typescript" } },
      cells: code.map((source, i) => ({
        id: `c${i}`,
        cell_type: "code",
        metadata: {},
        source,
        execution_count: null,
        outputs: [],
      })),
    };
    await Deno.writeTextFile(`${dir}/fig.ipynb`, JSON.stringify(nb));
    // kernel in the project root, so the import map (npm packages) applies
    await runNotebook(`${dir}/fig.ipynb`, `${dir}/out.ipynb`, { cwd: ROOT, onOutput: () => {} });
    const out = JSON.parse(await Deno.readTextFile(`${dir}/out.ipynb`));
    const outputs = out.cells[1].outputs as {
      output_type: string;
      data?: Record<string, unknown>;
    }[];
    const display = outputs.find((o) => o.output_type === "display_data");
    assert.ok(display?.data, "no display_data output");
    const fig = display.data[PLOTLY_MIME] as { data: { y: number[] }[] };
    assert.deepEqual(fig.data[0].y, [0.5, 0.75]);
    assert.match(String(display.data["text/plain"]), /accuracy \(scatter, 2 points\)/);
    const png = atob(String(display.data["image/png"]).replaceAll("\n", ""));
    assert.equal(png.slice(1, 4), "PNG");
    assert.match(String(display.data["text/html"]), /^<img src="data:image\/png;base64,/);
    assert.ok((await Deno.stat(`${dir}/figs/plotly.min.js`)).size > 1_000_000);
    // The "interactive figure" link is relative (from the notebooks folder beside figs/).
    assert.match(String(display.data["text/html"]), /<a href="\.\.\/figs\/val\.html">/);
    assert.doesNotMatch(JSON.stringify(out), new RegExp(`href=\\\\?"${dir}`));
    assert.ok((await Deno.stat(`${dir}/figs/val.png`)).size > 1000);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
