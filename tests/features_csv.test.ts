import assert from "node:assert/strict";
import {
  formatPredictionCsv,
  parsePredictionCsv,
  readPredictionCsv,
  writePredictionCsv,
} from "../lib/features/mod.ts";

const TRICKY = [
  { id: "plain", answer: "台北市" },
  { id: "comma", answer: "一,二，三" },
  { id: "quote", answer: "He said \"hi\" and 'bye'" },
  { id: "newline", answer: "第一行\n第二行\r\n第三行" },
  { id: "spaces", answer: "  leading and trailing  " },
  { id: "empty", answer: "" },
  { id: "formula", answer: "=1+2" },
  { id: "emoji", answer: "😀 𠀀 ｘ" },
  { id: 'id,with "comma"', answer: "ok" },
];

Deno.test("prediction CSV: header id,answer and exact round-trip of tricky answers", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/prediction.csv`;
    await writePredictionCsv(path, TRICKY);
    const text = await Deno.readTextFile(path);
    assert.ok(text.startsWith('"id","answer"\n'));
    assert.deepEqual(await readPredictionCsv(path), TRICKY);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("prediction CSV: reads unquoted CSV from elsewhere, BOM, extra columns, CRLF", () => {
  const text = '\ufeffid,answer,score\r\nq1,台北,0.9\r\nq2,"a,b",0.1\r\n';
  assert.deepEqual(parsePredictionCsv(text), [
    { id: "q1", answer: "台北" },
    { id: "q2", answer: "a,b" },
  ]);
  assert.deepEqual(parsePredictionCsv("answer,id\nx,1\n"), [{ id: "1", answer: "x" }]);
});

Deno.test("prediction CSV: clear errors for duplicates, missing columns, bad rows", () => {
  assert.throws(
    () => formatPredictionCsv([{ id: "a", answer: "1" }, { id: "a", answer: "2" }]),
    /duplicate id "a"/,
  );
  assert.throws(
    () => parsePredictionCsv("id,answer\na,1\nb,2\na,3\n", "p.csv"),
    /p\.csv: duplicate id "a" at data rows 1 and 3/,
  );
  assert.throws(
    () => parsePredictionCsv("id,text\na,1\n", "p.csv"),
    /p\.csv: missing column "answer" \(header is "id,text"\)/,
  );
  assert.throws(() => parsePredictionCsv("answer\n1\n", "p.csv"), /missing column "id"/);
  assert.throws(() => parsePredictionCsv("id,answer\n,1\n", "p.csv"), /data row 1 has an empty id/);
  assert.throws(
    () => parsePredictionCsv('id,answer\na,"unterminated\n', "p.csv"),
    /p\.csv: malformed CSV/,
  );
  assert.throws(
    () => parsePredictionCsv("id,answer\na\n", "p.csv"),
    /p\.csv: malformed CSV at data row 1/,
  );
});
