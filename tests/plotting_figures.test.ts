import assert from "node:assert/strict";
import {
  comparisonFigure,
  cumulativeMean,
  epochBoundaries,
  exponentialMovingAverage,
  figureMimeBundle,
  figureToHtml,
  finalMetricsBarFigure,
  metricsTableFigure,
  parseCsv,
  parseJsonl,
  PLOTLY_MIME,
  readRunLog,
  recordsToLog,
  trainingCurvesFigure,
  type TrainingLog,
  validationFigure,
} from "../lib/plotting/mod.ts";
import { sizeFromHtml } from "../scripts/export_png.ts";

/** A 3-epoch MC log with 4 steps per epoch; running accuracy = cumulative mean of 0/1 hits. */
function mcLog(): TrainingLog {
  const hits = [0, 1, 0, 1, 1, 1, 0, 1, 1, 1, 1, 1];
  const records: Record<string, unknown>[] = hits.map((_, i) => ({
    step: i + 1,
    epoch: Math.floor(i / 4),
    loss: 1.4 - 0.1 * i,
    learning_rate: 3e-5 * (1 - i / 12),
    grad_norm: 2 + Math.sin(i),
    running_accuracy: 100 * cumulativeMean(hits.slice(0, i + 1))[i],
  }));
  for (let e = 0; e < 3; e++) {
    records.push({ epoch: e, accuracy: 0.5 + 0.1 * e, eval_loss: 1 - e * 0.2 });
  }
  return recordsToLog(records);
}

Deno.test("cumulativeMean and epochBoundaries", () => {
  assert.deepEqual(cumulativeMean([2, 4, 6]), [2, 3, 4]);
  const log = mcLog();
  assert.deepEqual(epochBoundaries(log.steps), [{ step: 4.5, epoch: 1 }, { step: 8.5, epoch: 2 }]);
  // fractional epochs (HF Trainer style)
  const frac = [0.25, 0.5, 0.75, 1.0, 1.25].map((epoch, i) => ({ step: i + 1, epoch, loss: 1 }));
  assert.deepEqual(epochBoundaries(frac), [{ step: 3.5, epoch: 1 }]);
});

Deno.test("log parsing: JSONL and CSV, step vs eval records, errors name the source", () => {
  const jsonl = '{"step":1,"epoch":0,"loss":2.5,"lr":1e-5,"running_exact_match":0}\n\n' +
    '{"type":"eval","epoch":0,"exact_match":12.5,"f1":30}\n';
  const log = recordsToLog(parseJsonl(jsonl, "a.jsonl"));
  assert.equal(log.steps.length, 1);
  assert.equal(log.steps[0].running_exact_match, 0);
  assert.deepEqual(log.evals, [{ epoch: 0, exact_match: 12.5, f1: 30 }]);
  const csv = "step,epoch,loss,lr,running_accuracy\n1,0,1.5,0.0001,0.25\n2,0,1.25,0.0001,0.5\n";
  const c = recordsToLog(parseCsv(csv, "s.csv"));
  assert.deepEqual(c.steps[1], {
    step: 2,
    epoch: 0,
    loss: 1.25,
    learning_rate: 0.0001, // read from the other tools' name "lr"
    running_accuracy: 0.5,
  });
  assert.throws(() => parseJsonl('{"step":1}\nnot json', "bad.jsonl"), /bad\.jsonl: line 2/);
  assert.throws(() => recordsToLog([{ type: "step", step: 1, loss: 1 }], "x.jsonl"), /'epoch'/);
});

Deno.test("exponentialMovingAverage: bias-corrected, starts at the first value, follows a step", () => {
  assert.deepEqual(exponentialMovingAverage([5, 5, 5], 0.9), [5, 5, 5]);
  const ema = exponentialMovingAverage([0, 0, 0, 0, 10, 10, 10, 10], 0.5);
  assert.equal(ema[0], 0);
  assert.ok(ema[4] > 4 && ema[4] < 6, String(ema[4]));
  assert.ok(ema[7] > 9, String(ema[7])); // the cumulative mean is still 5 here
  assert.throws(() => exponentialMovingAverage([1], 1), /beta must be in \[0, 1\)/);
});

Deno.test("trainingCurvesFigure: loss, cumulative average, EMA, running metric, lr and grad norm", () => {
  const log = mcLog();
  const fig = trainingCurvesFigure(log, { title: "MC" });
  assert.deepEqual(fig.data.map((t) => t.name), [
    "loss (per step)",
    "loss (cumulative average)",
    "loss (EMA, β=0.50)",
    "running accuracy",
    "learning rate",
    "gradient norm",
  ]);
  const [raw, avg, ema, acc, lr, gn] = fig.data;
  assert.deepEqual(raw.y, log.steps.map((s) => s.loss));
  assert.deepEqual(avg.y, cumulativeMean(log.steps.map((s) => s.loss)));
  assert.deepEqual(ema.y, exponentialMovingAverage(log.steps.map((s) => s.loss), 0.5));
  assert.equal(acc.yaxis, "y2");
  assert.deepEqual(acc.y, log.steps.map((s) => s.running_accuracy));
  assert.deepEqual([lr.yaxis, gn.yaxis], ["y3", "y4"]);
  assert.deepEqual(gn.y, log.steps.map((s) => s.grad_norm));
  // Axes say what they show, percent metrics with their unit; no fixed width (the window's).
  const title = (k: string) => ((fig.layout[k] as { title: { text: string } }).title.text);
  assert.deepEqual(
    ["yaxis", "yaxis2", "yaxis3", "yaxis4"].map(title),
    ["loss", "running accuracy (%)", "learning rate", "gradient norm"],
  );
  assert.equal(fig.layout.width, undefined);
  const shapes = fig.layout.shapes as { x0: number }[];
  assert.deepEqual(shapes.map((s) => s.x0), [4.5, 8.5]);
  assert.equal((fig.layout.title as { text: string }).text, "MC");
  // JSON-serializable spec
  assert.deepEqual(JSON.parse(JSON.stringify(fig)).data[1].y, avg.y);
  // Without lr / grad norm logged, no optimizer panel.
  const bare = recordsToLog(log.steps.map(({ step, epoch, loss }) => ({ step, epoch, loss })));
  assert.equal(trainingCurvesFigure(bare).data.length, 3);
  assert.equal(trainingCurvesFigure(bare).layout.yaxis3, undefined);
});

Deno.test("validationFigure: metrics on the left axis, eval loss on the right", () => {
  const fig = validationFigure([
    { epoch: 1, exact_match: 40, f1: 55, eval_loss: 2.1 },
    { epoch: 2, exact_match: 50, f1: 63, eval_loss: 1.9 },
  ]);
  assert.deepEqual(fig.data.map((t) => t.name), ["exact match", "F1", "validation loss"]);
  assert.deepEqual(fig.data[1].y, [55, 63]);
  assert.equal(fig.data[2].yaxis, "y2");
  assert.equal((fig.layout.yaxis2 as { side: string }).side, "right");
});

Deno.test("validationFigure: --eval_steps evaluations sit at their fractional epochs", () => {
  const log = recordsToLog(
    [
      { epoch: 1, epoch_float: 1, step: 6, exact_match: 40 },
      { epoch: 1, epoch_float: 0.5, step: 3, exact_match: 20 },
      { epoch: 2, epoch_float: 2, step: 12, exact_match: 55 },
    ],
    "eval_log",
    "eval",
  );
  const fig = validationFigure(log.evals);
  assert.deepEqual(fig.data[0].x, [0.5, 1, 2]); // sorted by epochs done
  assert.deepEqual(fig.data[0].y, [20, 40, 55]);
  const xaxis = fig.layout.xaxis as { tickmode?: string };
  assert.equal(xaxis.tickmode, undefined, "no integer ticks for fractional epochs");
});

Deno.test("comparisonFigure overlays runs with one colour each; bar and table views", () => {
  const a = mcLog();
  const b: TrainingLog = {
    steps: a.steps.map((s) => ({ ...s, loss: s.loss + 1 })),
    evals: a.evals.map((e) => ({ ...e, accuracy: (e.accuracy ?? 0) - 0.2 })),
  };
  const fig = comparisonFigure([{ name: "pretrained", log: a }, { name: "scratch", log: b }]);
  assert.equal(fig.data.length, 6);
  const evalTraces = fig.data.filter((t) => t.yaxis === "y3");
  assert.deepEqual(evalTraces.map((t) => t.name), ["pretrained", "scratch"]);
  assert.deepEqual(evalTraces[1].y, b.evals.map((e) => e.accuracy));
  const colors = fig.data.map((t) => (t.line as { color: string }).color);
  assert.equal(new Set(colors.slice(0, 3)).size, 1);
  assert.notEqual(colors[0], colors[3]);

  const rows = [
    { name: "pretrained", metrics: { exact_match: 61.25, f1: 70.5 } },
    { name: "scratch", metrics: { exact_match: 12, f1: 20.125 } },
  ];
  const bar = finalMetricsBarFigure(rows);
  assert.deepEqual(bar.data.map((t) => t.y), [[61.25, 70.5], [12, 20.125]]);
  const table = metricsTableFigure(rows);
  const cells = (table.data[0].cells as { values: string[][] }).values;
  assert.deepEqual(cells, [["pretrained", "scratch"], ["61.25", "12.00"], ["70.50", "20.13"]]);
});

Deno.test("figureToHtml: plotly.js inlined or loaded from a relative file; fills the window", () => {
  const fig = trainingCurvesFigure(mcLog(), { title: "a </script> title" });
  const shared = figureToHtml(fig, { bundleSrc: "plotly.min.js" });
  assert.ok(shared.length < 100_000, `${shared.length} bytes`);
  assert.match(shared, /<script src="plotly\.min\.js"><\/script>/);
  assert.match(shared, /responsive: true/);
  assert.match(shared, /#plot\{width:100vw;height:100vh\}/);
  assert.match(shared, /"autosize":true/);
  // The PNG size stays readable from the page (scripts/export_png.ts).
  assert.deepEqual(sizeFromHtml(shared), { width: 900, height: 780 });
  assert.doesNotMatch(shared, /"(width|height)":(900|600|840)\b/);
  const html = figureToHtml(fig);
  assert.ok(html.length > 1_000_000, "plotly bundle inlined");
  assert.ok(!/<script[^>]+src=/i.test(html), "no external scripts");
  assert.equal(html.match(/<\/script>/g)?.length, 2, "embedded text cannot close the script");
  assert.ok(html.includes('"running accuracy"'));
});

Deno.test("figureMimeBundle: plotly JSON plus PNG/HTML/text fallbacks", () => {
  const fig = validationFigure([{ epoch: 0, accuracy: 0.5 }, { epoch: 1, accuracy: 0.75 }]);
  const plain = figureMimeBundle(fig);
  assert.deepEqual(plain[PLOTLY_MIME], { data: fig.data, layout: fig.layout });
  assert.match(String(plain["text/plain"]), /accuracy \(scatter, 2 points\)/);
  assert.match(String(plain["text/html"]), /<pre>/);
  const png = new Uint8Array([137, 80, 78, 71]);
  const withPng = figureMimeBundle(fig, { pngBytes: png, htmlHref: "f.html" });
  assert.equal(withPng["image/png"], btoa(String.fromCharCode(...png)));
  assert.match(
    String(withPng["text/html"]),
    /^<img src="data:image\/png;base64,iVBORw==".*f\.html/,
  );
});

Deno.test("readRunLog reads train_log.jsonl and eval_log.jsonl of a run directory", async () => {
  const dir = await Deno.makeTempDir({ prefix: "plotting-runlog-" });
  try {
    await assert.rejects(readRunLog(dir), /train_log\.jsonl: training log not found/);
    await Deno.writeTextFile(
      `${dir}/train_log.jsonl`,
      '{"step":2,"epoch":0,"loss":1,"learning_rate":2e-5,"running_accuracy":0.5}\n' +
        '{"step":1,"epoch":0,"loss":2,"learning_rate":1e-5,"running_accuracy":0}\n',
    );
    const noEval = await readRunLog(dir);
    assert.deepEqual(noEval.steps.map((s) => [s.step, s.learning_rate]), [[1, 1e-5], [2, 2e-5]]);
    assert.deepEqual(noEval.evals, []);
    await Deno.writeTextFile(
      `${dir}/eval_log.jsonl`,
      '{"epoch":0,"step":2,"eval_accuracy":0.75,"loss":0.9}\n',
    );
    const log = await readRunLog(dir);
    assert.deepEqual(log.evals, [{ epoch: 0, step: 2, accuracy: 0.75, eval_loss: 0.9 }]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
