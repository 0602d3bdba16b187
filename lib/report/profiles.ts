/**
 * Study profiles: what the Q2–Q4 notebooks train, on which data, with which arguments.
 *
 * - `default`: `data/sample`, small BERTs on this CPU. The two Q2 variants are pretrained in the
 *   project by masked-LM (`pretrain-mlm`, lib/pipeline/pretrain.ts) on the sample paragraphs:
 *   variant A, the "bert-base-chinese analogue", with character masking (`--masking char`, as
 *   Google's original Chinese BERT masked single characters); variant B, the
 *   "chinese-roberta-wwm-ext analogue", with whole-word masking (`--masking wwm`, jieba words).
 *   Q4 trains the same config with the same arguments from scratch and compares it with variant A.
 * - `smoke`: the same code paths in seconds (tiny models, a few steps, data subsets) for CI.
 * - `full`: the study's scale on a GPU host: the real ADL HW2 data folder and local Hugging Face
 *   folders of `bert-base-chinese` and `hfl/chinese-roberta-wwm-ext` (no download happens here),
 *   with the study's arguments. Paths come from `ADL_DATA_DIR`, `BERT_BASE_CHINESE_DIR` and
 *   `ROBERTA_WWM_EXT_DIR` (defaults: `data/adl`, `models/bert-base-chinese`,
 *   `models/chinese-roberta-wwm-ext`, relative to the project).
 *
 * Every run's arguments use the Hugging Face flag names (`run_swag_no_trainer.py`,
 * `run_qa_no_trainer.py`, `run_mlm_no_trainer.py`) and every run writes under
 * `<output dir>/runs/<profile>/<variant>/<task>` (task `mc`, `qa` or `pretrain`).
 *
 * Reuse: a run whose output folder already holds `all_results.json` and a `training_args.json`
 * equal to the arguments it would train with is not trained again; its model, logs and results
 * are read back (see `runVariant` in study.ts). This is how Q3 draws Q2's curves from Q2's logs,
 * how Q4 uses Q2's variant-A run as its "pretrained" side, and why a second `deno task report`
 * only re-executes inference. Change any argument (or the seed) and the run is trained afresh.
 * @module
 */
import type { Profile } from "./metrics.ts";

/** Masking of the in-project masked-LM pretraining. */
export type Masking = "wwm" | "char";

/** Arguments of one run, with Hugging Face flag names (snake_case), as JSON values. */
export type RunArgs = Record<string, string | number | boolean>;

/** In-project masked-LM pretraining of a variant (the `pretrain-mlm` command's flags). */
export interface PretrainSpec {
  /** `--masking`: whole words (jieba) or single characters. */
  masking: Masking;
  /**
   * `run_mlm_no_trainer.py` flags (lib/pipeline/pretrain.ts `PretrainArgs`): `tokenizer_name`,
   * `config_overrides`, `max_seq_length`, `mlm_probability`, `per_device_train_batch_size`,
   * `learning_rate`, `num_train_epochs` / `max_train_steps`, `num_warmup_steps`,
   * `weight_decay`, ... The study sets `context_file` (the profile's paragraphs, always in the
   * corpus), `train_file` (only with `withTrainQuestions`), `masking`, `output_dir` and `seed`.
   */
  args: RunArgs;
  /** Add the training questions' text (never answers or labels) to the corpus. */
  withTrainQuestions?: boolean;
}

/** One model variant of Q2. */
export interface ModelVariant {
  /** Folder name under `runs/<profile>/` (file-safe). */
  id: string;
  /** Shown in tables and figures. */
  label: string;
  /** The study's model this variant stands for. */
  analogueOf: string;
  /** One line on what it is. */
  description: string;
  /** A local Hugging Face folder (full profile). Exactly one of `modelDir` / `pretrain`. */
  modelDir?: string;
  /** Pretrained in the project (default / smoke profiles). */
  pretrain?: PretrainSpec;
}

/** Data files of a profile (absolute paths; ADL HW2 layout). */
export interface StudyData {
  dir: string;
  context_file: string;
  train_file: string;
  validation_file: string;
  test_file: string;
  /** Same questions as `test_file` with gold answers, when available (the sample has one). */
  test_gold_file?: string;
  /** What the data are, for the report's summary (one sentence). */
  description: string;
  /** Licence of the data, for the report's summary. */
  licence: string;
}

/** Q4: the same config and arguments, from scratch vs pretrained. */
export interface Q4Spec {
  /** Task compared. */
  task: "mc" | "qa";
  /** The pretrained variant (its Q2 run is reused); the scratch run takes its config. */
  variant: string;
}

/** Everything a profile decides. */
export interface StudyProfile {
  name: Profile;
  description: string;
  data: StudyData;
  /** Q2's two variants, in display order. */
  variants: ModelVariant[];
  /** Multiple-choice arguments shared by every variant (HF names, without model/data/output). */
  mc: RunArgs;
  /** QA arguments shared by every variant. */
  qa: RunArgs;
  q4: Q4Spec;
  /** Inference batch size of the two-stage pipeline (validation and prediction.csv). */
  pipelineBatchSize: number;
  /**
   * Render figures to PNG with headless Chromium besides the interactive HTML (about 3 s per
   * figure here; off in `smoke`, where the PNG path is covered by the plotting tests).
   */
  figurePng: boolean;
  /** Validation questions of the pipeline evaluation: the first N (all when absent). */
  evalSamples?: number;
  /** Expected wall time of the whole report on the reference machine (documentation only). */
  budget: string;
}

const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

function abs(path: string): string {
  return path.startsWith("/") ? path : `${ROOT}/${path}`;
}

/** The data directory `deno task report --data DIR` asked for (`REPORT_DATA_DIR`), if any. */
export function dataOverride(): string | undefined {
  return env("REPORT_DATA_DIR");
}

/**
 * The files of an ADL folder. `test_gold.json` (the test questions with their answers, kept
 * apart from `test.json`) is used for scoring when the folder has one.
 */
export function dataFiles(
  dir: string,
  about: { description: string; licence: string } = {
    description: `the ADL-layout folder ${dir}`,
    licence: "as given by the folder's owner",
  },
): StudyData {
  const d = abs(dir);
  let gold = false;
  try {
    gold = Deno.statSync(`${d}/test_gold.json`).isFile;
  } catch {
    gold = false;
  }
  return {
    dir: d,
    context_file: `${d}/context.json`,
    train_file: `${d}/train.json`,
    validation_file: `${d}/valid.json`,
    test_file: `${d}/test.json`,
    ...(gold ? { test_gold_file: `${d}/test_gold.json` } : {}),
    ...about,
  };
}

const DRCD = {
  description: "DRCD v1.3 (Delta Reading Comprehension Dataset: Traditional Chinese Wikipedia " +
    "paragraphs with crowd-written questions), its test and dev files converted to the ADL " +
    "layout with 3 seeded distractor paragraphs per question from other articles of the same " +
    "split (data/drcd)",
  licence: "CC BY-SA 3.0 (Delta Electronics); the converted files carry the same licence",
};

const SAMPLE = {
  description: "generated template sentences about invented entities (data/sample; not real " +
    "text)",
  licence: "generated by the project",
};

/** The profile's data folder, or the `--data` one (`REPORT_DATA_DIR`) when given. */
function profileData(dir: string, about: { description: string; licence: string }): StudyData {
  const o = dataOverride();
  return o ? dataFiles(o) : dataFiles(dir, about);
}

function env(name: string): string | undefined {
  try {
    const v = Deno.env.get(name);
    return v && v !== "" ? v : undefined;
  } catch {
    return undefined; // no --allow-env: defaults
  }
}

// ------------------------------------------------------------------- default (CPU, DRCD)

/** The real bert-base-chinese vocabulary (21,128 WordPiece tokens), shipped in the repository. */
export const BERT_BASE_CHINESE_VOCAB = "data/vocab/bert-base-chinese";

/**
 * Small BERT shape shared by pretraining and the from-scratch run of the default profile
 * (docs/RECIPE.md). With the real 21,128-token vocabulary the embedding matrix holds most of the
 * parameters.
 */
const DEFAULT_SHAPE = "hidden_size=64,num_hidden_layers=2,num_attention_heads=4," +
  "intermediate_size=256,max_position_embeddings=512,hidden_dropout_prob=0," +
  "attention_probs_dropout_prob=0";

/** Masked-LM pretraining arguments of the default profile (docs/RECIPE.md). */
const DEFAULT_PRETRAIN: RunArgs = {
  tokenizer_name: abs(BERT_BASE_CHINESE_VOCAB),
  config_overrides: DEFAULT_SHAPE,
  max_seq_length: 128,
  mlm_probability: 0.15,
  per_device_train_batch_size: 32,
  per_device_eval_batch_size: 64,
  learning_rate: 2e-3,
  weight_decay: 0,
  max_train_steps: 100,
  num_warmup_steps: 10,
  lr_scheduler_type: "linear",
};

function defaultProfile(): StudyProfile {
  return {
    name: "default",
    description: "DRCD (real Traditional Chinese text, data/drcd) on the CPU with the real " +
      "bert-base-chinese tokenizer: small BERTs pretrained in the project by masked-LM on the " +
      "DRCD paragraphs (character vs whole-word masking), then fine-tuned for MC and QA on a " +
      "subset of the training questions; Q4 from scratch vs pretrained with the same config " +
      "and arguments",
    data: profileData("data/drcd", DRCD),
    variants: [
      {
        id: "bert-char",
        label: "A: char-masking BERT",
        analogueOf: "bert-base-chinese",
        description: "small BERT pretrained in the project with character-level masking",
        pretrain: { masking: "char", args: { ...DEFAULT_PRETRAIN }, withTrainQuestions: true },
      },
      {
        id: "bert-wwm",
        label: "B: whole-word-masking BERT",
        analogueOf: "hfl/chinese-roberta-wwm-ext",
        description: "small BERT pretrained in the project with whole-word masking (jieba words)",
        pretrain: { masking: "wwm", args: { ...DEFAULT_PRETRAIN }, withTrainQuestions: true },
      },
    ],
    // docs/RECIPE.md: MC sees the question and the first ~100 tokens of each paragraph. After
    // the distractor leak was fixed (data/drcd), 100 updates at lr 5e-4 were the best probe
    // (30.0% on 200 questions; 50 updates at 1.5e-3: 26.0%; 100 at 3e-3: 26.5%).
    mc: {
      max_seq_length: 128,
      per_device_train_batch_size: 16,
      per_device_eval_batch_size: 64,
      gradient_accumulation_steps: 1,
      learning_rate: 5e-4,
      weight_decay: 0,
      num_train_epochs: 1,
      lr_scheduler_type: "linear",
      num_warmup_steps: 10,
      max_grad_norm: 1.0,
      max_train_samples: 1600,
      max_eval_samples: 200,
    },
    // The study's windows, 384 tokens with 128 overlapping: 1.85 windows per DRCD question on
    // average, 64% of the questions need more than one; fewer, more often positive windows per
    // question than 256 / 128 (3.6), so cheaper per question. lr 2e-3 beat 1e-3 and 1,200
    // questions beat 800 in probes (docs/RECIPE.md).
    qa: {
      max_seq_length: 384,
      doc_stride: 128,
      per_device_train_batch_size: 16,
      per_device_eval_batch_size: 64,
      gradient_accumulation_steps: 1,
      learning_rate: 2e-3,
      weight_decay: 0,
      num_train_epochs: 1,
      lr_scheduler_type: "linear",
      num_warmup_steps: 10,
      max_train_samples: 1200,
      max_eval_samples: 200,
    },
    q4: { task: "qa", variant: "bert-char" },
    pipelineBatchSize: 64,
    figurePng: true,
    evalSamples: 300,
    budget: "<= 15 minutes on 2 CPU cores",
  };
}

// ------------------------------------------------------------------- smoke (CI, seconds)

const SMOKE_SHAPE = "hidden_size=32,num_hidden_layers=1,num_attention_heads=2," +
  "intermediate_size=64,max_position_embeddings=128";

function smokeProfile(): StudyProfile {
  const pretrain: RunArgs = {
    tokenizer_name: abs("data/sample"),
    config_overrides: SMOKE_SHAPE,
    max_seq_length: 64,
    mlm_probability: 0.15,
    per_device_train_batch_size: 16,
    learning_rate: 1e-3,
    max_train_steps: 4,
    max_train_samples: 64,
  };
  const common: RunArgs = {
    per_device_train_batch_size: 8,
    per_device_eval_batch_size: 32,
    gradient_accumulation_steps: 2,
    learning_rate: 1e-3,
    num_train_epochs: 2,
    max_train_samples: 32,
    max_eval_samples: 16,
    lr_scheduler_type: "linear",
  };
  return {
    name: "smoke",
    description: "seconds-long version of the default profile for CI: tiny models, a few " +
      "steps, data subsets (numbers are meaningless)",
    data: profileData("data/sample", SAMPLE),
    variants: [
      {
        id: "bert-char",
        label: "A: char-masking BERT (tiny)",
        analogueOf: "bert-base-chinese",
        description: "tiny BERT, a few steps of character-masking MLM",
        pretrain: { masking: "char", args: { ...pretrain } },
      },
      {
        id: "bert-wwm",
        label: "B: whole-word-masking BERT (tiny)",
        analogueOf: "hfl/chinese-roberta-wwm-ext",
        description: "tiny BERT, a few steps of whole-word-masking MLM",
        pretrain: { masking: "wwm", args: { ...pretrain } },
      },
    ],
    mc: { ...common, max_seq_length: 64 },
    qa: { ...common, max_seq_length: 64, doc_stride: 24 },
    q4: { task: "qa", variant: "bert-char" },
    pipelineBatchSize: 64,
    figurePng: false,
    evalSamples: 16,
    budget: "well under a minute of training",
  };
}

// ------------------------------------------------------------------- full (the study, GPU host)

function fullProfile(): StudyProfile {
  const bert = abs(env("BERT_BASE_CHINESE_DIR") ?? "models/bert-base-chinese");
  const roberta = abs(env("ROBERTA_WWM_EXT_DIR") ?? "models/chinese-roberta-wwm-ext");
  return {
    name: "full",
    description: "the study's scale: ADL HW2 data, bert-base-chinese and " +
      "hfl/chinese-roberta-wwm-ext from local Hugging Face folders, the study's arguments",
    data: profileData(env("ADL_DATA_DIR") ?? "data/adl", {
      description: "the ADL HW2 data (Traditional Chinese reading comprehension)",
      licence: "as distributed by the course",
    }),
    variants: [
      {
        id: "bert-base-chinese",
        label: "bert-base-chinese",
        analogueOf: "bert-base-chinese",
        description: `Hugging Face checkpoint in ${bert} ($BERT_BASE_CHINESE_DIR)`,
        modelDir: bert,
      },
      {
        id: "chinese-roberta-wwm-ext",
        label: "hfl/chinese-roberta-wwm-ext",
        analogueOf: "hfl/chinese-roberta-wwm-ext",
        description: `Hugging Face checkpoint in ${roberta} ($ROBERTA_WWM_EXT_DIR)`,
        modelDir: roberta,
      },
    ],
    // The study: MC batch 2 x accumulation 4, 1 epoch, lr 3e-5. Its max_seq_length was 512
    // (the whole paragraph; run_swag's default of 128 would cut most paragraphs).
    mc: {
      max_seq_length: 512,
      per_device_train_batch_size: 2,
      per_device_eval_batch_size: 8,
      gradient_accumulation_steps: 4,
      // 4 candidates × 512 tokens do not fit the 4 GiB wasm heap even one question at a time
      // without it (see the README's "bert-base on the CPU").
      gradient_checkpointing: true,
      learning_rate: 3e-5,
      weight_decay: 0,
      num_train_epochs: 1,
      lr_scheduler_type: "linear",
      num_warmup_steps: 0,
      checkpointing_steps: "epoch",
      // About 2,700 updates in the one epoch: validation every 500 gives Q3 a curve, not a point.
      eval_steps: 500,
    },
    // QA batch 4 x accumulation 2, 2 epochs, lr 3e-5, max_seq_length 384, doc_stride 128.
    qa: {
      max_seq_length: 384,
      doc_stride: 128,
      per_device_train_batch_size: 4,
      per_device_eval_batch_size: 16,
      gradient_accumulation_steps: 2,
      learning_rate: 3e-5,
      weight_decay: 0,
      num_train_epochs: 2,
      lr_scheduler_type: "linear",
      num_warmup_steps: 0,
      checkpointing_steps: "epoch",
      // About 3,800 updates per epoch: validation every 1,000 as well as at each epoch's end.
      eval_steps: 1000,
    },
    // bert-base-chinese's config from scratch vs pretrained, on QA.
    q4: { task: "qa", variant: "bert-base-chinese" },
    pipelineBatchSize: 16,
    figurePng: true,
    budget: "hours on one GPU",
  };
}

/**
 * The profile's settings. Paths are absolute; `full` reads `ADL_DATA_DIR`,
 * `BERT_BASE_CHINESE_DIR` and `ROBERTA_WWM_EXT_DIR` when set.
 */
export function getProfile(name: Profile): StudyProfile {
  switch (name) {
    case "default":
      return defaultProfile();
    case "smoke":
      return smokeProfile();
    case "full":
      return fullProfile();
    default:
      throw new Error(`unknown profile ${JSON.stringify(name)} (default, full or smoke)`);
  }
}

/**
 * The tokenizer folder of a profile (the first variant's: its pretraining tokenizer or its
 * checkpoint), with the QA window and MC length the profile trains with; Q1 shows these.
 */
export function tokenizerSettings(profile: StudyProfile): {
  tokenizerDir: string;
  qaMaxSeqLength: number;
  docStride: number;
  mcMaxSeqLength: number;
} {
  const v = profile.variants[0];
  const dir = v.modelDir ?? String(v.pretrain?.args.tokenizer_name ?? "");
  if (!dir) throw new Error(`profile ${profile.name}: variant ${v.id} names no tokenizer`);
  return {
    tokenizerDir: dir,
    qaMaxSeqLength: Number(profile.qa.max_seq_length),
    docStride: Number(profile.qa.doc_stride),
    mcMaxSeqLength: Number(profile.mc.max_seq_length),
  };
}

/** A variant of a profile by id; the error lists the ids. */
export function getVariant(profile: StudyProfile, id: string): ModelVariant {
  const v = profile.variants.find((x) => x.id === id);
  if (!v) {
    throw new Error(
      `profile ${profile.name} has no variant ${JSON.stringify(id)} ` +
        `(variants: ${profile.variants.map((x) => x.id).join(", ")})`,
    );
  }
  return v;
}

/** `<outputDir>/runs/<profile>/<variant>/<task>`. */
export function runDir(
  outputDir: string,
  profile: StudyProfile,
  variant: string,
  task: "mc" | "qa" | "pretrain",
): string {
  return `${outputDir}/runs/${profile.name}/${variant}/${task}`;
}
