/**
 * Small helpers every layer may use: seeded random numbers, atomic file writes and existence
 * checks.
 * @module
 */
export { copyDir, writeDirAtomic, writeFileAtomic, writeJsonAtomic } from "./atomic.ts";
export { exists, existsSync } from "./fs.ts";
export { closestName } from "./names.ts";
export { createRng, deriveSeed, type Rng } from "./random.ts";
