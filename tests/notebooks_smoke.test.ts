/**
 * The study's notebooks: their structure (one parameter cell first, Deno kernelspec, no committed
 * outputs), and `deno task report --profile smoke` end to end through the real Jupyter executor
 * (nbclient) on the Deno kernel — report sections, prediction.csv rows, figures.
 * Fails (does not skip) when Jupyter's executor is missing.
 */
import assert from "node:assert/strict";
import { loadContexts, loadExamples } from "../lib/data/mod.ts";
import { readPredictionCsv } from "../lib/features/mod.ts";
import { findChromium } from "../lib/plotting/mod.ts";
import {
  getProfile,
  pythonPath,
  Q2_SUBSECTIONS,
  readSectionMetrics,
  SECTIONS,
  STUDY_NOTEBOOKS,
} from "../lib/report/mod.ts";

const ROOT = new URL("../", import.meta.url).pathname;

interface NbCell {
  cell_type: string;
  source: string | string[];
  metadata: { tags?: string[] };
  outputs?: unknown[];
  execution_count?: number | null;
}

const text = (c: NbCell) => (Array.isArray(c.source) ? c.source.join("") : c.source);

Deno.test("notebooks: Deno kernelspec, one parameter cell first, no committed outputs", async () => {
  for (const n of STUDY_NOTEBOOKS) {
    const path = `${ROOT}notebooks/${n.file}`;
    const nb = JSON.parse(await Deno.readTextFile(path));
    assert.equal(nb.nbformat, 4, path);
    assert.equal(nb.metadata.kernelspec.name, "deno", `${path}: Deno kernel`);
    const code: NbCell[] = nb.cells.filter((c: NbCell) => c.cell_type === "code");
    assert.ok(code.length >= 2, `${path}: code cells`);
    const tagged = code.filter((c) => c.metadata.tags?.includes("parameters"));
    assert.equal(tagged.length, 1, `${path}: exactly one parameters cell`);
    assert.equal(code[0], tagged[0], `${path}: the parameters cell comes first`);
    for (const c of code) {
      assert.deepEqual(c.outputs, [], `${path}: committed outputs`);
      assert.equal(c.execution_count ?? null, null, `${path}: execution count`);
    }
    if (n.section !== "q1") {
      assert.match(text(code[0]), /notebookParams\(\)/, `${path}: parameters from the runner`);
    }
  }
});

Deno.test({
  name: "deno task report --profile smoke: all notebooks on the Deno kernel, report, CSV, figures",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    // Jupyter's executor must be there: a missing one is a failure, not a skip.
    const probe = await new Deno.Command(pythonPath(), {
      args: ["-c", "import nbclient, nbformat, jupyter_client"],
      stdout: "piped",
      stderr: "piped",
    }).output().catch((e) => {
      throw new Error(`${pythonPath()} cannot run (${e.message}); Jupyter's executor is required`);
    });
    assert.ok(
      probe.success,
      `nbclient/nbformat not importable by ${pythonPath()}: ${
        new TextDecoder().decode(probe.stderr)
      }`,
    );

    const out = await Deno.makeTempDir({ prefix: "report-smoke-" });
    try {
      const t0 = performance.now();
      const run = await new Deno.Command(Deno.execPath(), {
        args: ["task", "report", "--profile", "smoke", "--output_dir", out],
        cwd: ROOT,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const seconds = (performance.now() - t0) / 1000;
      const log = new TextDecoder().decode(run.stdout) + new TextDecoder().decode(run.stderr);
      assert.ok(run.success, `report failed (exit ${run.code}):\n${log.slice(-6000)}`);
      console.log(`smoke report: ${seconds.toFixed(1)} s`);

      // Every notebook executed on the Deno kernel, outputs saved.
      for (const n of STUDY_NOTEBOOKS) {
        const nb = JSON.parse(await Deno.readTextFile(`${out}/notebooks/${n.file}`));
        const code = nb.cells.filter((c: NbCell) => c.cell_type === "code");
        assert.ok(code.every((c: NbCell) => typeof c.execution_count === "number"), n.file);
        const errors = code.flatMap((c: NbCell) => c.outputs ?? [])
          .filter((o: { output_type: string }) => o.output_type === "error");
        assert.equal(errors.length, 0, `${n.file}: error outputs`);
        // No stray Out[] values (a cell's last expression, e.g. a loop's last number).
        const results = code.flatMap((c: NbCell) => c.outputs ?? [])
          .filter((o: { output_type: string }) => o.output_type === "execute_result");
        assert.equal(results.length, 0, `${n.file}: Out[] values ${JSON.stringify(results)}`);
      }

      // The report has the study's sections and Q2's subsections, all provided.
      const md = await Deno.readTextFile(`${out}/report.md`);
      // The report opens with the summary; every Q2 number has its interval.
      assert.ok(md.startsWith("# Study report\n\n## Summary\n"), md.slice(0, 200));
      assert.match(md, /\*\*Findings\.\*\*/);
      assert.match(md, /Paired comparisons on the same questions/);
      for (
        const h of [
          "## Q1 Data processing",
          "## Q2 Models",
          "## Q3 Curves",
          "## Q4 Pretrained vs not pretrained",
        ]
      ) assert.ok(md.includes(`\n${h}\n`), `report.md lacks ${h}`);
      for (const s of Q2_SUBSECTIONS) assert.match(md, new RegExp(`\\n### ${s}`));
      assert.ok(!md.includes("Not provided by the notebook"), "a Q2 subsection is missing");
      assert.ok((await Deno.stat(`${out}/report.html`)).size > 1000);

      // Q2: both variants' numbers, side by side; the CSV follows the test file.
      const q2 = await readSectionMetrics(out, "q2");
      assert.equal(q2.profile, "smoke");
      for (const v of ["bert-char", "bert-wwm"]) {
        for (const k of ["mc_accuracy", "qa_exact_match", "qa_f1", "end_to_end_exact_match"]) {
          const x = q2.metrics?.[`${v}_${k}`];
          assert.ok(typeof x === "number" && Number.isFinite(x), `q2 metric ${v}_${k}: ${x}`);
        }
      }
      const contexts = await loadContexts(`${ROOT}data/sample/context.json`);
      const test = await loadExamples(`${ROOT}data/sample/test.json`, contexts, {
        split: "test",
      });
      const rows = await readPredictionCsv(`${out}/prediction.csv`);
      assert.deepEqual(rows.map((r) => r.id), test.map((t) => t.id), "one row per test id");
      assert.equal(q2.metrics?.prediction_csv_rows, test.length);

      // Figures named by Q3/Q4 exist (HTML always; PNG if the profile renders them and a browser
      // is installed).
      const png = getProfile("smoke").figurePng && findChromium() !== null;
      let figures = 0;
      for (const s of SECTIONS) {
        const m = await readSectionMetrics(out, s);
        const blocks = [...(m.blocks ?? []), ...(m.subsections ?? []).flatMap((x) => x.blocks)];
        for (const b of blocks) {
          if (b.kind !== "figure") continue;
          figures++;
          assert.ok((await Deno.stat(`${out}/figures/${b.name}.html`)).size > 1000, b.name);
          if (png) assert.ok((await Deno.stat(`${out}/figures/${b.name}.png`)).size > 1000);
          assert.ok(md.includes(`figures/${b.name}.html`), `report links ${b.name}`);
        }
      }
      const q3 = await readSectionMetrics(out, "q3");
      assert.ok(
        (q3.blocks ?? []).filter((b) => b.kind === "figure").length >= 8,
        "Q3: training and validation curves of every MC/QA run",
      );
      assert.ok(figures >= 10, `${figures} figures`);
      // The curves carry the running metrics read back from the logs (MC accuracy, QA EM).
      for (
        const k of ["bert-char_mc_final_running_accuracy", "bert-wwm_qa_final_running_exact_match"]
      ) {
        assert.equal(typeof q3.metrics?.[k], "number", `q3 metric ${k}`);
      }

      // Q4: same arguments, a scratch run trained, conclusion generated from its numbers.
      const q4 = await readSectionMetrics(out, "q4");
      assert.ok(["mc", "qa"].includes(String(q4.metrics?.task)));
      const conclusion = (q4.blocks ?? []).find((b) =>
        b.kind === "markdown" && b.text.includes("from scratch")
      ) as { text: string } | undefined;
      assert.ok(conclusion, "Q4 conclusion");
      const key = q4.metrics!.task === "qa" ? "eval_exact_match" : "eval_accuracy";
      // Both on the 0–100 scale.
      const p = Math.round(Number(q4.metrics![`pretrained_${key}`]) * 100) / 100;
      if (q4.metrics!.task === "qa") {
        // QA: the conclusion quotes the paired comparison on the scored validation questions,
        // not the training-time evaluation's other question count.
        assert.match(conclusion!.text, /scored on the same \d+ validation questions/);
        assert.ok(!conclusion!.text.includes(` ${p} against `), "one question count");
      } else {
        assert.ok(conclusion!.text.includes(` ${p} against `), `conclusion quotes ${p}`);
      }
      assert.match(conclusion!.text, /differ only in where the weights come from/);
      assert.ok(
        (await Deno.stat(`${out}/runs/smoke/scratch/${q4.metrics!.task}/all_results.json`)).isFile,
      );
    } finally {
      await Deno.remove(out, { recursive: true }).catch(() => {});
    }
  },
});
