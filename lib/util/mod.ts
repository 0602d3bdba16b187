/**
 * Small helpers every layer may use: seeded random numbers and atomic file writes.
 * @module
 */
export { copyDir, writeDirAtomic, writeFileAtomic, writeJsonAtomic } from "./atomic.ts";
export { createRng, deriveSeed, type Rng } from "./random.ts";
