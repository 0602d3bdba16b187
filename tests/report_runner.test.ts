/**
 * The report runner against the real Jupyter executor (nbclient) and the real Deno kernel, on
 * throwaway notebooks written to a temp dir.
 */
import assert from "node:assert/strict";
import {
  ensureDenoKernel,
  findDenoKernelSpec,
  NotebookError,
  runStudy,
  type StudyNotebook,
} from "../lib/report/mod.ts";

const METRICS = new URL("../lib/report/metrics.ts", import.meta.url).href;

/** Writes a Deno-kernel notebook with one markdown cell and the given code cells. */
async function writeNotebook(path: string, code: string[]): Promise<void> {
  const cell = (cell_type: string, source: string) => ({
    cell_type,
    metadata: {},
    source,
    ...(cell_type === "code" ? { execution_count: null, outputs: [] } : {}),
  });
  const nb = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: "deno", display_name: "Deno", language: "typescript" } },
    cells: [cell("markdown", "# throwaway"), ...code.map((c) => cell("code", c))].map((c, i) => ({
      ...c,
      id: `c${i}`,
    })),
  };
  await Deno.writeTextFile(path, JSON.stringify(nb));
}

const PARAMS = `import { notebookParams, writeSectionMetrics } from "${METRICS}";
const params = notebookParams();`;

function capture() {
  const chunks: string[] = [];
  const dec = new TextDecoder();
  return {
    onOutput: (c: Uint8Array) => chunks.push(dec.decode(c)),
    log: (l: string) => chunks.push(l + "\n"),
    text: () => chunks.join(""),
  };
}

Deno.test("runStudy: executes notebooks on the Deno kernel, passes the profile, builds the report", async () => {
  const dir = await Deno.makeTempDir({ prefix: "report-runner-ok-" });
  try {
    await writeNotebook(`${dir}/a.ipynb`, [
      PARAMS,
      'const answer = 6 * 7;\nconsole.log("answer is", answer);',
      `await writeSectionMetrics(params.outputDir, { section: "q1", profile: params.profile,
  metrics: { answer, seed: params.seed } });`,
    ]);
    await writeNotebook(`${dir}/b.ipynb`, [
      PARAMS,
      `await writeSectionMetrics(params.outputDir, { section: "q2", metrics: { cwd: Deno.cwd() },
  subsections: [{ title: "Performance", blocks: [{ kind: "markdown", text: "ok" }] }] });`,
    ]);
    const notebooks: StudyNotebook[] = [{ section: "q1", file: "a.ipynb" }, {
      section: "q2",
      file: "b.ipynb",
    }];
    const out = capture();
    const res = await runStudy({
      profile: "smoke",
      seed: 7,
      notebooksDir: dir,
      outputDir: `${dir}/out`,
      notebooks,
      log: out.log,
      onOutput: out.onOutput,
    });
    const progress = out.text();
    assert.match(progress, /\[report\] 1\/2 a\.ipynb/);
    assert.match(progress, /\[a 1\/2\] cell 2\/3 \(notebook cell 3\): const answer = 6 \* 7;/);
    assert.match(progress, /answer is 42/);
    assert.match(progress, /\[report\] 2\/2 b\.ipynb/);

    const q1 = JSON.parse(await Deno.readTextFile(`${dir}/out/metrics/q1.json`));
    assert.deepEqual(q1.metrics, { answer: 42, seed: 7 });
    assert.equal(q1.profile, "smoke");
    const q2 = JSON.parse(await Deno.readTextFile(`${dir}/out/metrics/q2.json`));
    assert.equal(q2.metrics.cwd, dir, "kernel runs in the notebook's directory");

    const executed = JSON.parse(await Deno.readTextFile(`${dir}/out/notebooks/a.ipynb`));
    const outputs = executed.cells[2].outputs.map((o: { text?: string }) => o.text ?? "").join("");
    assert.match(outputs, /answer is 42/);
    const md = await Deno.readTextFile(res.markdown);
    assert.match(md, /## Q1 Data processing[\s\S]*\| answer \| 42 \|/);
    // Linked as nbconvert's HTML, with the executed .ipynb beside it (both relative).
    assert.match(md, /\[a\]\(notebooks\/a\.html\) \(\[\.ipynb\]\(notebooks\/a\.ipynb\)\) \| 3 \|/);
    assert.ok((await Deno.stat(`${dir}/out/notebooks/a.html`)).isFile);
    assert.match(await Deno.readTextFile(res.html), /<h2>Q2 Models<\/h2>/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runStudy stops at the first failing cell and names notebook, cell and error", async () => {
  const dir = await Deno.makeTempDir({ prefix: "report-runner-fail-" });
  try {
    await writeNotebook(`${dir}/ok.ipynb`, ['console.log("fine")']);
    await writeNotebook(`${dir}/bad.ipynb`, [
      "const x = 1;",
      'if (x === 1) throw new RangeError("value out of range in cell two");',
      'console.log("must not run");',
    ]);
    await writeNotebook(`${dir}/after.ipynb`, ['console.log("after")']);
    const out = capture();
    const err = await runStudy({
      profile: "smoke",
      notebooksDir: dir,
      outputDir: `${dir}/out`,
      notebooks: [
        { section: "q1", file: "ok.ipynb" },
        { section: "q2", file: "bad.ipynb" },
        { section: "q3", file: "after.ipynb" },
      ],
      log: out.log,
      onOutput: out.onOutput,
    }).then(() => null, (e) => e);
    assert.ok(err instanceof NotebookError, `expected NotebookError, got ${err}`);
    assert.match(err.message, /bad\.ipynb: code cell 2 \(notebook cell 3\) failed with RangeError/);
    assert.match(err.message, /value out of range in cell two/);
    assert.match(err.message, /cell source:\n {4}\| if \(x === 1\) throw/);
    assert.equal(err.status.failed_cell?.code_cell, 2);
    assert.ok(!out.text().includes("must not run"));
    // the failing notebook is written with its error; the next notebook never ran
    const bad = JSON.parse(await Deno.readTextFile(`${dir}/out/notebooks/bad.ipynb`));
    assert.equal(bad.cells[2].outputs[0].output_type, "error");
    assert.deepEqual(bad.cells[3].outputs, []);
    await assert.rejects(Deno.stat(`${dir}/out/notebooks/after.ipynb`));
    await assert.rejects(Deno.stat(`${dir}/out/report.md`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runStudy names missing notebooks before running anything", async () => {
  const dir = await Deno.makeTempDir({ prefix: "report-runner-missing-" });
  try {
    await writeNotebook(`${dir}/q1_data_processing.ipynb`, ["1"]);
    await assert.rejects(
      runStudy({ profile: "smoke", notebooksDir: dir, outputDir: `${dir}/out`, log: () => {} }),
      (e: Error) => {
        assert.match(e.message, /missing notebooks: .*q2_modeling\.ipynb, .*q3_curves\.ipynb/);
        assert.ok(!e.message.includes(`${dir}/q1_data_processing.ipynb,`));
        return true;
      },
    );
    await assert.rejects(Deno.stat(`${dir}/out`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ensureDenoKernel installs the kernelspec when missing", async () => {
  assert.ok(findDenoKernelSpec(), "this machine has the Deno kernelspec installed");
  const home = await Deno.makeTempDir({ prefix: "report-kernel-home-" });
  try {
    const script = `import { ensureDenoKernel, findDenoKernelSpec } from "${
      new URL("../lib/report/jupyter_kernel.ts", import.meta.url).href
    }";
console.log(JSON.stringify({ before: findDenoKernelSpec(), after: await ensureDenoKernel(() => {}) }));`;
    const env: Record<string, string> = { HOME: home };
    const denoDir = Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`;
    env.DENO_DIR = denoDir;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--no-config", script],
      env,
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const r = JSON.parse(text.trim().split("\n").at(-1)!);
    assert.equal(r.before, null);
    assert.equal(r.after, `${home}/.local/share/jupyter/kernels/deno/kernel.json`);
    const spec = JSON.parse(await Deno.readTextFile(r.after));
    assert.equal(spec.argv[1], "jupyter");
  } finally {
    await Deno.remove(home, { recursive: true });
  }
  // the real one is found without reinstalling
  assert.equal(await ensureDenoKernel(() => assert.fail("must not install")), findDenoKernelSpec());
});
