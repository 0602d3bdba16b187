/**
 * Figures look right as drawn: each kind of figure the report saves is opened in headless
 * Chromium at its PNG size, and the text boxes of Plotly's computed layout (title, axis titles,
 * tick labels, legend, annotations) neither overlap nor reach the figure's edge; a figure made to
 * overlap is caught. The PNG is drawn to its bottom (no blank band), single evaluations are not
 * one-point line charts, and final-metric bars carry their intervals from 0.
 */
import assert from "node:assert/strict";
import {
  comparisonFigure,
  decodePng,
  drawnLayout,
  figureSize,
  finalMetricsBarFigure,
  findChromium,
  layoutProblems,
  type PlotlyFigure,
  recordsToLog,
  saveFigure,
  trainingCurvesFigure,
  type TrainingLog,
  validationFigure,
} from "../lib/plotting/mod.ts";

/** A QA-style log: `steps` updates over `epochs` epochs, lr and grad norm, one eval per epoch. */
function qaLog(steps: number, epochs: number, shift = 0): TrainingLog {
  const recs: Record<string, unknown>[] = [];
  for (let i = 0; i < steps; i++) {
    recs.push({
      step: i + 1,
      epoch: Math.floor((i * epochs) / steps),
      loss: 4.2 - i * 0.01 + shift,
      learning_rate: 1e-3 * (1 - i / steps),
      grad_norm: 2 + Math.sin(i),
      running_exact_match: 0,
    });
  }
  for (let e = 0; e < epochs; e++) {
    recs.push({ epoch: e, exact_match: 12.5 + e, f1: 23 + e, eval_loss: 3.9 - e * 0.1 });
  }
  return recordsToLog(recs);
}

const A = "A: char-masking BERT (tiny)", B = "B: whole-word-masking BERT (tiny)";

const FIGURES: Record<string, PlotlyFigure> = {
  training: trainingCurvesFigure(qaLog(12, 2), { title: `${A} — question answering: training` }),
  validation_one: validationFigure(qaLog(12, 1).evals, {
    title: `${A} — masked-LM pretraining: validation per epoch`,
  }),
  // A title too long for one line (Q3's, with the question count) is wrapped.
  validation_two: validationFigure(qaLog(12, 2).evals, {
    title: `${B} — masked-LM pretraining: validation per epoch, first 200 validation questions`,
  }),
  compare: comparisonFigure([
    { name: A, log: qaLog(12, 2) },
    { name: B, log: qaLog(12, 2, 0.1) },
  ], { title: "question answering: variants compared" }),
  compare_one_eval: comparisonFigure([
    { name: "scratch", log: qaLog(30, 1) },
    { name: "pretrained", log: qaLog(30, 1, 0.1) },
  ], { title: "question answering: pretrained vs from scratch" }),
  final: finalMetricsBarFigure([
    {
      name: "scratch",
      metrics: { exact_match: 0.67, f1: 8.67 },
      intervals: { exact_match: { low: 0, high: 1.67 }, f1: { low: 6.9, high: 10.6 } },
      n: 300,
    },
    {
      name: "pretrained",
      metrics: { exact_match: 1, f1: 9.36 },
      intervals: { exact_match: { low: 0, high: 2.33 }, f1: { low: 7.1, high: 11.5 } },
      n: 300,
    },
  ], { title: "question answering: final validation metrics" }),
};

Deno.test("figure builders: no one-point line charts; bars with intervals start at 0", () => {
  const one = FIGURES.validation_one;
  assert.ok(one.data.every((t) => t.type === "bar"), "one evaluation: bars, not a line");
  assert.deepEqual(one.data.map((t) => t.y), [[12.5, 23], [3.9]]);
  const cmp = FIGURES.compare_one_eval;
  assert.ok(
    cmp.data.filter((t) => t.yaxis === "y3").every((t) => t.type === "bar"),
    "one evaluation per run: bars",
  );
  const title = (FIGURES.validation_two.layout.title as { text: string }).text;
  assert.equal(
    title,
    `${B} —<br>masked-LM pretraining: validation per epoch, first 200 validation questions`,
  );
  const bar = FIGURES.final;
  const err = bar.data[1].error_y as { array: number[]; arrayminus: number[] };
  assert.deepEqual(err.arrayminus.map((x) => +x.toFixed(2)), [1, 2.26]);
  assert.deepEqual(err.array.map((x) => +x.toFixed(2)), [1.33, 2.14]);
  const yaxis = bar.layout.yaxis as { range: number[]; title: { text: string } };
  assert.equal(yaxis.range[0], 0);
  assert.ok(yaxis.range[1] > 11.5, "room above the highest interval for its label");
  assert.match(yaxis.title.text, /300 questions/);
  assert.match(
    JSON.stringify(bar.layout.annotations),
    /9\.36<br>\[7\.10, 11\.50\]/,
    "value and interval written above each bar",
  );
});

Deno.test({
  name: "figures drawn in headless Chromium: no overlapping or cut-off text, no blank band",
  sanitizeResources: false,
  async fn() {
    const chromium = findChromium();
    assert.ok(chromium, "Chromium is required (Debian package chromium)");
    const dir = await Deno.makeTempDir({ prefix: "plotting-layout-" });
    try {
      for (const [name, fig] of Object.entries(FIGURES)) {
        const saved = await saveFigure(fig, name, { dir, png: name === "training" });
        const layout = await drawnLayout(saved.html, { ...figureSize(fig), chromium });
        assert.ok(layout.items.length >= 5, `${name}: ${layout.items.length} texts found`);
        assert.ok(layout.items.some((i) => i.kind === "title"), `${name}: title found`);
        assert.deepEqual(layoutProblems(layout), [], name);
        if (saved.png) {
          // Drawn to the figure's bottom: the legend sits in the last 10% of the image.
          const img = decodePng(await Deno.readFile(saved.png));
          let last = 0;
          for (let y = 0; y < img.height; y++) {
            for (let x = 0; x < img.width; x++) {
              const p = (y * img.width + x) * img.channels;
              if (img.pixels[p] < 200) last = y;
            }
          }
          assert.ok(last > 0.9 * img.height, `${name}: drawing ends at row ${last}/${img.height}`);
        }
      }
      // Control: long axis titles on short stacked panels and a title pushed into the plot do
      // overlap, and the check says so.
      const bad: PlotlyFigure = {
        data: [{ type: "scatter", y: [1, 2] }, { type: "scatter", y: [2, 1], yaxis: "y2" }],
        layout: {
          height: 300,
          title: { text: "a title inside the plot area", y: 0.7 },
          yaxis: { title: { text: "a very long axis title for a short panel" }, domain: [0.55, 1] },
          yaxis2: { title: { text: "another long axis title" }, domain: [0, 0.45] },
          margin: { t: 10 },
        },
      };
      const saved = await saveFigure(bad, "bad", { dir, png: false });
      const problems = layoutProblems(
        await drawnLayout(saved.html, { ...figureSize(bad), chromium }),
      );
      assert.ok(problems.some((p) => /overlaps/.test(p)), JSON.stringify(problems));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
