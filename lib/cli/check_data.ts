/**
 * `deno task cli check-data`: validates an ADL HW2 dataset (through lib/data), prints counts and
 * QA window statistics, and runs the answer round-trip (gold start/end as the only high logits,
 * decoded back and compared with the gold text exactly), listing every miss with its reason.
 * With `--json` the last stdout line is one JSON object (`answer_roundtrip_exact_match` in
 * percent, like every rate in the project).
 * @module
 */
import type { CommandSpec, ParsedFlags } from "./args.ts";
import { checkPath, UsageError } from "./args.ts";
import { boundedFlagOf } from "./train_flags.ts";
import { QA_ARGS, QA_WINDOW_RULE } from "../args/mod.ts";
import { loadContexts, loadExamples } from "../data/mod.ts";
import type { AdlExample, AdlSplit } from "../data/mod.ts";
import { BertTokenizer } from "../tokenization/mod.ts";
import {
  answerRoundtrip,
  examplesToQaInputs,
  type McTruncationStats,
  mcTruncationStats,
  type Percentiles,
  prepareQaFeaturesWithStats,
  type QaInput,
  type RoundtripMiss,
  windowStatistics,
  type WindowStats,
} from "../features/mod.ts";
import { plural } from "../util/text.ts";

/** QA's window and decoding arguments (defaults and bounds from the schema). */
const QA = QA_ARGS.args;

/** Flags of `check-data`. */
export const spec: CommandSpec = {
  name: "check-data",
  summary: "Validate an ADL-layout dataset, show window statistics and the answer round-trip.",
  flags: {
    context_file: {
      type: "string",
      path: true,
      required: true,
      help: "context.json (array of paragraphs)",
    },
    train_file: { type: "string", path: true, help: "train.json" },
    validation_file: { type: "string", path: true, help: "valid.json" },
    test_file: { type: "string", path: true, help: "test.json" },
    model_name_or_path: {
      type: "string",
      path: true,
      required: true,
      help: "folder with vocab.txt and/or tokenizer.json",
    },
    max_seq_length: boundedFlagOf(QA.max_seq_length, "tokens per QA window"),
    doc_stride: boundedFlagOf(QA.doc_stride, "overlap between QA windows"),
    max_answer_length: boundedFlagOf(QA.max_answer_length, "longest decoded answer"),
    n_best_size: boundedFlagOf(QA.n_best_size, "start/end candidates per window"),
    json: { type: "boolean", default: false, help: "end with one JSON line of results" },
  },
  epilog: "At least one of --train_file, --validation_file, --test_file is needed. Splits with " +
    "answers (train, validation) are round-tripped; the test split is paired with each of its " +
    "candidate paragraphs for the window statistics.",
};

/** Per-split summary in the JSON output. */
interface SplitReport {
  file: string;
  examples: number;
  /** "relevant" (gold paragraph) or "all candidates" (test). */
  paired_with: string;
  windows: WindowStats;
  mc: McTruncationStats;
  answer_roundtrip?: {
    total: number;
    matched: number;
    exact_match: number;
    misses: RoundtripMiss[];
  };
}

function fmtPct(p: Percentiles): string {
  return `min ${p.min} p50 ${p.p50} p90 ${p.p90} p95 ${p.p95} p99 ${p.p99} max ${p.max} ` +
    `(mean ${p.mean.toFixed(1)})`;
}

/** Runs the command. */
export async function run(flags: ParsedFlags): Promise<void> {
  const windowProblem = QA_WINDOW_RULE(flags);
  if (windowProblem) throw new UsageError(windowProblem);
  const contextFile = flags.context_file as string;
  const files: [string, string | undefined, AdlSplit][] = [
    ["train", flags.train_file as string | undefined, "train"],
    ["validation", flags.validation_file as string | undefined, "valid"],
    ["test", flags.test_file as string | undefined, "test"],
  ];
  if (files.every(([, f]) => !f)) {
    throw new UsageError("give at least one of --train_file, --validation_file, --test_file");
  }
  const maxSeqLength = flags.max_seq_length as number;
  const docStride = flags.doc_stride as number;
  const maxAnswerLength = flags.max_answer_length as number;
  const nBestSize = flags.n_best_size as number;
  const asJson = flags.json as boolean;

  await checkPath(flags.model_name_or_path as string, "model_name_or_path", "dir");
  const contexts = await loadContexts(contextFile);
  const tokenizer = await BertTokenizer.fromPretrained(flags.model_name_or_path as string);
  console.log(`${contextFile}: ${plural(contexts.length, "paragraph")}`);
  console.log(
    `tokenizer: ${flags.model_name_or_path} (vocab ${tokenizer.vocabSize}); QA windows: ` +
      `max_seq_length ${maxSeqLength}, doc_stride ${docStride}; max_answer_length ` +
      `${maxAnswerLength}, n_best_size ${nBestSize}`,
  );

  const splits: Record<string, SplitReport> = {};
  let rtTotal = 0;
  let rtMatched = 0;
  for (const [name, file, split] of files) {
    if (!file) continue;
    const examples: AdlExample[] = await loadExamples(file, contexts, { split });
    const withGold = examples.length > 0 && examples.every((e) => e.relevant !== undefined);
    let inputs: QaInput[];
    if (withGold) inputs = examplesToQaInputs(examples, contexts);
    else {
      inputs = examples.flatMap((ex) =>
        ex.paragraphs.map((p, k) => ({
          id: `${ex.id}#${k}`,
          question: ex.question,
          context: contexts[p],
        }))
      );
    }
    const { features, stats } = prepareQaFeaturesWithStats(inputs, tokenizer, {
      maxSeqLength,
      docStride,
      training: true,
    });
    const windows = windowStatistics(inputs, features, stats);
    const mc = mcTruncationStats(examples, contexts, tokenizer, maxSeqLength);
    const report: SplitReport = {
      file,
      examples: examples.length,
      paired_with: withGold ? "relevant" : "all candidates",
      windows,
      mc,
    };
    console.log(
      `\n[${name}] ${file}: ${plural(examples.length, "question")}` +
        (withGold ? "" : ` (${plural(inputs.length, "question/candidate pair")})`),
    );
    console.log(
      `  QA windows: ${windows.features} for ${windows.examples} ${
        withGold ? "examples" : "pairs"
      }` +
        ` (mean ${
          windows.featuresPerExampleMean.toFixed(3)
        }, max ${windows.featuresPerExampleMax}` +
        ` per example); ${windows.multiWindowPct.toFixed(1)}% need more than one window`,
    );
    if (withGold) console.log(`  answers in no window: ${windows.answerInNoWindow}`);
    if (windows.questionsTruncated) {
      console.log(`  questions truncated to 64 tokens: ${windows.questionsTruncated}`);
    }
    console.log(`  question tokens: ${fmtPct(windows.questionTokens)}`);
    console.log(`  context tokens:  ${fmtPct(windows.contextTokens)}`);
    console.log(`  pair tokens:     ${fmtPct(windows.pairTokens)}`);
    console.log(
      `  MC: ${mc.pairs} question/paragraph pairs, ${mc.truncated} (${
        mc.truncatedPct.toFixed(1)
      }%)` +
        ` longer than ${maxSeqLength} tokens (paragraph truncated)`,
    );
    if (withGold) {
      const rt = answerRoundtrip(inputs, features, tokenizer, { maxAnswerLength, nBestSize });
      report.answer_roundtrip = rt;
      rtTotal += rt.total;
      rtMatched += rt.matched;
      console.log(
        `  answer round-trip: ${rt.matched}/${rt.total} = ${rt.exact_match.toFixed(2)}%` +
          (rt.misses.length ? `; ${plural(rt.misses.length, "miss", "misses")}:` : ""),
      );
      for (const m of rt.misses) {
        console.log(
          `    ${m.id}: ${m.reason}; gold ${JSON.stringify(m.gold)} at ${m.goldStart}, ` +
            `decoded ${JSON.stringify(m.decoded)}`,
        );
      }
    }
    splits[name] = report;
  }
  const em = rtTotal ? (100 * rtMatched) / rtTotal : null;
  console.log(
    `\nanswer round-trip overall: ` +
      (em === null ? "no split with answers" : `${rtMatched}/${rtTotal} = ${em.toFixed(2)}%`),
  );
  if (asJson) {
    console.log(JSON.stringify({
      context_file: contextFile,
      paragraphs: contexts.length,
      model_name_or_path: flags.model_name_or_path,
      max_seq_length: maxSeqLength,
      doc_stride: docStride,
      max_answer_length: maxAnswerLength,
      splits,
      answer_roundtrip_total: rtTotal,
      answer_roundtrip_matched: rtMatched,
      answer_roundtrip_exact_match: em,
    }));
  }
}
