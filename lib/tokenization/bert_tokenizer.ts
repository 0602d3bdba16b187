/**
 * `BertTokenizer`: BERT WordPiece tokenization with `offset_mapping`, pair encoding, truncation
 * (with overflowing windows) and padding, matching Hugging Face `BertTokenizerFast`.
 *
 * WordPiece itself (greedy longest-match-first, `##` continuation, `[UNK]` for words longer
 * than `max_input_chars_per_word` or not coverable) is done by the WordPiece model of
 * `@huggingface/tokenizers` (the tokenizer core of transformers.js), built from a
 * `tokenizer.json`-style object. Its normaliser/pre-tokenizer return no offsets (and its
 * Chinese-character check misses astral-plane ideographs), so the basic tokenization before
 * WordPiece is done here, keeping the original span of every character ({@link
 * OffsetPreTokenizer}).
 * @module
 */
import { Tokenizer as HfTokenizer } from "@huggingface/tokenizers";
import {
  assembleSeqs,
  type EncodeOptions,
  type Encoding,
  type SpecialIds,
  type Tokenized,
  type TokenSeq,
  toTokenSeq,
} from "./encoding.ts";
import {
  type BertTokenizerSettings,
  buildSpecialTokensMap,
  buildTokenizerConfig,
  buildTokenizerJson,
  DEFAULT_SETTINGS,
  readTokenizerFiles,
} from "./hf_files.ts";
import { OffsetPreTokenizer } from "./pretokenize.ts";

/** Options of {@link BertTokenizer.fromVocab}. */
export interface FromVocabOptions {
  /** Lower-case (and, unless `stripAccents` is false, strip accents). Default true. */
  doLowerCase?: boolean;
  /** Default: follow `doLowerCase`. */
  stripAccents?: boolean | null;
  /** Default true. */
  tokenizeChineseChars?: boolean;
  /** Default 512. */
  modelMaxLength?: number;
  /** Default 100. */
  maxInputCharsPerWord?: number;
}

/** Options of {@link BertTokenizer.decode}. */
export interface DecodeOptions {
  /** Drop `[CLS]`, `[SEP]`, `[PAD]`, ... Default false. */
  skipSpecialTokens?: boolean;
  /** Remove spaces before punctuation like `" ."` (Hugging Face's default: true). */
  cleanUpTokenizationSpaces?: boolean;
}

interface WordPieces {
  tokens: string[];
  ids: number[];
  /** Code-point end (exclusive) of each piece within the word; -1 for `[UNK]` (whole word). */
  cpEnds: number[];
}

const TEXT_CACHE_LIMIT = 8192;
const WORD_CACHE_LIMIT = 200_000;

/**
 * BERT WordPiece tokenizer with Hugging Face `BertTokenizerFast` semantics, including
 * `offset_mapping` into the original text.
 */
export class BertTokenizer {
  /** Tokens by id (the lines of `vocab.txt`). */
  readonly vocab: string[];
  readonly doLowerCase: boolean;
  /** Longest input (special tokens included) used when truncating without `maxLength`. */
  readonly modelMaxLength: number;
  readonly unkToken: string;
  readonly clsToken: string;
  readonly sepToken: string;
  readonly padToken: string;
  readonly maskToken: string;
  readonly unkTokenId: number;
  readonly clsTokenId: number;
  readonly sepTokenId: number;
  readonly padTokenId: number;
  readonly maskTokenId: number;

  readonly #settings: BertTokenizerSettings;
  readonly #tokenToId: Map<string, number>;
  readonly #hf: HfTokenizer;
  readonly #wordpiece: { encode(words: string[]): string[] };
  readonly #pre: OffsetPreTokenizer;
  readonly #special: SpecialIds;
  readonly #specialIds: Set<number>;
  readonly #prefix: string;
  readonly #wordCache = new Map<string, WordPieces>();
  readonly #textCache = new Map<string, TokenSeq>();

  private constructor(settings: BertTokenizerSettings) {
    this.#settings = { ...settings, vocab: [...settings.vocab] };
    const s = this.#settings;
    if (s.vocab.length === 0) throw new Error("BertTokenizer: the vocabulary is empty");
    this.vocab = s.vocab;
    this.doLowerCase = s.doLowerCase;
    this.modelMaxLength = s.modelMaxLength;
    this.#prefix = s.continuingSubwordPrefix;
    // Like Python's `load_vocab`, a token listed twice keeps its last id.
    this.#tokenToId = new Map();
    s.vocab.forEach((t, i) => this.#tokenToId.set(t, i));
    const idOf = (name: string, tok: string): number => {
      const id = this.#tokenToId.get(tok);
      if (id === undefined) {
        throw new Error(
          `BertTokenizer: the vocabulary has no ${name} token ${JSON.stringify(tok)} ` +
            `(${s.vocab.length} tokens; first ones: ${s.vocab.slice(0, 5).join(" ")})`,
        );
      }
      return id;
    };
    this.unkToken = s.unkToken;
    this.clsToken = s.clsToken;
    this.sepToken = s.sepToken;
    this.padToken = s.padToken;
    this.maskToken = s.maskToken;
    this.unkTokenId = idOf("unknown", s.unkToken);
    this.clsTokenId = idOf("classifier", s.clsToken);
    this.sepTokenId = idOf("separator", s.sepToken);
    this.padTokenId = idOf("padding", s.padToken);
    this.maskTokenId = idOf("mask", s.maskToken);
    this.#special = {
      cls: this.clsTokenId,
      sep: this.sepTokenId,
      pad: this.padTokenId,
      clsToken: s.clsToken,
      sepToken: s.sepToken,
      padToken: s.padToken,
    };
    this.#specialIds = new Set([
      this.unkTokenId,
      this.clsTokenId,
      this.sepTokenId,
      this.padTokenId,
      this.maskTokenId,
    ]);
    this.#hf = new HfTokenizer(buildTokenizerJson(s, this.#tokenToId), buildTokenizerConfig(s));
    const model = this.#hf.model;
    if (model === null) throw new Error("BertTokenizer: @huggingface/tokenizers built no model");
    this.#wordpiece = model as unknown as { encode(words: string[]): string[] };
    this.#pre = new OffsetPreTokenizer({
      cleanText: s.cleanText,
      handleChineseChars: s.tokenizeChineseChars,
      lowercase: s.doLowerCase,
      stripAccents: s.stripAccents ?? s.doLowerCase,
    }, [s.unkToken, s.clsToken, s.sepToken, s.padToken, s.maskToken]);
  }

  /**
   * Builds a tokenizer from vocabulary lines (token of id i on line i). The vocabulary must hold
   * `[UNK]`, `[CLS]`, `[SEP]`, `[PAD]` and `[MASK]`.
   */
  static fromVocab(vocab: readonly string[], opts: FromVocabOptions = {}): BertTokenizer {
    return new BertTokenizer({
      ...DEFAULT_SETTINGS,
      vocab: [...vocab],
      doLowerCase: opts.doLowerCase ?? DEFAULT_SETTINGS.doLowerCase,
      stripAccents: opts.stripAccents ?? null,
      tokenizeChineseChars: opts.tokenizeChineseChars ?? true,
      modelMaxLength: opts.modelMaxLength ?? DEFAULT_SETTINGS.modelMaxLength,
      maxInputCharsPerWord: opts.maxInputCharsPerWord ?? DEFAULT_SETTINGS.maxInputCharsPerWord,
    });
  }

  /**
   * Loads a Hugging Face model folder: `tokenizer.json` and/or `vocab.txt`, plus
   * `tokenizer_config.json` when present (`do_lower_case`, `model_max_length`, special tokens).
   */
  static async fromPretrained(dir: string): Promise<BertTokenizer> {
    return new BertTokenizer(await readTokenizerFiles(dir));
  }

  /**
   * The same tokenizer with `model_max_length` set to `n` (e.g. clamped to a model's
   * `max_position_embeddings` before it is saved beside that model).
   */
  withModelMaxLength(n: number): BertTokenizer {
    if (!Number.isInteger(n) || n <= 0) {
      throw new RangeError(`model_max_length must be a positive integer, got ${n}`);
    }
    return new BertTokenizer({ ...this.#settings, modelMaxLength: n });
  }

  /** Number of tokens in the vocabulary. */
  get vocabSize(): number {
    return this.vocab.length;
  }

  /** Token → id; unknown tokens give `unkTokenId` (as in Hugging Face). */
  convertTokensToIds(tokens: readonly string[]): number[] {
    return tokens.map((t) => this.#tokenToId.get(t) ?? this.unkTokenId);
  }

  /** Id → token; throws on an id outside the vocabulary. */
  convertIdsToTokens(ids: readonly number[]): string[] {
    return ids.map((id) => {
      const t = this.vocab[id];
      if (t === undefined) {
        throw new RangeError(
          `token id ${id} is outside the vocabulary (0..${this.vocab.length - 1})`,
        );
      }
      return t;
    });
  }

  /** WordPiece pieces of one normalised word (memoised). */
  #pieces(word: string): WordPieces {
    let wp = this.#wordCache.get(word);
    if (wp !== undefined) return wp;
    const tokens = this.#wordpiece.encode([word]);
    const ids: number[] = [];
    const cpEnds: number[] = [];
    if (tokens.length === 1 && tokens[0] === this.unkToken && word !== this.unkToken) {
      ids.push(this.unkTokenId);
      cpEnds.push(-1);
    } else {
      let pos = 0;
      tokens.forEach((t, k) => {
        const id = this.#tokenToId.get(t);
        if (id === undefined) throw new Error(`internal: WordPiece produced ${t} not in vocab`);
        ids.push(id);
        const body = k > 0 ? t.slice(this.#prefix.length) : t;
        let n = 0;
        for (const _ of body) n++;
        pos += n;
        cpEnds.push(pos);
      });
    }
    wp = { tokens, ids, cpEnds };
    if (this.#wordCache.size >= WORD_CACHE_LIMIT) this.#wordCache.clear();
    this.#wordCache.set(word, wp);
    return wp;
  }

  #tokenize(text: string): TokenSeq {
    const pre = this.#pre.split(text);
    const tokens: string[] = [];
    const ids: number[] = [];
    const starts: number[] = [];
    const ends: number[] = [];
    for (let k = 0; k < pre.words.length; k++) {
      const first = pre.firstChar[k];
      const stop = pre.firstChar[k + 1];
      const word = pre.words[k];
      if (pre.special[k] === 1) {
        tokens.push(word);
        ids.push(this.#tokenToId.get(word)!);
        starts.push(pre.starts[first]);
        ends.push(pre.ends[first]);
        continue;
      }
      const wp = this.#pieces(word);
      let cp = first;
      for (let p = 0; p < wp.ids.length; p++) {
        tokens.push(wp.tokens[p]);
        ids.push(wp.ids[p]);
        const cpEnd = wp.cpEnds[p];
        if (cpEnd < 0) {
          // [UNK] covers the whole word.
          starts.push(pre.starts[first]);
          ends.push(pre.ends[stop - 1]);
        } else {
          starts.push(pre.starts[cp]);
          ends.push(pre.ends[first + cpEnd - 1]);
          cp = first + cpEnd;
        }
      }
    }
    return { tokens, ids, starts, ends };
  }

  /** Memoised tokenization (shared, must not be mutated). */
  #cached(text: string): TokenSeq {
    if (typeof text !== "string") {
      throw new TypeError(
        `BertTokenizer: text must be a string, got ${text === null ? "null" : typeof text}`,
      );
    }
    let t = this.#textCache.get(text);
    if (t !== undefined) return t;
    t = this.#tokenize(text);
    if (this.#textCache.size >= TEXT_CACHE_LIMIT) {
      // Drop the oldest entry (Map keeps insertion order).
      this.#textCache.delete(this.#textCache.keys().next().value!);
    }
    this.#textCache.set(text, t);
    return t;
  }

  /** Forgets memoised tokenizations (texts and words), e.g. between datasets. */
  clearCache(): void {
    this.#textCache.clear();
    this.#wordCache.clear();
  }

  /**
   * Tokenizes `text` without special tokens. `offsets[i]` is the `[start, end)` of token i in
   * `text` (UTF-16 indices): `##` pieces cover only their own characters, `[UNK]` its whole
   * word. Results are memoised per text, so tokenizing the same context again is cheap.
   */
  tokenizeWithOffsets(text: string): Tokenized {
    const t = this.#cached(text);
    return {
      tokens: t.tokens.slice(),
      ids: t.ids.slice(),
      offsets: t.starts.map((s, i) => [s, t.ends[i]] as [number, number]),
    };
  }

  /** Tokens of `text` (no special tokens), like Hugging Face `tokenize`. */
  tokenize(text: string): string[] {
    return this.#cached(text).tokens.slice();
  }

  /**
   * Encodes a text (and optionally a pair) like `BertTokenizerFast.__call__`:
   * `[CLS] text [SEP] pair [SEP]`, `token_type_ids` 0/1, `attention_mask`, `offset_mapping`
   * (`[0,0]` for special/padding tokens), `sequence_ids`, truncation (`only_first`,
   * `only_second`, `longest_first`), overflowing windows with `stride`, padding.
   *
   * @example A question and a paragraph, as `tokenizer(question, context)` in Python
   * ```ts
   * import { BertTokenizer } from "./bert_tokenizer.ts";
   * import assert from "node:assert/strict";
   *
   * const vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "誰", "寫", "的", "？", "魯", "迅", "了", "書"];
   * const tokenizer = BertTokenizer.fromVocab(vocab);
   * const enc = tokenizer.encode("誰寫的？", "魯迅寫了書");
   * assert.deepEqual(enc.tokens, ["[CLS]", "誰", "寫", "的", "？", "[SEP]", "魯", "迅", "寫", "了", "書", "[SEP]"]);
   * assert.deepEqual(enc.token_type_ids, [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
   * assert.deepEqual(enc.offset_mapping[7], [1, 2]); // 迅 is character 1 of the paragraph
   * assert.equal(enc.sequence_ids[0], null); // special tokens belong to no sequence
   * ```
   */
  encode(text: string, pair?: string | null, opts: EncodeOptions = {}): Encoding {
    const a = this.#cached(text);
    const b = pair === undefined || pair === null ? null : this.#cached(pair);
    return assembleSeqs(a, b, this.#special, this.modelMaxLength, opts);
  }

  /**
   * Like {@link encode} but from already tokenized sequences (e.g. from
   * {@link tokenizeWithOffsets}), for callers that tokenize a text once and reuse it.
   */
  encodeTokenized(a: Tokenized, b?: Tokenized | null, opts: EncodeOptions = {}): Encoding {
    return assembleSeqs(
      toTokenSeq(a),
      b ? toTokenSeq(b) : null,
      this.#special,
      this.modelMaxLength,
      opts,
    );
  }

  /**
   * Ids → text, as Hugging Face `decode`: pieces joined with spaces, `##` continuations glued,
   * optional removal of special tokens and of spaces before punctuation. (Chinese comes back
   * with a space between characters, as in Hugging Face.)
   */
  decode(ids: readonly number[], opts: DecodeOptions = {}): string {
    this.convertIdsToTokens(ids); // range check with a clear error
    const kept = opts.skipSpecialTokens ? ids.filter((i) => !this.#specialIds.has(i)) : ids;
    if (kept.length === 0) return "";
    return this.#hf.decode([...kept], {
      skip_special_tokens: false,
      clean_up_tokenization_spaces: opts.cleanUpTokenizationSpaces ?? true,
    });
  }

  /**
   * Writes `vocab.txt`, `tokenizer.json`, `tokenizer_config.json` and
   * `special_tokens_map.json` into `dir` (created if needed), in Hugging Face's layout.
   */
  async save(dir: string): Promise<void> {
    await Deno.mkdir(dir, { recursive: true });
    const s = this.#settings;
    await Deno.writeTextFile(`${dir}/vocab.txt`, s.vocab.join("\n") + "\n");
    await Deno.writeTextFile(
      `${dir}/tokenizer.json`,
      JSON.stringify(buildTokenizerJson(s, this.#tokenToId), null, 2) + "\n",
    );
    await Deno.writeTextFile(
      `${dir}/tokenizer_config.json`,
      JSON.stringify(buildTokenizerConfig(s), null, 2) + "\n",
    );
    await Deno.writeTextFile(
      `${dir}/special_tokens_map.json`,
      JSON.stringify(buildSpecialTokensMap(s), null, 2) + "\n",
    );
  }
}
