/**
 * data/drcd: the committed ADL files load and validate, test.json carries no answers while
 * test_gold.json does, the splits share no candidate paragraph, every committed file stays under
 * 5 MB, and — when DRCD's files are in
 * ../shared — a fresh build (scripts/make_drcd.ts) equals the committed files byte for byte.
 */
import assert from "node:assert/strict";
import { loadAdlDataset, loadExamples } from "../lib/data/mod.ts";
import { buildDrcd } from "../scripts/make_drcd.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const DIR = `${ROOT}data/drcd`;
const SHARED = `${ROOT}../shared/data/drcd`;

Deno.test("data/drcd: loads with validation; test answers only in test_gold.json", async () => {
  const d = await loadAdlDataset({
    contextFile: `${DIR}/context.json`,
    trainFile: `${DIR}/train.json`,
    validationFile: `${DIR}/valid.json`,
    testFile: `${DIR}/test.json`,
  });
  assert.equal(d.contexts.length, 2000);
  assert.equal(d.train!.length + d.validation!.length + d.test!.length, 7017);
  assert.ok(d.test!.every((t) => t.answer === undefined && t.relevant === undefined));
  const gold = await loadExamples(`${DIR}/test_gold.json`, d.contexts, { split: "valid" });
  assert.deepEqual(gold.map((g) => g.id), d.test!.map((t) => t.id));
  // No question of valid/test has its gold paragraph among the training questions' ones.
  const trainParas = new Set(d.train!.map((t) => t.relevant));
  for (const e of [...d.validation!, ...gold]) assert.ok(!trainParas.has(e.relevant), e.id);
  // Distractors come from the question's own split: no candidate paragraph of one split is a
  // candidate of another (training never shows a valid/test paragraph as a wrong choice).
  const cands = (xs: { paragraphs: number[] }[]) => new Set(xs.flatMap((x) => x.paragraphs));
  const [tr, va, te] = [cands(d.train!), cands(d.validation!), cands(gold)];
  for (const p of tr) assert.ok(!va.has(p) && !te.has(p), `train candidate ${p} in valid/test`);
  for (const p of va) assert.ok(!te.has(p), `valid candidate ${p} in test`);
  for (const f of ["context.json", "train.json", "valid.json", "test.json", "test_gold.json"]) {
    assert.ok((await Deno.stat(`${DIR}/${f}`)).size < 5_000_000, `${f} < 5 MB`);
  }
});

Deno.test({
  name: "data/drcd: equals a fresh build from ../shared/data/drcd",
  ignore: (() => {
    try {
      return !Deno.statSync(`${SHARED}/DRCD_dev.json`).isFile;
    } catch {
      return true;
    }
  })(),
  fn: async () => {
    const { files } = await buildDrcd(SHARED, 42);
    for (const [name, text] of files) {
      assert.ok(text === await Deno.readTextFile(`${DIR}/${name}`), `${name} differs`);
    }
  },
});
