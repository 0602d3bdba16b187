/**
 * Small helpers every layer may use: seeded random numbers, atomic file writes, existence
 * checks and message text (plurals, short durations, did-you-mean).
 * @module
 */
export { copyDir, writeDirAtomic, writeFileAtomic, writeJsonAtomic } from "./atomic.ts";
export { exists, existsSync } from "./fs.ts";
export { closestName, formatSeconds, plural } from "./text.ts";
export { createRng, deriveSeed, type Rng } from "./random.ts";
