import assert from "node:assert/strict";
import {
  decodingHtml,
  examplesToQaInputs,
  featureTableHtml,
  illustrativeLogits,
  inputWithMostWindows,
  mcFeatureHtml,
  prepareMcFeatures,
  prepareQaFeatures,
  windowsHtml,
} from "../lib/features/mod.ts";
import { charContext, makeTokenizer } from "./features_util.ts";

const tok = makeTokenizer();

Deno.test("examplesToQaInputs: gold paragraph by default, chosen paragraph on request", () => {
  const contexts = ["甲乙", "丙丁", "戊己"];
  const examples = [
    { id: "a", question: "誰", paragraphs: [0, 1], relevant: 1, answer: { text: "丁", start: 1 } },
    { id: "b", question: "是", paragraphs: [2, 0] },
  ];
  assert.deepEqual(examplesToQaInputs(examples.slice(0, 1), contexts), [
    { id: "a", question: "誰", context: "丙丁", answer: { text: "丁", start: 1 } },
  ]);
  const chosen = examplesToQaInputs(examples, contexts, (ex) => ex.paragraphs[0]);
  assert.deepEqual(chosen.map((i) => [i.context, i.answer]), [["甲乙", undefined], [
    "戊己",
    undefined,
  ]]);
  assert.throws(
    () => examplesToQaInputs(examples, contexts),
    /example 1 \(0-based, id "b"\) has no "relevant"/,
  );
  assert.throws(
    () => examplesToQaInputs(examples, contexts, () => 7),
    /paragraph 7 is out of range \(there are 3 contexts\)/,
  );
});

Deno.test("HTML views: token table with highlight and escaping, windows, MC, decoding", () => {
  const context = "<b>甲乙丙丁" + charContext(50);
  const input = { id: "h&1", question: "誰", context, answer: { text: "乙丙", start: 4 } };
  const feats = prepareQaFeatures([input], tok, { maxSeqLength: 24, docStride: 4, training: true });
  const table = featureTableHtml(feats[0], { vocab: tok.vocab, context });
  assert.ok(!table.includes("<b>甲"), "context text is escaped");
  assert.match(table, /\[UNK\]/);
  assert.equal(table.match(/<tr style="background:#ffe08a">/g)?.length, 2); // 乙, 丙
  assert.match(table, /<td[^>]*>null<\/td>/);
  const short = featureTableHtml(feats[0], { vocab: tok.vocab, context, maxRows: 6 });
  assert.ok((short.match(/<tr/g)?.length ?? 0) <= 6 + 3 + 1);
  assert.match(short, /…/);
  const win = windowsHtml(input, feats);
  assert.match(win, new RegExp(`${feats.length} windows of example h&amp;1`));
  assert.match(win, /<mark>乙丙<\/mark>/);
  const { startLogits, endLogits } = illustrativeLogits(feats, 5, 50);
  const dec = decodingHtml(input, feats, startLogits, endLogits, { top: 3 });
  // The boosted gold span ranks first (the highlighted row).
  assert.match(dec, /<tr style="background:#ffe08a">.*&quot;乙丙&quot;<\/td><\/tr>/);
  assert.equal(dec.match(/<tr style="background:#ffe08a">/g)?.length, 1);
  const again = illustrativeLogits(feats, 5, 50);
  assert.deepEqual(again.startLogits, startLogits, "seeded");
  const [mc] = prepareMcFeatures(
    [{ id: "m", question: "誰", paragraphs: [0, 1], relevant: 1 }],
    ["甲乙", context],
    tok,
    { maxSeqLength: 16 },
  );
  const mcHtml = mcFeatureHtml(mc, [0, 1], ["甲乙", context], {
    vocab: tok.vocab,
    maxSeqLength: 16,
  });
  assert.match(mcHtml, /label 1/);
  assert.match(mcHtml, /<td[^>]*>yes<\/td>/);
  assert.equal(inputWithMostWindows([{ windows: 1 }, { windows: 3 }, { windows: 3 }]), 1);
  assert.equal(inputWithMostWindows([]), -1);
});

Deno.test("featureTableHtml / windowsHtml show offsets in code points (astral 𫖮 𩅦 in question and context)", () => {
  const context = "𫖮𩅦甲乙丙";
  const input = { id: "x", question: "𩅦誰", context, answer: { text: "乙", start: 5 } };
  const [f] = prepareQaFeatures([input], tok, { maxSeqLength: 32, docStride: 8, training: true });
  const table = featureTableHtml(f, { vocab: tok.vocab, context });
  // 乙 is UTF-16 [5, 6) but code points [3, 4), as Python slices it.
  assert.match(table, /\[3, 4\)/);
  assert.doesNotMatch(table, /\[5, 6\)/);
  const windows = windowsHtml(input, [f]);
  assert.match(windows, /\[0, 5\)/);
  assert.match(windows, /context 5 chars/);
});
