/**
 * Word segmentation for whole-word masking. Chinese has no spaces, so the "words" of
 * `chinese-roberta-wwm-ext` come from a segmenter: here jieba (`@node-rs/jieba`, a native npm
 * prebuild that loads under Deno), or, when jieba cannot load, a character-level fallback.
 * Spans are UTF-16 `[start, end)` indices into the text, like the tokenizer's offsets.
 * @module
 */

/** A word segmenter. */
export interface WordSegmenter {
  /** `jieba` for dictionary segmentation; `char` for the character-level fallback. */
  readonly kind: "jieba" | "char";
  /** Why the fallback is in use (absent for jieba). */
  readonly reason?: string;
  /** Word spans of `text` in order, UTF-16 `[start, end)`; whitespace is not part of any word. */
  segment(text: string): [number, number][];
}

const CJK =
  /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u{20000}-\u{2a6df}\u{2a700}-\u{2ebef}\u{2f800}-\u{2fa1f}]/u;

/**
 * Spans of `pieces` laid end to end over `text` (pieces normally concatenate to `text` exactly;
 * if one does not, it is searched for from the current position). Whitespace-only pieces and
 * pieces not found are dropped; surrounding whitespace is trimmed from each span.
 */
export function piecesToSpans(text: string, pieces: readonly string[]): [number, number][] {
  const spans: [number, number][] = [];
  let pos = 0;
  for (const piece of pieces) {
    if (piece.length === 0) continue;
    let start = text.startsWith(piece, pos) ? pos : text.indexOf(piece, pos);
    if (start < 0) continue;
    let end = start + piece.length;
    pos = end;
    while (start < end && /\s/.test(text[start])) start++;
    while (end > start && /\s/.test(text[end - 1])) end--;
    if (end > start) spans.push([start, end]);
  }
  return spans;
}

/**
 * Character-level words: each CJK character alone, each run of letters/digits as one word (as
 * BERT's basic tokenizer splits), every other non-space character alone.
 */
export function charSegmenter(reason = "character-level segmentation requested"): WordSegmenter {
  return {
    kind: "char",
    reason,
    segment(text: string): [number, number][] {
      const spans: [number, number][] = [];
      // one CJK character | a run of other letters/digits | any other non-space character
      const re = new RegExp(`${CJK.source}|(?:(?!${CJK.source})[\\p{L}\\p{N}])+|\\S`, "gu");
      for (const m of text.matchAll(re)) spans.push([m.index!, m.index! + m[0].length]);
      return spans;
    },
  };
}

/** The part of `@node-rs/jieba`'s `Jieba` used here. */
export interface JiebaLike {
  cut(sentence: string, hmm?: boolean): string[];
}

let jiebaPromise: Promise<WordSegmenter> | undefined;
let warned = false;

async function importJieba(): Promise<JiebaLike> {
  const mod = await import("@node-rs/jieba");
  const { dict } = await import("@node-rs/jieba/dict.js");
  return mod.Jieba.withDict(dict);
}

/**
 * A jieba segmenter from `load` (default: import `@node-rs/jieba` with its bundled dictionary);
 * if loading throws, the character-level fallback whose `reason` quotes the error (printed once).
 */
export async function jiebaSegmenter(
  load: () => Promise<JiebaLike> = importJieba,
): Promise<WordSegmenter> {
  let jieba: JiebaLike;
  try {
    jieba = await load();
  } catch (e) {
    const reason = `@node-rs/jieba could not be loaded (${
      String((e as Error)?.message ?? e).split("\n")[0]
    }); whole-word masking falls back to character-level words`;
    if (!warned) {
      console.warn(`[pretraining] ${reason}`);
      warned = true;
    }
    return charSegmenter(reason);
  }
  return {
    kind: "jieba",
    segment(text: string): [number, number][] {
      // HMM on, as jieba's default: new words (names, terms) are found beyond the dictionary.
      return piecesToSpans(text, jieba.cut(text, true));
    },
  };
}

/**
 * The word segmenter: jieba when it loads (loaded once per process), else the character-level
 * fallback with the reason (printed once). `kind: "char"` forces the fallback.
 */
export function loadSegmenter(opts: { kind?: "jieba" | "char" } = {}): Promise<WordSegmenter> {
  if (opts.kind === "char") return Promise.resolve(charSegmenter());
  jiebaPromise ??= jiebaSegmenter();
  return jiebaPromise;
}
