/**
 * Seeded pseudo-random numbers. Every random choice in the project takes a seed and draws from
 * here, so runs are reproducible.
 * @module
 */

/** A generator of uniform floats in [0, 1), deterministic for a given seed (mulberry32). */
export interface Rng {
  /** Next float in [0, 1). */
  next(): number;
  /** Integer in [0, n). */
  int(n: number): number;
  /** Standard normal sample (Box–Muller). */
  normal(): number;
  /** Fisher–Yates shuffle in place; returns the array. */
  shuffle<T>(items: T[]): T[];
  /** One element chosen uniformly. */
  pick<T>(items: readonly T[]): T;
}

/**
 * Creates a seeded generator. Equal seeds give equal streams.
 *
 * @example
 * ```ts
 * import { createRng } from "./random.ts";
 * import assert from "node:assert/strict";
 *
 * const a = createRng(42);
 * const b = createRng(42);
 * assert.deepEqual(a.shuffle([1, 2, 3, 4, 5]), b.shuffle([1, 2, 3, 4, 5]));
 * assert.ok(a.int(10) >= 0 && a.int(10) < 10);
 * ```
 */
export function createRng(seed: number): Rng {
  let state = rngInitialState(seed);
  const next = (): number => {
    state = (state + RNG_INCREMENT) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  return {
    next,
    int,
    normal() {
      let u = 0;
      while (u === 0) u = next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
    },
    shuffle<T>(items: T[]): T[] {
      for (let i = items.length - 1; i > 0; i--) {
        const j = int(i + 1);
        [items[i], items[j]] = [items[j], items[i]];
      }
      return items;
    },
    pick<T>(items: readonly T[]): T {
      if (items.length === 0) throw new Error("pick: empty list");
      return items[int(items.length)];
    },
  };
}

/** What mulberry32 adds to its state before each draw. */
export const RNG_INCREMENT = 0x6d2b79f5;

/**
 * The state of `createRng(seed)` before its first draw. Draw i (from 0) of the stream mixes the
 * state `rngInitialState(seed) + (i + 1) · RNG_INCREMENT` (mod 2³²), so code elsewhere (the
 * native dropout kernel) can compute any draw of a stream without the ones before it.
 */
export function rngInitialState(seed: number): number {
  return (Math.floor(seed) ^ 0x9e3779b9) >>> 0;
}

/** Derives a child seed from a seed and a label (e.g. a step number), for independent streams. */
export function deriveSeed(seed: number, ...labels: (number | string)[]): number {
  let h = (Math.floor(seed) ^ 0x811c9dc5) >>> 0;
  for (const label of labels) {
    const s = String(label);
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    h ^= 0xff;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % 2147483647;
}
