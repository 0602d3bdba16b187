/**
 * Masked-LM pretraining in the project (Q4 without downloads), with the arguments of Hugging
 * Face's `run_mlm_no_trainer.py` plus `masking`:
 *
 * - `masking: "wwm"` — whole-word masking over jieba words (the "wwm" of
 *   `chinese-roberta-wwm-ext`, HF `DataCollatorForWholeWordMask`); `"char"` — each token is its
 *   own word, i.e. plain per-token masking as `bert-base-chinese` was pretrained (HF
 *   `DataCollatorForLanguageModeling`). Both: `mlm_probability` of the tokens, 80% `[MASK]`,
 *   10% random, 10% kept.
 * - Corpus (unlabelled text only): every paragraph of `context_file` (paragraphs of all splits,
 *   as a real pretraining corpus is raw text that may contain them) and, when `train_file` is
 *   given, the question strings of that file. Answers, `relevant` labels and validation/test
 *   questions never enter the corpus (the file is parsed and validated, only `question` is
 *   used). Each text becomes `[CLS] text [SEP]` (long texts cut at word boundaries); then, as
 *   HF's default, the sequences are concatenated and cut into blocks of `max_seq_length` tokens
 *   (`line_by_line: true` keeps one sequence per text, padded).
 * - `validation_split_percentage` (default 5, as HF) of the sequences are held out (seeded) and
 *   scored after every epoch with fixed masks: `loss`, `perplexity`, `accuracy` of the masked
 *   tokens.
 * - Training takes the path fine-tuning takes (`runTask` in train.ts): the memory plan, with
 *   `memory_plan.json` and a micro-batch split when a batch does not fit (`TFJS_MEMORY_LIMIT`);
 *   a split micro-batch masks each part from its own rows (as dropout draws per part), so a split
 *   run is another draw of the masks, not the unsplit run's exact gradient.
 * - The model is `BertForMaskedLM` (decoder tied to the word embeddings, as HF);
 *   `output_dir` receives it with its tokenizer in Hugging Face layout, so `loadPretrained(dir,
 *   "mc" | "qa")` starts a downstream task from it (the MLM head is dropped, task heads are new).
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import {
  type ArgsInput,
  type DefaultsOf,
  defaultsOf,
  type MaskingKind,
  MLM_ARGS,
  resolveArgs,
  type ResolvedArgs,
} from "../args/mod.ts";
import { loadContexts, loadExamples } from "../data/mod.ts";
import type { BertModel } from "../models/mod.ts";
import {
  collateMlmBatch,
  loadSegmenter,
  type MlmBatch,
  type MlmFeature,
  NO_WORD,
  prepareMlmFeatures,
  type WordSegmenter,
} from "../pretraining/mod.ts";
import { countCorrect, mlmLoss } from "../training/mod.ts";
import { writeJsonAtomic } from "../util/atomic.ts";
import { createRng, deriveSeed } from "../util/random.ts";
import {
  type RecipeModel,
  type RunnerOptions,
  runTask,
  type Task,
  type TaskRecipe,
  type TaskTrainResult,
} from "./train.ts";

export type { MaskingKind };

/** Arguments of {@link pretrainMaskedLm} (names of `run_mlm_no_trainer.py`; the schema is
 *  `MLM_ARGS` of lib/args). */
export type PretrainArgs = ArgsInput<typeof MLM_ARGS.args>;

/** Resolved arguments of {@link pretrainMaskedLm}. */
export type MlmRunArgs = ResolvedArgs<typeof MLM_ARGS.args>;

/** Defaults (those of `run_mlm_no_trainer.py`, seed and masking "wwm" added), from the schema. */
export const MLM_DEFAULTS: DefaultsOf<typeof MLM_ARGS.args> = defaultsOf(MLM_ARGS);

/** What the pretraining corpus is made of (logged and written to `corpus.json`). */
export interface CorpusInfo {
  paragraphs: number;
  questions: number;
  sequences: { train: number; validation: number };
  tokens: { train: number; validation: number };
  segmenter: string;
}

/** Result of {@link pretrainMaskedLm}. */
export interface PretrainResult extends TaskTrainResult {
  corpus: CorpusInfo;
}

/** Gives every token its own word id (plain per-token masking). */
export function perTokenWords(f: MlmFeature): MlmFeature {
  let w = 0;
  return { ...f, wordIds: f.wordIds.map((x) => (x === NO_WORD ? NO_WORD : w++)) };
}

/**
 * HF `group_texts`: concatenates the sequences (each `[CLS] text [SEP]`) and cuts the stream into
 * blocks of `blockSize` tokens, so no batch carries padding. Word ids are renumbered to stay
 * distinct across texts; a word cut by a block boundary is masked independently in each block.
 * Deviation: HF drops the last partial block, here it is kept (a short corpus loses nothing).
 */
export function packMlmFeatures(features: readonly MlmFeature[], blockSize: number): MlmFeature[] {
  const ids: number[] = [];
  const words: number[] = [];
  let offset = 0;
  for (const f of features) {
    let maxWord = -1;
    f.inputIds.forEach((id, i) => {
      ids.push(id);
      const w = f.wordIds[i];
      words.push(w === NO_WORD ? NO_WORD : w + offset);
      if (w > maxWord) maxWord = w;
    });
    offset += maxWord + 1;
  }
  const out: MlmFeature[] = [];
  for (let s = 0; s < ids.length; s += blockSize) {
    const n = Math.min(blockSize, ids.length - s);
    out.push({
      textIndex: out.length,
      inputIds: ids.slice(s, s + n),
      tokenTypeIds: new Array(n).fill(0),
      attentionMask: new Array(n).fill(1),
      wordIds: words.slice(s, s + n),
    });
  }
  return out;
}

/** The corpus texts: all paragraphs, then the questions of `train_file` when given. */
export async function loadMlmCorpus(
  contextFile: string,
  trainFile?: string,
): Promise<{ texts: string[]; paragraphs: number; questions: number }> {
  const contexts = await loadContexts(contextFile);
  const texts = [...contexts];
  let questions = 0;
  if (trainFile) {
    const ex = await loadExamples(trainFile, contexts, { split: "train" });
    for (const e of ex) texts.push(e.question);
    questions = ex.length;
  }
  return { texts, paragraphs: contexts.length, questions };
}

/** Forward + masked-LM loss and masked-token accuracy of one collated batch. */
function mlmStep(model: BertModel<"mlm">, b: MlmBatch, training: boolean, seed: number) {
  const out = model.forward({
    inputIds: tf.tensor2d(b.inputIds, undefined, "int32"),
    tokenTypeIds: tf.tensor2d(b.tokenTypeIds, undefined, "int32"),
    attentionMask: tf.tensor2d(b.attentionMask, undefined, "int32"),
  }, { training, seed, maskedPositions: tf.tensor1d(b.maskedPositions, "int32") });
  const labels = tf.tensor1d(b.maskedLabels, "int32");
  const { correct, count } = countCorrect(out.logits, labels);
  return { loss: mlmLoss(out.logits, labels), correct, count };
}

/** The corpus and the word segmenter of a pretraining run (loaded before the model). */
interface MlmData {
  corpus: { texts: string[]; paragraphs: number; questions: number };
  segmenter: WordSegmenter;
}

/** The sequences: features of every text, masked per token or per word, packed or one per text,
 *  then a seeded hold-out split (HF: the first/last validation_split_percentage %). */
function mlmSequences(a: MlmRunArgs, data: MlmData, m: RecipeModel<"mlm">) {
  let features = prepareMlmFeatures(data.corpus.texts, m.tokenizer, data.segmenter, {
    maxSeqLength: a.max_seq_length,
  });
  if (a.masking === "char") features = features.map(perTokenWords);
  if (!a.line_by_line) features = packMlmFeatures(features, a.max_seq_length);
  const order = createRng(deriveSeed(a.seed, "mlm-split")).shuffle(features.map((_, i) => i));
  const nVal = Math.floor(features.length * a.validation_split_percentage / 100);
  const valFeatures = order.slice(0, nVal).sort((x, y) => x - y).map((i) => features[i]);
  let trainFeatures = order.slice(nVal).sort((x, y) => x - y).map((i) => features[i]);
  if (a.max_train_samples !== undefined) {
    trainFeatures = trainFeatures.slice(0, a.max_train_samples);
  }
  const count = (fs: MlmFeature[]) => fs.reduce((s, f) => s + f.inputIds.length, 0);
  const info: CorpusInfo = {
    paragraphs: data.corpus.paragraphs,
    questions: data.corpus.questions,
    sequences: { train: trainFeatures.length, validation: valFeatures.length },
    tokens: { train: count(trainFeatures), validation: count(valFeatures) },
    segmenter: data.segmenter.kind === "jieba" ? "jieba" : `char (${data.segmenter.reason ?? ""})`,
  };
  m.log(
    `pretrain-mlm: ${info.paragraphs} paragraphs + ${info.questions} questions -> ` +
      `${info.sequences.train} training sequences (${info.tokens.train} tokens), ` +
      `${info.sequences.validation} held out; masking ${a.masking}, words: ${info.segmenter}`,
  );
  return { trainFeatures, valFeatures, info };
}

/** Masked-LM evaluation on fixed masks: the same held-out batches every epoch. */
function mlmEvaluation(
  model: BertModel<"mlm">,
  evalBatches: MlmBatch[],
): () => Promise<Record<string, number>> {
  return async () => {
    let lossSum = 0, correct = 0, n = 0;
    for (const b of evalBatches) {
      const r = tf.tidy(() => {
        const s = mlmStep(model, b, false, 0);
        return [tf.mul(s.loss, s.count as tf.Scalar), s.correct as tf.Scalar, s.count];
      });
      const [l, c, k] = await Promise.all(r.map((t) => (t as tf.Tensor).data()));
      tf.dispose(r);
      lossSum += l[0];
      correct += c[0];
      n += k[0];
    }
    const loss = n ? lossSum / n : NaN;
    return { eval_loss: loss, perplexity: Math.exp(loss), accuracy: n ? 100 * correct / n : NaN };
  };
}

/** The masked-LM recipe on the shared path; `info` receives the corpus description. */
function mlmRecipe(
  a: MlmRunArgs,
  data: MlmData,
  m: RecipeModel<"mlm">,
  info: { corpus?: CorpusInfo },
): TaskRecipe<MlmBatch> {
  const { trainFeatures, valFeatures, info: corpus } = mlmSequences(a, data, m);
  info.corpus = corpus;
  const collate = (fs: MlmFeature[], seed: number) =>
    collateMlmBatch(fs, {
      seed,
      maskTokenId: m.tokenizer.maskTokenId,
      padTokenId: m.tokenizer.padTokenId,
      vocabSize: m.tokenizer.vocabSize,
      mlmProbability: a.mlm_probability,
      padToLength: m.pad,
    });
  const evalBatches: MlmBatch[] = [];
  for (let i = 0; i < valFeatures.length; i += a.per_device_eval_batch_size) {
    const fs = valFeatures.slice(i, i + a.per_device_eval_batch_size);
    evalBatches.push(collate(fs, deriveSeed(a.seed, "mlm-eval", i)));
  }
  const updatesPerEpoch = Math.max(
    1,
    Math.ceil(trainFeatures.length / a.per_device_train_batch_size / a.gradient_accumulation_steps),
  );
  return {
    numExamples: trainFeatures.length,
    // The masks depend on the batch's rows and on a seed derived from them, so a resumed run
    // sees exactly the masks of an uninterrupted one, and every epoch re-masks (the rows come
    // in another order and combination).
    makeBatch: (idx) =>
      collate(idx.map((i) => trainFeatures[i]), deriveSeed(a.seed, "mlm-mask", ...idx)),
    loss: (b, ctx) => mlmStep(m.model, b, ctx.training, ctx.seed),
    metricName: "accuracy",
    evaluate: evalBatches.length ? mlmEvaluation(m.model, evalBatches) : undefined,
    bestMetric: "eval_loss",
    greaterIsBetter: false,
    resultKeys: ["eval_loss", "perplexity", "accuracy"],
    seqLength: longestSequence(trainFeatures),
    sequencesPerExample: 1,
    extraResults: ({ trainSeconds, completedSteps }) => ({
      train_seconds: trainSeconds,
      train_tokens_per_second: corpus.tokens.train * (completedSteps / updatesPerEpoch) /
        trainSeconds,
    }),
    writeExtra: (dir) => writeJsonAtomic(`${dir}/corpus.json`, corpus),
  };
}

function longestSequence(fs: readonly MlmFeature[]): number {
  let n = 1;
  for (const f of fs) n = Math.max(n, f.inputIds.length);
  return n;
}

/**
 * Pretrains a BERT masked-LM on the project's own text (see the module documentation) on the
 * path fine-tuning takes (memory plan and micro-batch split, logs, `best/` by the validation
 * loss, checkpoints) and, with `output_dir`, saves it in Hugging Face layout with its tokenizer,
 * `training_args.json`, `corpus.json`, `all_results.json`, `memory_plan.json` and the loop's
 * logs. The arguments are checked first (`MLM_ARGS`), unless they are already resolved.
 */
export async function pretrainMaskedLm(
  args: PretrainArgs | MlmRunArgs,
  opts: RunnerOptions & { segmenter?: WordSegmenter } = {},
): Promise<PretrainResult> {
  const a = resolveArgs(MLM_ARGS, args);
  const info: { corpus?: CorpusInfo } = {};
  const task: Task<MlmRunArgs, MlmData, "mlm"> = {
    label: "pretrain-mlm",
    head: "mlm",
    load: async (a, log) => {
      const corpus = await loadMlmCorpus(a.context_file, a.train_file);
      const segmenter = opts.segmenter ??
        await loadSegmenter({ kind: a.masking === "wwm" ? "jieba" : "char" });
      if (a.masking === "wwm" && segmenter.kind !== "jieba") {
        log(`pretrain-mlm: whole-word masking without jieba: ${segmenter.reason ?? "char words"}`);
      }
      return { corpus, segmenter };
    },
    recipe: (a, data, m) => mlmRecipe(a, data, m, info),
  };
  const r = await runTask(task, a, opts);
  return { ...r, corpus: info.corpus! };
}
