/**
 * Sentence and question templates of the sample-data generator. `{S}` is the subject (its name
 * in the first sentence, else a pronoun or "該市"-style reference), `{N}` in questions is the
 * subject's name, other `{field}`s are the entity's values. The templates themselves live in
 * `templates.json`; this module gives them their types.
 * @module
 */
import templates from "./templates.json" with { type: "json" };

/** Entity types of the sample world. */
export type EntityType = "person" | "place" | "org" | "event";

/** Sentence groups per entity type: an intro (always first) and fact sentences. */
export const SENTENCES: Record<EntityType, { intro: string[]; facts: Record<string, string[]> }> =
  templates.SENTENCES;

/**
 * Question templates per entity type and asked field. Only these fields are asked (5 per type,
 * 20 in all, so each gets ~100 training questions); the other facts stay in the paragraphs as
 * content and as confusers (more years, places, names and numbers).
 */
export const QUESTIONS: Record<EntityType, Record<string, string[]>> = templates.QUESTIONS;

/** Filler sentences (no asked facts; some carry other years, places and numbers as confusers). */
export const FILLERS: Record<EntityType, string[]> = templates.FILLERS;
