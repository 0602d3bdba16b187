/**
 * `deno task cli predict`: the two-stage pipeline on a test file — the MC model picks each
 * question's paragraph, the QA model extracts the answer — written as `prediction.csv`
 * (`id,answer`, one row per question in the test file's order).
 * @module
 */
import type { CommandSpec, ParsedFlags } from "./args.ts";
import { pipelineCommandFlags, withPipeline } from "./predict_flags.ts";
import { runPipeline, writePipelineCsv } from "../pipeline/mod.ts";
import { plural } from "../util/text.ts";

/** Flags of `predict`. */
export const spec: CommandSpec = {
  name: "predict",
  summary: "Answer the questions of a test file with an MC model then a QA model and write " +
    "prediction.csv.",
  flags: pipelineCommandFlags("predict", {
    prediction_csv: {
      type: "string",
      required: true,
      help: "Output CSV (id,answer): one row per test question, in input order",
    },
  }),
};

/** Runs `predict`. */
export async function run(flags: ParsedFlags): Promise<void> {
  await withPipeline(flags, "predict", async ({ examples, contexts, mc, qa, options }) => {
    const t0 = performance.now();
    const res = await runPipeline(examples, contexts, mc, qa, options);
    const path = String(flags.prediction_csv);
    await writePipelineCsv(path, res.rows);
    const empty = res.rows.filter((r) => r.answer === "").length;
    console.log(
      `wrote ${plural(res.rows.length, "row")} to ${path} in ${
        ((performance.now() - t0) / 1000).toFixed(1)
      } s` +
        (empty ? ` (${plural(empty, "empty answer")})` : ""),
    );
  });
}
