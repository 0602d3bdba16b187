/**
 * Small helpers every layer may use: seeded random numbers, atomic file writes, existence
 * checks, message text (plurals, short durations, did-you-mean) and how a metric is shown (which
 * metric is a percent, `formatMetric`), and the Python of the Hugging Face peer (`$HF_PYTHON`).
 * @module
 */
export { writeDirAtomic, writeFileAtomic, writeJsonAtomic } from "./atomic.ts";
export { exists, existsSync } from "./fs.ts";
export {
  formatMetric,
  formatNumber,
  formatPercent,
  isPercentColumn,
  isPercentMetric,
  PERCENT_METRICS,
} from "./metric_format.ts";
export { closestName, formatSeconds, plural } from "./text.ts";
export { peerPython, pythonImports } from "./python.ts";
export { createRng, deriveSeed, type Rng } from "./random.ts";
