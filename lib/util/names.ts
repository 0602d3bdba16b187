/**
 * "Did you mean …?" for names typed by a user (flags, commands, choices, argument keys).
 * @module
 */

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
 * import { closestName } from "./names.ts";
 * import assert from "node:assert/strict";
 * assert.equal(closestName("learning-rate", ["learning_rate", "seed"]), "learning_rate");
 * assert.equal(closestName("xyz", ["learning_rate", "seed"]), undefined);
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
