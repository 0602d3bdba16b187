/**
 * Benchmark configurations and the project's QA training / evaluation step on random inputs:
 * `lib/models` BERT (`createFromConfig(config, "qa", seed)`), `lib/training`'s `qaLoss` and
 * `AdamW` (lr 3e-5, weight decay 0.01 with Hugging Face's no-decay groups), gradients by
 * `tf.variableGrads`. Shared by `bench/mod.ts` and `bench/profile.ts`.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import {
  type BertConfig,
  type BertModel,
  createFromConfig,
  makeBertConfig,
} from "../lib/models/mod.ts";
import { AdamW, backendMemoryLimit, planMemory, qaLoss } from "../lib/training/mod.ts";
import { createRng, deriveSeed } from "../lib/util/random.ts";

/** One benchmark configuration. */
export interface BenchConfig {
  name: string;
  layers: number;
  hidden: number;
  heads: number;
  inter: number;
  seq: number;
  /** Batch sizes: training steps and evaluation are timed at each. */
  batches: number[];
  /** Whether the config times training steps (false: forward latency only). */
  train: boolean;
  vocab: number;
}

/** The fixed configurations of issue 7 (vocabulary 21128, the real Chinese BERT size). */
export const CONFIGS: Record<string, BenchConfig> = {
  S: {
    name: "S",
    layers: 2,
    hidden: 128,
    heads: 2,
    inter: 512,
    seq: 128,
    batches: [16],
    train: true,
    vocab: 21128,
  },
  M: {
    name: "M",
    layers: 4,
    hidden: 256,
    heads: 4,
    inter: 1024,
    seq: 256,
    batches: [8],
    train: true,
    vocab: 21128,
  },
  B: {
    name: "B",
    layers: 12,
    hidden: 768,
    heads: 12,
    inter: 3072,
    seq: 384,
    batches: [1, 4],
    train: true,
    vocab: 21128,
  },
};

/** The Hugging Face config of a benchmark configuration. */
export function bertConfigOf(c: BenchConfig): BertConfig {
  return makeBertConfig({
    vocab_size: c.vocab,
    hidden_size: c.hidden,
    num_hidden_layers: c.layers,
    num_attention_heads: c.heads,
    intermediate_size: c.inter,
  }, `bench config ${c.name}`);
}

/** A random QA batch (ids in [1, vocab), second half token type 1, no padding). */
export interface QaBatch {
  inputIds: tf.Tensor2D;
  tokenTypeIds: tf.Tensor2D;
  attentionMask: tf.Tensor2D;
  startPositions: tf.Tensor1D;
  endPositions: tf.Tensor1D;
}

/** Builds a seeded random batch of `batch` × `seq` tokens. */
export function randomBatch(c: BenchConfig, batch: number, seed: number): QaBatch {
  const rng = createRng(seed);
  const n = batch * c.seq;
  const ids = new Int32Array(n), types = new Int32Array(n), mask = new Int32Array(n).fill(1);
  for (let i = 0; i < n; i++) {
    ids[i] = 1 + rng.int(c.vocab - 1);
    types[i] = i % c.seq >= c.seq / 2 ? 1 : 0;
  }
  const sp = Int32Array.from({ length: batch }, () => rng.int(c.seq));
  const ep = Int32Array.from({ length: batch }, () => rng.int(c.seq));
  return {
    inputIds: tf.tensor2d(ids, [batch, c.seq], "int32"),
    tokenTypeIds: tf.tensor2d(types, [batch, c.seq], "int32"),
    attentionMask: tf.tensor2d(mask, [batch, c.seq], "int32"),
    startPositions: tf.tensor1d(sp, "int32"),
    endPositions: tf.tensor1d(ep, "int32"),
  };
}

/** Releases a batch. */
export function disposeBatch(b: QaBatch): void {
  tf.dispose([b.inputIds, b.tokenTypeIds, b.attentionMask, b.startPositions, b.endPositions]);
}

/** A model, its optimizer and the training / evaluation step functions. */
export interface QaTrainer {
  model: BertModel<"qa">;
  optimizer: AdamW;
  /** One training step (forward with dropout, backward, AdamW update); returns the loss. */
  trainStep(batch: QaBatch, step: number): Promise<number>;
  /**
   * How a training batch of `b` runs, chosen by the memory plan as `train-qa` would by default:
   * "plain", or "plain, k × m" in parts when it does not fit whole; "gradient checkpointing" only
   * when not even one sequence fits plain (see {@link trainingPlan}).
   */
  trainingMode(b: number): string;
  /** Forward without dropout; waits for the logits. */
  evalStep(batch: QaBatch): Promise<void>;
  dispose(): void;
}

/** Learning rate and weight decay of the QA scripts' AdamW. */
export const LR = 3e-5;
export const WEIGHT_DECAY = 0.01;

/**
 * How a training micro-batch of `b` sequences runs on the current backend, by the memory plan of
 * `lib/training/memory.ts`, as `train-qa` runs it by default (no `--gradient_checkpointing`):
 * whole when it fits, else in parts of the largest size that fits (gradient accumulation). Only
 * when not even one sequence fits does it turn gradient checkpointing on, as a user then must.
 */
export function trainingPlan(
  c: BenchConfig,
  model: BertModel,
  b: number,
): { checkpointing: boolean; parts: number } {
  const backend = tf.getBackend();
  const limit = backendMemoryLimit(backend);
  const plan = (checkpointing: boolean) =>
    planMemory({
      config: model.config,
      task: "qa",
      numParameters: model.numParameters(),
      seqLength: c.seq,
      batchSize: b,
      gradientCheckpointing: checkpointing,
      training: true,
      backend,
      limitBytes: limit.bytes,
      limitName: limit.name,
      optimizerOnHost: backend === "wasm",
    });
  const plain = plan(false);
  if (plain.microBatch >= 1) return { checkpointing: false, parts: plain.microBatch };
  return { checkpointing: true, parts: Math.max(1, plan(true).microBatch) };
}

/** Creates the project's QA model (random init from `seed`) with AdamW and step functions. */
export function createQaTrainer(c: BenchConfig, seed: number): QaTrainer {
  const model = createFromConfig(bertConfigOf(c), "qa", seed);
  // AdamW's moments outside the wasm heap, as the training loop keeps them there.
  const optimizer = new AdamW(model.variables, {
    weightDecay: WEIGHT_DECAY,
    momentsOnHost: tf.getBackend() === "wasm",
  });
  const hfName = new Map<string, string>();
  for (const [name, v] of model.variables) hfName.set(v.name, name);
  const varList = [...model.variables.values()];
  const plans = new Map<number, { checkpointing: boolean; parts: number }>();
  const planFor = (b: number) => {
    if (!plans.has(b)) plans.set(b, trainingPlan(c, model, b));
    return plans.get(b)!;
  };
  return {
    model,
    optimizer,
    trainingMode(b) {
      const p = planFor(b);
      const how = p.checkpointing ? "gradient checkpointing" : "plain";
      return p.parts < b ? `${how}, ${Math.ceil(b / p.parts)} × ${p.parts}` : how;
    },
    async trainStep(batch, step) {
      const b = batch.inputIds.shape[0];
      const { checkpointing, parts } = planFor(b);
      model.gradientCheckpointing = checkpointing;
      let acc: Map<string, tf.Tensor> | null = null;
      let lossSum = 0;
      for (let s = 0; s < b; s += parts) {
        const rows = Math.min(parts, b - s);
        const part = (t: tf.Tensor) => rows === b ? t : tf.slice(t, [s], [rows]);
        const { value, grads } = tf.variableGrads(() => {
          const out = model.forward({
            inputIds: part(batch.inputIds),
            tokenTypeIds: part(batch.tokenTypeIds),
            attentionMask: part(batch.attentionMask),
          }, { training: true, seed: deriveSeed(seed, "step", step, s) });
          const loss = qaLoss(
            out.startLogits,
            out.endLogits,
            part(batch.startPositions),
            part(batch.endPositions),
          );
          // Each part's loss weighted by its share of the rows: the summed gradient is the batch's.
          return rows === b ? loss : tf.mul(loss, rows / b) as tf.Scalar;
        }, varList);
        lossSum += (await value.data())[0];
        value.dispose();
        if (!acc) {
          acc = new Map();
          for (const [k, g] of Object.entries(grads)) acc.set(hfName.get(k) ?? k, g);
        } else {
          for (const [k, g] of Object.entries(grads)) {
            const name = hfName.get(k) ?? k;
            const prev = acc.get(name)!;
            acc.set(name, tf.add(prev, g));
            tf.dispose([prev, g]);
          }
        }
      }
      optimizer.step(acc!, LR);
      tf.dispose([...acc!.values()]);
      return lossSum;
    },
    async evalStep(batch) {
      const out = model.forward(batch, { training: false });
      await out.startLogits.data();
      await out.endLogits.data();
      tf.dispose([out.startLogits, out.endLogits]);
    },
    dispose() {
      optimizer.dispose();
      model.dispose();
    },
  };
}
