/**
 * Shared gate for the webgpu tests: they run wherever a WebGPU adapter exists (lavapipe counts)
 * and are skipped only when there is none. With `REQUIRE_WEBGPU=1` (CI) they are never skipped:
 * a missing adapter fails the run.
 */
import assert from "node:assert/strict";
import { probeWebGpu } from "../lib/backend/mod.ts";

/** What the probe found in this process. */
export const probe = await probeWebGpu();
/** Set by CI: a missing adapter is a failure, not a skip. */
export const REQUIRED = Deno.env.get("REQUIRE_WEBGPU") === "1";
/** `ignore` value for webgpu tests. */
export const IGNORE = !probe.adapter && !REQUIRED;

if (IGNORE) console.warn(`webgpu tests skipped: ${probe.reason}`);

/** Registers the test that fails when REQUIRE_WEBGPU=1 and no adapter exists. */
export function adapterPresenceTest(file: string): void {
  Deno.test({
    name: `${file}: a WebGPU adapter is present (required when REQUIRE_WEBGPU=1)`,
    ignore: IGNORE,
    fn: () => {
      assert.ok(probe.adapter, `no WebGPU adapter: ${probe.reason}`);
    },
  });
}

/** Largest |a - b| divided by the largest |b| (0 when both are all zero). */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, "lengths differ");
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(a[i]) !== Number.isNaN(b[i])) return Infinity;
    if (!Number.isFinite(a[i]) || !Number.isFinite(b[i])) {
      if (a[i] !== b[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return Infinity;
      continue;
    }
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return den === 0 ? num : num / den;
}
