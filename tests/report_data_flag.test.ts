/**
 * `deno task report --data DIR`: the default recipe's code path on any ADL folder. A missing or
 * bad folder fails with the data layer's error before anything trains; a small folder made here
 * (a subset of data/sample, without test answers) runs end to end with the smoke-sized settings,
 * with `--seeds 2`.
 */
import assert from "node:assert/strict";
import { readPredictionCsv } from "../lib/features/mod.ts";
import { exists } from "../lib/util/fs.ts";
import { ROOT, runDeno } from "./process_util.ts";
import { readSectionMetrics } from "../lib/report/mod.ts";

const SAMPLE = `${ROOT}data/sample`;

async function report(args: string[]): Promise<{ code: number; log: string }> {
  const r = await runDeno(["task", "report", "--profile", "smoke", ...args]);
  return { code: r.code, log: r.stdout + r.stderr };
}

Deno.test("report --data: a missing folder and a bad file fail before anything trains", async () => {
  const out = await Deno.makeTempDir({ prefix: "report-data-bad-" });
  try {
    const missing = await report(["--data", `${out}/nope`, "--output_dir", `${out}/o1`]);
    assert.equal(missing.code, 1, missing.log);
    assert.match(missing.log, /data folder .*nope: not found/);
    assert.ok(!(await exists(`${out}/o1/runs`)), "nothing trained");

    const bad = `${out}/bad`;
    await Deno.mkdir(bad);
    for (const f of ["context.json", "train.json", "test.json"]) {
      await Deno.copyFile(`${SAMPLE}/${f}`, `${bad}/${f}`);
    }
    const valid = JSON.parse(await Deno.readTextFile(`${SAMPLE}/valid.json`)).slice(0, 5);
    valid[3].relevant = 999999; // not one of its paragraphs, not a context index
    await Deno.writeTextFile(`${bad}/valid.json`, JSON.stringify(valid));
    const r = await report(["--data", bad, "--output_dir", `${out}/o2`]);
    assert.equal(r.code, 1, r.log);
    assert.match(r.log, /valid\.json/);
    assert.match(r.log, /relevant/);
    assert.ok(!(await exists(`${out}/o2/runs`)), "nothing trained");
    assert.ok(!(await exists(`${out}/o2/notebooks`)), "no notebook ran");
  } finally {
    await Deno.remove(out, { recursive: true }).catch(() => {});
  }
});

Deno.test({
  name: "report --data: end to end on a small ADL folder made here (smoke settings)",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const out = await Deno.makeTempDir({ prefix: "report-data-" });
    try {
      const data = `${out}/adl`;
      await Deno.mkdir(data);
      await Deno.copyFile(`${SAMPLE}/context.json`, `${data}/context.json`);
      const take = async (f: string, n: number) => {
        const rows = JSON.parse(await Deno.readTextFile(`${SAMPLE}/${f}`)).slice(0, n);
        await Deno.writeTextFile(`${data}/${f}`, JSON.stringify(rows));
        return rows as { id: string }[];
      };
      await take("train.json", 40);
      await take("valid.json", 20);
      const test = await take("test.json", 12); // no test_gold.json: not scored
      const r = await report(["--data", data, "--output_dir", `${out}/o`, "--seeds", "2"]);
      assert.equal(r.code, 0, r.log.slice(-4000));
      const csv = await readPredictionCsv(`${out}/o/prediction.csv`);
      assert.deepEqual(csv.map((x) => x.id), test.map((t) => t.id), "one row per test id");
      const q1 = await readSectionMetrics(`${out}/o`, "q1");
      assert.equal(q1.metrics?.validation_questions, 20, "Q1 reads the --data folder");
      const q2 = await readSectionMetrics(`${out}/o`, "q2");
      assert.equal(q2.facts?.train_questions_in_file, 40);
      assert.equal(q2.metrics?.test_end_to_end_exact_match, undefined, "no test gold, no score");
      const md = await Deno.readTextFile(`${out}/o/report.md`);
      assert.match(md, /## Summary/);
      assert.ok(md.includes(data), "the summary names the data folder");
      assert.match(md, /no test answers, so the file is not scored/);
      // --seeds 2: Q2 and Q4 retrained with seed 43, the spread of each number reported.
      const q2b = await readSectionMetrics(`${out}/o/seeds/seed-43`, "q2");
      assert.equal(q2b.facts?.train_questions_in_file, 40);
      assert.match(md, /Spread over 2 seeds \(42, 43\)/);
      assert.match(md, /\| bert-char mc accuracy \| /);
    } finally {
      await Deno.remove(out, { recursive: true }).catch(() => {});
    }
  },
});
