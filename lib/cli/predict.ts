/**
 * `deno task cli predict`: the two-stage pipeline on a test file — the MC model picks each
 * question's paragraph, the QA model extracts the answer — written as `prediction.csv`
 * (`id,answer`, one row per question in the test file's order).
 * @module
 */
import type { CommandSpec, ParsedFlags } from "./args.ts";
import { checkPaths, loadPipeline, pipelineFlags } from "./predict_flags.ts";
import { announceBackend } from "./backend_line.ts";
import { loadContexts, loadExamples } from "../data/mod.ts";
import { runPipeline, writePipelineCsv } from "../pipeline/mod.ts";

/** Flags of `predict`. */
export const spec: CommandSpec = {
  name: "predict",
  summary: "Answer the questions of a test file with an MC model then a QA model and write " +
    "prediction.csv.",
  flags: {
    test_file: { type: "string", required: true, help: "Questions (id, question, paragraphs)" },
    ...pipelineFlags,
    prediction_csv: {
      type: "string",
      required: true,
      help: "Output CSV (id,answer): one row per test question, in input order",
    },
  },
};

/** Runs `predict`. */
export async function run(flags: ParsedFlags): Promise<void> {
  await checkPaths(flags, ["test_file", "context_file"]);
  const log = (m: string) => console.error(m);
  const contexts = await loadContexts(String(flags.context_file));
  const examples = await loadExamples(String(flags.test_file), contexts, { split: "test" });
  await announceBackend();
  const p = await loadPipeline(flags, log);
  try {
    const t0 = performance.now();
    const res = await runPipeline(examples, contexts, p.mc, p.qa, p.options);
    const path = String(flags.prediction_csv);
    await writePipelineCsv(path, res.rows);
    const empty = res.rows.filter((r) => r.answer === "").length;
    console.log(
      `wrote ${res.rows.length} rows to ${path} in ${
        ((performance.now() - t0) / 1000).toFixed(1)
      } s` +
        (empty ? ` (${empty} empty answers)` : ""),
    );
  } finally {
    p.mc.model.dispose();
    p.qa.model.dispose();
  }
}
