/**
 * Ask a trained model: `answer({ question, context })` or `answer({ question, paragraphs })`, the
 * project's counterpart of Hugging Face's `pipeline("question-answering")`.
 *
 * An {@link Answerer} is made once from a QA model folder and, optionally, an MC model folder.
 * One paragraph needs no MC model; two or more are ranked by the MC model when there is one (the
 * QA model then reads the chosen paragraph, as `predict` does), else every paragraph is searched by
 * QA and the span with the highest `score` wins.
 *
 * The span is chosen exactly as `predict` chooses it: {@link predictAnswers} over the paragraph's
 * windows (`max_seq_length`, `doc_stride`), Hugging Face's `postprocess_qa_predictions` rule
 * (the `n_best_size` best start and end logits paired, spans up to `max_answer_length` tokens,
 * the highest start + end logit wins); the MC stage is {@link predictParagraphs}. The result has
 * the keys of Hugging Face's `QuestionAnsweringPipeline`: `answer`, `score`, `start`, `end`
 * (code points of the chosen paragraph, `end` exclusive), plus `paragraph`, `paragraph_scores`
 * and `top_k`.
 * @module
 */
import { codePointTable, hasAstral, utf16ToCodePoint } from "../data/mod.ts";
import {
  type FeatureTokenizer,
  type QaFeature,
  type QaInput,
  spanCandidates,
} from "../features/mod.ts";
import {
  type BertModel,
  checkWindowFits,
  loadPretrained,
  type McOutput,
  type QaOutput,
} from "../models/mod.ts";
import { BertTokenizer } from "../tokenization/mod.ts";
import type { ForwardModel } from "./inference.ts";
import { predictParagraphs } from "./mc.ts";
import { predictAnswers, type QaPredictResult } from "./qa.ts";
import { readTrainingArgs } from "./train.ts";
import { ANSWER_ARGS, resolveSettings, type SettingSource } from "../args/mod.ts";

/** A question about one paragraph (`context`) or about several (`paragraphs`). */
export type AnswerQuery =
  & ({ question: string; context: string } | { question: string; paragraphs: string[] })
  & {
    /** How many answers to return in `top_k` (default: the answerer's `top_k`). */
    top_k?: number;
  };

/** One answer span, with Hugging Face's keys. */
export interface AnswerSpan {
  /** The answer text: `[...paragraph].slice(start, end).join("")`. */
  answer: string;
  /**
   * Hugging Face `QuestionAnsweringPipeline`'s probability of the span: p_start × p_end, each a
   * softmax over the window's context tokens and `[CLS]` (HF's `p_mask` keeps `[CLS]`, then zeroes
   * its probability), question tokens, specials and padding left out.
   */
  score: number;
  /** First code point of the answer in its paragraph. */
  start: number;
  /** One past the last code point (exclusive). */
  end: number;
  /** Index of the paragraph the answer is in (0 with `context`). */
  paragraph: number;
}

/** The answer to one {@link AnswerQuery}. */
export interface AnswerResult extends AnswerSpan {
  /** The MC model's probability of each paragraph (only when the MC model ranked them). */
  paragraph_scores?: number[];
  /** The best answers, this one first (only when `top_k` > 1); see {@link Answerer.answer}. */
  top_k?: AnswerSpan[];
}

/**
 * The window and decoding settings of an {@link Answerer}, with Hugging Face's names: the entries
 * of lib/args `ANSWER_ARGS` (their defaults, bounds and help).
 */
export interface AnswerSettings {
  /** Tokens per QA window, specials included. */
  max_seq_length: number;
  /** Overlap in tokens between consecutive QA windows. */
  doc_stride: number;
  /** Start and end candidates per window. */
  n_best_size: number;
  /** Longest answer in tokens. */
  max_answer_length: number;
  /** Answers per question in `top_k`. */
  top_k: number;
  /** Tokens per (question, paragraph) pair of the MC model. */
  mc_max_seq_length: number;
  /** Rows per inference batch (default: the inference default). */
  batch_size?: number;
}

/** Settings to override; the rest come from the runs' `training_args.json`. */
export type AnswerOptions = Partial<AnswerSettings>;

/** Options of {@link Answerer.load}. */
export interface AnswerLoadOptions extends AnswerOptions {
  /** QA model folder (Hugging Face layout, e.g. from `train-qa`). */
  qaModel: string;
  /** Multiple-choice model folder (from `train-mc`), to rank several paragraphs. */
  mcModel?: string;
  /** Loading messages (default: stderr). */
  log?: (message: string) => void;
  /**
   * Settings already resolved ({@link resolveAnswerSettings}, e.g. by the command line); the
   * options above and the runs' `training_args.json` are then not read again.
   */
  settings?: AnswerSettings;
}

/** A question that cannot be answered as given (bad field, empty paragraph, ...). */
export class AnswerInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AnswerInputError";
  }
}

/**
 * Resolves the settings as `predict` does (lib/args `resolveSettings` over `ANSWER_ARGS`): the
 * given value, else the run's `training_args.json` (the QA run's for the QA settings, the MC
 * run's `max_seq_length` for `mc_max_seq_length`), else the schema's default. Throws an
 * `ArgumentError` naming the flag (and saying so when the value came from `training_args.json`)
 * when a value is out of its bounds or `doc_stride` is not below `max_seq_length`.
 *
 * @example
 * ```ts
 * import { resolveAnswerSettings } from "./answer.ts";
 * import assert from "node:assert/strict";
 * const { settings, sources } = resolveAnswerSettings({ top_k: 3 }, { max_seq_length: 256 }, {});
 * assert.equal(settings.max_seq_length, 256);
 * assert.equal(sources.max_seq_length, "training_args.json");
 * assert.equal(settings.top_k, 3);
 * ```
 */
export function resolveAnswerSettings(
  given: AnswerOptions,
  qaArgs: Record<string, unknown>,
  mcArgs: Record<string, unknown>,
): { settings: AnswerSettings; sources: Record<keyof AnswerSettings, SettingSource> } {
  const { args, sources } = resolveSettings(ANSWER_ARGS, given, mcArgs, qaArgs);
  return { settings: args, sources };
}

/**
 * The settings of the models in `qaModel` (and `mcModel`): {@link resolveAnswerSettings} over
 * their `training_args.json`.
 */
export async function answerSettingsOf(
  given: AnswerOptions,
  qaModel: string,
  mcModel?: string,
): Promise<AnswerSettings> {
  const qaArgs = (await readTrainingArgs(qaModel)) ?? {};
  const mcArgs = mcModel ? (await readTrainingArgs(mcModel)) ?? {} : {};
  return resolveAnswerSettings(given, qaArgs, mcArgs).settings;
}

/** A model with its tokenizer (a `BertModel` of head `O`'s task, or a test double). */
export interface AnswerStage<O = QaOutput> {
  model: ForwardModel<O>;
  tokenizer: FeatureTokenizer;
}

/** Limits that {@link parseAnswerQuery} applies (both in code points; none by default). */
export interface QueryLimits {
  maxQuestionLength?: number;
  maxContextLength?: number;
}

const QUERY_FIELDS = ["question", "context", "paragraphs", "top_k"];

/**
 * Checks a JSON value as an {@link AnswerQuery} (what `ask` reads per stdin line and `serve` per
 * request): an object with a non-empty string `question`, exactly one of a string `context` or a
 * non-empty list of strings `paragraphs`, each with some non-space text, an optional integer
 * `top_k` >= 1, and no other field. `where` starts each error message (e.g. `line 3`). The
 * context limit counts the code points of all paragraphs together.
 */
export function parseAnswerQuery(value: unknown, where: string, limits: QueryLimits = {}) {
  const fail = (m: string) => new AnswerInputError(`${where}: ${m}`);
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw fail(`expected a JSON object {"question": ..., "context": ...}, got ${kindOf(value)}`);
  }
  const o = value as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !QUERY_FIELDS.includes(k));
  if (unknown.length) {
    throw fail(
      `unknown field${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => `"${k}"`).join(", ")} ` +
        `(the fields are ${QUERY_FIELDS.map((k) => `"${k}"`).join(", ")})`,
    );
  }
  if (typeof o.question !== "string" || o.question.trim() === "") {
    throw fail(`field "question" must be a non-empty string, got ${kindOf(o.question)}`);
  }
  const qLen = codePoints(o.question);
  if (limits.maxQuestionLength !== undefined && qLen > limits.maxQuestionLength) {
    throw fail(
      `field "question" has ${qLen} characters, more than the limit of ${limits.maxQuestionLength}`,
    );
  }
  if ((o.context === undefined) === (o.paragraphs === undefined)) {
    throw fail(`give exactly one of "context" (a string) or "paragraphs" (a list of strings)`);
  }
  let paragraphs: string[];
  let field: string;
  if (o.context !== undefined) {
    if (typeof o.context !== "string") {
      throw fail(`field "context" must be a string, got ${kindOf(o.context)}`);
    }
    paragraphs = [o.context];
    field = "context";
  } else {
    if (!Array.isArray(o.paragraphs) || o.paragraphs.length === 0) {
      throw fail(`field "paragraphs" must be a non-empty list of strings`);
    }
    const bad = o.paragraphs.findIndex((p) => typeof p !== "string");
    if (bad >= 0) {
      throw fail(`paragraphs[${bad}] must be a string, got ${kindOf(o.paragraphs[bad])}`);
    }
    paragraphs = o.paragraphs as string[];
    field = "paragraphs";
  }
  paragraphs.forEach((p, i) => {
    if (p.trim() === "") {
      throw fail(`${field === "context" ? 'field "context"' : `paragraphs[${i}]`} is empty`);
    }
  });
  const cLen = paragraphs.reduce((n, p) => n + codePoints(p), 0);
  if (limits.maxContextLength !== undefined && cLen > limits.maxContextLength) {
    throw fail(
      `field "${field}" has ${cLen} characters, more than the limit of ${limits.maxContextLength}`,
    );
  }
  const minTopK = ANSWER_ARGS.args.top_k.min; // the schema's bound of --top_k
  if (o.top_k !== undefined && (!Number.isInteger(o.top_k) || (o.top_k as number) < minTopK)) {
    throw fail(`field "top_k" must be an integer >= ${minTopK}, got ${JSON.stringify(o.top_k)}`);
  }
  const q =
    (field === "context"
      ? { question: o.question, context: paragraphs[0] }
      : { question: o.question, paragraphs }) as AnswerQuery;
  if (o.top_k !== undefined) q.top_k = o.top_k as number;
  return q;
}

function kindOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "string") return v === "" ? "an empty string" : "a string";
  return typeof v === "object" ? "an object" : `${typeof v} ${JSON.stringify(v)}`;
}

const codePoints = (s: string) => utf16ToCodePoint(s, s.length);

/** A query checked and normalised. */
interface Normalised {
  question: string;
  paragraphs: string[];
  topK: number;
}

/** A candidate span with its UTF-16 position (for de-duplication). */
interface Scored extends AnswerSpan {
  key: string;
}

/**
 * Answers questions with a QA model and, optionally, an MC model; see the module docs.
 *
 * @example A tiny random-weight model answers with a span of its paragraph
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { Answerer } from "./answer.ts";
 * import { createFromConfig, makeBertConfig } from "../models/mod.ts";
 * import { BertTokenizer } from "../tokenization/mod.ts";
 * import assert from "node:assert/strict";
 *
 * await tf.setBackend("cpu");
 * const vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ..."誰寫了書魯迅是的？"];
 * const tokenizer = BertTokenizer.fromVocab(vocab);
 * const config = makeBertConfig({
 *   vocab_size: vocab.length, hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2,
 *   intermediate_size: 32, max_position_embeddings: 64,
 * });
 * const model = createFromConfig(config, "qa", 42);
 * const answerer = Answerer.fromModels({ qa: { model, tokenizer }, settings: { top_k: 2 } });
 * const context = "書是魯迅寫的";
 * const r = await answerer.answer({ question: "誰寫了書？", context });
 * assert.equal([...context].slice(r.start, r.end).join(""), r.answer);
 * assert.ok(r.score > 0 && r.score <= 1);
 * assert.equal(r.top_k?.[0].answer, r.answer);
 * model.dispose();
 * ```
 */
export class Answerer {
  /** The resolved window and decoding settings. */
  readonly settings: AnswerSettings;
  readonly #qa: AnswerStage;
  readonly #mc?: AnswerStage<McOutput>;
  readonly #owned: BertModel[];

  private constructor(
    qa: AnswerStage,
    mc: AnswerStage<McOutput> | undefined,
    settings: AnswerSettings,
    owned: BertModel[],
  ) {
    this.#qa = qa;
    this.#mc = mc;
    this.settings = settings;
    this.#owned = owned;
  }

  /** Whether paragraphs are ranked by an MC model. */
  get hasMcModel(): boolean {
    return this.#mc !== undefined;
  }

  /**
   * Loads the QA model (and the MC model) from Hugging Face folders, as `predict` does
   * (`loadPretrained(dir, "qa")`, the folder's tokenizer); settings not given come from the
   * runs' `training_args.json` ({@link answerSettingsOf}). Throws an `ArgumentError` for a bad
   * setting, a RangeError naming the setting when a window is longer than the model's
   * `max_position_embeddings`.
   */
  static async load(opts: AnswerLoadOptions): Promise<Answerer> {
    const log = opts.log ?? ((m: string) => console.error(m));
    const settings = opts.settings ?? await answerSettingsOf(opts, opts.qaModel, opts.mcModel);
    const qaTok = await BertTokenizer.fromPretrained(opts.qaModel);
    const mcTok = opts.mcModel ? await BertTokenizer.fromPretrained(opts.mcModel) : undefined;
    const owned: BertModel[] = [];
    try {
      const qaModel = await loadPretrained(opts.qaModel, "qa", { log });
      owned.push(qaModel);
      checkPositions(qaModel, settings.max_seq_length, "max_seq_length", opts.qaModel);
      let mc: AnswerStage<McOutput> | undefined;
      if (opts.mcModel) {
        const mcModel = await loadPretrained(opts.mcModel, "mc", { log });
        owned.push(mcModel);
        checkPositions(mcModel, settings.mc_max_seq_length, "mc_max_seq_length", opts.mcModel);
        mc = { model: mcModel, tokenizer: mcTok! };
      }
      return new Answerer({ model: qaModel, tokenizer: qaTok }, mc, settings, owned);
    } catch (e) {
      for (const m of owned) m.dispose();
      throw e;
    }
  }

  /**
   * An answerer over models already in memory (not disposed by {@link dispose}); settings not
   * given take the Hugging Face defaults.
   */
  static fromModels(
    { qa, mc, settings = {} }: {
      qa: AnswerStage;
      mc?: AnswerStage<McOutput>;
      settings?: AnswerOptions;
    },
  ): Answerer {
    return new Answerer(qa, mc, resolveAnswerSettings(settings, {}, {}).settings, []);
  }

  /**
   * Answers one question. With `paragraphs` and an MC model, the MC model picks the paragraph
   * (`paragraph_scores` are its probabilities) and `top_k` lists that paragraph's best spans in
   * `predict`'s order (start + end logit, the first being the answer). Without an MC model, every
   * paragraph is searched; each paragraph's answer is chosen as `predict` chooses it and the one
   * with the highest `score` wins; `top_k` is then the winner followed by the other spans of all
   * paragraphs by `score`. Spans with the same characters (from overlapping windows) appear once.
   */
  async answer(query: AnswerQuery): Promise<AnswerResult> {
    return (await this.answerBatch([query]))[0];
  }

  /**
   * Answers many questions at once (one inference pass per stage, windows of all questions
   * batched together); `results[i]` answers `queries[i]`. Every query is checked first
   * ({@link check}), so a bad one fails the call before any inference.
   */
  async answerBatch(queries: readonly AnswerQuery[]): Promise<AnswerResult[]> {
    const qs = queries.map((q, i) =>
      this.#normalise(q, queries.length > 1 ? `query ${i}` : "query")
    );
    if (qs.length === 0) return [];
    const ranked = await this.#rankParagraphs(qs);
    const inputs: QaInput[] = [];
    const owner: { query: number; paragraph: number }[] = [];
    qs.forEach((q, i) => {
      const searched = ranked[i] ? [ranked[i]!.choice] : q.paragraphs.map((_, j) => j);
      for (const p of searched) {
        inputs.push({ id: `${i}:${p}`, question: q.question, context: q.paragraphs[p] });
        owner.push({ query: i, paragraph: p });
      }
    });
    const s = this.settings;
    const res = await predictAnswers(this.#qa.model, this.#qa.tokenizer, inputs, {
      maxSeqLength: s.max_seq_length,
      docStride: s.doc_stride,
      nBestSize: s.n_best_size,
      maxAnswerLength: s.max_answer_length,
      batchSize: s.batch_size,
    });
    const windows: number[][] = inputs.map(() => []);
    res.features.forEach((f, fi) => windows[f.exampleIndex].push(fi));
    const normalizers = new Map<number, [number, number]>();
    const spans = inputs.map((inp, k) =>
      this.#spans(inp, k, owner[k].paragraph, res, windows[k], normalizers)
    );
    const perQuery: Scored[][][] = qs.map(() => []);
    spans.forEach((sp, k) => perQuery[owner[k].query].push(sp));
    return qs.map((q, i) => {
      const lists = perQuery[i];
      let top: Scored[];
      if (lists.length === 1) top = lists[0].slice(0, q.topK);
      else {
        let w = 0;
        lists.forEach((l, j) => {
          if (l[0].score > lists[w][0].score) w = j;
        });
        const rest = lists.flatMap((l, j) => (j === w ? l.slice(1) : l))
          .sort((a, b) => b.score - a.score);
        top = [lists[w][0], ...rest].slice(0, q.topK);
      }
      const plain = top.map(({ key: _, ...span }) => span);
      const out: AnswerResult = { ...plain[0] };
      if (ranked[i]) out.paragraph_scores = ranked[i]!.probs;
      if (q.topK > 1) out.top_k = plain;
      return out;
    });
  }

  /**
   * Checks a query without answering it: the fields (as {@link parseAnswerQuery}) and that every
   * paragraph has at least one token. Throws an {@link AnswerInputError}.
   */
  check(query: AnswerQuery, where = "query"): void {
    this.#normalise(query, where);
  }

  /** Releases the models that {@link load} loaded. */
  dispose(): void {
    for (const m of this.#owned.splice(0)) m.dispose();
  }

  #normalise(query: AnswerQuery, where: string): Normalised {
    const q = parseAnswerQuery(query, where);
    const paragraphs = "context" in q ? [q.context] : q.paragraphs;
    paragraphs.forEach((p, i) => {
      if (this.#qa.tokenizer.tokenizeWithOffsets(p).ids.length === 0) {
        throw new AnswerInputError(
          `${where}: ${"context" in q ? "the context" : `paragraphs[${i}]`} has no tokens`,
        );
      }
    });
    return { question: q.question, paragraphs, topK: q.top_k ?? this.settings.top_k };
  }

  /** MC choices of the queries with several paragraphs, when there is an MC model. */
  async #rankParagraphs(
    qs: readonly Normalised[],
  ): Promise<({ choice: number; probs: number[] } | undefined)[]> {
    const out: ({ choice: number; probs: number[] } | undefined)[] = qs.map(() => undefined);
    if (!this.#mc) return out;
    // One MC batch holds questions with the same number of paragraphs.
    const groups = new Map<number, number[]>();
    qs.forEach((q, i) => {
      if (q.paragraphs.length < 2) return;
      const g = groups.get(q.paragraphs.length) ?? [];
      g.push(i);
      groups.set(q.paragraphs.length, g);
    });
    for (const idx of groups.values()) {
      const contexts: string[] = [];
      const examples = idx.map((i) => {
        const base = contexts.length;
        contexts.push(...qs[i].paragraphs);
        return {
          id: String(i),
          question: qs[i].question,
          paragraphs: qs[i].paragraphs.map((_, j) => base + j),
        };
      });
      const preds = await predictParagraphs(
        this.#mc.model,
        this.#mc.tokenizer,
        examples,
        contexts,
        {
          maxSeqLength: this.settings.mc_max_seq_length,
          batchSize: this.settings.batch_size,
        },
      );
      preds.forEach((p, k) => {
        out[idx[k]] = { choice: p.choice, probs: p.probs };
      });
    }
    return out;
  }

  /** The candidate spans of one QA input, best first (predict's order), with HF scores. */
  #spans(
    input: QaInput,
    k: number,
    paragraph: number,
    res: QaPredictResult,
    windows: readonly number[],
    normalizers: Map<number, [number, number]>,
  ): Scored[] {
    const s = this.settings;
    const { features, logits } = res;
    const decode = (nBestSize: number) =>
      spanCandidates(input.context, features, logits.start, logits.end, {
        nBestSize,
        maxAnswerLength: s.max_answer_length,
      }, windows);
    let cands = decode(s.n_best_size);
    const pred = res.predictions[k];
    if (cands.length === 0) {
      // predict answers "" here (none of the n_best_size best starts and ends makes a valid
      // span). Every question has an answer, so the same rule is applied to every token of the
      // windows instead of the n_best_size best.
      cands = decode(Math.max(...windows.map((w) => features[w].inputIds.length)));
    } else if (cands[0].text !== pred.text || cands[0].startChar !== pred.start) {
      throw new Error(`answer: the spans of ${input.id} do not start with predict's answer`);
    }
    if (cands.length === 0) throw new Error(`answer: no span in the paragraph of ${input.id}`);
    const table = hasAstral(input.context) ? codePointTable(input.context) : null;
    const cp = (u: number) => (table ? table[u] : u);
    const seen = new Set<string>();
    const out: Scored[] = [];
    for (const c of cands) {
      const key = `${c.startChar},${c.endChar}`;
      if (seen.has(key)) continue;
      seen.add(key);
      let z = normalizers.get(c.featureIndex);
      if (!z) {
        const f = features[c.featureIndex];
        z = [
          contextLogSumExp(f, logits.start[c.featureIndex]),
          contextLogSumExp(f, logits.end[c.featureIndex]),
        ];
        normalizers.set(c.featureIndex, z);
      }
      out.push({
        answer: c.text,
        score: Math.exp(c.startLogit - z[0] + c.endLogit - z[1]),
        start: cp(c.startChar),
        end: cp(c.endChar),
        paragraph,
        key,
      });
    }
    return out;
  }
}

/**
 * log Σ exp(logit) over the positions Hugging Face's pipeline leaves in its softmax: the window's
 * context tokens (non-null offsets) and `[CLS]` (position 0).
 */
function contextLogSumExp(f: QaFeature, row: ArrayLike<number>): number {
  const n = Math.min(row.length, f.offsetMapping.length);
  let m = row[0];
  for (let i = 1; i < n; i++) if (f.offsetMapping[i] && row[i] > m) m = row[i];
  let sum = Math.exp(row[0] - m);
  for (let i = 1; i < n; i++) if (f.offsetMapping[i]) sum += Math.exp(row[i] - m);
  return m + Math.log(sum);
}

function checkPositions(model: BertModel, length: number, name: string, dir: string): void {
  checkWindowFits(model.config, length, name, dir);
}
