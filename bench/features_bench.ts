/**
 * Benchmark of QA feature building on DRCD_test (3,493 questions, 1,000 contexts) with the real
 * bert-base-chinese vocabulary, both read from ../shared.
 *
 * Timed, each with a FRESH tokenizer (its memo caches empty) so that tokenization is included:
 * - `features`: `prepareQaFeatures` for all questions (max_seq_length 384, doc_stride 128,
 *   training mode: windows, offsets and labels) — the target is ≤ 3 s;
 * - `tokenize`: our `tokenizeWithOffsets` of the same texts (every question, every distinct
 *   context), i.e. the tokenization share of the above;
 * - `hf-encode`: the plain `@huggingface/tokenizers` `Tokenizer.encode` of the same texts (its own
 *   BERT normaliser, pre-tokenizer and WordPiece; no offsets, no special tokens), the reference
 *   for the cost of adding offsets.
 * Also, once, `features-warm`: the same build again on the warm tokenizer.
 *
 * Run: `deno run -A bench/features_bench.ts [--repeats N]`. Prints a table, then one JSON line.
 * @module
 */
import { parseArgs } from "node:util";
import { Tokenizer as HfTokenizer } from "@huggingface/tokenizers";
import { importSquad } from "../lib/data/mod.ts";
import { examplesToQaInputs, prepareQaFeatures, type QaInput } from "../lib/features/mod.ts";
import { BertTokenizer, DEFAULT_SETTINGS, parseVocabText } from "../lib/tokenization/mod.ts";
import { buildTokenizerConfig, buildTokenizerJson } from "../lib/tokenization/hf_files.ts";

/** One timed measurement. */
export interface BenchRow {
  name: string;
  /** Milliseconds per repeat, sorted. */
  ms: number[];
  median_ms: number;
  min_ms: number;
}

/** Result of {@link runFeaturesBench}. */
export interface FeaturesBenchResult {
  questions: number;
  contexts: number;
  features: number;
  tokens: number;
  repeats: number;
  rows: BenchRow[];
  /** Median features time / median plain HF encode time. */
  features_over_hf_encode: number;
  /** Median tokenizeWithOffsets time / median plain HF encode time. */
  offsets_over_hf_encode: number;
  target_ms: number;
  meets_target: boolean;
}

function row(name: string, ms: number[]): BenchRow {
  const s = [...ms].sort((a, b) => a - b);
  return { name, ms: s, median_ms: s[Math.floor(s.length / 2)], min_ms: s[0] };
}

/** Runs the benchmark (`repeats` cold runs of each measurement). */
export async function runFeaturesBench(repeats = 5): Promise<FeaturesBenchResult> {
  const shared = new URL("../../shared/data/", import.meta.url);
  const vocab = parseVocabText(
    await Deno.readTextFile(new URL("vocab/bert-base-chinese/vocab.txt", shared)),
  );
  const squad = JSON.parse(await Deno.readTextFile(new URL("drcd/DRCD_test.json", shared)));
  const imp = importSquad(squad, { seed: 0, file: "DRCD_test.json" });
  const inputs: QaInput[] = examplesToQaInputs(imp.examples, imp.contexts);
  const texts = [
    ...inputs.map((i) => i.question.trimStart()),
    ...new Set(inputs.map((i) => i.context)),
  ];

  const settings = { ...DEFAULT_SETTINGS, vocab };
  const tokenToId = new Map(vocab.map((t, i) => [t, i] as [string, number]));
  const hfJson = buildTokenizerJson(settings, tokenToId);
  const hfConfig = buildTokenizerConfig(settings);

  const feat: number[] = [];
  const tokz: number[] = [];
  const hf: number[] = [];
  let features = 0;
  let tokens = 0;
  let hfTokens = 0;
  let warm = 0;
  for (let r = 0; r < repeats; r++) {
    let tok = BertTokenizer.fromVocab(vocab);
    let t0 = performance.now();
    features = prepareQaFeatures(inputs, tok, {
      maxSeqLength: 384,
      docStride: 128,
      training: true,
    }).length;
    feat.push(performance.now() - t0);
    if (r === 0) {
      t0 = performance.now();
      prepareQaFeatures(inputs, tok, { maxSeqLength: 384, docStride: 128, training: true });
      warm = performance.now() - t0;
    }

    tok = BertTokenizer.fromVocab(vocab);
    t0 = performance.now();
    tokens = 0;
    for (const t of texts) tokens += tok.tokenizeWithOffsets(t).ids.length;
    tokz.push(performance.now() - t0);

    // deno-lint-ignore no-explicit-any
    const plain = new HfTokenizer(hfJson as any, hfConfig as any);
    t0 = performance.now();
    hfTokens = 0;
    for (const t of texts) hfTokens += plain.encode(t, { add_special_tokens: false }).ids.length;
    hf.push(performance.now() - t0);
  }
  if (hfTokens !== tokens) {
    throw new Error(`token counts differ: ours ${tokens}, @huggingface/tokenizers ${hfTokens}`);
  }
  const rows = [
    row("features (cold tokenizer)", feat),
    row("features (warm tokenizer)", [warm]),
    row("tokenizeWithOffsets (cold)", tokz),
    row("@huggingface/tokenizers encode", hf),
  ];
  const target = 3000;
  return {
    questions: inputs.length,
    contexts: new Set(inputs.map((i) => i.context)).size,
    features,
    tokens,
    repeats,
    rows,
    features_over_hf_encode: rows[0].median_ms / rows[3].median_ms,
    offsets_over_hf_encode: rows[2].median_ms / rows[3].median_ms,
    target_ms: target,
    meets_target: rows[0].median_ms <= target,
  };
}

/** Formats the result as a text table. */
export function formatFeaturesBench(r: FeaturesBenchResult): string {
  const lines = [
    `DRCD_test: ${r.questions} questions, ${r.contexts} contexts → ${r.features} QA features ` +
    `(384/128), ${r.tokens} tokens; ${r.repeats} repeat(s)`,
    "",
    `${"measurement".padEnd(34)}${"median ms".padStart(10)}${"min ms".padStart(10)}`,
  ];
  for (const row of r.rows) {
    lines.push(
      `${row.name.padEnd(34)}${row.median_ms.toFixed(0).padStart(10)}${
        row.min_ms.toFixed(0).padStart(10)
      }`,
    );
  }
  lines.push(
    "",
    `features / plain HF encode: ${r.features_over_hf_encode.toFixed(2)}x; ` +
      `tokenize with offsets / plain HF encode: ${r.offsets_over_hf_encode.toFixed(2)}x`,
    `target: features ≤ ${r.target_ms} ms → ${r.meets_target ? "met" : "NOT met"}`,
  );
  return lines.join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({ args: Deno.args, options: { repeats: { type: "string" } } });
  const repeats = values.repeats === undefined ? 5 : Number(values.repeats);
  if (!Number.isInteger(repeats) || repeats < 1) {
    console.error(`--repeats must be a positive integer, got ${values.repeats}`);
    Deno.exit(2);
  }
  const r = await runFeaturesBench(repeats);
  console.log(formatFeaturesBench(r));
  console.log(JSON.stringify(r));
}
