/**
 * Small text helpers for messages: counted nouns ("1 update", "2 updates"), short durations
 * ("35 ms", "0.61 s") and the closest known name for a did-you-mean.
 * @module
 */

/**
 * `n` and the noun, singular for exactly 1: `plural(1, "update")` is "1 update", `plural(3,
 * "update")` "3 updates". Irregular plurals are given (`plural(2, "match", "matches")`). Numbers
 * are written as given (no thousands separators).
 *
 * @example
 * ```ts
 * import { plural } from "./text.ts";
 * console.assert(plural(1, "question") === "1 question");
 * console.assert(plural(0, "question") === "0 questions");
 * console.assert(plural(2, "miss", "misses") === "2 misses");
 * ```
 */
export function plural(n: number, singular: string, pluralForm = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : pluralForm}`;
}

/**
 * A short duration with a unit and precision that keep two significant digits, for per-item
 * times that can be far below a second: "12 ms", "0.61 s", "3.4 s", "45 s" (never "0.0 s").
 * NaN and infinities read "n/a".
 *
 * @example
 * ```ts
 * import { formatSeconds } from "./text.ts";
 * console.assert(formatSeconds(0.0123) === "12 ms");
 * console.assert(formatSeconds(0.61) === "0.61 s");
 * console.assert(formatSeconds(3.42) === "3.4 s");
 * console.assert(formatSeconds(45.2) === "45 s");
 * ```
 */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return "n/a";
  const a = Math.abs(s);
  if (a === 0) return "0 s";
  if (a < 0.001) return `${Number((s * 1e6).toPrecision(2))} µs`;
  if (a < 0.1) return `${Number((s * 1000).toPrecision(2))} ms`;
  if (a < 10) return `${Number(s.toPrecision(2))} s`;
  return `${Math.round(s)} s`;
}

/** Edit distance between two strings (insertions, deletions, substitutions). */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

/**
 * The known name closest to `name` (dashes read as underscores, case ignored), when it is close
 * enough to be a likely typo; `undefined` otherwise.
 *
 * @example
 * ```ts
 * import { closestName } from "./text.ts";
 * console.assert(closestName("num_hidden_layer", ["num_hidden_layers", "hidden_size"]) ===
 *   "num_hidden_layers");
 * console.assert(closestName("xyz", ["num_hidden_layers"]) === undefined);
 * ```
 */
export function closestName(name: string, known: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replaceAll("-", "_");
  const n = norm(name);
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(n, norm(k));
    if (d < bestD) [best, bestD] = [k, d];
  }
  const prefix = known.filter((k) => norm(k).startsWith(n) && n.length >= 3);
  if (bestD <= Math.max(2, Math.floor(n.length / 4))) return best;
  return prefix.length === 1 ? prefix[0] : undefined;
}
