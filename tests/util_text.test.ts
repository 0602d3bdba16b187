// Message helpers: counted nouns, short durations, did-you-mean.
import assert from "node:assert/strict";
import { closestName, formatSeconds, plural } from "../lib/util/mod.ts";

Deno.test("plural: singular only for exactly 1", () => {
  assert.equal(plural(1, "update"), "1 update");
  assert.equal(plural(0, "update"), "0 updates");
  assert.equal(plural(2, "question"), "2 questions");
  assert.equal(plural(1, "miss", "misses"), "1 miss");
  assert.equal(plural(3, "miss", "misses"), "3 misses");
});

Deno.test("formatSeconds: two significant digits in a unit that fits, never 0.0 s", () => {
  assert.equal(formatSeconds(0.0123), "12 ms");
  assert.equal(formatSeconds(0.04), "40 ms");
  assert.equal(formatSeconds(0.000042), "42 µs");
  assert.equal(formatSeconds(0.61), "0.61 s");
  assert.equal(formatSeconds(3.42), "3.4 s");
  assert.equal(formatSeconds(45.2), "45 s");
  assert.equal(formatSeconds(0), "0 s");
  assert.equal(formatSeconds(NaN), "n/a");
  for (const s of [0.0004, 0.003, 0.02, 0.049]) assert.doesNotMatch(formatSeconds(s), /^0(\.0)? /);
});

Deno.test("closestName: a likely typo gets the known name, anything else none", () => {
  const keys = ["num_hidden_layers", "hidden_size", "num_attention_heads"];
  assert.equal(closestName("num_hidden_layer", keys), "num_hidden_layers");
  assert.equal(closestName("hidden-size", keys), "hidden_size");
  assert.equal(closestName("dropout", keys), undefined);
});
