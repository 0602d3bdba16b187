// `deno task report --plan`: every stage of a profile gets a memory plan, a number of updates and
// a positive timed estimate, without writing anything.
import assert from "node:assert/strict";
import { useBackend } from "../lib/backend/mod.ts";
import { planStudy } from "../lib/report/plan.ts";

Deno.test("report --plan: memory plan, updates and a timed estimate per stage (smoke)", async () => {
  await useBackend("wasm");
  const lines: string[] = [];
  const { stages, totalSeconds } = await planStudy("smoke", {
    timedSteps: 1,
    inferenceSample: 2,
    log: (m) => lines.push(m),
  });
  const training = stages.filter((s) => s.updates > 0);
  assert.equal(training.length, 5, lines.join("\n")); // 2 variants × MC/QA + Q4's scratch run
  for (const s of training) {
    assert.match(s.memoryPlan, /^memory plan \(training, wasm\): .*: fits$/);
    assert.ok(s.secondsPerUpdate > 0 && Number.isFinite(s.seconds), JSON.stringify(s));
  }
  assert.ok(stages.some((s) => s.stage.endsWith("two-stage inference") && s.seconds > 0));
  assert.ok(totalSeconds > 0);
  assert.match(lines.at(-1)!, /^total ≈ .* on this machine$/);
  // Per-question and per-update times keep two significant digits in a fitting unit (issue 22:
  // it printed "0.0 s per question"); counts agree with their nouns.
  const inference = lines.filter((l) => l.includes("two-stage inference"));
  assert.ok(inference.length > 0);
  for (const l of inference) assert.match(l, /, \d+(\.\d+)? (µs|ms|s) per question /, l);
  assert.ok(!lines.some((l) => /\b0\.0 s\b|\b1 (updates|epochs)\b/.test(l)), lines.join("\n"));
});
