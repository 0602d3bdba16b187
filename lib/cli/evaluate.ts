/**
 * `deno task cli evaluate`: runs the prediction pipeline on a file with gold answers and reports
 * side by side: MC accuracy, QA EM/F1 with the gold paragraph, and end-to-end EM/F1 with the
 * paragraph the MC model chose (also scored from the written CSV when `--prediction_csv` is
 * given).
 * @module
 */
import type { CommandSpec, ParsedFlags } from "./args.ts";
import { pipelineCommandFlags, withPipeline } from "./predict_flags.ts";
import { evaluatePipeline, formatEvaluation } from "../pipeline/mod.ts";
import { writeJsonAtomic } from "../util/atomic.ts";

/** Flags of `evaluate`. */
export const spec: CommandSpec = {
  name: "evaluate",
  summary: "Evaluate MC accuracy, QA with the gold paragraph and end to end (MC -> QA) on " +
    "questions with gold answers.",
  flags: pipelineCommandFlags("evaluate", {
    prediction_csv: {
      type: "string",
      help: "Also write the end-to-end predictions here and score them from the file",
    },
    output_json: { type: "string", path: true, help: "Write the metrics as JSON here" },
  }),
};

/** Runs `evaluate`. */
export async function run(flags: ParsedFlags): Promise<void> {
  await withPipeline(flags, "evaluate", async ({ examples, contexts, mc, qa, options }) => {
    const e = await evaluatePipeline(examples, contexts, mc, qa, {
      ...options,
      csvPath: flags.prediction_csv as string | undefined,
    });
    console.log(formatEvaluation(e));
    if (flags.output_json) {
      const { rows: _rows, ...metrics } = e;
      await writeJsonAtomic(String(flags.output_json), metrics);
    }
  });
}
