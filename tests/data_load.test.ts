import assert from "node:assert/strict";
import {
  type AdlExample,
  DataError,
  findJsonError,
  lineColumn,
  loadAdlDataset,
  loadContexts,
  loadExamples,
  readExamples,
  writeContexts,
  writeExamples,
} from "../lib/data/mod.ts";

const CONTEXTS = [
  "林志遠於1962年出生於北濱市。",
  "北濱市的人口約為12萬人。",
  "晨光電子公司成立於1990年。",
  "星河音樂節於2011年5月3日舉行。",
  "王美玲是一位作家，代表作是《長夜》。",
];

function good(id: string, extra: Partial<Record<string, unknown>> = {}): Record<string, unknown> {
  return {
    id,
    question: "林志遠出生於哪一年？",
    paragraphs: [1, 0, 2, 3],
    relevant: 0,
    answer: { text: "1962年", start: 4 },
    ...extra,
  };
}

async function withFiles(
  files: Record<string, string>,
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "data_load_test_" });
  try {
    for (const [name, text] of Object.entries(files)) {
      await Deno.writeTextFile(`${dir}/${name}`, text);
    }
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Loads `records` as `split` and returns the DataError it must raise. */
async function loadError(
  records: unknown,
  split: "train" | "valid" | "test" = "train",
): Promise<DataError> {
  let err: unknown;
  await withFiles({ "q.json": JSON.stringify(records) }, async (dir) => {
    try {
      await loadExamples(`${dir}/q.json`, CONTEXTS, { split });
    } catch (e) {
      err = e;
    }
  });
  assert.ok(err instanceof DataError, `expected a DataError, got ${err}`);
  assert.match(err.message, /q\.json/, "the message names the file");
  return err;
}

Deno.test("valid records load, with relevant/answer for train and without for test", async () => {
  await withFiles({
    "train.json": JSON.stringify([
      good("a"),
      good("b", { relevant: 4, paragraphs: [4, 3, 2, 1], answer: { text: "長夜", start: 14 } }),
    ]),
    "test.json": JSON.stringify([{ id: "t1", question: "誰？", paragraphs: [0, 1, 2, 3] }]),
    "context.json": JSON.stringify(CONTEXTS),
  }, async (dir) => {
    const ctx = await loadContexts(`${dir}/context.json`);
    assert.deepEqual(ctx, CONTEXTS);
    const train = await loadExamples(`${dir}/train.json`, ctx, { split: "train" });
    assert.equal(train.length, 2);
    assert.deepEqual(train[1], {
      id: "b",
      question: "林志遠出生於哪一年？",
      paragraphs: [4, 3, 2, 1],
      relevant: 4,
      answer: { text: "長夜", start: 14 },
    });
    const test = await loadExamples(`${dir}/test.json`, ctx, { split: "test" });
    assert.deepEqual(test, [{ id: "t1", question: "誰？", paragraphs: [0, 1, 2, 3] }]);
    // A test-layout file is not a valid validation file: one line says so.
    await assert.rejects(
      () => loadExamples(`${dir}/test.json`, ctx, { split: "valid" }),
      (e: unknown) => {
        assert.ok(e instanceof DataError);
        assert.equal(e.message.split("\n").length, 1, e.message);
        assert.match(e.message, /test\.json: no record has "relevant" or "answer" .*a test file/);
        // Every record is still listed for code that reads the problems.
        assert.equal(e.problems[0].field, "relevant");
        return true;
      },
    );
  });
});

Deno.test("bad JSON: error names the file, line and column", async () => {
  assert.deepEqual(lineColumn("ab\ncd\nef", 4), { line: 2, column: 2 });
  assert.deepEqual(lineColumn("林志\n遠x", 4), { line: 2, column: 2 });
  await withFiles({
    "bad.json": '[\n  {"id": "a",,\n  "question": "x"}\n]\n',
    "trunc.json": "[1,",
  }, async (dir) => {
    await assert.rejects(() => loadContexts(`${dir}/bad.json`), (e: unknown) => {
      assert.ok(e instanceof DataError);
      assert.match(e.message, /bad\.json: invalid JSON at line 2, column 14/);
      return true;
    });
    await assert.rejects(() => loadContexts(`${dir}/trunc.json`), (e: unknown) => {
      assert.ok(e instanceof DataError);
      assert.match(e.message, /trunc\.json: invalid JSON at line 1, column 4/);
      return true;
    });
  });
});

Deno.test("missing file and invalid UTF-8 name the file", async () => {
  await assert.rejects(
    () => loadContexts("/nonexistent/context.json"),
    /context\.json: file not found/,
  );
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/c.json`, new Uint8Array([0x5b, 0x22, 0xe6, 0x9e, 0x22, 0x5d]));
    await assert.rejects(() => loadContexts(`${dir}/c.json`), /c\.json: not valid UTF-8/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("context file must be an array of strings", async () => {
  await withFiles({ "a.json": '{"x": 1}', "b.json": '["ok", 3, null]' }, async (dir) => {
    await assert.rejects(() => loadContexts(`${dir}/a.json`), /a\.json: expected a JSON array/);
    await assert.rejects(() => loadContexts(`${dir}/b.json`), (e: unknown) => {
      assert.ok(e instanceof DataError);
      assert.equal(e.problems.length, 2);
      assert.match(e.message, /record 1 \(0-based\): paragraph must be a string, got the number 3/);
      assert.match(e.message, /record 2 \(0-based\): paragraph must be a string, got null/);
      return true;
    });
  });
});

Deno.test("question file must be an array of objects", async () => {
  assert.match(
    (await loadError({ data: [] })).message,
    /expected a JSON array of question records/,
  );
  assert.match(
    (await loadError([good("a"), 7])).message,
    /record 1 \(0-based\): record must be an object/,
  );
});

Deno.test("each missing field is named", async () => {
  for (const field of ["id", "question", "paragraphs", "relevant", "answer"]) {
    const rec = good("x");
    delete rec[field];
    const e = await loadError([good("a"), rec]);
    assert.equal(e.problems.length, 1);
    assert.equal(e.problems[0].index, 1);
    assert.equal(e.problems[0].field, field);
    assert.match(e.message, new RegExp(`record 1.*field "${field}": missing`));
  }
  for (const sub of ["text", "start"]) {
    const ans: Record<string, unknown> = { text: "1962年", start: 4 };
    delete ans[sub];
    const e = await loadError([good("a", { answer: ans })]);
    assert.match(
      e.message,
      new RegExp(`record 0 \\(0-based, id "a"\\): field "answer.${sub}": missing`),
    );
  }
});

Deno.test("wrong types are named with what was found", async () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ id: 17 }, /field "id": must be a string, got the number 17/],
    [{ id: "" }, /field "id": is empty/],
    [{ question: ["q"] }, /field "question": must be a string, got an array/],
    [{ paragraphs: "0,1,2,3" }, /field "paragraphs": must be an array, got a string/],
    [
      { paragraphs: [1, 0, 2.5, 3] },
      /field "paragraphs\[2\]": must be an integer paragraph index, got the number 2.5/,
    ],
    [{ relevant: "0" }, /field "relevant": must be an integer paragraph index, got a string "0"/],
    [{ answer: "1962年" }, /field "answer": must be an object, got a string/],
    [
      { answer: { text: 1962, start: 4 } },
      /field "answer.text": must be a string, got the number 1962/,
    ],
    [{ answer: { text: "", start: 4 } }, /field "answer.text": is empty/],
    [
      { answer: { text: "1962年", start: -1 } },
      /field "answer.start": must be a non-negative integer, got the number -1/,
    ],
    [
      { answer: { text: "1962年", start: "4" } },
      /field "answer.start": must be a non-negative integer/,
    ],
  ];
  for (const [extra, re] of cases) {
    const e = await loadError([good("a", extra)]);
    assert.match(e.message, re);
    assert.match(e.message, /record 0/);
  }
});

Deno.test("paragraph index out of range, duplicated, or wrong count", async () => {
  let e = await loadError([good("a", { paragraphs: [1, 0, 2, 5] })]);
  assert.match(
    e.message,
    /field "paragraphs\[3\]": paragraph index 5 is out of range \(the context file has 5 paragraphs\)/,
  );
  e = await loadError([good("a", { paragraphs: [1, 0, -1, 3] })]);
  assert.match(e.message, /paragraph index -1 is out of range/);
  e = await loadError([good("a", { paragraphs: [1, 0, 1, 3] })]);
  assert.match(e.message, /field "paragraphs\[2\]": paragraph 1 is listed twice/);
  e = await loadError([good("a"), good("b", { paragraphs: [0, 1, 2] })]);
  assert.match(
    e.message,
    /record 1 \(0-based, id "b"\): field "paragraphs": has 3 entries, expected 4/,
  );
});

Deno.test("relevant must be among paragraphs", async () => {
  const e = await loadError([good("a", { relevant: 4 })]);
  assert.match(
    e.message,
    /record 0 \(0-based, id "a"\): field "relevant": 4 is not among paragraphs \[1, 0, 2, 3\]/,
  );
});

Deno.test("answer text must be at start in the relevant paragraph", async () => {
  let e = await loadError([good("a", { answer: { text: "1962年", start: 5 } })]);
  assert.match(
    e.message,
    /field "answer.start": answer text "1962年" is not at 5 in paragraph 0 \(found "962年出" there; the text occurs at 4\)/,
  );
  e = await loadError([good("a", { answer: { text: "1963年", start: 4 } })]);
  assert.match(e.message, /the text does not occur in paragraph 0 at all/);
  e = await loadError([good("a", { answer: { text: "市", start: 99 } })]);
  assert.match(
    e.message,
    /field "answer.start": 99 is past the end of paragraph 0 \(16 characters\)/,
  );
  // The answer of the right text in a *different* candidate is still wrong.
  e = await loadError([good("a", { relevant: 1, answer: { text: "1962年", start: 4 } })]);
  assert.match(e.message, /not at 4 in paragraph 1/);
});

Deno.test("duplicate ids and empty questions", async () => {
  let e = await loadError([good("a"), good("b"), good("a")]);
  assert.match(
    e.message,
    /record 2 \(0-based, id "a"\): field "id": duplicate id: also used by record 0/,
  );
  e = await loadError([good("a", { question: " \u3000\n" })]);
  assert.match(e.message, /record 0 \(0-based, id "a"\): field "question": is empty/);
});

Deno.test("test split: relevant/answer optional but validated when present", async () => {
  const e = await loadError(
    [{ id: "t", question: "q", paragraphs: [0, 1, 2, 3], relevant: 4 }],
    "test",
  );
  assert.match(e.message, /field "relevant": 4 is not among paragraphs/);
});

Deno.test("every bad record is reported, not only the first", async () => {
  const e = await loadError([good("a", { relevant: 9 }), good("b"), good("c", { question: "" })]);
  assert.equal(e.problems.length, 2);
  assert.deepEqual(e.problems.map((p) => [p.index, p.id, p.field]), [[0, "a", "relevant"], [
    2,
    "c",
    "question",
  ]]);
  assert.match(e.message, /2 invalid records of 3/);
});

Deno.test("skipInvalid leaves bad records out and reports each one", async () => {
  const lines: string[] = [];
  await withFiles({
    "q.json": JSON.stringify([
      good("a", { relevant: 9 }),
      good("b"),
      good("c", { question: "" }),
      good("b"),
    ]),
  }, async (dir) => {
    const r = await readExamples(`${dir}/q.json`, CONTEXTS, {
      split: "train",
      skipInvalid: true,
      log: (s) => lines.push(s),
    });
    assert.deepEqual(r.examples.map((x) => x.id), ["b"]);
    assert.deepEqual(r.skipped.map((p) => [p.index, p.id, p.field]), [
      [0, "a", "relevant"],
      [2, "c", "question"],
      [3, "b", "id"],
    ]);
    assert.equal(lines.length, 4);
    assert.match(lines[0], /^skipped: .*q\.json: record 0 \(0-based, id "a"\): field "relevant"/);
    assert.match(lines[3], /skipped 3 invalid records of 4/);
  });
});

Deno.test("answer.start counts code points in files, UTF-16 units in memory", async () => {
  // "𡨸" is outside the BMP: 1 code point, 2 UTF-16 units.
  const ctx = ["喃字𡨸與漢字並用。"];
  const rec = {
    id: "a",
    question: "並用的是？",
    paragraphs: [0],
    relevant: 0,
    answer: { text: "漢字", start: 4 },
  };
  await withFiles({
    "q.json": JSON.stringify([rec]),
    "bad.json": JSON.stringify([{ ...rec, answer: { text: "漢字", start: 5 } }]),
  }, async (dir) => {
    const [ex] = await loadExamples(`${dir}/q.json`, ctx, { split: "train" });
    assert.equal(ex.answer!.start, 5);
    assert.equal(ctx[0].slice(ex.answer!.start, ex.answer!.start + 2), "漢字");
    // The UTF-16 index in a file is wrong (files count code points, as Python writes them).
    await assert.rejects(
      () => loadExamples(`${dir}/bad.json`, ctx, { split: "train" }),
      /not at 5 in paragraph 0 \(found "字並" there; the text occurs at 4\)/,
    );
    // Writing converts back.
    await writeExamples(`${dir}/w.json`, [ex], ctx);
    const written = JSON.parse(await Deno.readTextFile(`${dir}/w.json`));
    assert.equal(written[0].answer.start, 4);
    assert.deepEqual(await loadExamples(`${dir}/w.json`, ctx, { split: "train" }), [ex]);
  });
});

Deno.test("write + loadAdlDataset round trip (test file without gold)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "data_load_test_" });
  try {
    const ex: AdlExample[] = [{
      id: "a",
      question: "q?",
      paragraphs: [1, 0, 2, 3],
      relevant: 0,
      answer: { text: "北濱市", start: 12 },
    }];
    await writeContexts(`${dir}/context.json`, CONTEXTS);
    await writeExamples(`${dir}/train.json`, ex, CONTEXTS);
    await writeExamples(`${dir}/test.json`, ex, CONTEXTS, { withGold: false });
    const ds = await loadAdlDataset({
      contextFile: `${dir}/context.json`,
      trainFile: `${dir}/train.json`,
      testFile: `${dir}/test.json`,
    });
    assert.deepEqual(ds.contexts, CONTEXTS);
    assert.deepEqual(ds.train, ex);
    assert.deepEqual(ds.test, [{ id: "a", question: "q?", paragraphs: [1, 0, 2, 3] }]);
    assert.equal(ds.validation, undefined);
    assert.deepEqual(ds.skipped, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("findJsonError agrees with JSON.parse and points at the offending character", () => {
  assert.equal(findJsonError('{"a": [1, -2.5e3, true, null, "x\\u00e9\\n"]}'), null);
  assert.deepEqual(findJsonError('{"a": 1,}'), {
    pos: 8,
    reason: 'expected a double-quoted property name, found "}"',
  });
  assert.equal(findJsonError("[1, 2")!.reason, "unexpected end of input");
  assert.equal(findJsonError('["a\tb"]')!.pos, 3);
  assert.equal(findJsonError("[01]")!.pos, 2);
  assert.equal(findJsonError("[1] x")!.pos, 4);
  // Deleting or duplicating any one character of a valid document: the scanner and JSON.parse
  // agree on validity.
  const doc = JSON.stringify({
    id: "a-1",
    q: "林志遠？",
    p: [0, 12, -3.5e2],
    ok: true,
    n: null,
    s: '\\"',
  });
  for (let k = 0; k < doc.length; k++) {
    for (const t of [doc.slice(0, k) + doc.slice(k + 1), doc.slice(0, k) + doc[k] + doc.slice(k)]) {
      let valid = true;
      try {
        JSON.parse(t);
      } catch {
        valid = false;
      }
      assert.equal(findJsonError(t) === null, valid, t);
    }
  }
});

Deno.test("astral characters (𫖮 U+2B5AE, 𩅦 U+29166) in question, paragraph and answer: starts in code points", async () => {
  const ctx = ["𫖮與𩅦是名字，𩅦生於台北。"];
  const text = "𩅦生於台北";
  const rec = { id: "x", question: "𫖮的朋友𩅦生於哪裡？", paragraphs: [0], relevant: 0 };
  // In code points 𩅦生於台北 starts at 7 (the second 𩅦); in UTF-16 units at 9.
  await withFiles({
    "q.json": JSON.stringify([{ ...rec, answer: { text, start: 7 } }]),
  }, async (dir) => {
    const [ex] = await loadExamples(`${dir}/q.json`, ctx, { split: "train" });
    assert.equal(ex.question, rec.question);
    assert.equal(ex.answer!.start, 9);
    assert.equal(ctx[0].slice(9, 9 + text.length), text);
    await writeExamples(`${dir}/w.json`, [ex], ctx);
    const written = JSON.parse(await Deno.readTextFile(`${dir}/w.json`));
    assert.equal(written[0].answer.start, 7);
    assert.equal([...ctx[0]].slice(7, 7 + [...text].length).join(""), text);
  });
});

// What a user trips over (issue 22): whole-file mistakes read as one line, repeats are counted.
const SAMPLE = new URL("../data/sample/", import.meta.url).pathname;

Deno.test("an empty file is '… is empty', not invalid JSON at line 1, column 1", async () => {
  await withFiles({ "empty.json": "", "blank.json": " \n\t\n" }, async (dir) => {
    for (const name of ["empty.json", "blank.json"]) {
      await assert.rejects(() => loadContexts(`${dir}/${name}`), (e: unknown) => {
        assert.ok(e instanceof DataError);
        assert.match(e.message, new RegExp(`${name.replace(".", "\\.")}: is empty`));
        assert.doesNotMatch(e.message, /invalid JSON|line 1, column 1/);
        return true;
      });
    }
  });
});

Deno.test("the sample's test.json read as validation data: one line saying it has no answers", async () => {
  const contexts = await loadContexts(`${SAMPLE}context.json`);
  await assert.rejects(
    () => loadExamples(`${SAMPLE}test.json`, contexts, { split: "valid" }),
    (e: unknown) => {
      assert.ok(e instanceof DataError);
      assert.equal(e.problems.length, 300, "every record is still in the problem list");
      assert.deepEqual(e.message.split("\n"), [
        `${SAMPLE}test.json: no record has "relevant" or "answer" (300 records read): it looks ` +
        "like a test file (questions without answers), but the valid split needs them; give a " +
        "file with answers (such as valid.json)",
      ]);
      return true;
    },
  );
});

Deno.test("a context file too short for the questions: one summarised line, not one per record", async () => {
  await withFiles({ "context.json": JSON.stringify(CONTEXTS.slice(0, 2)) }, async (dir) => {
    const contexts = await loadContexts(`${dir}/context.json`);
    await assert.rejects(
      () => loadExamples(`${SAMPLE}valid.json`, contexts, { split: "valid" }),
      (e: unknown) => {
        assert.ok(e instanceof DataError);
        assert.equal(e.problems.length, 300);
        const lines = e.message.split("\n");
        assert.equal(lines.length, 2, e.message);
        assert.match(lines[0], /valid\.json: 300 invalid records of 300 \(fix or remove them\):$/);
        assert.match(
          lines[1],
          /300 records of 300 use paragraph indices the context file does not have \(it has 2 paragraphs, indices 0–1; they go up to \d+\): is it the context file that goes with this file\? First: record 0 \(0-based, id "valid-0000"\) paragraphs\[0\] = \d+; record 1 .*; … and 297 more$/,
        );
        return true;
      },
    );
  });
});

Deno.test("repeated problems are counted after the first three; no message names an option no flag reaches", async () => {
  const records = Array.from({ length: 10 }, (_, i) => good(`q${i}`, { relevant: 4 }));
  records.push(good("x", { question: "" }));
  const e = await loadError(records);
  assert.equal(e.problems.length, 11);
  const lines = e.message.split("\n");
  assert.equal(lines.length, 1 + 3 + 1 + 1, e.message);
  assert.match(lines[0], /q\.json: 11 invalid records of 11 \(fix or remove them\):$/);
  assert.match(lines[1], /record 0 \(0-based, id "q0"\): field "relevant": 4 is not among/);
  assert.match(lines[3], /record 2 \(0-based, id "q2"\)/);
  assert.equal(lines[4], "  … and 7 more like these");
  assert.match(lines[5], /record 10 \(0-based, id "x"\): field "question": is empty/);
  assert.doesNotMatch(e.message, /skipInvalid|loadExamples/);
  // One problem reads "1 invalid record".
  assert.match((await loadError([good("a", { relevant: 4 })])).message, /1 invalid record of 1 /);
});
