/**
 * `deno task cli export-hf-data`: writes an ADL HW2 folder's training and validation questions in
 * the layout Hugging Face's `run_swag_no_trainer.py` (multiple choice) and
 * `run_qa_no_trainer.py` (extractive QA) read with `--train_file` / `--validation_file`, for
 * training beyond one machine with `accelerate launch` (see lib/data/hf_export.ts).
 * @module
 */
import { checkPath, type CommandSpec, type ParsedFlags } from "./args.ts";
import { HF_EXPORT_SPLITS, hfExportFileName, hfExportFiles, loadAdlDataset } from "../data/mod.ts";
import { writeFileAtomic } from "../util/mod.ts";

/** Flags of `export-hf-data`. */
export const spec: CommandSpec = {
  name: "export-hf-data",
  summary: "Write an ADL folder's train and validation questions as the JSON files Hugging " +
    "Face's run_swag_no_trainer.py and run_qa_no_trainer.py read.",
  flags: {
    data: {
      type: "string",
      path: true,
      required: true,
      help: "ADL-layout folder with context.json, train.json and valid.json",
    },
    output_dir: { type: "string", path: true, required: true, help: "folder for the four files" },
  },
  epilog: [
    `Writes ${hfExportFileName("mc", "train")} and ${
      hfExportFileName("mc", "validation")
    } (JSON Lines, SWAG columns id, sent1 = question,`,
    'sent2 = "", ending0…ending3 = the candidate paragraphs, label) and',
    `${hfExportFileName("qa", "train")} and ${
      hfExportFileName("qa", "validation")
    } ({"data": [...]} of id, title, context = the relevant`,
    "paragraph, question, answers {text, answer_start}, starts in code points). Pass them as",
    "--train_file / --validation_file of those scripts.",
  ].join("\n"),
};

/** Runs `export-hf-data`. */
export async function run(flags: ParsedFlags): Promise<void> {
  const dir = String(flags.data).replace(/\/+$/, "");
  const out = String(flags.output_dir);
  await checkPath(dir, "data", "dir");
  for (const f of ["context.json", "train.json", "valid.json"]) {
    await checkPath(`${dir}/${f}`, "data", "file");
  }
  const data = await loadAdlDataset({
    contextFile: `${dir}/context.json`,
    trainFile: `${dir}/train.json`,
    validationFile: `${dir}/valid.json`,
  });
  const files = hfExportFiles(
    { train: data.train ?? [], validation: data.validation ?? [] },
    data.contexts,
  );
  await Deno.mkdir(out, { recursive: true });
  for (const f of files) await writeFileAtomic(`${out}/${f.name}`, f.text);
  console.log(
    `exported ${dir} (${HF_EXPORT_SPLITS.join(", ")}) -> ${out}: ` +
      files.map((f) => `${f.name} (${f.records.toLocaleString("en-US")} records)`).join(", "),
  );
}
