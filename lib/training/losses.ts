/**
 * Loss functions of the Hugging Face BERT heads, and the matching "correct prediction" counts
 * used for running accuracy / EM during training.
 *
 * - `crossEntropy`: `torch.nn.CrossEntropyLoss(ignore_index=...)` with mean reduction over the
 *   non-ignored rows.
 * - `qaLoss`: `BertForQuestionAnswering` — start/end positions clamped to `[0, T]`, `T` (one past
 *   the sequence) ignored, loss = (start CE + end CE) / 2.
 * - `mcLoss`: `BertForMultipleChoice` — cross-entropy over the choices.
 * - `mlmLoss`: `BertForMaskedLM` — cross-entropy over positions whose label is not -100.
 *
 * One deliberate deviation: when every row is ignored, PyTorch returns NaN (0/0); here the loss
 * is 0, so that a batch without a usable label cannot trip the NaN guard of the training loop.
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** Labels as a tensor (int32 or float holding integers) or a plain array. */
export type Labels = tf.Tensor | ArrayLike<number>;

function toIntTensor(labels: Labels, n: number, what: string): tf.Tensor1D {
  if (labels instanceof tf.Tensor) {
    if (labels.size !== n) {
      throw new Error(`${what}: ${labels.size} labels for ${n} rows`);
    }
    return tf.cast(tf.reshape(labels, [n]), "int32") as tf.Tensor1D;
  }
  if (labels.length !== n) throw new Error(`${what}: ${labels.length} labels for ${n} rows`);
  return tf.tensor1d(Array.from(labels), "int32");
}

/**
 * Mean cross-entropy of `logits` [N, C] against integer `labels` [N]; rows whose label equals
 * `ignoreIndex` do not count. Labels outside `[0, C)` other than `ignoreIndex` are an error when
 * given as an array (checked), and are treated as ignored when given as a tensor (not read back,
 * to avoid a device sync).
 */
export function crossEntropy(logits: tf.Tensor, labels: Labels, ignoreIndex = -100): tf.Scalar {
  if (logits.rank !== 2) {
    throw new Error(`crossEntropy: logits must be [N, C], got [${logits.shape}]`);
  }
  const [n, c] = logits.shape as [number, number];
  if (!(labels instanceof tf.Tensor)) {
    for (let i = 0; i < labels.length; i++) {
      const l = labels[i];
      if (l !== ignoreIndex && !(Number.isInteger(l) && l >= 0 && l < c)) {
        throw new Error(`crossEntropy: label ${l} at row ${i} is outside [0, ${c})`);
      }
    }
  }
  return tf.tidy(() => {
    const lab = toIntTensor(labels, n, "crossEntropy");
    const valid = tf.logicalAnd(
      tf.notEqual(lab, tf.scalar(ignoreIndex, "int32")),
      tf.logicalAnd(tf.greaterEqual(lab, 0), tf.less(lab, c)),
    );
    const safe = tf.where(valid, lab, tf.zerosLike(lab));
    const logp = tf.logSoftmax(logits);
    const flat = tf.add(tf.mul(tf.range(0, n, 1, "int32"), tf.scalar(c, "int32")), safe);
    const picked = tf.gather(tf.reshape(logp, [-1]), flat);
    const w = tf.cast(valid, "float32");
    const total = tf.sum(tf.mul(tf.neg(picked), w));
    return tf.div(total, tf.maximum(tf.sum(w), 1)) as tf.Scalar;
  });
}

/**
 * Question-answering loss of `BertForQuestionAnswering`: positions are clamped to `[0, T]` and
 * `T` is ignored (`ignored_index = start_logits.size(1)`); the loss is the mean of the start
 * and end cross-entropies.
 */
export function qaLoss(
  startLogits: tf.Tensor,
  endLogits: tf.Tensor,
  startPositions: Labels,
  endPositions: Labels,
): tf.Scalar {
  return tf.tidy(() => {
    const [b, t] = startLogits.shape as [number, number];
    const clamp = (p: Labels) =>
      tf.clipByValue(toIntTensor(p instanceof tf.Tensor ? p : Array.from(p), b, "qaLoss"), 0, t);
    const s = crossEntropy(startLogits, clamp(startPositions), t);
    const e = crossEntropy(endLogits, clamp(endPositions), t);
    return tf.div(tf.add(s, e), 2) as tf.Scalar;
  });
}

/** Multiple-choice loss: cross-entropy of `logits` [B, C] against the correct choice [B]. */
export function mcLoss(logits: tf.Tensor, labels: Labels): tf.Scalar {
  return crossEntropy(logits, labels, -100);
}

/**
 * Masked-LM loss: `logits` [B, T, V] with `labels` [B, T], or [N, V] with labels [N]; labels of
 * -100 are ignored.
 */
export function mlmLoss(logits: tf.Tensor, labels: Labels): tf.Scalar {
  return tf.tidy(() => {
    const v = logits.shape[logits.rank - 1];
    const flat = tf.reshape(logits, [-1, v]);
    const n = flat.shape[0];
    const lab = labels instanceof tf.Tensor ? tf.reshape(labels, [n]) : labels;
    return crossEntropy(flat, lab, -100);
  });
}

/**
 * Number of rows whose arg-max equals the label (labels equal to `ignoreIndex` never count),
 * and the number of counted rows. For running accuracy (MC) and MLM accuracy.
 */
export function countCorrect(
  logits: tf.Tensor,
  labels: Labels,
  ignoreIndex = -100,
): { correct: tf.Scalar; count: tf.Scalar } {
  return tf.tidy(() => {
    const v = logits.shape[logits.rank - 1];
    const flat = tf.reshape(logits, [-1, v]);
    const n = flat.shape[0];
    const lab = toIntTensor(labels instanceof tf.Tensor ? labels : Array.from(labels), n, "count");
    const valid = tf.notEqual(lab, tf.scalar(ignoreIndex, "int32"));
    const hit = tf.logicalAnd(valid, tf.equal(tf.argMax(flat, 1), lab));
    return {
      correct: tf.sum(tf.cast(hit, "float32")) as tf.Scalar,
      count: tf.sum(tf.cast(valid, "float32")) as tf.Scalar,
    };
  });
}

/**
 * Training-time exact match for QA features: over the windows that hold the answer, the share
 * whose arg-max start and end logits both equal the gold positions. Windows without the answer
 * (gold at [CLS], position 0, as Hugging Face labels them) are not counted: with 384/128 windows
 * most windows of a long paragraph lack the answer, and counting their easy [CLS] predictions
 * read 34% on DRCD while validation EM was 1%. Positions clamped to `T` (as in the loss) are not
 * counted either. A token-position match, cheaper than decoding text; validation EM uses the full
 * post-processing.
 */
export function qaExactPositions(
  startLogits: tf.Tensor,
  endLogits: tf.Tensor,
  startPositions: Labels,
  endPositions: Labels,
): { correct: tf.Scalar; count: tf.Scalar } {
  return tf.tidy(() => {
    const [b, t] = startLogits.shape as [number, number];
    const sp = tf.clipByValue(
      toIntTensor(
        startPositions instanceof tf.Tensor ? startPositions : Array.from(startPositions),
        b,
        "qa",
      ),
      0,
      t,
    );
    const ep = tf.clipByValue(
      toIntTensor(
        endPositions instanceof tf.Tensor ? endPositions : Array.from(endPositions),
        b,
        "qa",
      ),
      0,
      t,
    );
    const valid = tf.logicalAnd(
      tf.logicalAnd(tf.greater(sp, 0), tf.greater(ep, 0)),
      tf.logicalAnd(tf.less(sp, t), tf.less(ep, t)),
    );
    const hit = tf.logicalAnd(
      valid,
      tf.logicalAnd(tf.equal(tf.argMax(startLogits, 1), sp), tf.equal(tf.argMax(endLogits, 1), ep)),
    );
    return {
      correct: tf.sum(tf.cast(hit, "float32")) as tf.Scalar,
      count: tf.sum(tf.cast(valid, "float32")) as tf.Scalar,
    };
  });
}
