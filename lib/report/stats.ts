/**
 * Uncertainty of the report's numbers, pure functions over per-question scores:
 *
 * - {@link bootstrapMean}: the mean of per-question scores (an accuracy is the mean of 0/100
 *   scores, EM of 0/100, F1 of 0..100) with a 95% percentile bootstrap interval, resampling
 *   questions with replacement;
 * - {@link pairedBootstrap}: the difference of two systems' means on the SAME questions, with a
 *   paired bootstrap interval (each resample draws questions and takes both systems' scores on
 *   them, so question difficulty cancels);
 * - {@link seedSpread}: mean, standard deviation and range of one number over seeds;
 * - {@link compareSentence}: the sentence the report says about a difference, which follows the
 *   interval ("B better by 3.1 [0.8, 5.4]" or "no difference at this scale").
 *
 * Every resample draws from a seeded generator, so the same scores and seed give the same
 * interval.
 * @module
 */
import { createRng } from "../util/random.ts";

/** A point estimate with a confidence interval. */
export interface Interval {
  /** The estimate on the data as they are (not a bootstrap mean). */
  value: number;
  low: number;
  high: number;
  /** Questions the estimate is over. */
  n: number;
}

/** Options of the bootstrap functions. */
export interface BootstrapOptions {
  /** Resamples; default 2000. */
  samples?: number;
  /** Seed of the resampling; default 0. */
  seed?: number;
  /** Coverage of the interval; default 0.95. */
  level?: number;
}

function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return xs.length ? s / xs.length : NaN;
}

/** The `q` quantile (0..1) of sorted values, linear interpolation between order statistics. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = (n - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

function check(values: readonly number[], what: string): void {
  if (values.length === 0) throw new Error(`${what}: no scores`);
  const bad = values.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new Error(`${what}: score ${bad} is ${values[bad]} (not a finite number)`);
}

function resampledMeans(
  n: number,
  statistic: (idx: Uint32Array) => number,
  opts: BootstrapOptions,
): Float64Array {
  const samples = opts.samples ?? 2000;
  if (!Number.isInteger(samples) || samples < 1) {
    throw new Error(`bootstrap: samples must be a positive integer, got ${samples}`);
  }
  const rng = createRng(opts.seed ?? 0);
  const out = new Float64Array(samples);
  const idx = new Uint32Array(n);
  for (let b = 0; b < samples; b++) {
    for (let i = 0; i < n; i++) idx[i] = rng.int(n);
    out[b] = statistic(idx);
  }
  return out.sort();
}

function interval(value: number, sortedStats: Float64Array, n: number, level: number): Interval {
  const a = (1 - level) / 2;
  return { value, low: quantile(sortedStats, a), high: quantile(sortedStats, 1 - a), n };
}

/** Mean of per-question scores with a percentile bootstrap interval over questions. */
export function bootstrapMean(values: readonly number[], opts: BootstrapOptions = {}): Interval {
  check(values, "bootstrapMean");
  const stats = resampledMeans(values.length, (idx) => {
    let s = 0;
    for (let i = 0; i < idx.length; i++) s += values[idx[i]];
    return s / idx.length;
  }, opts);
  return interval(mean(values), stats, values.length, opts.level ?? 0.95);
}

/**
 * Mean of `b[i] - a[i]` (B minus A on the same questions) with a paired bootstrap interval.
 * `a` and `b` must score the same questions in the same order.
 */
export function pairedBootstrap(
  a: readonly number[],
  b: readonly number[],
  opts: BootstrapOptions = {},
): Interval {
  if (a.length !== b.length) {
    throw new Error(
      `pairedBootstrap: the two systems scored different numbers of questions ` +
        `(${a.length} vs ${b.length}); a paired comparison needs the same questions`,
    );
  }
  check(a, "pairedBootstrap (A)");
  check(b, "pairedBootstrap (B)");
  const d = b.map((x, i) => x - a[i]);
  return bootstrapMean(d, opts);
}

/** One number over several seeds. */
export interface Spread {
  values: number[];
  mean: number;
  /** Sample standard deviation (n − 1); 0 for one value. */
  sd: number;
  min: number;
  max: number;
}

/** Mean, sample standard deviation and range of `values` (one per seed). */
export function seedSpread(values: readonly number[]): Spread {
  check(values, "seedSpread");
  const m = mean(values);
  const ss = values.reduce((s, v) => s + (v - m) ** 2, 0);
  return {
    values: [...values],
    mean: m,
    sd: values.length > 1 ? Math.sqrt(ss / (values.length - 1)) : 0,
    min: Math.min(...values),
    max: Math.max(...values),
  };
}

/** `x` with `digits` decimals (default 1). */
export function fmt(x: number, digits = 1): string {
  const s = x.toFixed(digits);
  return s === `-${(0).toFixed(digits)}` ? (0).toFixed(digits) : s;
}

/** `61.3 [57.5, 65.1]`. */
export function formatInterval(i: Interval, digits = 1): string {
  return `${fmt(i.value, digits)} [${fmt(i.low, digits)}, ${fmt(i.high, digits)}]`;
}

/** Whether an interval of a difference excludes 0 (and which way). */
export function verdict(d: Interval): "b" | "a" | "none" {
  return d.low > 0 ? "b" : d.high < 0 ? "a" : "none";
}

/**
 * The report's sentence about B − A: `"<B> better by 3.1 [0.8, 5.4]"` when the interval is
 * above 0, `"<A> better by 3.1 [0.8, 5.4]"` (signs flipped) when below, otherwise
 * `"no difference at this scale (<B> − <A> = 1.2 [-2.0, 4.3])"`. `unit` follows the number
 * (e.g. " points").
 */
export function compareSentence(
  nameA: string,
  nameB: string,
  d: Interval,
  unit = " points",
  digits = 1,
): string {
  const v = verdict(d);
  if (v === "b") return `${nameB} better by ${formatInterval(d, digits)}${unit}`;
  if (v === "a") {
    const flipped = { value: -d.value, low: -d.high, high: -d.low, n: d.n };
    return `${nameA} better by ${formatInterval(flipped, digits)}${unit}`;
  }
  return `no difference at this scale (${nameB} − ${nameA} = ${
    formatInterval(d, digits)
  }${unit}, interval includes 0)`;
}
