/**
 * The whole study, regenerated: execute the notebooks in order on the Deno kernel, then assemble
 * the report from what they wrote. Used by `deno task report` (scripts/report.ts).
 * @module
 */
import { type NotebookRunInfo, type RunInfo, writeReport } from "./assemble.ts";
import { ensureDenoKernel } from "./kernel.ts";
import { metricsPath, type Profile, type SectionId } from "./metrics.ts";
import { runNotebook } from "./runner.ts";

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
export async function runStudy(opts: StudyOptions): Promise<{ markdown: string; html: string }> {
  const log = opts.log ?? console.log;
  const notebooks = opts.notebooks ?? STUDY_NOTEBOOKS;
  const nbDir = opts.notebooksDir ?? "notebooks";
  const outputDir = absolute(opts.outputDir ?? "outputs");
  checkNotebooksExist(nbDir, notebooks);
  const kernel = await ensureDenoKernel(log);
  log(`[report] profile ${opts.profile}; Deno kernel ${kernel}; output ${outputDir}`);
  for (const sub of ["notebooks", "figures", "metrics"]) {
    await Deno.mkdir(`${outputDir}/${sub}`, { recursive: true });
  }
  for (const n of notebooks) await Deno.remove(metricsPath(outputDir, n.section)).catch(() => {});
  const startedAt = new Date().toISOString();
  const ran: NotebookRunInfo[] = [];
  const env: Record<string, string> = {
    REPORT_PROFILE: opts.profile,
    REPORT_OUTPUT_DIR: outputDir,
    REPORT_SEED: String(opts.seed ?? 42),
  };
  for (const [i, n] of notebooks.entries()) {
    const stem = n.file.replace(/\.ipynb$/, "");
    log(`[report] ${i + 1}/${notebooks.length} ${n.file}`);
    const status = await runNotebook(`${nbDir}/${n.file}`, `${outputDir}/notebooks/${n.file}`, {
      env,
      label: `${stem} ${i + 1}/${notebooks.length}`,
      onOutput: opts.onOutput,
    });
    log(`[report] ${n.file}: ${status.executed} code cells in ${status.seconds.toFixed(1)}s`);
    ran.push({
      name: n.file,
      path: `notebooks/${n.file}`,
      seconds: status.seconds,
      cells: status.executed,
    });
  }
  const run: RunInfo = {
    profile: opts.profile,
    startedAt,
    finishedAt: new Date().toISOString(),
    notebooks: ran,
    denoVersion: Deno.version.deno,
  };
  await Deno.writeTextFile(`${outputDir}/metrics/run.json`, JSON.stringify(run, null, 2) + "\n");
  const out = await writeReport(outputDir, run, notebooks.map((n) => n.section));
  log(`[report] wrote ${out.markdown} and ${out.html}`);
  return out;
}
