/**
 * `deno task cli evaluate`: runs the prediction pipeline on a file with gold answers and reports
 * side by side: MC accuracy, QA EM/F1 with the gold paragraph, and end-to-end EM/F1 with the
 * paragraph the MC model chose (also scored from the written CSV when `--prediction_csv` is
 * given).
 * @module
 */
import type { CommandSpec, ParsedFlags } from "./args.ts";
import { checkPaths, loadPipeline, pipelineFlags } from "./predict_flags.ts";
import { announceBackend } from "./backend_line.ts";
import { loadContexts, loadExamples } from "../data/mod.ts";
import { evaluatePipeline, formatEvaluation } from "../pipeline/mod.ts";
import { writeJsonAtomic } from "../util/atomic.ts";

/** Flags of `evaluate`. */
export const spec: CommandSpec = {
  name: "evaluate",
  summary: "Evaluate MC accuracy, QA with the gold paragraph and end to end (MC -> QA) on " +
    "questions with gold answers.",
  flags: {
    validation_file: {
      type: "string",
      required: true,
      help: "Questions with relevant and answer (valid.json, or test_gold.json of the sample)",
    },
    ...pipelineFlags,
    prediction_csv: {
      type: "string",
      help: "Also write the end-to-end predictions here and score them from the file",
    },
    output_json: { type: "string", help: "Write the metrics as JSON here" },
  },
};

/** Runs `evaluate`. */
export async function run(flags: ParsedFlags): Promise<void> {
  await checkPaths(flags, ["validation_file", "context_file"]);
  const log = (m: string) => console.error(m);
  const contexts = await loadContexts(String(flags.context_file));
  const examples = await loadExamples(String(flags.validation_file), contexts, { split: "valid" });
  await announceBackend();
  const p = await loadPipeline(flags, log);
  try {
    const e = await evaluatePipeline(examples, contexts, p.mc, p.qa, {
      ...p.options,
      csvPath: flags.prediction_csv as string | undefined,
    });
    console.log(formatEvaluation(e));
    if (flags.output_json) {
      const { rows: _rows, ...metrics } = e;
      await writeJsonAtomic(String(flags.output_json), metrics);
    }
  } finally {
    p.mc.model.dispose();
    p.qa.model.dispose();
  }
}
