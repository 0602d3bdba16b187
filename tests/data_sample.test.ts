import assert from "node:assert/strict";
import {
  basicTokenize,
  DEFAULT_SAMPLE_SEED,
  generateSampleDataset,
  loadAdlDataset,
  loadExamples,
  SAMPLE_FILES,
  sampleDatasetFiles,
  sampleStats,
} from "../lib/data/mod.ts";

const DIR = new URL("../data/sample/", import.meta.url).pathname;
const ds = generateSampleDataset(DEFAULT_SAMPLE_SEED);
const files = sampleDatasetFiles(ds);

Deno.test("committed data/sample files equal a fresh generation, byte for byte", async () => {
  for (const name of SAMPLE_FILES) {
    const committed = await Deno.readFile(`${DIR}${name}`);
    const fresh = new TextEncoder().encode(files[name]);
    assert.ok(
      committed.length === fresh.length && committed.every((b, i) => b === fresh[i]),
      `data/sample/${name} differs from a fresh generation: run 'deno run -A scripts/gen_sample.ts'`,
    );
  }
});

Deno.test("generation is deterministic per seed; another seed gives other data", () => {
  const sizes = { train: 60, valid: 20, test: 20 };
  const a = sampleDatasetFiles(generateSampleDataset(5, { sizes }));
  const b = sampleDatasetFiles(generateSampleDataset(5, { sizes }));
  const c = sampleDatasetFiles(generateSampleDataset(6, { sizes }));
  assert.deepEqual(a, b);
  assert.notEqual(a["context.json"], c["context.json"]);
  assert.notEqual(a["train.json"], c["train.json"]);
});

Deno.test("sample files load with validation: 2000 / 300 / 300, test without gold", async () => {
  const d = await loadAdlDataset({
    contextFile: `${DIR}context.json`,
    trainFile: `${DIR}train.json`,
    validationFile: `${DIR}valid.json`,
    testFile: `${DIR}test.json`,
  });
  assert.equal(d.train!.length, 2000);
  assert.equal(d.validation!.length, 300);
  assert.equal(d.test!.length, 300);
  assert.ok(d.test!.every((e) => e.relevant === undefined && e.answer === undefined));
  const raw = JSON.parse(await Deno.readTextFile(`${DIR}test.json`));
  assert.ok(raw.every((r: Record<string, unknown>) => !("relevant" in r) && !("answer" in r)));
  const gold = await loadExamples(`${DIR}test_gold.json`, d.contexts, { split: "valid" });
  assert.deepEqual(
    gold.map(({ id, question, paragraphs }) => ({ id, question, paragraphs })),
    d.test,
  );
  const ids = [...d.train!, ...d.validation!, ...d.test!].map((e) => e.id);
  assert.equal(new Set(ids).size, ids.length, "ids unique across splits");
});

Deno.test("questions are tied to their paragraph; distractors never name the asked entity", () => {
  const positions = [0, 0, 0, 0];
  const namesBySplit = {
    train: new Set<string>(),
    valid: new Set<string>(),
    test: new Set<string>(),
  };
  for (const split of ["train", "valid", "test"] as const) {
    for (const e of ds[split]) {
      const info = ds.info.get(e.id)!;
      namesBySplit[split].add(info.name);
      assert.ok(e.question.includes(info.name), e.id);
      assert.ok(ds.contexts[e.relevant!].includes(info.name), e.id);
      for (const p of e.paragraphs) {
        if (p !== e.relevant) assert.ok(!ds.contexts[p].includes(info.name), `${e.id}: ${p}`);
      }
      assert.equal(new Set(e.paragraphs).size, 4);
      positions[e.paragraphs.indexOf(e.relevant!)]++;
      const ctx = ds.contexts[e.relevant!];
      assert.equal(
        ctx.slice(e.answer!.start, e.answer!.start + e.answer!.text.length),
        e.answer!.text,
      );
      assert.ok(
        !e.question.includes(e.answer!.text),
        `${e.id}: the question gives the answer away`,
      );
    }
  }
  // The relevant paragraph is anywhere among the 4.
  for (const n of positions) assert.ok(n > 0.18 * 2600 && n < 0.32 * 2600, String(positions));
  // Splits ask about disjoint entities.
  for (const n of namesBySplit.valid) assert.ok(!namesBySplit.train.has(n));
  for (const n of namesBySplit.test) {
    assert.ok(!namesBySplit.train.has(n) && !namesBySplit.valid.has(n));
  }
});

Deno.test("sample statistics: small inventory, short paragraphs, some long ones, varied answers", () => {
  const s = sampleStats(ds, files);
  assert.ok(s.distinctChars >= 300 && s.distinctChars <= 1500, String(s.distinctChars));
  assert.ok(
    s.paragraphChars.p50 >= 60 && s.paragraphChars.p50 <= 200,
    JSON.stringify(s.paragraphChars),
  );
  assert.ok(s.paragraphChars.over400 >= 20, "some paragraphs are longer than one window");
  assert.ok(s.pairWords.p90 <= 192, JSON.stringify(s.pairWords));
  assert.ok(s.answerRelativeStart.p25 < 0.35 && s.answerRelativeStart.p75 > 0.6);
  const total = Object.values(s.fileBytes).reduce((a, b) => a + b, 0);
  assert.ok(total < 3_000_000, `${total} bytes`);
  const answers = [...ds.train, ...ds.valid, ...ds.test].map((e) => e.answer!.text);
  assert.ok(answers.filter((a) => /[A-Za-z]/.test(a)).length > 100, "latin answers");
  assert.ok(answers.filter((a) => /[0-9]/.test(a)).length > 500, "answers with digits");
  assert.ok(answers.filter((a) => /^[\u4e00-\u9fff]+$/.test(a)).length > 500, "CJK answers");
  // Distractors: hard ones (same type, same fact: only the name differs) and easier ones.
  assert.ok(s.distractors.hard >= 0.15 && s.distractors.hard <= 0.3, JSON.stringify(s.distractors));
  assert.ok(s.distractors.questionsWithHard >= 0.4, JSON.stringify(s.distractors));
  for (const e of ds.train) {
    const k = ds.info.get(e.id)!;
    for (const p of e.paragraphs) {
      const d = ds.paragraphInfo[p];
      if (p === e.relevant) assert.ok(d.name === k.name && d.fields.includes(k.field));
      else assert.notEqual(d.name, k.name);
    }
  }
  // Answers in long paragraphs lie beyond the first 128-token window too.
  const late = [...ds.train, ...ds.valid].filter((e) => e.answer!.start > 300).length;
  assert.ok(late >= 10, `${late} answers start after character 300`);
});

Deno.test("vocab.txt covers the corpus: no [UNK] in any paragraph or question", () => {
  const vocab = files["vocab.txt"].split("\n").slice(0, -1);
  assert.deepEqual(vocab.slice(0, 5), ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]);
  assert.equal(vocab.length, ds.vocab.length);
  const v = new Set(vocab);
  const texts = [...ds.contexts, ...ds.train.map((e) => e.question)];
  for (const t of texts) {
    for (const w of basicTokenize(t)) {
      // Greedy longest match must consume the whole word.
      let start = 0;
      const cs = Array.from(w);
      while (start < cs.length) {
        let end = cs.length;
        while (end > start && !v.has((start ? "##" : "") + cs.slice(start, end).join(""))) end--;
        assert.ok(
          end > start,
          `[UNK] in ${JSON.stringify(w)} of ${JSON.stringify(t.slice(0, 30))}`,
        );
        start = end;
      }
    }
  }
});
