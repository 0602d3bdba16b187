import assert from "node:assert/strict";
import {
  answerRoundtrip,
  prepareQaFeatures,
  prepareQaFeaturesWithStats,
  type QaInput,
  windowStatistics,
} from "../lib/features/mod.ts";
import { importSquad, writeContexts, writeExamples } from "../lib/data/mod.ts";
import { charContext, makeTokenizer } from "./features_util.ts";
import { ROOT, runDeno } from "./process_util.ts";

const SHARED = new URL("../../shared/data/", import.meta.url).pathname;
const tok = makeTokenizer();

Deno.test("answerRoundtrip: exact matches count, each miss has its reason", () => {
  const ctx = "甲乙 2023 丙丁 foo 戊己";
  const long = charContext(60);
  const inputs: QaInput[] = [
    { id: "ok", question: "誰", context: ctx, answer: { text: "乙 2023 丙", start: 1 } },
    { id: "unk-whole", question: "誰", context: ctx, answer: { text: "foo", start: 11 } },
    { id: "unk", question: "誰", context: ctx, answer: { text: "oo", start: 12 } },
    { id: "mid-start", question: "誰", context: ctx, answer: { text: "023", start: 4 } },
    { id: "mid-end", question: "誰", context: ctx, answer: { text: "20", start: 3 } },
    { id: "space", question: "誰", context: ctx, answer: { text: " 2023", start: 2 } },
    { id: "too-long", question: "誰", context: long, answer: { text: long.slice(2, 9), start: 2 } },
    {
      id: "no-window",
      question: "誰",
      context: long,
      answer: { text: long.slice(5, 40), start: 5 },
    },
    { id: "no-answer", question: "誰", context: ctx },
  ];
  const features = prepareQaFeatures(inputs, tok, {
    maxSeqLength: 24,
    docStride: 4,
    training: true,
  });
  const r = answerRoundtrip(inputs, features, tok, { maxAnswerLength: 6 });
  assert.equal(r.total, 8);
  assert.equal(r.matched, 2);
  assert.equal(r.exact_match, 25);
  const reason = Object.fromEntries(r.misses.map((m) => [m.id, m.reason]));
  assert.deepEqual(Object.keys(reason), [
    "unk",
    "mid-start",
    "mid-end",
    "space",
    "too-long",
    "no-window",
  ]);
  assert.match(reason["unk"], /^answer crosses \[UNK\] \("foo" is one \[UNK\]\)/);
  assert.match(reason["mid-start"], /^answer starts mid-token \(token covers "2023"\)/);
  assert.match(reason["mid-end"], /^answer ends mid-token \(token covers "2023"\)/);
  assert.match(reason["space"], /whitespace/);
  assert.match(reason["too-long"], /answer spans 7 tokens > max_answer_length 6/);
  assert.match(reason["no-window"], /not inside any window/);
  const unk = r.misses.find((m) => m.id === "unk")!;
  assert.deepEqual([unk.gold, unk.decoded, unk.goldStart], ["oo", "foo", 12]);
  assert.throws(
    () => answerRoundtrip(inputs, prepareQaFeatures(inputs, tok), tok),
    /build the features with training: true/,
  );
});

Deno.test("answerRoundtrip: a miss's goldStart counts code points (astral characters 𫖮 𩅦 before it)", () => {
  const ctx = "𫖮𩅦甲 2023 乙";
  const start = ctx.indexOf("023"); // 7 UTF-16 units, 5 code points
  const inputs: QaInput[] = [
    { id: "astral", question: "𩅦誰", context: ctx, answer: { text: "023", start } },
  ];
  const features = prepareQaFeatures(inputs, tok, {
    maxSeqLength: 24,
    docStride: 4,
    training: true,
  });
  const r = answerRoundtrip(inputs, features, tok);
  assert.equal(r.misses.length, 1);
  assert.equal(start, 7);
  assert.equal(r.misses[0].goldStart, 5);
  assert.equal([...ctx].slice(5, 8).join(""), "023");
});

Deno.test("windowStatistics: windows per example, multi-window share, answers in no window", () => {
  const long = charContext(100);
  const inputs: QaInput[] = [
    { id: "a", question: "誰", context: "甲乙丙", answer: { text: "乙", start: 1 } },
    { id: "b", question: "誰是", context: long, answer: { text: long.slice(50, 52), start: 50 } },
    { id: "c", question: "誰", context: long, answer: { text: long.slice(0, 40), start: 0 } },
  ];
  const { features, stats } = prepareQaFeaturesWithStats(inputs, tok, {
    maxSeqLength: 32,
    docStride: 8,
    training: true,
  });
  const w = windowStatistics(inputs, features, stats);
  assert.equal(w.examples, 3);
  assert.equal(w.features, features.length);
  assert.equal(w.featuresPerExampleMax, Math.max(...stats.map((s) => s.windows)));
  assert.ok(Math.abs(w.multiWindowPct - 200 / 3) < 1e-9);
  assert.equal(w.answerInNoWindow, 1);
  assert.equal(w.contextTokens.max, 100);
  assert.equal(w.contextTokens.min, 3);
  assert.equal(w.questionTokens.p50, 1);
  assert.equal(w.pairTokens.max, 105);
});

function checkData(args: string[]): ReturnType<typeof runDeno> {
  return runDeno(["run", "-A", "cli.ts", "check-data", ...args]);
}

function lastJson(stdout: string): Record<string, unknown> {
  const lines = stdout.trimEnd().split("\n");
  return JSON.parse(lines[lines.length - 1]);
}

Deno.test("check-data on data/sample: every gold answer round-trips (100%)", async () => {
  const s = "data/sample/";
  const r = await checkData([
    "--context_file",
    s + "context.json",
    "--train_file",
    s + "train.json",
    "--validation_file",
    s + "valid.json",
    "--test_file",
    s + "test.json",
    "--model_name_or_path",
    s,
    "--json",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const j = lastJson(r.stdout);
  assert.equal(j.answer_roundtrip_exact_match, 100);
  const train = JSON.parse(await Deno.readTextFile(ROOT + s + "train.json")).length;
  const valid = JSON.parse(await Deno.readTextFile(ROOT + s + "valid.json")).length;
  assert.equal(j.answer_roundtrip_total, train + valid);
  const splits = j.splits as Record<string, { examples: number; windows: { features: number } }>;
  assert.equal(splits.train.examples, train);
  assert.ok(splits.train.windows.features >= train);
  assert.ok(splits.test.examples > 0);
  assert.match(r.stdout, /answer round-trip overall: \d+\/\d+ = 100\.00%/);
});

Deno.test("check-data on DRCD_test (real vocab, ../shared): round-trip >= 0.995, misses explained", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const squad = JSON.parse(await Deno.readTextFile(SHARED + "drcd/DRCD_test.json"));
    const imp = importSquad(squad, { seed: 3, file: "DRCD_test.json" });
    assert.equal(imp.examples.length, 3493);
    await writeContexts(`${dir}/context.json`, imp.contexts);
    await writeExamples(`${dir}/valid.json`, imp.examples, imp.contexts);
    const r = await checkData([
      "--context_file",
      `${dir}/context.json`,
      "--validation_file",
      `${dir}/valid.json`,
      "--model_name_or_path",
      SHARED + "vocab/bert-base-chinese",
      "--json",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const j = lastJson(r.stdout);
    assert.equal(j.answer_roundtrip_total, 3493);
    const em = j.answer_roundtrip_exact_match as number;
    assert.ok(em >= 99.5, `exact match ${em}`);
    const rt = (j.splits as Record<
      string,
      { answer_roundtrip: { misses: { id: string; reason: string }[] } }
    >)
      .validation.answer_roundtrip;
    assert.equal(rt.misses.length, 3493 - (j.answer_roundtrip_matched as number));
    for (const m of rt.misses) {
      assert.match(m.reason, /^(answer|no token|empty)/);
      assert.ok(r.stdout.includes(`    ${m.id}: ${m.reason}`), `miss ${m.id} listed`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("check-data: usage and data errors are clear", async () => {
  const none = await checkData([
    "--context_file",
    "data/sample/context.json",
    "--model_name_or_path",
    "data/sample",
  ]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /at least one of --train_file, --validation_file, --test_file/);
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/context.json`, JSON.stringify(["甲乙丙"]));
    await Deno.writeTextFile(
      `${dir}/train.json`,
      JSON.stringify([{
        id: "x",
        question: "誰",
        paragraphs: [0],
        relevant: 0,
        answer: { text: "丁", start: 0 },
      }]),
    );
    const bad = await checkData([
      "--context_file",
      `${dir}/context.json`,
      "--train_file",
      `${dir}/train.json`,
      "--model_name_or_path",
      "data/sample",
    ]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /train\.json: record 0 \(0-based, id "x"\)/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
