/**
 * The deterministic sample dataset (`data/sample/`): Traditional Chinese paragraphs about
 * invented people, places, organisations and events, with span-answer questions in the ADL HW2
 * layout. Everything comes from one seed; the same seed gives byte-identical files.
 *
 * Design (it is what the project trains on with no downloads, with small models on a CPU):
 * - Each paragraph is about one entity: an intro sentence naming it, then 2–4 fact sentences in
 *   random order drawn from several phrasings, sometimes filler sentences that carry other
 *   years, places and numbers; about 3% are long (400+ characters) so windowing is exercised.
 * - A question names its paragraph's entity (names are unique), so the relevant paragraph is
 *   lexically tied to it; the 3 distractors are other paragraphs of the same split whose
 *   entity names share at most one character with the asked name and which never contain it:
 *   "hard" ones about an entity of the same type that state the asked fact too (only the name
 *   tells them apart), others of the same type without that fact (same templates and
 *   vocabulary), and others about another type (see `distractorMix`).
 * - Answers are spans: names, years, dates, numbers with units, latin words and product names.
 *   A paragraph holds several values of the same kind (two years, two places, ...), so the
 *   question's wording decides which one is asked.
 * @module
 */
import { createRng, deriveSeed, type Rng } from "../../util/random.ts";
import type { AdlExample } from "../types.ts";
import { buildVocab } from "../vocab.ts";
import { POOLS as P } from "./pools.ts";
export type { EntityType };
import { type EntityType, FILLERS, QUESTIONS, SENTENCES } from "./templates.ts";

/** Seed of the committed `data/sample/` files. */
export const DEFAULT_SAMPLE_SEED = 20240501;

/** Sizes of the sample dataset. */
export interface SampleSizes {
  train: number;
  valid: number;
  test: number;
}

/** Default sizes: 2,000 train, 300 valid, 300 test questions. */
export const DEFAULT_SAMPLE_SIZES: SampleSizes = { train: 2000, valid: 300, test: 300 };

/** Options of `generateSampleDataset`. */
export interface SampleOptions {
  sizes?: SampleSizes;
  /**
   * Mix of distractor kinds, as probabilities per distractor: `hard` = same entity type and
   * states the asked fact (only the name tells it apart), `sameType` = same entity type
   * without the asked fact, the rest = another entity type. Default `{hard: 0.2,
   * sameType: 0.4}`: about half of the questions have a hard distractor, so a model must match
   * the asked name (not only the topic and the asked fact) to pass ~0.75 accuracy.
   */
  distractorMix?: { hard: number; sameType: number };
  /** Fraction of long (400+ character) paragraphs. Default 0.03. */
  longParagraphRate?: number;
  /** Minimum frequency for a multi-character word to be a whole token in the vocab. Default 3. */
  vocabMinWordFrequency?: number;
}

/** The generated dataset. Test examples keep their gold (written separately as test_gold.json). */
export interface SampleDataset {
  seed: number;
  contexts: string[];
  train: AdlExample[];
  valid: AdlExample[];
  test: AdlExample[];
  vocab: string[];
  /** Per question id: the asked entity's type and name, and the asked field (for statistics and tests). */
  info: Map<string, QuestionInfo>;
  /** Per context index: the paragraph's entity type and name, and the facts it states. */
  paragraphInfo: ParagraphInfo[];
}

/** What a generated question asks. */
export interface QuestionInfo {
  type: EntityType;
  /** The entity's name, which the question and the relevant paragraph contain. */
  name: string;
  field: string;
}

/** What a generated paragraph is about. */
export interface ParagraphInfo {
  type: EntityType;
  name: string;
  /** Fields (facts) stated in the paragraph. */
  fields: string[];
}

interface Entity {
  type: EntityType;
  /** Full name, as it appears in text and questions. */
  name: string;
  /** Distinctive part of the name (given name, place stem, brand). */
  core: string;
  /** Reference used after the first sentence (他/她/該市/該公司...). */
  ref: string;
  values: Record<string, string>;
}

interface Paragraph {
  entity: Entity;
  text: string;
  /** Code-unit offset of the first occurrence of each rendered field. */
  fields: Map<string, number>;
}

type Seg = string | { field: string; text: string };

/** Generates the sample dataset for `seed` (see the module doc). Deterministic. */
export function generateSampleDataset(
  seed: number = DEFAULT_SAMPLE_SEED,
  opts: SampleOptions = {},
): SampleDataset {
  const sizes = opts.sizes ?? DEFAULT_SAMPLE_SIZES;
  const mix = opts.distractorMix ?? { hard: 0.2, sameType: 0.4 };
  const longRate = opts.longParagraphRate ?? 0.03;
  const world = buildWorld(createRng(deriveSeed(seed, "world")), sizes);

  const contexts: string[] = [];
  const splits: Record<string, AdlExample[]> = { train: [], valid: [], test: [] };
  const info = new Map<string, QuestionInfo>();
  const order = ["train", "valid", "test"] as const;
  // Paragraphs of each split, then one shuffled context list.
  const perSplit: Record<string, Paragraph[]> = {};
  const asked: Record<string, { p: number; field: string; tpl: string }[]> = {};
  for (const split of order) {
    const rng = createRng(deriveSeed(seed, "paragraphs", split));
    const entities = world.subjects[split];
    const paras: Paragraph[] = [];
    const qs: { p: number; field: string; tpl: string }[] = [];
    let e = 0;
    while (qs.length < sizes[split]) {
      if (e >= entities.length) throw new Error(`sample: ran out of ${split} entities`);
      const para = renderParagraph(entities[e++], rng, world, rng.next() < longRate);
      const askable = [...para.fields.keys()].filter((f) => f in QUESTIONS[para.entity.type]);
      rng.shuffle(askable);
      const n = Math.min(askable.length, rng.next() < 0.25 ? 2 : 1, sizes[split] - qs.length);
      for (let k = 0; k < n; k++) {
        qs.push({
          p: paras.length,
          field: askable[k],
          tpl: rng.pick(QUESTIONS[para.entity.type][askable[k]]),
        });
      }
      paras.push(para);
    }
    perSplit[split] = paras;
    asked[split] = qs;
  }
  const all = order.flatMap((s) => perSplit[s]);
  const perm = createRng(deriveSeed(seed, "context-order")).shuffle(all.map((_, i) => i));
  const indexOf = new Map<Paragraph, number>();
  const paragraphInfo: ParagraphInfo[] = [];
  perm.forEach((src, dst) => {
    contexts[dst] = all[src].text;
    const e = all[src].entity;
    paragraphInfo[dst] = { type: e.type, name: e.name, fields: [...all[src].fields.keys()].sort() };
    indexOf.set(all[src], dst);
  });

  for (const split of order) {
    const rng = createRng(deriveSeed(seed, "questions", split));
    const paras = perSplit[split];
    const byType = new Map<EntityType, number[]>();
    paras.forEach((p, i) => {
      const list = byType.get(p.entity.type) ?? [];
      list.push(i);
      byType.set(p.entity.type, list);
    });
    asked[split].forEach((q, qi) => {
      const para = paras[q.p];
      const ent = para.entity;
      const id = `${split}-${String(qi).padStart(4, "0")}`;
      const question = fill(q.tpl, { ...ent.values, N: ent.name });
      const chosen: number[] = [];
      const ok = (i: number) =>
        i !== q.p && !chosen.includes(i) && !paras[i].text.includes(ent.name) &&
        sharedChars(paras[i].entity.core, ent.core) <= 1;
      const hasFact = (i: number) => paras[i].fields.has(q.field);
      const same = byType.get(ent.type)!;
      const pools = {
        hard: same.filter((i) => hasFact(i)),
        sameType: same.filter((i) => !hasFact(i)),
        other: paras.map((_, i) => i).filter((i) => paras[i].entity.type !== ent.type),
      };
      let guard = 0;
      while (chosen.length < 3) {
        if (++guard > 10000) throw new Error("sample: cannot find distractors");
        const r = rng.next();
        const pool = r < mix.hard
          ? pools.hard
          : r < mix.hard + mix.sameType
          ? pools.sameType
          : pools.other;
        if (pool.length === 0) continue;
        const cand = rng.pick(pool);
        if (ok(cand)) chosen.push(cand);
      }
      const pos = rng.int(4);
      chosen.splice(pos, 0, q.p);
      const start = para.fields.get(q.field)!;
      const text = fieldText(ent, q.field);
      if (!para.text.startsWith(text, start)) throw new Error(`sample: bad span for ${id}`);
      splits[split].push({
        id,
        question,
        paragraphs: chosen.map((i) => indexOf.get(paras[i])!),
        relevant: indexOf.get(para)!,
        answer: { text, start },
      });
      info.set(id, { type: ent.type, name: ent.name, field: q.field });
    });
  }

  const texts: string[] = [...contexts];
  for (const s of order) for (const e of splits[s]) texts.push(e.question);
  const vocab = buildVocab(texts, { minWordFrequency: opts.vocabMinWordFrequency ?? 3 });
  return {
    seed,
    contexts,
    train: splits.train,
    valid: splits.valid,
    test: splits.test,
    vocab,
    info,
    paragraphInfo,
  };
}

// ---------------------------------------------------------------- world

interface World {
  places: Entity[];
  persons: Entity[];
  orgs: Entity[];
  subjects: Record<string, Entity[]>;
}

function buildWorld(rng: Rng, sizes: SampleSizes): World {
  const used = new Set<string>();
  const unique = (make: () => string): string => {
    for (let i = 0; i < 1000; i++) {
      const s = make();
      // Unique, and no name inside another (a question's name must identify one entity).
      if (!used.has(s) && ![...used].some((u) => u.includes(s) || s.includes(u))) {
        used.add(s);
        return s;
      }
    }
    throw new Error("sample: name space exhausted");
  };
  const total = sizes.train + sizes.valid + sizes.test;
  const perType = Math.ceil(total / 4) + 60;

  // Places and organisations: a kind, then a unique name of two stem characters + its suffix.
  const kindNamed = <K extends { suffix: string; ref: string }>(
    type: "place" | "org",
    count: number,
    kinds: readonly K[],
    chars: readonly string[],
    values: (kind: K) => Record<string, string>,
  ): Entity[] => {
    const out: Entity[] = [];
    for (let i = 0; i < count; i++) {
      const kind = rng.pick(kinds);
      let stem = "";
      const name = unique(() => {
        stem = rng.pick(chars) + rng.pick(chars);
        return stem + kind.suffix;
      });
      out.push({ type, name, core: stem, ref: kind.ref, values: values(kind) });
    }
    return out;
  };
  const places = kindNamed("place", perType + 150, P.PLACE_KINDS, P.PLACE_CHARS, (k) => ({
    head: k.head,
  }));
  const persons: Entity[] = [];
  for (let i = 0; i < perType + 900; i++) {
    let given = "";
    const name = unique(() => {
      const sur = rng.next() < 0.04 ? rng.pick(P.COMPOUND_SURNAMES) : rng.pick(P.SURNAMES);
      given = rng.pick(P.GIVEN_CHARS) + (rng.next() < 0.85 ? rng.pick(P.GIVEN_CHARS) : "");
      return sur + given;
    });
    const ref = rng.next() < 0.5 ? "他" : "她";
    persons.push({ type: "person", name, core: name, ref, values: {} });
  }
  const orgs = kindNamed("org", perType + 150, P.ORG_KINDS, P.BRAND_CHARS, (k) => ({
    trade: k.trade,
  }));
  const events: Entity[] = [];
  for (let i = 0; i < perType; i++) {
    let brand = "";
    const name = unique(() => {
      brand = rng.pick(P.PLACE_CHARS) + rng.pick(P.BRAND_CHARS);
      return brand + rng.pick(P.EVENT_KINDS);
    });
    events.push({ type: "event", name, core: brand, ref: "這場活動", values: {} });
  }
  const world: World = { places, persons, orgs, subjects: {} };

  const year = (lo: number, hi: number) => `${lo + rng.int(hi - lo + 1)}年`;
  const num = (lo: number, hi: number) => lo + rng.int(hi - lo + 1);
  const other = (list: Entity[], self: Entity) => {
    for (;;) {
      const e = rng.pick(list);
      if (e !== self) return e.name;
    }
  };
  for (const p of persons) {
    const born = num(1930, 1998);
    const join = born + num(22, 30);
    let award = born + num(25, 45);
    if (award === join) award++;
    Object.assign(p.values, {
      occupation: rng.pick(P.OCCUPATIONS),
      birthYear: `${born}年`,
      birthCity: rng.pick(places).name,
      org: rng.pick(orgs).name,
      joinYear: `${join}年`,
      award: rng.pick(P.BRAND_CHARS) + rng.pick(P.BRAND_CHARS) + rng.pick(P.AWARD_KINDS),
      awardYear: `${Math.min(award, 2024)}年`,
      work: rng.pick(P.TITLE_WORDS) + (rng.next() < 0.5 ? "的" : "與") + rng.pick(P.TITLE_WORDS),
      mentor: other(persons, p),
      english: rng.pick(P.LATIN_FIRST_NAMES),
      books: `${num(2, 40)}本`,
    });
    if (p.values.awardYear === p.values.joinYear) p.values.awardYear = `${join - 1}年`;
  }
  for (const c of places) {
    const pop = rng.next() < 0.6
      ? `${num(1200, 98000)}人`
      : rng.next() < 0.7
      ? `${num(2, 150)}萬人`
      : `${num(1, 99)}.${num(1, 9)}萬人`;
    Object.assign(c.values, {
      foundedYear: year(1120, 1950),
      population: pop,
      area: `${num(12, 2400)}平方公里`,
      river: rng.pick(P.PLACE_CHARS) + rng.pick(P.PLACE_CHARS) + (rng.next() < 0.5 ? "河" : "溪"),
      distanceCity: other(places, c),
      distance: `${num(8, 950)}公里`,
      specialty: rng.pick(P.SPECIALTIES),
      mayor: rng.pick(persons).name,
      english: rng.pick(P.LATIN_PLACE_HEADS) + rng.pick(P.LATIN_PLACE_TAILS),
    });
  }
  for (const o of orgs) {
    const model = rng.pick(["", " X2", " 300", " Pro", " S", " 7", " Max", " 2000"]);
    Object.assign(o.values, {
      foundedYear: year(1950, 2020),
      founder: rng.pick(persons).name,
      hq: rng.pick(places).name,
      employees: `${num(30, 48000)}名`,
      product: rng.pick(P.PRODUCT_WORDS) + model,
      revenue: `${num(2, 900)}億元`,
    });
  }
  for (const ev of events) {
    Object.assign(ev.values, {
      edition: `第${num(2, 45)}屆`,
      date: `${num(2005, 2024)}年${num(1, 12)}月${num(1, 28)}日`,
      city: rng.pick(places).name,
      participants: `${num(200, 60000)}人`,
      organizer: rng.pick(orgs).name,
      winner: rng.pick(persons).name,
      prize: `${num(5, 500)}萬元`,
    });
  }

  // Subjects of paragraphs: disjoint per split, types interleaved at random.
  const pool = [
    ...persons.slice(0, perType),
    ...places.slice(0, perType),
    ...orgs.slice(0, perType),
    ...events,
  ];
  rng.shuffle(pool);
  const nTrain = Math.ceil(pool.length * sizes.train / total);
  const nValid = Math.ceil(pool.length * sizes.valid / total);
  world.subjects = {
    train: pool.slice(0, nTrain),
    valid: pool.slice(nTrain, nTrain + nValid),
    test: pool.slice(nTrain + nValid),
  };
  return world;
}

// ---------------------------------------------------------------- rendering

function renderParagraph(ent: Entity, rng: Rng, world: World, long: boolean): Paragraph {
  const spec = SENTENCES[ent.type];
  const groups = Object.keys(spec.facts);
  rng.shuffle(groups);
  const nFacts = long ? groups.length : Math.min(groups.length, 3 + rng.int(3));
  const sentences: string[] = [rng.pick(spec.intro)];
  for (const g of groups.slice(0, nFacts)) sentences.push(rng.pick(spec.facts[g]));
  const fillers = rng.shuffle(FILLERS[ent.type].slice());
  const nFill = long ? fillers.length : (rng.next() < 0.3 ? 1 + rng.int(2) : 0);
  const addFiller = (k: number) => {
    const at = 1 + rng.int(sentences.length); // never before the intro
    sentences.splice(at, 0, fillers[k % fillers.length]);
  };
  for (let k = 0; k < nFill; k++) addFiller(k);
  const taken = new Set(Object.values(ent.values));
  const render = (): Seg[] => {
    const segs: Seg[] = [];
    sentences.forEach((tpl, si) => {
      const subject = si === 0 || rng.next() < 0.5 ? ent.name : ent.ref;
      segs.push(...renderSegments(tpl, ent, subject, fillerValues(rng, world, taken)));
    });
    return segs;
  };
  let segs = render();
  // A long paragraph grows (fillers repeat with new values) until it passes its target length,
  // 420-720 characters: longer than one 384-token window, or several 128-token ones.
  const target = 420 + rng.int(300);
  for (let k = nFill; long && segLength(segs) < target; k++) {
    addFiller(k);
    segs = render();
  }
  let text = "";
  const fields = new Map<string, number>();
  for (const s of segs) {
    if (typeof s === "string") text += s;
    else {
      if (!fields.has(s.field)) fields.set(s.field, text.length);
      text += s.text;
    }
  }
  return { entity: ent, text, fields };
}

function segLength(segs: Seg[]): number {
  return segs.reduce((n, s) => n + (typeof s === "string" ? s.length : s.text.length), 0);
}

function fillerValues(rng: Rng, world: World, taken: Set<string>): Record<string, string> {
  const fresh = (make: () => string) => {
    for (;;) {
      const v = make();
      if (!taken.has(v)) return v;
    }
  };
  return {
    year2: fresh(() => `${1900 + rng.int(125)}年`),
    city2: fresh(() => rng.pick(world.places).name),
    hobby: rng.pick(P.HOBBIES),
    month: String(1 + rng.int(12)),
    hours: String(1 + rng.int(9)),
  };
}

/** Fields whose values are rendered as marked (answerable) segments. */
function renderSegments(
  tpl: string,
  ent: Entity,
  subject: string,
  extra: Record<string, string>,
): Seg[] {
  const out: Seg[] = [];
  let last = 0;
  for (const m of tpl.matchAll(/\{(\w+)\}/g)) {
    out.push(tpl.slice(last, m.index));
    const f = m[1];
    if (f === "S") out.push(subject);
    else if (f in extra) out.push(extra[f]);
    else if (f in ent.values) out.push({ field: f, text: ent.values[f] });
    else throw new Error(`sample: template field {${f}} has no value for ${ent.type}`);
    last = m.index! + m[0].length;
  }
  out.push(tpl.slice(last));
  return out;
}

function fieldText(ent: Entity, field: string): string {
  return ent.values[field];
}

function fill(tpl: string, values: Record<string, string>): string {
  return tpl.replace(/\{(\w+)\}/g, (_, f: string) => {
    if (!(f in values)) throw new Error(`sample: question field {${f}} has no value`);
    return values[f];
  });
}

function sharedChars(a: string, b: string): number {
  const s = new Set(Array.from(a));
  let n = 0;
  for (const c of new Set(Array.from(b))) if (s.has(c)) n++;
  return n;
}
