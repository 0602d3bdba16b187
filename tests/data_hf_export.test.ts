/**
 * `export-hf-data` on data/drcd: the files read back with the columns Hugging Face's
 * `run_swag_no_trainer.py` (sent1, sent2, ending0…ending3, label) and `run_qa_no_trainer.py`
 * (`field="data"`; id, title, context, question, answers {text, answer_start}) use; the SWAG
 * pairing tokenizes (as the script does: `tokenizer(sent1, f"{sent2} {ending}")`) to the
 * project's own MC features; answer starts are code points.
 */
import assert from "node:assert/strict";
import {
  codePointToUtf16,
  HF_EXPORT_SPLITS,
  loadAdlDataset,
  toSquadRecords,
  toSwagRecords,
} from "../lib/data/mod.ts";
import { prepareMcFeatures } from "../lib/features/mod.ts";
import { BertTokenizer } from "../lib/tokenization/mod.ts";
import { runDeno } from "./process_util.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const DRCD = `${ROOT}data/drcd`;
const SWAG_COLUMNS = ["sent1", "sent2", "ending0", "ending1", "ending2", "ending3", "label"];
const SQUAD_COLUMNS = ["id", "title", "context", "question", "answers"];

Deno.test("export-hf-data on data/drcd writes the columns run_swag / run_qa read", async () => {
  const out = await Deno.makeTempDir({ prefix: "hf_export_" });
  try {
    const r = await runDeno([
      "run",
      "-A",
      `${ROOT}cli.ts`,
      "export-hf-data",
      "--data",
      DRCD,
      "--output_dir",
      out,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const d = await loadAdlDataset({
      contextFile: `${DRCD}/context.json`,
      trainFile: `${DRCD}/train.json`,
      validationFile: `${DRCD}/valid.json`,
    });
    for (const split of HF_EXPORT_SPLITS) {
      const examples = split === "train" ? d.train! : d.validation!;
      // SWAG: JSON Lines, one record per question, in the ADL file's order.
      const lines = (await Deno.readTextFile(`${out}/mc_${split}.json`)).trimEnd().split("\n");
      assert.equal(lines.length, examples.length);
      lines.forEach((line, i) => {
        const rec = JSON.parse(line);
        for (const c of SWAG_COLUMNS) assert.ok(c in rec, `mc_${split} line ${i}: ${c}`);
        const ex = examples[i];
        assert.equal(rec.sent1, ex.question);
        assert.equal(rec.sent2, "");
        assert.equal(rec[`ending${rec.label}`], d.contexts[ex.relevant!]);
        for (let k = 0; k < 4; k++) assert.equal(rec[`ending${k}`], d.contexts[ex.paragraphs[k]]);
      });
      // SQuAD: {"data": [...]} (run_qa_no_trainer.py loads with field="data").
      const qa = JSON.parse(await Deno.readTextFile(`${out}/qa_${split}.json`)).data;
      assert.equal(qa.length, examples.length);
      qa.forEach((rec: Record<string, unknown>, i: number) => {
        for (const c of SQUAD_COLUMNS) assert.ok(c in rec, `qa_${split} record ${i}: ${c}`);
        const a = rec.answers as { text: string[]; answer_start: number[] };
        const ctx = rec.context as string;
        assert.equal(rec.id, examples[i].id);
        assert.equal(ctx, d.contexts[examples[i].relevant!]);
        // answer_start counts code points (Python's str indexing).
        const u = codePointToUtf16(ctx, a.answer_start[0]);
        assert.equal(ctx.slice(u, u + a.text[0].length), a.text[0]);
      });
    }
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("SWAG pairing tokenizes to the project's MC features; starts count code points", () => {
  const tokenizer = BertTokenizer.fromVocab([
    "[PAD]",
    "[UNK]",
    "[CLS]",
    "[SEP]",
    "[MASK]",
    ..."誰在哪裡甲乙丙丁𠀋是？",
  ]);
  const contexts = ["甲在乙", "丙是丁", "𠀋甲是乙", "丁丁丁丁丁丁丁丁丁丁"];
  const ex = {
    id: "q1",
    question: "誰在哪裡？",
    paragraphs: [3, 2, 0, 1],
    relevant: 2,
    answer: { text: "乙", start: "𠀋甲是".length },
  };
  const [swag] = toSwagRecords([ex], contexts);
  // The 10-character paragraph is cut to fit 14 tokens (the question is not: it is shorter
  // than the paragraph's share, where longest_first and the project's only_second agree).
  assert.equal(swag.label, 1);
  const [feature] = prepareMcFeatures([ex], contexts, tokenizer, { maxSeqLength: 14 });
  for (let k = 0; k < 4; k++) {
    const enc = tokenizer.encode(swag.sent1, `${swag.sent2} ${swag[`ending${k}` as "ending0"]}`, {
      maxLength: 14,
      truncation: "longest_first",
    });
    assert.deepEqual(enc.input_ids, feature.inputIds[k], `ending${k}`);
    assert.deepEqual(enc.token_type_ids, feature.tokenTypeIds[k], `ending${k}`);
  }
  assert.equal(feature.inputIds[0].length, 14);
  const [squad] = toSquadRecords([ex], contexts);
  // "𠀋" is one code point but two UTF-16 units: Python's start is 3, JavaScript's 4.
  assert.deepEqual(squad.answers, { text: ["乙"], answer_start: [3] });
  assert.throws(() => toSwagRecords([{ ...ex, paragraphs: [0, 1, 2] }], contexts), /exactly 4/);
  assert.throws(() => toSquadRecords([{ id: "t", question: "?", paragraphs: [0] }], contexts));
});
