import assert from "node:assert/strict";
import {
  DataError,
  importSquad,
  loadContexts,
  loadExamples,
  toFileRecords,
  validateExamples,
} from "../lib/data/mod.ts";
import { run as importSquadCli } from "../lib/cli/import_squad.ts";

const DRCD = new URL("../../shared/data/drcd/DRCD_test.json", import.meta.url);

/** A small SQuAD-layout object: `nArticles` articles of `nParas` paragraphs, one question each. */
function toySquad(nArticles = 5, nParas = 2) {
  const data = [];
  for (let a = 0; a < nArticles; a++) {
    const paragraphs = [];
    for (let p = 0; p < nParas; p++) {
      const context = `第${a}篇第${p}段：答案是A${a}P${p}。`;
      paragraphs.push({
        context,
        qas: [{
          id: `q${a}-${p}`,
          question: `第${a}篇第${p}段的答案？`,
          answers: [{ text: `A${a}P${p}`, answer_start: context.indexOf("A") }, {
            text: "x",
            answer_start: 0,
          }],
        }],
      });
    }
    data.push({ title: `t${a}`, paragraphs });
  }
  return { version: "1", data };
}

Deno.test("importSquad: context list, own paragraph + distractors from other articles, first answer", () => {
  const squad = toySquad();
  const r = importSquad(squad, { seed: 1 });
  assert.equal(r.contexts.length, 10);
  assert.equal(r.contexts[3], squad.data[1].paragraphs[1].context);
  assert.equal(r.examples.length, 10);
  const articleOf = (i: number) => Math.floor(i / 2);
  for (const [k, e] of r.examples.entries()) {
    assert.equal(e.relevant, k);
    assert.equal(e.paragraphs.length, 4);
    assert.equal(new Set(e.paragraphs).size, 4);
    assert.ok(e.paragraphs.includes(k));
    for (const p of e.paragraphs) if (p !== k) assert.notEqual(articleOf(p), articleOf(k));
    assert.equal(e.answer!.text, `A${articleOf(k)}P${k % 2}`);
    assert.equal(
      r.contexts[k].slice(e.answer!.start, e.answer!.start + e.answer!.text.length),
      e.answer!.text,
    );
  }
  // The written form loads with validation.
  const v = validateExamples(
    JSON.parse(JSON.stringify(toFileRecords(r.examples, r.contexts))),
    r.contexts,
    "x",
    { split: "train" },
  );
  assert.equal(v.examples.length, 10);
});

Deno.test("importSquad: seeded (same seed same result, other seed differs), positions vary", () => {
  const squad = toySquad(30, 2);
  const a = importSquad(squad, { seed: 7 });
  const b = importSquad(squad, { seed: 7 });
  const c = importSquad(squad, { seed: 8 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.examples, c.examples);
  const positions = new Set(a.examples.map((e) => e.paragraphs.indexOf(e.relevant!)));
  assert.deepEqual([...positions].sort(), [0, 1, 2, 3]);
  // numChoices
  const d = importSquad(squad, { seed: 7, numChoices: 2 });
  assert.ok(d.examples.every((e) => e.paragraphs.length === 2));
});

Deno.test("importSquad: articleGroups keeps distractors inside the question's group", () => {
  const squad = toySquad(12, 2);
  const groups = squad.data.map((_, a) => (a < 4 ? "test" : a < 8 ? "valid" : "train"));
  const r = importSquad(squad, { seed: 3, articleGroups: groups });
  const groupOf = (i: number) => groups[Math.floor(i / 2)];
  assert.equal(r.examples.length, 24);
  for (const e of r.examples) {
    assert.equal(new Set(e.paragraphs).size, 4);
    for (const p of e.paragraphs) {
      assert.equal(groupOf(p), groupOf(e.relevant!), `${e.id}: ${p}`);
      if (p !== e.relevant) assert.notEqual(Math.floor(p / 2), Math.floor(e.relevant! / 2));
    }
  }
  // Without groups, the same seed draws across groups (the import-squad default is unchanged).
  const plain = importSquad(squad, { seed: 3 });
  assert.ok(
    plain.examples.some((e) => e.paragraphs.some((p) => groupOf(p) !== groupOf(e.relevant!))),
  );
  // Too small a group: a clear error; a wrong length: an error.
  const tiny = squad.data.map((_, a) => (a < 2 ? "small" : "big"));
  assert.throws(() => importSquad(squad, { seed: 3, articleGroups: tiny }), /of its group/);
  assert.throws(() => importSquad(squad, { seed: 3, articleGroups: ["x"] }), /articleGroups/);
});

Deno.test("importSquad: problems are errors naming the question, or skipped and reported", () => {
  const squad = toySquad(3, 1);
  squad.data[0].paragraphs[0].qas[0].answers[0].answer_start += 1;
  squad.data[1].paragraphs[0].qas[0].answers = [];
  squad.data[2].paragraphs[0].qas[0].id = "q0-0";
  assert.throws(() => importSquad(squad, { seed: 1, file: "in.json" }), (e: unknown) => {
    assert.ok(e instanceof DataError);
    assert.equal(e.problems.length, 3);
    assert.match(
      e.message,
      /in\.json: record 0 \(0-based, id "q0-0"\): field "data\[0\]\.paragraphs\[0\]\.qas\[0\]\.answers\[0\]\.answer_start": answer text "A0P0" is not at 11/,
    );
    assert.match(e.message, /record 1 \(0-based, id "q1-0"\): .*answers": has no answer/);
    assert.match(
      e.message,
      /record 2 \(0-based, id "q0-0"\): .*\.id": duplicate id: also used at data\[0\]/,
    );
    return true;
  });
  const logged: string[] = [];
  const ok = toySquad(5, 1);
  ok.data[0].paragraphs[0].qas[0].question = "  ";
  const r = importSquad(ok, { seed: 1, skipInvalid: true, log: (s) => logged.push(s) });
  assert.equal(r.examples.length, 4);
  assert.equal(r.skipped.length, 1);
  assert.match(logged[0], /skipped: .*question": is empty/);
  assert.throws(
    () => importSquad(toySquad(2, 2), { seed: 1 }),
    /too few paragraphs in other articles to draw 3 distractors/,
  );
  assert.throws(
    () => importSquad({ articles: [] }, { seed: 1 }),
    /field "data": expected an object with a "data" array/,
  );
});

Deno.test("DRCD_test: import, write, load with validation: zero errors, 3,493 questions", async () => {
  const out = await Deno.makeTempDir({ prefix: "data_squad_test_" });
  try {
    const lines: string[] = [];
    const log = console.log;
    console.log = (s: string) => lines.push(s);
    try {
      await importSquadCli({
        input: DRCD.pathname,
        output_dir: out,
        seed: 42,
        num_choices: 4,
        split_name: "valid",
        skip_invalid: false,
      });
    } finally {
      console.log = log;
    }
    assert.match(lines.join("\n"), /3493 questions, 1000 paragraphs/);
    const contexts = await loadContexts(`${out}/context.json`);
    const examples = await loadExamples(`${out}/valid.json`, contexts, { split: "valid" });
    assert.equal(contexts.length, 1000);
    assert.equal(examples.length, 3493);
    // Distractors come from other articles (DRCD ids are "<article>-<paragraph>-<question>").
    const squad = JSON.parse(await Deno.readTextFile(DRCD));
    const articleOfContext: string[] = [];
    for (const art of squad.data) for (const _ of art.paragraphs) articleOfContext.push(art.id);
    let astralShifted = 0;
    for (const e of examples) {
      assert.equal(new Set(e.paragraphs).size, 4);
      for (const p of e.paragraphs) {
        if (p !== e.relevant) assert.notEqual(articleOfContext[p], articleOfContext[e.relevant!]);
      }
      const ctx = contexts[e.relevant!];
      assert.equal(
        ctx.slice(e.answer!.start, e.answer!.start + e.answer!.text.length),
        e.answer!.text,
      );
      if (Array.from(ctx.slice(0, e.answer!.start)).length !== e.answer!.start) astralShifted++;
    }
    // DRCD has 5 answers after a character outside the BMP: offsets are converted, not broken.
    assert.equal(astralShifted, 5);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("import-squad CLI: --split_name names the file and must be a plain name", async () => {
  const out = await Deno.makeTempDir({ prefix: "data_squad_test_" });
  try {
    await Deno.writeTextFile(`${out}/in.json`, JSON.stringify(toySquad(6, 1)));
    const log = console.log;
    console.log = () => {};
    try {
      await importSquadCli({
        input: `${out}/in.json`,
        output_dir: `${out}/adl`,
        seed: 3,
        num_choices: 4,
        split_name: "train",
        skip_invalid: false,
      });
    } finally {
      console.log = log;
    }
    const ctx = await loadContexts(`${out}/adl/context.json`);
    assert.equal((await loadExamples(`${out}/adl/train.json`, ctx, { split: "train" })).length, 6);
    await assert.rejects(
      () =>
        importSquadCli({
          input: `${out}/in.json`,
          output_dir: `${out}/adl`,
          seed: 3,
          num_choices: 4,
          split_name: "../x",
          skip_invalid: false,
        }),
      /--split_name must be a plain file name/,
    );
    await Deno.writeTextFile(`${out}/bad.json`, '{"data": [\n}');
    await assert.rejects(
      () =>
        importSquadCli({
          input: `${out}/bad.json`,
          output_dir: `${out}/adl`,
          seed: 3,
          num_choices: 4,
          split_name: "valid",
          skip_invalid: false,
        }),
      /bad\.json: invalid JSON at line 2, column 1/,
    );
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
