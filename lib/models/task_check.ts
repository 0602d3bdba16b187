/**
 * Is a model folder fit to answer with, for a task? Before a model is used for answers
 * (predict, evaluate, ask, serve, export), its `config.json` `architectures` and the heads
 * present in its weight file (header only, no values) are checked against the task, so a
 * multiple-choice folder given where the QA model goes is refused with both names instead of
 * running on a freshly initialised head. Fine-tuning is not checked here: a checkpoint with
 * another head (an MLM run, `bert-base-chinese`) gets a new head, reported in one line by
 * `loadPretrained`.
 * @module
 */
import { type Task, TASK_ARCHITECTURES } from "./bert.ts";
import { canonicalNames, readCheckpointHeader } from "./checkpoint.ts";
import { readConfig } from "./config.ts";

/** A head's weights (canonical names) and what a user calls a model of that task. */
const HEADS: Record<Exclude<Task, "base">, { head: string; keys: string[]; noun: string }> = {
  mc: {
    head: "classifier",
    keys: ["classifier.weight", "classifier.bias"],
    noun: "multiple-choice model",
  },
  qa: {
    head: "qa_outputs",
    keys: ["qa_outputs.weight", "qa_outputs.bias"],
    noun: "question-answering model",
  },
  mlm: {
    head: "cls.predictions",
    keys: [
      "cls.predictions.transform.dense.weight",
      "cls.predictions.transform.dense.bias",
      "cls.predictions.transform.LayerNorm.weight",
      "cls.predictions.transform.LayerNorm.bias",
      "cls.predictions.bias",
    ],
    noun: "masked-LM model",
  },
};

/** What a model folder holds, read from `config.json` and the weight file's header. */
export interface ModelFolderInfo {
  /** The model folder. */
  dir: string;
  /** The weight file read (header only for safetensors). */
  file: string;
  /** `architectures` of `config.json` (empty when absent). */
  architectures: string[];
  /** Task heads whose weights are all present (`classifier`, `qa_outputs`, `cls.predictions`). */
  heads: string[];
  /** Tasks whose head is present and that `architectures` (when given) names. */
  tasks: Task[];
}

/** Reads what a model folder holds (see {@link ModelFolderInfo}); nothing is built. */
export async function inspectModelFolder(dir: string): Promise<ModelFolderInfo> {
  const config = await readConfig(dir);
  const { file, tensors } = await readCheckpointHeader(dir);
  const names = canonicalNames(tensors.keys(), file);
  const architectures = Array.isArray(config.architectures)
    ? config.architectures.filter((a): a is string => typeof a === "string")
    : [];
  const heads: string[] = [];
  const tasks: Task[] = [];
  for (const [task, h] of Object.entries(HEADS) as [Exclude<Task, "base">, typeof HEADS.mc][]) {
    if (!h.keys.every((k) => names.has(k))) continue;
    heads.push(h.head);
    if (!architectures.length || architectures.includes(TASK_ARCHITECTURES[task])) tasks.push(task);
  }
  return { dir, file, architectures, heads, tasks };
}

/** A folder that holds a model of another task than the one it is used for. */
export class WrongModelError extends Error {
  /** `info`: what the (first) mismatching folder holds; `task`: what it was used for. */
  constructor(message: string, readonly info: ModelFolderInfo, readonly task: Task) {
    super(message);
    this.name = "WrongModelError";
  }
}

/** "BertForQuestionAnswering (qa_outputs)": the folder's architectures and heads. */
function describe(info: ModelFolderInfo): string {
  const arch = info.architectures.length
    ? info.architectures.join(", ")
    : "a model without architectures in config.json";
  return `${arch} (${info.heads.length ? info.heads.join(", ") : "no task head"})`;
}

/**
 * The refusal for `info` used as a `task` model, or `undefined` when it fits: `architectures`
 * (when given) must name the task's class and the weights must hold its head. `label` is how
 * the folder is named (e.g. `--mc_model runs/qa`).
 */
export function taskMismatch(
  info: ModelFolderInfo,
  task: Exclude<Task, "base">,
  label = info.dir,
): string | undefined {
  if (info.tasks.includes(task)) return undefined;
  const want = `${TASK_ARCHITECTURES[task]} with ${HEADS[task].head} weights`;
  if (info.architectures.includes(TASK_ARCHITECTURES[task])) {
    // The config names the right class but the weights lack its head.
    return `${label}: config.json says ${TASK_ARCHITECTURES[task]} but ${info.file} has no ` +
      `${HEADS[task].head} weights, so it is not a trained ${HEADS[task].noun}`;
  }
  return `${label} holds ${describe(info)}, not a ${HEADS[task].noun} (${want})`;
}

/**
 * The task of the trained model a folder holds: the one the first of its `architectures` names
 * (its head's weights must be there), else, without `architectures`, the one task head present.
 * Throws a {@link WrongModelError} when the folder names a task whose head is missing, names no
 * task, or holds no head or several without saying which (`hint` ends the message, e.g. how to
 * name the task).
 */
export function taskOfFolder(
  info: ModelFolderInfo,
  label = info.dir,
  hint = "",
): Exclude<Task, "base"> {
  const tasks = Object.keys(HEADS) as Exclude<Task, "base">[];
  const named: Exclude<Task, "base"> | undefined = info.architectures.length
    ? tasks.find((t) => TASK_ARCHITECTURES[t] === info.architectures[0])
    : info.tasks.length === 1
    ? info.tasks[0] as Exclude<Task, "base">
    : undefined;
  const problem = named
    ? taskMismatch(info, named, label)
    : `${label} holds ${describe(info)}, not one model of ${
      tasks.map((t) => TASK_ARCHITECTURES[t]).join(", ")
    }`;
  if (problem === undefined) return named!;
  throw new WrongModelError(`${problem}${hint}`, info, named ?? "base");
}

/** One use of a model folder: the folder, the task, and the flag it came with (for messages). */
export interface ModelUse {
  /** The model folder. */
  dir: string;
  /** The task it is used for. */
  task: Exclude<Task, "base">;
  /** The command-line flag that named the folder (`mc_model`), shown as `--mc_model DIR`. */
  flag?: string;
}

const labelOf = (u: ModelUse) => (u.flag ? `--${u.flag} ${u.dir}` : u.dir);

/**
 * Checks that the folder `dir` holds a model for `task`, before any model is built (reads
 * `config.json` and the weight file's header); throws a {@link WrongModelError} naming both
 * the folder's architecture and heads and the task's, e.g. "--mc_model runs/qa holds
 * BertForQuestionAnswering (qa_outputs), not a multiple-choice model (BertForMultipleChoice
 * with classifier weights)". Errors of the folder itself (bad config, broken weight file) are
 * thrown as they are.
 */
export async function checkModelForTask(
  dir: string,
  task: Exclude<Task, "base">,
  opts: { flag?: string } = {},
): Promise<ModelFolderInfo> {
  return (await checkModelsForTasks([{ dir, task, flag: opts.flag }]))[0];
}

/**
 * Checks several folders for their tasks at once (e.g. `--mc_model` and `--qa_model`) and
 * refuses every mismatch in one {@link WrongModelError}; when two folders each hold the other's
 * task, the error says they look swapped.
 */
export async function checkModelsForTasks(uses: readonly ModelUse[]): Promise<ModelFolderInfo[]> {
  const infos: ModelFolderInfo[] = [];
  for (const u of uses) infos.push(await inspectModelFolder(u.dir));
  const problems = uses.map((u, i) => taskMismatch(infos[i], u.task, labelOf(u)));
  const first = problems.findIndex((p) => p !== undefined);
  if (first < 0) return infos;
  const swapped = uses.length === 2 && infos[0].tasks.includes(uses[1].task) &&
    infos[1].tasks.includes(uses[0].task);
  const name = (u: ModelUse) => (u.flag ? `--${u.flag}` : u.dir);
  const message = problems.filter((p) => p !== undefined).join("; ") +
    (swapped ? `; ${name(uses[0])} and ${name(uses[1])} look swapped` : "");
  throw new WrongModelError(message, infos[first], uses[first].task);
}
