/**
 * The ADL HW2 layout in the layout Hugging Face's example scripts read, for a user who trains on
 * more than one machine with `accelerate launch`:
 *
 * - multiple choice, `run_swag_no_trainer.py`: one record per question with the SWAG columns
 *   `sent1` (the question), `sent2` (empty), `ending0` … `ending3` (the candidate paragraphs in
 *   the question's own order) and `label` (the relevant paragraph's position). The script builds
 *   `tokenizer(sent1, f"{sent2} {ending_i}")` for each candidate, which is the project's MC
 *   feature `[CLS] question [SEP] paragraph [SEP]` (the tokenizer drops the leading space);
 *   `truncation=True` there is `longest_first`, which cuts the paragraph, as the project's
 *   `only_second` does, unless the question is longer than the paragraph's share.
 * - extractive QA, `run_qa_no_trainer.py`: SQuAD-style flat records `id`, `title`, `context`
 *   (the relevant paragraph), `question`, `answers: {text: [...], answer_start: [...]}` under a
 *   top-level `data` field (the script calls `load_dataset("json", ..., field="data")`), with
 *   `answer_start` in Unicode code points (Python string indices).
 *
 * Pure functions over loaded examples; {@link hfExportFiles} gives the file texts to write.
 * @module
 */
import { utf16ToCodePoint } from "./offsets.ts";
import type { AdlExample } from "./types.ts";

/** Candidates per question that `run_swag_no_trainer.py` reads (`ending0` … `ending3`). */
export const SWAG_NUM_ENDINGS = 4;

/** One SWAG-layout record (`run_swag_no_trainer.py`'s columns). */
export interface SwagRecord {
  /** The question id (an extra column the script ignores). */
  id: string;
  sent1: string;
  sent2: string;
  ending0: string;
  ending1: string;
  ending2: string;
  ending3: string;
  /** Index of the relevant paragraph among the endings. */
  label: number;
}

/** One SQuAD-style record (`run_qa_no_trainer.py`'s columns). */
export interface SquadRecord {
  id: string;
  /** The relevant paragraph's index in `context.json` (ADL paragraphs have no titles). */
  title: string;
  context: string;
  question: string;
  /** Answer texts and their starts in code points (one answer per question in ADL). */
  answers: { text: string[]; answer_start: number[] };
}

function where(ex: AdlExample, i: number): string {
  return `question ${i} (id ${JSON.stringify(ex.id)})`;
}

/** SWAG records of labelled questions (train / valid), in input order. */
export function toSwagRecords(
  examples: readonly AdlExample[],
  contexts: readonly string[],
): SwagRecord[] {
  return examples.map((ex, i) => {
    if (ex.paragraphs.length !== SWAG_NUM_ENDINGS) {
      throw new Error(
        `${where(ex, i)}: has ${ex.paragraphs.length} candidate paragraphs; ` +
          `run_swag_no_trainer.py reads exactly ${SWAG_NUM_ENDINGS} (ending0…ending3)`,
      );
    }
    if (ex.relevant === undefined) {
      throw new Error(`${where(ex, i)}: has no relevant paragraph (a test question?)`);
    }
    const [e0, e1, e2, e3] = ex.paragraphs.map((p) => contexts[p]);
    return {
      id: ex.id,
      sent1: ex.question,
      sent2: "",
      ending0: e0,
      ending1: e1,
      ending2: e2,
      ending3: e3,
      label: ex.paragraphs.indexOf(ex.relevant),
    };
  });
}

/** SQuAD-style records of answered questions, with the relevant paragraph as context. */
export function toSquadRecords(
  examples: readonly AdlExample[],
  contexts: readonly string[],
): SquadRecord[] {
  return examples.map((ex, i) => {
    if (ex.relevant === undefined || !ex.answer) {
      throw new Error(`${where(ex, i)}: has no relevant paragraph and answer (a test question?)`);
    }
    const context = contexts[ex.relevant];
    return {
      id: ex.id,
      title: String(ex.relevant),
      context,
      question: ex.question,
      answers: {
        text: [ex.answer.text],
        answer_start: [utf16ToCodePoint(context, ex.answer.start)],
      },
    };
  });
}

/** The splits {@link hfExportFiles} converts (the test split has no labels to train on). */
export const HF_EXPORT_SPLITS = ["train", "validation"] as const;

/** File names of the export, by task and split (`.json`: both scripts accept csv or json). */
export function hfExportFileName(task: "mc" | "qa", split: typeof HF_EXPORT_SPLITS[number]) {
  return `${task}_${split}.json`;
}

/**
 * The texts of the four export files: `mc_<split>.json` as JSON Lines (one SWAG record per
 * line, which `load_dataset("json")` reads) and `qa_<split>.json` as `{"data": [...]}`.
 */
export function hfExportFiles(
  splits: Record<typeof HF_EXPORT_SPLITS[number], readonly AdlExample[]>,
  contexts: readonly string[],
): { name: string; text: string; records: number }[] {
  return HF_EXPORT_SPLITS.flatMap((split) => {
    const mc = toSwagRecords(splits[split], contexts);
    const qa = toSquadRecords(splits[split], contexts);
    return [
      {
        name: hfExportFileName("mc", split),
        text: mc.map((r) => JSON.stringify(r)).join("\n") + "\n",
        records: mc.length,
      },
      {
        name: hfExportFileName("qa", split),
        text: JSON.stringify({ data: qa }) + "\n",
        records: qa.length,
      },
    ];
  });
}
