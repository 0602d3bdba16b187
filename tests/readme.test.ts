/**
 * The README as a user's guide: its one-minute tour (every ```sh block between the tour markers)
 * runs as written from the repository root, writing under outputs/tour/, and the library example
 * then runs on the tour's models; the README is short, has no paths of one machine, and links the
 * documents that hold the measurements.
 */
import assert from "node:assert/strict";
import { readPredictionCsv } from "../lib/features/mod.ts";
import { ROOT } from "./process_util.ts";

const README = await Deno.readTextFile(`${ROOT}README.md`);

function between(text: string, start: string, end: string): string {
  const a = text.indexOf(start), b = text.indexOf(end);
  assert.ok(a >= 0 && b > a, `README lacks ${start} … ${end}`);
  return text.slice(a + start.length, b);
}

const blocks = (md: string, lang: string) =>
  [...md.matchAll(new RegExp("```" + lang + "\\n([\\s\\S]*?)```", "g"))].map((m) => m[1]);

async function sh(script: string): Promise<{ code: number; out: string }> {
  const r = await new Deno.Command("bash", {
    args: ["-euo", "pipefail", "-c", script],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout) + dec.decode(r.stderr) };
}

Deno.test({
  name: "README: the tour runs as written, then the library example on its models",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const tour = blocks(between(README, "<!-- tour:start -->", "<!-- tour:end -->"), "sh");
    assert.ok(tour.length >= 2, "the tour has its command blocks");
    const all = tour.join("\n");
    for (const c of ["train-mc", "train-qa", "evaluate", "predict"]) {
      assert.match(all, new RegExp(`deno task cli ${c} `), `the tour runs ${c}`);
    }
    // Everything the tour writes goes under outputs/tour/.
    for (const m of all.matchAll(/--(?:output_dir|prediction_csv) (\S+)/g)) {
      assert.ok(m[1].startsWith("outputs/tour/"), m[1]);
    }
    await Deno.remove(`${ROOT}outputs/tour`, { recursive: true }).catch(() => {});
    for (const block of tour) {
      const r = await sh(block);
      assert.equal(r.code, 0, `tour block failed:\n${block}\n${r.out.slice(-3000)}`);
      if (block.includes("evaluate")) assert.match(r.out, /MC accuracy\s+\d/);
      if (block.includes("cli ask")) {
        // One JSON answer whose start/end (code points, end exclusive) cut it out of the context.
        const context = /--context "([^"]+)"/.exec(block)![1];
        const line = r.out.split("\n").find((l) => l.startsWith('{"answer"'));
        assert.ok(line, r.out);
        const a = JSON.parse(line);
        assert.ok(a.answer.length > 0 && a.score > 0 && a.score <= 1, line);
        assert.equal([...context].slice(a.start, a.end).join(""), a.answer);
      }
    }
    for (const d of ["mc", "qa"]) {
      for (const f of ["config.json", "model.safetensors", "vocab.txt", "training_args.json"]) {
        await Deno.stat(`${ROOT}outputs/tour/${d}/${f}`);
      }
    }
    const test = JSON.parse(await Deno.readTextFile(`${ROOT}data/sample/test.json`));
    const rows = await readPredictionCsv(`${ROOT}outputs/tour/prediction.csv`);
    assert.deepEqual(rows.map((r) => r.id), test.map((t: { id: string }) => t.id));

    const [example] = blocks(between(README, "## The library", "## The notebooks"), "ts");
    assert.ok(example, "the README has a library example");
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--ext=ts", example],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const out = new TextDecoder().decode(r.stdout);
    assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
    assert.equal(out.split("\n").filter((l) => l.includes("→")).length, 3, out);
  },
});

Deno.test("README: short, no machine paths, links the measurement documents", () => {
  const lines = README.split("\n").length;
  assert.ok(lines <= 225, `${lines} lines`);
  for (const bad of ["/work/", "/home/", "/root/", "/tmp/", "/usr/bin/time"]) {
    assert.ok(!README.includes(bad), `README mentions ${bad}`);
  }
  for (const doc of ["docs/PERF.md", "docs/SCALE.md", "docs/GPU.md", "docs/ARCHITECTURE.md"]) {
    assert.ok(README.includes(`](${doc})`), `README links ${doc}`);
  }
  for (const s of ["deno task report", "deno task test", "export-hf-data", "accelerate launch"]) {
    assert.ok(README.includes(s), s);
  }
  assert.match(README, /optimizer state[^.]*do not/i, "says what does not carry over");
  // The numbers block scripts/readme_numbers.ts fills.
  assert.ok(README.includes("<!-- report-numbers:start -->"));
  assert.ok(README.includes("<!-- report-numbers:end -->"));
});
