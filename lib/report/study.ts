/**
 * The whole study, regenerated: execute the notebooks in order on the Deno kernel, then assemble
 * the report from what they wrote. Used by `deno task report` (scripts/report.ts).
 * @module
 */
import { SEED } from "../args/mod.ts";
import { loadAdlDataset } from "../data/mod.ts";
import { type NotebookRunInfo, type RunInfo, writeReport } from "./assemble.ts";
import { ensureDenoKernel } from "./jupyter_kernel.ts";
import {
  metricsPath,
  type Profile,
  readSectionMetrics,
  type SectionId,
  type SectionMetrics,
} from "./metrics.ts";
import { getProfile, type StudyProfile } from "./profiles.ts";
import { runNotebook } from "./runner.ts";
import { seedSpread } from "./stats.ts";
import {
  loadAverage,
  machineInfo,
  readmeNumbers,
  seedMetricKeys,
  type SeedRow,
  summaryBlocks,
} from "./summary.ts";

/** A notebook of the study and the section it fills. */
export interface StudyNotebook {
  section: SectionId;
  file: string;
}

/** The study's notebooks, in execution order. */
export const STUDY_NOTEBOOKS: readonly StudyNotebook[] = [
  { section: "q1", file: "q1_data_processing.ipynb" },
  { section: "q2", file: "q2_modeling.ipynb" },
  { section: "q3", file: "q3_curves.ipynb" },
  { section: "q4", file: "q4_pretrained_vs_scratch.ipynb" },
];

/** Options of {@link runStudy}. */
export interface StudyOptions {
  profile: Profile;
  seed?: number;
  /** Directory of the notebooks; default `notebooks`. */
  notebooksDir?: string;
  /** Output directory; default `outputs`. */
  outputDir?: string;
  /** Notebooks to run; default {@link STUDY_NOTEBOOKS}. */
  notebooks?: readonly StudyNotebook[];
  /** Progress lines; default console.log. */
  log?: (line: string) => void;
  /** Receives notebook output as it streams; default this process's stdout. */
  onOutput?: (chunk: Uint8Array) => void;
  /**
   * An ADL folder to run the profile's recipe on instead of the profile's data (`--data`);
   * passed to the notebooks as `REPORT_DATA_DIR`.
   */
  dataDir?: string;
  /**
   * Seeds per run (`--seeds N`, default 1): with N > 1, Q2 and Q4 are run again with seeds
   * seed+1 … seed+N−1 into `<outputDir>/seeds/seed-<s>/`, and the report shows each number's
   * spread over the N seeds.
   */
  seeds?: number;
}

/**
 * Loads and validates the profile's data (context, train, valid, test and the test gold when
 * present) with the data layer's errors (file, record, id, field), before anything trains.
 */
export async function checkStudyData(profile: StudyProfile): Promise<void> {
  const d = profile.data;
  try {
    if (!Deno.statSync(d.dir).isDirectory) throw new Error("not a directory");
  } catch (e) {
    throw new Error(
      `data folder ${d.dir}: ${
        e instanceof Deno.errors.NotFound ? "not found" : (e as Error).message
      } (expected the ADL layout: context.json, train.json, valid.json, test.json)`,
    );
  }
  await loadAdlDataset({
    contextFile: d.context_file,
    trainFile: d.train_file,
    validationFile: d.validation_file,
    testFile: d.test_file,
  });
  if (d.test_gold_file) {
    await loadAdlDataset({ contextFile: d.context_file, validationFile: d.test_gold_file });
  }
}

/** CPU seconds (user + system) of this process and of its children that have been waited for. */
export function cpuSeconds(): number | undefined {
  try {
    const stat = Deno.readTextFileSync("/proc/self/stat");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields 14-17 (utime, stime, cutime, cstime) are at 11-14 after the command name.
    const ticks = [11, 12, 13, 14].reduce((s, i) => s + Number(f[i]), 0);
    return ticks / 100; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

function absolute(path: string): string {
  return path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
}

/** Throws one error naming every missing notebook. */
export function checkNotebooksExist(dir: string, notebooks: readonly StudyNotebook[]): void {
  const missing = notebooks.map((n) => `${dir}/${n.file}`).filter((p) => {
    try {
      return !Deno.statSync(p).isFile;
    } catch {
      return true;
    }
  });
  if (missing.length > 0) {
    throw new Error(
      `missing notebook${missing.length > 1 ? "s" : ""}: ${missing.join(", ")} ` +
        `(the report runs ${notebooks.map((n) => n.file).join(", ")} in order)`,
    );
  }
}

/**
 * Executes the notebooks in order (stopping at the first failing cell, with a `NotebookError`
 * naming it), writing executed copies to `<outputDir>/notebooks/`, then writes
 * `<outputDir>/report.md` and `report.html`. Metrics of earlier runs are removed first, so the
 * report only shows numbers from this run.
 */
async function runNotebooks(
  notebooks: readonly StudyNotebook[],
  nbDir: string,
  outputDir: string,
  env: Record<string, string>,
  log: (line: string) => void,
  onOutput: ((chunk: Uint8Array) => void) | undefined,
): Promise<NotebookRunInfo[]> {
  for (const sub of ["notebooks", "figures", "metrics"]) {
    await Deno.mkdir(`${outputDir}/${sub}`, { recursive: true });
  }
  for (const n of notebooks) await Deno.remove(metricsPath(outputDir, n.section)).catch(() => {});
  const ran: NotebookRunInfo[] = [];
  for (const [i, n] of notebooks.entries()) {
    const stem = n.file.replace(/\.ipynb$/, "");
    log(`[report] ${i + 1}/${notebooks.length} ${n.file} (seed ${env.REPORT_SEED})`);
    const status = await runNotebook(`${nbDir}/${n.file}`, `${outputDir}/notebooks/${n.file}`, {
      env,
      label: `${stem} ${i + 1}/${notebooks.length}`,
      onOutput,
    });
    log(`[report] ${n.file}: ${status.executed} code cells in ${status.seconds.toFixed(1)}s`);
    ran.push({
      name: n.file,
      path: `notebooks/${n.file}`,
      seconds: status.seconds,
      cells: status.executed,
    });
  }
  return ran;
}

async function readIfThere(dir: string, s: SectionId): Promise<SectionMetrics | undefined> {
  try {
    return await readSectionMetrics(dir, s);
  } catch {
    return undefined;
  }
}

/**
 * Executes the notebooks in order (stopping at the first failing cell, with a `NotebookError`
 * naming it), writing executed copies to `<outputDir>/notebooks/`, then writes
 * `<outputDir>/report.md` and `report.html` (opening with a summary generated from the numbers)
 * and `<outputDir>/readme_numbers.md` (the README's numbers block). The data are validated
 * first. Metrics of earlier runs are removed first, so the report only shows numbers from this
 * run.
 */
export async function runStudy(opts: StudyOptions): Promise<{ markdown: string; html: string }> {
  const t0 = performance.now();
  const cpu0 = cpuSeconds();
  const loadStart = loadAverage();
  const log = opts.log ?? console.log;
  const notebooks = opts.notebooks ?? STUDY_NOTEBOOKS;
  const nbDir = opts.notebooksDir ?? "notebooks";
  const outputDir = absolute(opts.outputDir ?? "outputs");
  const seed = opts.seed ?? SEED.default;
  const nSeeds = opts.seeds ?? 1;
  if (!Number.isInteger(nSeeds) || nSeeds < 1) {
    throw new Error(`seeds must be a positive integer, got ${nSeeds}`);
  }
  checkNotebooksExist(nbDir, notebooks);
  const dataEnv: Record<string, string> = opts.dataDir
    ? { REPORT_DATA_DIR: absolute(opts.dataDir) }
    : {};
  // The profile as the notebooks will see it (REPORT_DATA_DIR read by getProfile).
  const prevData = Deno.env.get("REPORT_DATA_DIR");
  if (opts.dataDir) Deno.env.set("REPORT_DATA_DIR", absolute(opts.dataDir));
  let profile: StudyProfile;
  try {
    profile = getProfile(opts.profile);
  } finally {
    if (opts.dataDir) {
      if (prevData === undefined) Deno.env.delete("REPORT_DATA_DIR");
      else Deno.env.set("REPORT_DATA_DIR", prevData);
    }
  }
  log(`[report] checking the data in ${profile.data.dir}`);
  await checkStudyData(profile);
  const kernel = await ensureDenoKernel(log);
  log(`[report] profile ${opts.profile}; Deno kernel ${kernel}; output ${outputDir}`);
  const startedAt = new Date().toISOString();
  const env = (s: number): Record<string, string> => ({
    REPORT_PROFILE: opts.profile,
    REPORT_OUTPUT_DIR: outputDir,
    REPORT_SEED: String(s),
    ...dataEnv,
  });
  const ran = await runNotebooks(notebooks, nbDir, outputDir, env(seed), log, opts.onOutput);

  // --seeds N: Q2 and Q4 again with the other seeds, each in its own output folder.
  const seeds = Array.from({ length: nSeeds }, (_, i) => seed + i);
  let seedRows: SeedRow[] | undefined;
  if (nSeeds > 1) {
    const again = notebooks.filter((n) => n.section === "q2" || n.section === "q4");
    const dirs = [outputDir];
    for (const s of seeds.slice(1)) {
      const dir = `${outputDir}/seeds/seed-${s}`;
      dirs.push(dir);
      await runNotebooks(
        again,
        nbDir,
        dir,
        { ...env(s), REPORT_OUTPUT_DIR: dir },
        log,
        opts.onOutput,
      );
    }
    seedRows = [];
    for (const { section, key } of seedMetricKeys(profile)) {
      const values: number[] = [];
      for (const dir of dirs) {
        const m = await readIfThere(dir, section);
        const v = m?.metrics?.[key];
        if (typeof v === "number") values.push(v);
      }
      if (values.length === dirs.length) seedRows.push({ key, spread: seedSpread(values) });
    }
  }

  const sections = {
    q1: await readIfThere(outputDir, "q1"),
    q2: await readIfThere(outputDir, "q2"),
    q4: await readIfThere(outputDir, "q4"),
  };
  const machine = { ...machineInfo(), loadStart, loadEnd: loadAverage() };
  const cpu1 = cpuSeconds();
  const timing = {
    seconds: (performance.now() - t0) / 1000,
    cpuSeconds: cpu0 !== undefined && cpu1 !== undefined ? cpu1 - cpu0 : undefined,
  };
  const finishedAt = new Date().toISOString();
  const run: RunInfo = {
    profile: opts.profile,
    startedAt,
    finishedAt,
    notebooks: ran,
    denoVersion: Deno.version.deno,
    summary: summaryBlocks(
      profile,
      sections,
      machine,
      timing,
      seedRows ? { seeds, rows: seedRows } : undefined,
    ),
  };
  await Deno.writeTextFile(
    `${outputDir}/metrics/run.json`,
    JSON.stringify({ ...run, machine, timing }, null, 2) + "\n",
  );
  await Deno.writeTextFile(
    `${outputDir}/readme_numbers.md`,
    readmeNumbers(profile, sections.q2, sections.q4, machine, timing, finishedAt),
  );
  const out = await writeReport(outputDir, run, notebooks.map((n) => n.section));
  log(
    `[report] wrote ${out.markdown}, ${out.html} and ${outputDir}/readme_numbers.md ` +
      `(${timing.seconds.toFixed(0)} s wall${
        timing.cpuSeconds !== undefined ? `, ${timing.cpuSeconds.toFixed(0)} s CPU` : ""
      })`,
  );
  return out;
}
