import assert from "node:assert/strict";
import {
  markdownToHtml,
  readSectionMetrics,
  type RunInfo,
  type SectionMetrics,
  validateSectionMetrics,
  writeReport,
  writeSectionMetrics,
} from "../lib/report/mod.ts";

const RUN: RunInfo = {
  profile: "smoke",
  startedAt: "2026-01-01T00:00:00.000Z",
  finishedAt: "2026-01-01T00:01:00.000Z",
  notebooks: [{
    name: "q1_data_processing.ipynb",
    path: "notebooks/q1_data_processing.ipynb",
    seconds: 3.21,
    cells: 4,
  }],
};

function sections(): SectionMetrics[] {
  return [
    {
      section: "q1",
      notebook: "q1_data_processing.ipynb",
      metrics: { train_examples: 120, max_seq_length: 384 },
      blocks: [{
        kind: "markdown",
        text: "Contexts are split with **stride** 128.\n\n- one\n- two",
      }],
    },
    {
      section: "q2",
      metrics: { mc_accuracy: 81.25, qa_exact_match: 61.5, qa_f1: 70.25 },
      subsections: [
        {
          title: "Performance",
          blocks: [{ kind: "table", columns: ["model", "EM"], rows: [["bert | base", 61.5]] }],
        },
        {
          title: "Args",
          blocks: [{ kind: "json", title: "args", value: { learning_rate: 3e-5 } }],
        },
        {
          title: "Loss and optimizer",
          blocks: [{ kind: "markdown", text: "AdamW, cross-entropy." }],
        },
      ],
    },
    { section: "q3", blocks: [{ kind: "figure", name: "qa_curves", title: "QA curves" }] },
    {
      section: "q4",
      metrics: { pretrained_em: 55, scratch_em: 9.5 },
      blocks: [{ kind: "figure", name: "q4_compare", caption: "same budget" }],
    },
  ];
}

Deno.test("writeReport: sections Q1-Q4 from metrics files, tables, configs, figures", async () => {
  const dir = await Deno.makeTempDir({ prefix: "report-assemble-" });
  try {
    for (const s of sections()) await writeSectionMetrics(dir, s);
    await Deno.mkdir(`${dir}/figures`);
    await Deno.writeTextFile(`${dir}/figures/qa_curves.html`, "<html></html>");
    await Deno.writeFile(`${dir}/figures/qa_curves.png`, new Uint8Array([137, 80, 78, 71]));
    await Deno.writeTextFile(`${dir}/figures/q4_compare.html`, "<html></html>"); // no PNG
    const out = await writeReport(dir, RUN);
    const md = await Deno.readTextFile(out.markdown);
    const headings = md.split("\n").filter((l) => l.startsWith("## "));
    assert.deepEqual(headings, [
      "## Q1 Data processing",
      "## Q2 Models",
      "## Q3 Curves",
      "## Q4 Pretrained vs not pretrained",
    ]);
    assert.match(md, /\| run \| value \|\n\| --- \| --- \|\n\| profile \| smoke \|/);
    // No executed notebook here (nbconvert has nothing to render): the .ipynb is linked.
    assert.match(
      md,
      /\[q1_data_processing\.ipynb\]\(notebooks\/q1_data_processing\.ipynb\) \| 4 \| 3\.2 \|/,
    );
    assert.match(md, /\| mc accuracy \| 81\.25 \|/);
    // Percents keep 2 decimals even when whole (never "55" beside "9.50").
    assert.match(md, /\| pretrained exact match \| 55\.00 \|/);
    assert.match(md, /\| scratch exact match \| 9\.50 \|/);
    assert.match(md, /\| qa f1 \| 70\.25 \|/);
    assert.match(md, /\| bert \\\| base \| 61\.50 \|/);
    assert.ok(md.includes('```json\n{\n  "learning_rate": 0.00003\n}\n```'));
    assert.match(md, /### Config\n\n_Not provided by the notebook\._/);
    assert.match(
      md,
      /!\[QA curves\]\(figures\/qa_curves\.png\)\n\n\[interactive figure\]\(figures\/qa_curves\.html\)/,
    );
    assert.ok(!md.includes("figures/q4_compare.png"));
    assert.match(md, /\[interactive figure\]\(figures\/q4_compare\.html\)\n\n_same budget_/);

    const html = await Deno.readTextFile(out.html);
    assert.match(html, /<h2>Q4 Pretrained vs not pretrained<\/h2>/);
    assert.match(html, /<img src="figures\/qa_curves\.png" alt="QA curves">/);
    assert.match(html, /<td>bert \| base<\/td><td class="num">61\.50<\/td>/);
    assert.match(html, /<strong>stride<\/strong>/);
    assert.match(html, /<ul><li>one<\/li><li>two<\/li><\/ul>/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("missing or invalid metrics and missing figures fail naming the file and field", async () => {
  const dir = await Deno.makeTempDir({ prefix: "report-assemble-bad-" });
  try {
    await writeSectionMetrics(dir, sections()[0]);
    await assert.rejects(writeReport(dir, RUN), /metrics\/q2\.json: not found — the q2 notebook/);
    await assert.rejects(
      writeReport(dir, RUN, ["q1", "q3"]).then(() => {}),
      /q3\.json: not found/,
    );
    await writeSectionMetrics(dir, sections()[2]);
    await assert.rejects(writeReport(dir, RUN, ["q3"]), /figure 'qa_curves' has no file/);
    await Deno.writeTextFile(`${dir}/metrics/q4.json`, '{"section":"q4","metrics":{"em":[1]}}');
    await assert.rejects(readSectionMetrics(dir, "q4"), /q4\.json: metrics\.em must be a number/);
    await Deno.writeTextFile(`${dir}/metrics/q4.json`, '{"section":"q1"}');
    await assert.rejects(readSectionMetrics(dir, "q4"), /'section' is q1, expected q4/);
    assert.throws(
      () =>
        validateSectionMetrics(
          { section: "q2", blocks: [{ kind: "table", columns: ["a", "b"], rows: [[1]] }] },
          "x.json",
        ),
      /x\.json: blocks\[0\]\.rows\[0\] must have 2 cells/,
    );
    await assert.rejects(
      // deno-lint-ignore no-explicit-any
      writeSectionMetrics(dir, { section: "q5" } as any),
      /'section' must be one of q1, q2, q3, q4/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("markdownToHtml escapes HTML", () => {
  assert.equal(
    markdownToHtml("a <b> & `c<d>`"),
    "<p>a &lt;b&gt; &amp; <code>c&lt;d&gt;</code></p>",
  );
});

Deno.test("report: notebooks linked as nbconvert HTML, labelled tables, wrapping cells, relative links", async () => {
  const dir = await Deno.makeTempDir({ prefix: "report-assemble-nb-" });
  try {
    const s = sections();
    s[0].metrics = { multi_window_pct: 12.5, answer_roundtrip_pct: 100, qa_doc_stride: 128 };
    const overrides = "num_hidden_layers=2,hidden_size=128,num_attention_heads=2," +
      "intermediate_size=512,max_position_embeddings=512";
    s[1].subsections![1].blocks.push(
      { kind: "table", columns: ["flag", "A"], rows: [["config_overrides", overrides]] },
      { kind: "json", title: "raw", value: { loss: 1.2762000000000001, steps: 14 } },
    );
    for (const m of s) await writeSectionMetrics(dir, m);
    await Deno.mkdir(`${dir}/figures`);
    await Deno.writeTextFile(`${dir}/figures/qa_curves.html`, "<html></html>");
    await Deno.writeTextFile(`${dir}/figures/q4_compare.html`, "<html></html>");
    await Deno.mkdir(`${dir}/notebooks`);
    await Deno.writeTextFile(
      `${dir}/notebooks/q1_data_processing.ipynb`,
      JSON.stringify({
        nbformat: 4,
        nbformat_minor: 5,
        metadata: {},
        cells: [{ id: "a", cell_type: "markdown", metadata: {}, source: "# Q1 資料處理" }],
      }),
    );
    const out = await writeReport(dir, RUN);
    const md = await Deno.readTextFile(out.markdown);
    const html = await Deno.readTextFile(out.html);
    // nbconvert's HTML beside the executed notebook, linked (relatively) from both reports.
    const nbHtml = await Deno.readTextFile(`${dir}/notebooks/q1_data_processing.html`);
    assert.match(nbHtml, /<h1[^>]*>Q1 (資料處理|&#36039;&#26009;&#34389;&#29702;)/);
    assert.doesNotMatch(nbHtml, /(src|href)="file:/);
    assert.match(md, /\[q1_data_processing\]\(notebooks\/q1_data_processing\.html\)/);
    assert.match(html, /<a href="notebooks\/q1_data_processing\.html">q1_data_processing<\/a>/);
    assert.doesNotMatch(html, /href="(\/|file:)/);
    assert.doesNotMatch(md, /\]\((\/|file:)/);
    // No empty header cells; the model reported is named.
    assert.doesNotMatch(html, /<th><\/th>/);
    assert.doesNotMatch(md, /^\|\s*\|/m);
    assert.match(md, /\| models evaluated \| the final model of each run/);
    // Headline numbers carry labels, not raw keys.
    assert.match(md, /\| questions whose paragraph needs more than one window \(%\) \| 12\.50 \|/);
    assert.doesNotMatch(md, /answer roundtrip (em|pct)|multi window pct/);
    // Long unbroken values get break opportunities; cells never break inside a word (a wide
    // table scrolls in its own box instead).
    assert.match(html, /overflow-wrap:normal;word-break:normal/);
    assert.doesNotMatch(html, /overflow-wrap:anywhere|word-break:break-all/);
    assert.match(html, /<div class="tw"><table>/);
    assert.ok(md.includes("hidden_size=128,<wbr>num_attention_heads=2,<wbr>"));
    // JSON blocks show rounded numbers.
    assert.match(md, /"loss": 1\.276,\n {2}"steps": 14/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
