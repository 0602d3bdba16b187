/**
 * From ADL examples to QA inputs: each question paired with one paragraph.
 * @module
 */
import type { AnswerSpan, QaInput } from "./types.ts";

/** The fields of an ADL example that QA inputs need (structurally `AdlExample`). */
export interface QaExampleLike {
  id: string;
  question: string;
  paragraphs: readonly number[];
  relevant?: number;
  answer?: AnswerSpan;
}

/**
 * Pairs each example with a paragraph: `paragraphOf(example, index)` when given (e.g. the
 * paragraph the MC model chose), else the gold `relevant` one. The gold answer is attached only
 * when the chosen paragraph is the relevant one (its `start` indexes that paragraph).
 */
export function examplesToQaInputs(
  examples: readonly QaExampleLike[],
  contexts: readonly string[],
  paragraphOf?: (example: QaExampleLike, index: number) => number,
): QaInput[] {
  return examples.map((ex, i) => {
    const p = paragraphOf ? paragraphOf(ex, i) : ex.relevant;
    if (p === undefined) {
      throw new Error(
        `example ${i} (0-based, id ${JSON.stringify(ex.id)}) has no "relevant" paragraph; ` +
          `pass paragraphOf (e.g. the multiple-choice prediction)`,
      );
    }
    if (!Number.isInteger(p) || p < 0 || p >= contexts.length) {
      throw new RangeError(
        `example ${i} (0-based, id ${JSON.stringify(ex.id)}): paragraph ${p} is out of range ` +
          `(there are ${contexts.length} contexts)`,
      );
    }
    const input: QaInput = { id: ex.id, question: ex.question, context: contexts[p] };
    if (ex.answer && p === ex.relevant) {
      input.answer = { text: ex.answer.text, start: ex.answer.start };
    }
    return input;
  });
}
