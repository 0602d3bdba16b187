/**
 * Writing the ADL HW2 layout. Files get `answer.start` in code points (as Python writes them);
 * in memory it is a JavaScript string index (see `types.ts`). Writes are atomic.
 * @module
 */
import { writeFileAtomic } from "../util/atomic.ts";
import { utf16ToCodePoint } from "./offsets.ts";
import type { AdlExample } from "./types.ts";

/**
 * The file form of `examples`: fields in the ADL order (`id, question, paragraphs, relevant,
 * answer`), `answer.start` converted to a code point offset in its paragraph. With
 * `withGold: false` the `relevant` and `answer` fields are left out (a test file).
 */
export function toFileRecords(
  examples: readonly AdlExample[],
  contexts: readonly string[],
  opts: { withGold?: boolean } = {},
): Record<string, unknown>[] {
  const withGold = opts.withGold ?? true;
  return examples.map((e) => {
    const r: Record<string, unknown> = {
      id: e.id,
      question: e.question,
      paragraphs: e.paragraphs.slice(),
    };
    if (withGold && e.relevant !== undefined) r.relevant = e.relevant;
    if (withGold && e.answer) {
      r.answer = {
        text: e.answer.text,
        start: utf16ToCodePoint(contexts[e.relevant!], e.answer.start),
      };
    }
    return r;
  });
}

/** JSON text of a data file as this project writes it: 2-space indent, UTF-8, final newline. */
export function dataJson(value: unknown): string {
  return JSON.stringify(value, null, 2) + "\n";
}

/** Writes `context.json`. */
export function writeContexts(path: string, contexts: readonly string[]): Promise<void> {
  return writeFileAtomic(path, dataJson(contexts));
}

/** Writes a question file (see `toFileRecords`). */
export function writeExamples(
  path: string,
  examples: readonly AdlExample[],
  contexts: readonly string[],
  opts: { withGold?: boolean } = {},
): Promise<void> {
  return writeFileAtomic(path, dataJson(toFileRecords(examples, contexts, opts)));
}
