/**
 * Word pools of the sample-data generator: invented names are built from these characters and
 * words, so the character inventory stays modest (a corpus vocabulary stays small). The words
 * live in `pools.json` (character inventories as one string each); {@link POOLS} is their typed
 * view with those strings split into characters.
 * @module
 */
import words from "./pools.json" with { type: "json" };

/** A kind of place or organisation: its name suffix and how the text refers back to it. */
export interface NameKind {
  suffix: string;
  ref: string;
}

/** The word pools. */
export interface Pools {
  /** Single-character surnames. */
  SURNAMES: readonly string[];
  /** Two-character surnames (rare). */
  COMPOUND_SURNAMES: readonly string[];
  /** Characters of given names. */
  GIVEN_CHARS: readonly string[];
  /** Characters of place names. */
  PLACE_CHARS: readonly string[];
  /** Place suffixes with the title of the place's head. */
  PLACE_KINDS: readonly (NameKind & { head: string })[];
  /** Characters of organisation and event names. */
  BRAND_CHARS: readonly string[];
  /** Organisation kinds: name suffix, how the text refers back to it, its trade. */
  ORG_KINDS: readonly (NameKind & { trade: string })[];
  /** Event kinds (name suffixes). */
  EVENT_KINDS: readonly string[];
  /** Occupations. */
  OCCUPATIONS: readonly string[];
  /** Award names (a place or brand word is put in front). */
  AWARD_KINDS: readonly string[];
  /** Local specialities of places. */
  SPECIALTIES: readonly string[];
  /** Words of book titles. */
  TITLE_WORDS: readonly string[];
  /** Latin first names (English names of people). */
  LATIN_FIRST_NAMES: readonly string[];
  /** Latin syllables of invented English place names (prefix + suffix). */
  LATIN_PLACE_HEADS: readonly string[];
  /** Second halves of invented English place names. */
  LATIN_PLACE_TAILS: readonly string[];
  /** Latin product names. */
  PRODUCT_WORDS: readonly string[];
  /** Hobbies (filler sentences). */
  HOBBIES: readonly string[];
}

/** The pools of `pools.json`, character inventories split into characters. */
export const POOLS: Pools = {
  ...words,
  SURNAMES: Array.from(words.SURNAMES),
  GIVEN_CHARS: Array.from(words.GIVEN_CHARS),
  PLACE_CHARS: Array.from(words.PLACE_CHARS),
  BRAND_CHARS: Array.from(words.BRAND_CHARS),
};
