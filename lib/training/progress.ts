/**
 * A training progress bar: step/total, epoch, loss, learning rate, throughput and ETA.
 *
 * - `tty`: one line redrawn in place with `\r` on the terminal (stderr);
 * - `lines`: a plain line every `intervalMs` (logs, CI, pipes) and at the end;
 * - `jupyter`: one notebook output updated in place (`display_data` with a `display_id`, then
 *   `update_display_data`), never thousands of lines;
 * - `none`: silent.
 *
 * `auto` picks `jupyter` inside `deno jupyter`, `tty` when stderr is a terminal, else `lines`.
 * @module
 */
import { formatMetric, formatNumber } from "../util/metric_format.ts";

/** How progress is shown. */
export type ProgressMode = "auto" | "tty" | "lines" | "jupyter" | "none";

/** One progress report. */
export interface ProgressUpdate {
  /** Completed optimizer updates. */
  step: number;
  /** Current epoch (0-based). */
  epoch: number;
  loss?: number;
  lr?: number;
  /** Training examples processed since the bar started (for examples/s). */
  examples?: number;
  /** Extra `name value` pairs shown after the standard fields. */
  extra?: Record<string, number>;
}

/** Options for `ProgressBar`. */
export interface ProgressOptions {
  /** Total optimizer updates. */
  total: number;
  numEpochs?: number;
  /** Steps already done when the bar starts (resume): excluded from throughput. */
  initialStep?: number;
  mode?: ProgressMode;
  label?: string;
  /** Minimum time between redraws (tty, jupyter: 200 ms; lines: 10 s). */
  intervalMs?: number;
  /** Where text goes (default: stderr). For tests. */
  write?: (text: string) => void;
  /** Clock in milliseconds (default `performance.now`). For tests. */
  now?: () => number;
  /**
   * Width the `tty` line must fit in (default: the terminal's columns from `Deno.consoleSize`,
   * 80 when unknown). Lower-priority fields are dropped, then the line is cut.
   */
  columns?: number;
  /** Jupyter broadcast function (default `Deno.jupyter.broadcast` when in a kernel). */
  broadcast?: (type: string, content: Record<string, unknown>) => Promise<void>;
}

type Broadcast = (type: string, content: Record<string, unknown>) => Promise<void>;

/** `Deno.jupyter.broadcast` inside `deno jupyter`, else null (the getter throws outside). */
export function jupyterBroadcast(): Broadcast | null {
  try {
    // deno-lint-ignore no-explicit-any
    const j = (Deno as any).jupyter;
    if (j && typeof j.broadcast === "function") return j.broadcast.bind(j);
  } catch {
    // not in a kernel
  }
  return null;
}

function resolveMode(mode: ProgressMode): Exclude<ProgressMode, "auto"> {
  if (mode !== "auto") return mode;
  if (jupyterBroadcast()) return "jupyter";
  try {
    if (Deno.stderr.isTerminal()) return "tty";
  } catch {
    // no stderr
  }
  return "lines";
}

/** `h:mm:ss` or `m:ss`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/** Terminal columns for a redrawn line: `Deno.consoleSize()` (80 when there is no terminal). */
export function terminalColumns(fallback = 80): number {
  try {
    return Deno.consoleSize().columns || fallback;
  } catch {
    return fallback;
  }
}

let displayCounter = 0;

/** A progress bar for a training run. */
export class ProgressBar {
  readonly mode: Exclude<ProgressMode, "auto">;
  private readonly opts: ProgressOptions;
  private readonly write: (text: string) => void;
  private readonly now: () => number;
  private readonly broadcast: Broadcast | null;
  private readonly start: number;
  private lastDraw = -Infinity;
  private last: ProgressUpdate | null = null;
  private readonly displayId: string;
  private displayed = false;
  private chain: Promise<void> = Promise.resolve();
  private ttyWidth = 0;
  private closed = false;

  constructor(opts: ProgressOptions) {
    this.opts = opts;
    this.mode = resolveMode(opts.mode ?? "auto");
    this.now = opts.now ?? (() => performance.now());
    this.write = opts.write ?? ((t) => {
      Deno.stderr.writeSync(new TextEncoder().encode(t));
    });
    this.broadcast = this.mode === "jupyter" ? (opts.broadcast ?? jupyterBroadcast()) : null;
    if (this.mode === "jupyter" && !this.broadcast) {
      throw new Error("progress mode 'jupyter' needs the deno jupyter kernel");
    }
    this.start = this.now();
    displayCounter++;
    this.displayId = `progress-${Date.now().toString(36)}-${displayCounter}`;
  }

  /**
   * The text of the bar for an update (without control characters). With `columns`, fields are
   * dropped (throughput, learning rate, extra metrics, in that order) and the bar shortened until
   * the line fits; a line still too long is cut.
   */
  render(u: ProgressUpdate, final = false, columns = Infinity): string {
    const total = this.opts.total;
    const done = Math.min(u.step, total);
    const frac = total > 0 ? done / total : 1;
    const elapsed = (this.now() - this.start) / 1000;
    const stepsHere = u.step - (this.opts.initialStep ?? 0);
    const rate = elapsed > 0 ? stepsHere / elapsed : 0;
    const head = (width: number) => {
      const filled = Math.round(frac * width);
      const bar = width > 0 ? " " + "█".repeat(filled) + "░".repeat(width - filled) : "";
      return `${this.opts.label ? this.opts.label + " " : ""}${done}/${total}${bar} ${
        Math.floor(frac * 100)
      }%`;
    };
    // [text, drop order (higher goes first; 0 never)]
    const parts: [string, number][] = [
      [`epoch ${u.epoch + 1}${this.opts.numEpochs ? "/" + this.opts.numEpochs : ""}`, 0],
    ];
    if (u.loss !== undefined) parts.push([`loss ${formatNumber(u.loss)}`, 0]);
    if (u.lr !== undefined) parts.push([`lr ${u.lr.toExponential(2)}`, 4]);
    for (const [k, v] of Object.entries(u.extra ?? {})) {
      parts.push([`${k} ${formatMetric(k, v)}`, 3]);
    }
    if (rate > 0) {
      parts.push([rate >= 1 ? `${rate.toFixed(2)} it/s` : `${(1 / rate).toFixed(2)} s/it`, 5]);
      if (u.examples !== undefined && elapsed > 0) {
        parts.push([`${(u.examples / elapsed).toFixed(1)} ex/s`, 6]);
      }
    }
    parts.push([
      final
        ? `elapsed ${formatDuration(elapsed)}`
        : `ETA ${rate > 0 ? formatDuration((total - done) / rate) : "?"}`,
      0,
    ]);
    const join = (width: number) => [head(width), ...parts.map(([t]) => t)].join(" | ");
    let line = join(20);
    for (const barWidth of [10, 0]) {
      if (line.length <= columns) break;
      line = join(barWidth);
    }
    while (line.length > columns && parts.some(([, p]) => p > 0)) {
      const worst = Math.max(...parts.map(([, p]) => p));
      const i = parts.map(([, p]) => p).lastIndexOf(worst);
      parts.splice(i, 1);
      line = join(0);
    }
    return line.length > columns ? line.slice(0, Math.max(0, columns - 1)) + "…" : line;
  }

  /** Reports progress; redraws at most every `intervalMs`. */
  update(u: ProgressUpdate): void {
    if (this.closed) return;
    this.last = u;
    if (this.mode === "none") return;
    const interval = this.opts.intervalMs ?? (this.mode === "lines" ? 10_000 : 200);
    const t = this.now();
    if (t - this.lastDraw < interval && u.step < this.opts.total) return;
    this.lastDraw = t;
    this.draw(this.render(u, false, this.columns()));
  }

  /** Columns a `tty` line may use (one less than the terminal, so it never wraps). */
  private columns(): number {
    if (this.mode !== "tty") return Infinity;
    return (this.opts.columns ?? terminalColumns()) - 1;
  }

  /** A line cut to the terminal (messages drawn by `draw` that `render` did not fit). */
  private fitted(text: string): string {
    const c = this.columns();
    return text.length > c ? text.slice(0, Math.max(0, c - 1)) + "…" : text;
  }

  /** Prints a message line without breaking the bar (e.g. an evaluation result). */
  log(message: string): void {
    if (this.mode === "none") return;
    if (this.mode === "tty") {
      this.write(`\r${" ".repeat(this.ttyWidth)}\r${message}\n`);
      this.ttyWidth = 0;
      if (this.last) this.draw(this.render(this.last, false, this.columns()));
    } else if (this.mode === "jupyter") {
      // Messages go to the cell's normal output; the bar stays one display.
      console.log(message);
    } else {
      this.write(message + "\n");
    }
  }

  private draw(text: string): void {
    switch (this.mode) {
      case "tty": {
        text = this.fitted(text);
        const pad = Math.max(0, this.ttyWidth - text.length);
        this.write(`\r${text}${" ".repeat(pad)}`);
        this.ttyWidth = text.length;
        break;
      }
      case "lines":
        this.write(text + "\n");
        break;
      case "jupyter": {
        const type = this.displayed ? "update_display_data" : "display_data";
        this.displayed = true;
        const html = `<pre style="margin:0">${
          text.replaceAll("&", "&amp;").replaceAll("<", "&lt;")
        }</pre>`;
        const content = {
          data: { "text/plain": text, "text/html": html },
          metadata: {},
          transient: { display_id: this.displayId },
        };
        const b = this.broadcast!;
        this.chain = this.chain.then(() => b(type, content)).catch(() => {});
        break;
      }
    }
  }

  /** Draws the final state and ends the bar (a newline on a terminal). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.mode !== "none" && this.last) {
      this.draw(this.render(this.last, true, this.columns()));
      if (this.mode === "tty") this.write("\n");
    }
    await this.chain;
  }
}
