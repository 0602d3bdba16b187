/**
 * Hugging Face tokenizer files of a BERT model folder: `vocab.txt`, `tokenizer.json`,
 * `tokenizer_config.json`, `special_tokens_map.json` — reading (with clear errors) and writing.
 * @module
 */

/** Everything a `BertTokenizer` is made of. */
export interface BertTokenizerSettings {
  /** Tokens by id. */
  vocab: string[];
  doLowerCase: boolean;
  /** `null`: follow `doLowerCase` (Hugging Face's default). */
  stripAccents: boolean | null;
  tokenizeChineseChars: boolean;
  cleanText: boolean;
  modelMaxLength: number;
  maxInputCharsPerWord: number;
  continuingSubwordPrefix: string;
  unkToken: string;
  clsToken: string;
  sepToken: string;
  padToken: string;
  maskToken: string;
}

/** Defaults of `BertTokenizerFast` for bert-base-chinese. */
export const DEFAULT_SETTINGS: Omit<BertTokenizerSettings, "vocab"> = {
  doLowerCase: true,
  stripAccents: null,
  tokenizeChineseChars: true,
  cleanText: true,
  // Hugging Face leaves model_max_length "infinite" when tokenizer_config.json lacks it; BERT's
  // position embeddings stop at 512, so that is the useful default here.
  modelMaxLength: 512,
  maxInputCharsPerWord: 100,
  continuingSubwordPrefix: "##",
  unkToken: "[UNK]",
  clsToken: "[CLS]",
  sepToken: "[SEP]",
  padToken: "[PAD]",
  maskToken: "[MASK]",
};

/** Splits the text of a `vocab.txt` into tokens (one per line; `\r\n` accepted). */
export function parseVocabText(text: string): string[] {
  const lines = text.split("\n");
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines.map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
}

// deno-lint-ignore no-explicit-any
type Json = any;

/**
 * A `vocab.txt` listing a token twice (bert-base-chinese lists 53 `##` pieces twice) gives a
 * `tokenizer.json` whose ids have gaps: the map keeps only the last id of each token. The
 * earlier ids still exist in the model's embeddings, so they are filled from `vocab.txt` when it
 * is there and agrees with `tokenizer.json`; otherwise with "" (a token tokenization never
 * produces), keeping `vocabSize` = largest id + 1.
 */
async function fillVocabGaps(
  vocab: (string | undefined)[],
  vocabPath: string,
): Promise<string[]> {
  const hasGaps = Array.from(vocab).some((t) => t === undefined); // `some` skips holes
  if (!hasGaps) return vocab as string[];
  let lines: string[] | undefined;
  try {
    lines = parseVocabText(await Deno.readTextFile(vocabPath));
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  if (
    lines && lines.length === vocab.length &&
    vocab.every((t, i) => t === undefined || t === lines[i])
  ) {
    return lines;
  }
  return Array.from(vocab, (t) => t ?? "");
}

async function readJson(path: string): Promise<Json | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw new Error(`${path}: cannot read: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: invalid JSON: ${(e as Error).message}`);
  }
}

/** A special-token entry may be a string or an AddedToken object `{content: ...}`. */
function tokenString(v: unknown, path: string, field: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === "string") return v;
  if (typeof v === "object" && typeof (v as { content?: unknown }).content === "string") {
    return (v as { content: string }).content;
  }
  throw new Error(`${path}: field "${field}" must be a string or {"content": string}`);
}

function bool(v: unknown, path: string, field: string): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean") throw new Error(`${path}: field "${field}" must be true or false`);
  return v;
}

/**
 * Reads a model folder: `tokenizer.json` (preferred for vocabulary and normaliser, as
 * `BertTokenizerFast` does) and/or `vocab.txt`, then `tokenizer_config.json`, whose
 * `do_lower_case` / `strip_accents` / `tokenize_chinese_chars` override the normaliser (as in
 * `BertTokenizerFast.__init__`).
 */
export async function readTokenizerFiles(dir: string): Promise<BertTokenizerSettings> {
  const s: Omit<BertTokenizerSettings, "vocab"> & { vocab?: string[] } = { ...DEFAULT_SETTINGS };
  const tjPath = `${dir}/tokenizer.json`;
  const vocabPath = `${dir}/vocab.txt`;
  const cfgPath = `${dir}/tokenizer_config.json`;
  const tj = await readJson(tjPath);
  if (tj !== undefined) {
    const model = tj?.model;
    if (!model || typeof model !== "object") {
      throw new Error(`${tjPath}: missing "model" object`);
    }
    if (model.type !== undefined && model.type !== "WordPiece") {
      throw new Error(
        `${tjPath}: model.type is ${
          JSON.stringify(model.type)
        }; only WordPiece (BERT) is supported`,
      );
    }
    if (!model.vocab || typeof model.vocab !== "object" || Array.isArray(model.vocab)) {
      throw new Error(`${tjPath}: model.vocab must be an object {token: id}`);
    }
    const entries = Object.entries(model.vocab as Record<string, unknown>);
    const vocab: (string | undefined)[] = [];
    for (const [tok, id] of entries) {
      if (!Number.isInteger(id) || (id as number) < 0) {
        throw new Error(
          `${tjPath}: model.vocab[${JSON.stringify(tok)}] = ${
            JSON.stringify(id)
          } is not a non-negative integer id`,
        );
      }
      if (vocab[id as number] !== undefined) {
        throw new Error(
          `${tjPath}: model.vocab gives id ${id} to both ${
            JSON.stringify(vocab[id as number])
          } and ${JSON.stringify(tok)}`,
        );
      }
      vocab[id as number] = tok;
    }
    s.vocab = await fillVocabGaps(vocab, vocabPath);
    if (typeof model.unk_token === "string") s.unkToken = model.unk_token;
    if (typeof model.continuing_subword_prefix === "string") {
      s.continuingSubwordPrefix = model.continuing_subword_prefix;
    }
    if (Number.isInteger(model.max_input_chars_per_word)) {
      s.maxInputCharsPerWord = model.max_input_chars_per_word;
    }
    const norm = tj.normalizer;
    if (norm !== undefined && norm !== null) {
      if (norm.type !== "BertNormalizer") {
        throw new Error(
          `${tjPath}: normalizer.type is ${
            JSON.stringify(norm.type)
          }; only BertNormalizer is supported`,
        );
      }
      s.cleanText = bool(norm.clean_text, tjPath, "normalizer.clean_text") ?? true;
      s.tokenizeChineseChars =
        bool(norm.handle_chinese_chars, tjPath, "normalizer.handle_chinese_chars") ?? true;
      s.doLowerCase = bool(norm.lowercase, tjPath, "normalizer.lowercase") ?? true;
      s.stripAccents = bool(norm.strip_accents, tjPath, "normalizer.strip_accents") ?? null;
    }
    const pre = tj.pre_tokenizer;
    if (pre !== undefined && pre !== null && pre.type !== "BertPreTokenizer") {
      throw new Error(
        `${tjPath}: pre_tokenizer.type is ${
          JSON.stringify(pre.type)
        }; only BertPreTokenizer is supported`,
      );
    }
  } else {
    let text: string;
    try {
      text = await Deno.readTextFile(vocabPath);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        throw new Error(`${dir}: no tokenizer.json or vocab.txt (not a BERT tokenizer folder?)`);
      }
      throw new Error(`${vocabPath}: cannot read: ${(e as Error).message}`);
    }
    s.vocab = parseVocabText(text);
  }
  const cfg = await readJson(cfgPath);
  if (cfg !== undefined) {
    if (!cfg || typeof cfg !== "object" || Array.isArray(cfg)) {
      throw new Error(`${cfgPath}: must be a JSON object`);
    }
    s.doLowerCase = bool(cfg.do_lower_case, cfgPath, "do_lower_case") ?? s.doLowerCase;
    if ("strip_accents" in cfg) {
      s.stripAccents = bool(cfg.strip_accents, cfgPath, "strip_accents") ?? null;
    }
    s.tokenizeChineseChars = bool(cfg.tokenize_chinese_chars, cfgPath, "tokenize_chinese_chars") ??
      s.tokenizeChineseChars;
    if (cfg.model_max_length !== undefined) {
      const m = cfg.model_max_length;
      if (typeof m !== "number" || !(m > 0)) {
        throw new Error(`${cfgPath}: model_max_length must be a positive number`);
      }
      // Hugging Face writes 1e30 for "no limit"; keep it finite and usable.
      s.modelMaxLength = m > Number.MAX_SAFE_INTEGER ? Number.MAX_SAFE_INTEGER : Math.floor(m);
    }
    s.unkToken = tokenString(cfg.unk_token, cfgPath, "unk_token") ?? s.unkToken;
    s.clsToken = tokenString(cfg.cls_token, cfgPath, "cls_token") ?? s.clsToken;
    s.sepToken = tokenString(cfg.sep_token, cfgPath, "sep_token") ?? s.sepToken;
    s.padToken = tokenString(cfg.pad_token, cfgPath, "pad_token") ?? s.padToken;
    s.maskToken = tokenString(cfg.mask_token, cfgPath, "mask_token") ?? s.maskToken;
  }
  return s as BertTokenizerSettings;
}

/** The `tokenizer.json` object (Hugging Face `tokenizers` layout) for these settings. */
export function buildTokenizerJson(
  s: BertTokenizerSettings,
  tokenToId: ReadonlyMap<string, number>,
): Json {
  const specials = [s.padToken, s.unkToken, s.clsToken, s.sepToken, s.maskToken];
  const added = [...new Set(specials)]
    .filter((t) => tokenToId.has(t))
    .map((t) => ({
      id: tokenToId.get(t)!,
      content: t,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    }))
    .sort((x, y) => x.id - y.id);
  // Null prototype: a token spelled "__proto__" must stay an ordinary key.
  const vocab: Record<string, number> = Object.create(null);
  for (const [t, id] of tokenToId) vocab[t] = id;
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: {
      type: "BertNormalizer",
      clean_text: s.cleanText,
      handle_chinese_chars: s.tokenizeChineseChars,
      strip_accents: s.stripAccents,
      lowercase: s.doLowerCase,
    },
    pre_tokenizer: { type: "BertPreTokenizer" },
    post_processor: {
      type: "BertProcessing",
      sep: [s.sepToken, tokenToId.get(s.sepToken)],
      cls: [s.clsToken, tokenToId.get(s.clsToken)],
    },
    decoder: { type: "WordPiece", prefix: s.continuingSubwordPrefix, cleanup: true },
    model: {
      type: "WordPiece",
      unk_token: s.unkToken,
      continuing_subword_prefix: s.continuingSubwordPrefix,
      max_input_chars_per_word: s.maxInputCharsPerWord,
      vocab,
    },
  };
}

/** `special_tokens_map.json` content. */
export function buildSpecialTokensMap(s: BertTokenizerSettings): Json {
  return {
    unk_token: s.unkToken,
    sep_token: s.sepToken,
    pad_token: s.padToken,
    cls_token: s.clsToken,
    mask_token: s.maskToken,
  };
}

/** `tokenizer_config.json` content (as `BertTokenizerFast.save_pretrained` writes it). */
export function buildTokenizerConfig(s: BertTokenizerSettings): Json {
  return {
    tokenizer_class: "BertTokenizer",
    do_lower_case: s.doLowerCase,
    strip_accents: s.stripAccents,
    tokenize_chinese_chars: s.tokenizeChineseChars,
    do_basic_tokenize: true,
    never_split: null,
    model_max_length: s.modelMaxLength,
    clean_up_tokenization_spaces: true,
    ...buildSpecialTokensMap(s),
  };
}
