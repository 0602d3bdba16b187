/**
 * Headless notebook execution on the Deno kernel through Jupyter's executor (nbclient, driven by
 * `scripts/run_notebook.py` under Debian's Python): progress per cell, streamed output, and a stop
 * at the first failing cell with that cell's error.
 * @module
 */

/** Python with nbclient/nbformat (Debian's); `$REPORT_PYTHON` overrides. */
export function pythonPath(): string {
  return Deno.env.get("REPORT_PYTHON") ?? "/usr/bin/python3";
}

/** The nbclient driver script shipped with the project. */
export const DRIVER = new URL("../../scripts/run_notebook.py", import.meta.url).pathname;

/** Where and how a failing cell failed. */
export interface FailedCell {
  /** 0-based index among all cells of the notebook. */
  cell_index?: number;
  /** 1-based number among code cells. */
  code_cell?: number | null;
  source?: string;
  ename?: string;
  evalue?: string;
  traceback?: string[];
}

/** Status written by the driver. */
export interface NotebookRunStatus {
  ok: boolean;
  notebook: string;
  /** Number of code cells. */
  cells: number;
  /** Code cells run (including a failing one). */
  executed: number;
  seconds: number;
  failed_cell?: FailedCell;
  /** The notebook could not be run at all (kernel start, missing nbclient, ...). */
  error?: string;
}

/** A notebook failed: names the notebook and, for a cell error, the cell and its error. */
export class NotebookError extends Error {
  readonly notebook: string;
  readonly status: NotebookRunStatus;
  constructor(notebook: string, status: NotebookRunStatus) {
    const f = status.failed_cell;
    let msg: string;
    if (f) {
      const where = f.code_cell ? `code cell ${f.code_cell}` : "a cell";
      const idx = f.cell_index !== undefined ? ` (notebook cell ${f.cell_index + 1})` : "";
      const src = (f.source ?? "").split("\n").slice(0, 6).map((l) => `    | ${l}`).join("\n");
      const tb = (f.traceback ?? []).join("\n").trim();
      msg = `${notebook}: ${where}${idx} failed with ${f.ename ?? "an error"}: ${f.evalue ?? ""}` +
        (src ? `\n  cell source:\n${src}` : "") + (tb ? `\n  traceback:\n${tb}` : "");
    } else {
      msg = `${notebook}: could not be executed: ${status.error ?? "unknown error"}`;
    }
    super(msg);
    this.name = "NotebookError";
    this.notebook = notebook;
    this.status = status;
  }
}

/** Options of {@link runNotebook}. */
export interface RunNotebookOptions {
  /** Working directory of the kernel; default the notebook's directory (as Jupyter does). */
  cwd?: string;
  /** Extra environment for the kernel (e.g. REPORT_PROFILE). */
  env?: Record<string, string>;
  /** Progress prefix, e.g. `q1 1/4`. */
  label?: string;
  /** Kernelspec name; default `deno`. */
  kernel?: string;
  /** Receives the driver's output as it arrives; default: written to this process's stdout. */
  onOutput?: (chunk: Uint8Array) => void;
}

function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? (i === 0 ? "/" : ".") : path.slice(0, i);
}

function absolute(path: string): string {
  return path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
}

/**
 * Executes `input` cell by cell on the Deno kernel and writes the executed notebook to `output`
 * (also when a cell fails, with the error in that cell's outputs). Resolves with the status, or
 * throws {@link NotebookError} naming the failing cell.
 */
export async function runNotebook(
  input: string,
  output: string,
  opts: RunNotebookOptions = {},
): Promise<NotebookRunStatus> {
  try {
    if (!(await Deno.stat(input)).isFile) throw new Error("not a file");
  } catch {
    throw new Error(`notebook not found: ${input}`);
  }
  await Deno.mkdir(dirname(absolute(output)), { recursive: true });
  const statusPath = await Deno.makeTempFile({ prefix: "notebook-status-", suffix: ".json" });
  try {
    const args = [
      DRIVER,
      absolute(input),
      absolute(output),
      "--status",
      statusPath,
      "--cwd",
      absolute(opts.cwd ?? dirname(input)),
      "--kernel",
      opts.kernel ?? "deno",
    ];
    if (opts.label) args.push("--label", opts.label);
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(pythonPath(), {
        args,
        env: { ...opts.env, PYTHONUNBUFFERED: "1" },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (e) {
      throw new Error(
        `cannot start ${pythonPath()} to run notebooks (${(e as Error).message}); ` +
          "it needs Python 3 with nbclient and nbformat (Debian: python3-nbclient), or set REPORT_PYTHON",
      );
    }
    const sink = opts.onOutput ?? ((c: Uint8Array) => Deno.stdout.writeSync(c));
    const pump = async (s: ReadableStream<Uint8Array>) => {
      for await (const chunk of s) sink(chunk);
    };
    const [code] = await Promise.all([
      child.status.then((s) => s.code),
      pump(child.stdout),
      pump(child.stderr),
    ]);
    let status: NotebookRunStatus;
    try {
      const text = await Deno.readTextFile(statusPath);
      status = JSON.parse(text);
    } catch {
      status = {
        ok: false,
        notebook: input,
        cells: 0,
        executed: 0,
        seconds: 0,
        error: `the notebook driver exited with code ${code} without a status`,
      };
    }
    if (!status.ok || code !== 0) throw new NotebookError(input, status);
    return status;
  } finally {
    await Deno.remove(statusPath).catch(() => {});
  }
}

/**
 * Renders an executed notebook to HTML beside it (`x.ipynb` → `x.html`) with nbconvert (Debian:
 * jupyter-nbconvert), so it opens in a browser like the report. Returns the HTML path; throws
 * with nbconvert's message when it is missing or fails.
 */
export async function notebookToHtml(ipynb: string): Promise<string> {
  const path = absolute(ipynb);
  try {
    await Deno.stat(path);
  } catch {
    throw new Error(`${ipynb}: not found`);
  }
  const out = await new Deno.Command(pythonPath(), {
    args: ["-m", "nbconvert", "--to", "html", "--log-level", "ERROR", path],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output().catch((e) => {
    throw new Error(`cannot start ${pythonPath()} (${(e as Error).message})`);
  });
  const html = path.replace(/\.ipynb$/, "") + ".html";
  if (out.code !== 0) {
    const err = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-3).join(" ");
    throw new Error(
      `nbconvert failed for ${ipynb} (${err}); Debian: apt-get install jupyter-nbconvert`,
    );
  }
  // Debian's nbconvert points at require.js and MathJax as file:///usr/share/... URLs, which
  // exist only on the machine that made the page (the notebooks need neither): drop them.
  const text = await Deno.readTextFile(html);
  await Deno.writeTextFile(
    html,
    text.replace(/<script[^>]*\ssrc="file:\/\/[^"]*"[^>]*>\s*<\/script>\s*/g, ""),
  );
  return html;
}
