// Smoke-sized QA and MC runs trained for the export tests: the smoke profile's model shape and
// arguments (lib/report/profiles.ts), from scratch on the embedded sample data, in a fresh
// temporary folder.
import { trainMultipleChoice, trainQuestionAnswering } from "../lib/pipeline/mod.ts";
import { getProfile } from "../lib/report/mod.ts";

const S = new URL("../data/sample/", import.meta.url).pathname;

/** Trains one QA and one MC run; returns their folders and the temporary root. */
export async function trainSmokeRuns(): Promise<{ root: string; qa: string; mc: string }> {
  const root = await Deno.makeTempDir({ prefix: "export_smoke_" });
  const smoke = getProfile("smoke");
  const shape = smoke.variants[0].pretrain!.args.config_overrides as string;
  const data = {
    train_file: `${S}train.json`,
    validation_file: `${S}valid.json`,
    context_file: `${S}context.json`,
    tokenizer_name: S,
    config_overrides: shape,
    seed: 42,
  };
  const quiet = { log: () => {}, progress: "none" as const };
  await trainQuestionAnswering({ ...data, ...smoke.qa, output_dir: `${root}/qa` }, quiet);
  await trainMultipleChoice({ ...data, ...smoke.mc, output_dir: `${root}/mc` }, quiet);
  return { root, qa: `${root}/qa`, mc: `${root}/mc` };
}
