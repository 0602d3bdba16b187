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
 * - The model is `BertForMaskedLM` (decoder tied to the word embeddings, as HF);
 *   `output_dir` receives it with its tokenizer in Hugging Face layout, so `loadPretrained(dir,
 *   "mc" | "qa")` starts a downstream task from it (the MLM head is dropped, task heads are new).
 * @module
 */
import * as tf from "@tensorflow/tfjs";
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
import type { BertTokenizer } from "../tokenization/mod.ts";
import { checkTrainingArgs, countCorrect, mlmLoss, train } from "../training/mod.ts";
import { writeJsonAtomic } from "../util/atomic.ts";
import { createRng, deriveSeed } from "../util/random.ts";
import {
  loadModelAndTokenizer,
  loadWeightsInto,
  type ModelSourceArgs,
  saveModelAndTokenizer,
} from "./setup.ts";
import {
  checkRunnerArgs,
  MC_DEFAULTS,
  type OptimizationArgs,
  type RunDefaults,
  type RunnerOptions,
  type TaskTrainResult,
  toLoopArgs,
  withDefaults,
} from "./train.ts";

/** Masking schemes: whole words (jieba) or single tokens. */
export type MaskingKind = "wwm" | "char";

/** Arguments of {@link pretrainMaskedLm} (names of `run_mlm_no_trainer.py`). */
export interface PretrainArgs extends ModelSourceArgs, OptimizationArgs {
  /** Paragraphs (context.json); all of them are corpus text. */
  context_file: string;
  /** Optional ADL questions file whose question strings are added to the corpus. */
  train_file?: string;
  /** Only "bert" exists here (HF `--model_type`, used when training from scratch). */
  model_type?: string;
  masking?: MaskingKind;
  max_seq_length?: number;
  mlm_probability?: number;
  validation_split_percentage?: number;
  /** One sequence per text (true) or texts concatenated and cut into `max_seq_length` blocks
   *  (false, HF's default `group_texts`). */
  line_by_line?: boolean;
  pad_to_max_length?: boolean;
  /** Use only the first N corpus sequences for training (after the validation split). */
  max_train_samples?: number;
}

/** Defaults (those of `run_mlm_no_trainer.py`, seed 42 and masking "wwm" added). */
export const MLM_DEFAULTS: RunDefaults & {
  model_type: string;
  masking: MaskingKind;
  mlm_probability: number;
  validation_split_percentage: number;
  line_by_line: boolean;
} = {
  model_type: "bert",
  masking: "wwm",
  // Sequence length, batches and optimiser: the same defaults as run_swag_no_trainer.py.
  ...MC_DEFAULTS,
  mlm_probability: 0.15,
  validation_split_percentage: 5,
  line_by_line: false,
};

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

/**
 * Checks the arguments (defaults filled) before any work: the one owner of these rules, which
 * `pretrain-mlm` also runs to refuse bad flags early.
 */
export function checkPretrainArgs(a: PretrainArgs & typeof MLM_DEFAULTS): void {
  const t = "pretrain-mlm";
  checkTrainingArgs(toLoopArgs(a));
  checkRunnerArgs(a as unknown as Record<string, unknown>, t);
  if (!(a.mlm_probability > 0 && a.mlm_probability < 1)) {
    throw new Error(`${t}: mlm_probability must be in (0, 1), got ${a.mlm_probability}`);
  }
  const v = a.validation_split_percentage;
  if (!(v >= 0 && v < 100)) {
    throw new Error(`${t}: validation_split_percentage must be in [0, 100), got ${v}`);
  }
  if (a.masking !== "wwm" && a.masking !== "char") {
    throw new Error(`${t}: masking must be "wwm" or "char", got ${JSON.stringify(a.masking)}`);
  }
  if (a.model_type !== "bert") {
    throw new Error(`${t}: model_type must be "bert" (the only architecture here)`);
  }
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

/**
 * Pretrains a BERT masked-LM on the project's own text (see the module documentation) and, with
 * `output_dir`, saves it in Hugging Face layout with its tokenizer, `training_args.json`,
 * `corpus.json`, `all_results.json` and the loop's logs.
 */
export async function pretrainMaskedLm(
  args: PretrainArgs,
  opts: RunnerOptions & { segmenter?: WordSegmenter } = {},
): Promise<PretrainResult> {
  const log = opts.log ?? ((m: string) => console.log(m));
  const a = withDefaults(args, MLM_DEFAULTS);
  checkPretrainArgs(a);
  const corpus = await loadMlmCorpus(a.context_file, a.train_file);
  const segmenter = opts.segmenter ??
    await loadSegmenter({ kind: a.masking === "wwm" ? "jieba" : "char" });
  if (a.masking === "wwm" && segmenter.kind !== "jieba") {
    log(`pretrain-mlm: whole-word masking without jieba: ${segmenter.reason ?? "char words"}`);
  }
  const loaded = await loadModelAndTokenizer(a, "mlm", log);
  const { model, tokenizer } = loaded;
  try {
    const limit = Math.min(model.config.max_position_embeddings, tokenizer.modelMaxLength);
    if (a.max_seq_length > limit) {
      throw new Error(
        `max_seq_length ${a.max_seq_length} is larger than the model takes (${limit})`,
      );
    }
    let features = prepareMlmFeatures(corpus.texts, tokenizer, segmenter, {
      maxSeqLength: a.max_seq_length,
    });
    if (a.masking === "char") features = features.map(perTokenWords);
    if (!a.line_by_line) features = packMlmFeatures(features, a.max_seq_length);
    // Seeded hold-out split of sequences (HF: the first/last validation_split_percentage %).
    const order = createRng(deriveSeed(a.seed, "mlm-split")).shuffle(
      features.map((_, i) => i),
    );
    const nVal = Math.floor(features.length * a.validation_split_percentage / 100);
    const valFeatures = order.slice(0, nVal).sort((x, y) => x - y).map((i) => features[i]);
    let trainFeatures = order.slice(nVal).sort((x, y) => x - y).map((i) => features[i]);
    if (a.max_train_samples !== undefined) {
      trainFeatures = trainFeatures.slice(0, a.max_train_samples);
    }
    const count = (fs: MlmFeature[]) => fs.reduce((s, f) => s + f.inputIds.length, 0);
    const info: CorpusInfo = {
      paragraphs: corpus.paragraphs,
      questions: corpus.questions,
      sequences: { train: trainFeatures.length, validation: valFeatures.length },
      tokens: { train: count(trainFeatures), validation: count(valFeatures) },
      segmenter: segmenter.kind === "jieba" ? "jieba" : `char (${segmenter.reason ?? ""})`,
    };
    log(
      `pretrain-mlm: ${info.paragraphs} paragraphs + ${info.questions} questions -> ` +
        `${info.sequences.train} training sequences (${info.tokens.train} tokens), ` +
        `${info.sequences.validation} held out; masking ${a.masking}, words: ${info.segmenter}`,
    );
    log(
      `${loaded.fromScratch ? "new" : "pretrained"} ${model.architecture}: ` +
        `${model.numParameters().toLocaleString("en-US")} parameters, ` +
        `${loaded.config.num_hidden_layers} layers, hidden ${loaded.config.hidden_size}`,
    );
    const collate = (fs: MlmFeature[], seed: number) =>
      collateMlmBatch(fs, {
        seed,
        maskTokenId: tokenizer.maskTokenId,
        padTokenId: tokenizer.padTokenId,
        vocabSize: tokenizer.vocabSize,
        mlmProbability: a.mlm_probability,
        padToLength: a.pad_to_max_length ? a.max_seq_length : undefined,
      });
    // Fixed evaluation masks: the same held-out batches every epoch.
    const evalBatches: MlmBatch[] = [];
    for (let i = 0; i < valFeatures.length; i += a.per_device_eval_batch_size) {
      const fs = valFeatures.slice(i, i + a.per_device_eval_batch_size);
      evalBatches.push(collate(fs, deriveSeed(a.seed, "mlm-eval", i)));
    }
    const evaluate = async () => {
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
    const loopArgs = toLoopArgs(a);
    const save = async (dir: string) => {
      await saveModelAndTokenizer(model, tokenizer as BertTokenizer, dir);
      await Deno.writeTextFile(`${dir}/training_args.json`, JSON.stringify(a, null, 2) + "\n");
    };
    const t0 = performance.now();
    const result = await train<MlmBatch>({
      variables: model.variables,
      numExamples: trainFeatures.length,
      // The masks depend on the batch's rows and on a seed derived from them, so a resumed run
      // sees exactly the masks of an uninterrupted one, and every epoch re-masks (the rows come
      // in another order and combination).
      makeBatch: (idx) =>
        collate(idx.map((i) => trainFeatures[i]), deriveSeed(a.seed, "mlm-mask", ...idx)),
      disposeBatch: () => {},
      lossFn: (b, ctx) => mlmStep(model, b, ctx.training, ctx.seed),
      args: loopArgs,
      metricName: "accuracy",
      evaluate: evalBatches.length ? evaluate : undefined,
      bestMetric: evalBatches.length && a.output_dir ? "eval_loss" : undefined,
      greaterIsBetter: false,
      saveModel: save,
      loadModel: (dir) => loadWeightsInto(model, dir),
      progress: opts.progress,
      label: "pretrain-mlm",
      onStep: opts.onStep,
      log: opts.log,
    });
    const trainSeconds = (performance.now() - t0) / 1000;
    const last = result.evalLog.at(-1);
    const evalMetrics: Record<string, number> = last
      ? {
        eval_loss: last.eval_loss as number,
        perplexity: last.perplexity as number,
        accuracy: last.accuracy as number,
      }
      : {};
    if (a.output_dir) {
      const results: Record<string, number> = {};
      for (const [k, v] of Object.entries(evalMetrics)) {
        results[k.startsWith("eval_") ? k : `eval_${k}`] = v;
      }
      results.train_seconds = trainSeconds;
      results.train_tokens_per_second = info.tokens.train *
        (result.completedSteps / Math.max(
          1,
          Math.ceil(
            trainFeatures.length / a.per_device_train_batch_size / a.gradient_accumulation_steps,
          ),
        )) / trainSeconds;
      await writeJsonAtomic(`${a.output_dir}/all_results.json`, results);
      await writeJsonAtomic(`${a.output_dir}/corpus.json`, info);
    }
    return {
      model,
      tokenizer: tokenizer as BertTokenizer,
      args: a as unknown as TaskTrainResult["args"],
      train: result,
      eval: evalMetrics,
      trainSeconds,
      corpus: info,
    };
  } catch (e) {
    model.dispose();
    throw e;
  }
}
