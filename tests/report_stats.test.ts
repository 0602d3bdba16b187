/** lib/report/stats.ts: bootstrap intervals, paired differences, seed spread, sentences. */
import assert from "node:assert/strict";
import {
  bootstrapMean,
  compareSentence,
  formatInterval,
  pairedBootstrap,
  quantile,
  seedSpread,
  verdict,
} from "../lib/report/stats.ts";
import { createRng } from "../lib/util/random.ts";

function near(a: number, b: number, tol = 1e-9): void {
  assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b} (tolerance ${tol})`);
}

Deno.test("quantile interpolates between order statistics", () => {
  assert.deepEqual(quantile([1, 2, 3, 4], 0), 1);
  assert.deepEqual(quantile([1, 2, 3, 4], 1), 4);
  near(quantile([1, 2, 3, 4], 0.5), 2.5);
  near(quantile([0, 10], 0.25), 2.5);
});

Deno.test("bootstrapMean: value is the plain mean, interval brackets it, seeded", () => {
  const scores = Array.from({ length: 400 }, (_, i) => (i % 4 === 0 ? 0 : 100)); // 75%
  const a = bootstrapMean(scores, { seed: 1 });
  assert.deepEqual(a.value, 75);
  assert.deepEqual(a.n, 400);
  assert.ok(a.low < 75 && a.high > 75, formatInterval(a));
  // Binomial standard error sqrt(.75 * .25 / 400) = 2.165 points: 95% half-width ~ 4.2.
  near((a.high - a.low) / 2, 1.96 * Math.sqrt(0.75 * 0.25 / 400) * 100, 0.6);
  assert.deepEqual(bootstrapMean(scores, { seed: 1 }), a);
  assert.ok(JSON.stringify(bootstrapMean(scores, { seed: 2 })) !== JSON.stringify(a));
  // A constant has a zero-width interval.
  const c = bootstrapMean([50, 50, 50]);
  assert.deepEqual([c.value, c.low, c.high], [50, 50, 50]);
});

Deno.test("bootstrapMean: coverage of the 95% interval is near 95% on simulated data", () => {
  const rng = createRng(7);
  let covered = 0;
  const trials = 200;
  for (let t = 0; t < trials; t++) {
    const xs = Array.from({ length: 150 }, () => (rng.next() < 0.6 ? 100 : 0));
    const i = bootstrapMean(xs, { seed: t, samples: 500 });
    if (i.low <= 60 && 60 <= i.high) covered++;
  }
  assert.ok(covered / trials > 0.88 && covered / trials < 0.99, `coverage ${covered / trials}`);
});

Deno.test("pairedBootstrap: difference B - A, narrower than unpaired when scores correlate", () => {
  const rng = createRng(3);
  const hard = Array.from({ length: 300 }, () => rng.next());
  const a: number[] = hard.map((h) => (h < 0.5 ? 100 : 0));
  const b: number[] = hard.map((h, i) => (h < 0.5 || i % 10 === 0 ? 100 : 0)); // B also gets every 10th
  const d = pairedBootstrap(a, b, { seed: 5 });
  near(d.value, b.reduce((s, x) => s + x, 0) / 300 - a.reduce((s, x) => s + x, 0) / 300);
  assert.ok(d.value > 0 && d.low > 0, formatInterval(d));
  assert.deepEqual(verdict(d), "b");
  const ia = bootstrapMean(a, { seed: 5 }), ib = bootstrapMean(b, { seed: 5 });
  assert.ok(d.high - d.low < (ia.high - ia.low + ib.high - ib.low) / 2);
  // Same system twice: exactly zero.
  const z = pairedBootstrap(a, a);
  assert.deepEqual([z.value, z.low, z.high], [0, 0, 0]);
  assert.deepEqual(verdict(z), "none");
  assert.throws(() => pairedBootstrap([1, 2], [1]), { message: new RegExp("same questions") });
  assert.throws(() => bootstrapMean([]), { message: new RegExp("no scores") });
  assert.throws(() => bootstrapMean([1, NaN]), { message: new RegExp("not a finite number") });
});

Deno.test("compareSentence follows the interval", () => {
  const up = { value: 3.1, low: 0.8, high: 5.4, n: 100 };
  assert.deepEqual(compareSentence("A", "B", up), "B better by 3.1 [0.8, 5.4] points");
  const down = { value: -3.1, low: -5.4, high: -0.8, n: 100 };
  assert.deepEqual(compareSentence("A", "B", down), "A better by 3.1 [0.8, 5.4] points");
  const none = { value: 1.2, low: -2, high: 4.3, n: 100 };
  assert.ok(compareSentence("A", "B", none).startsWith("no difference at this scale"));
  assert.ok(compareSentence("A", "B", none).includes("1.2 [-2.0, 4.3]"));
});

Deno.test("seedSpread: mean, sample sd, range", () => {
  const s = seedSpread([60, 62, 64]);
  assert.deepEqual(s.mean, 62);
  near(s.sd, 2);
  assert.deepEqual([s.min, s.max], [60, 64]);
  assert.deepEqual(seedSpread([5]).sd, 0);
});
