#!/usr/bin/python3
"""Execute one notebook headlessly with nbclient (Jupyter's executor), showing progress.

Used by `deno task report` (lib/report/runner.ts). Prints each cell as it starts and streams the
kernel's output while the cell runs (training bars included), with no per-cell timeout. On the
first failing cell it stops, writes the partly executed notebook, and records the cell and its
error in the status file.

usage: run_notebook.py INPUT.ipynb OUTPUT.ipynb --status STATUS.json [--cwd DIR]
                       [--kernel deno] [--label TEXT] [--startup-timeout S]
exit status: 0 all cells ran; 1 a cell failed; 2 the notebook could not be run at all.
"""

import argparse
import json
import re
import sys
import time
import traceback

# Seconds of silence after a cell's "idle" status before its output is taken as complete.
GRACE_S = 0.2
ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


def strip_ansi(text):
    return ANSI.sub("", text)


def write_json(path, value):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, ensure_ascii=False, indent=2)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--status", required=True)
    ap.add_argument("--cwd", default=None)
    ap.add_argument("--kernel", default="deno")
    ap.add_argument("--label", default="")
    ap.add_argument("--startup-timeout", type=int, default=180)
    args = ap.parse_args()

    status = {"ok": False, "notebook": args.input, "cells": 0, "executed": 0, "seconds": 0.0}
    try:
        import nbformat
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError
        try:
            from nbclient.util import ensure_async
        except ImportError:  # newer nbclient keeps it in jupyter_core
            from jupyter_core.utils import ensure_async
    except ImportError as e:
        status["error"] = f"nbclient/nbformat not importable in {sys.executable}: {e}"
        write_json(args.status, status)
        print(status["error"], file=sys.stderr)
        return 2

    nb = nbformat.read(args.input, as_version=4)
    code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    status["cells"] = len(code_cells)
    prefix = f"[{args.label}] " if args.label else ""
    out = sys.stdout
    state = {"start": 0.0, "failed": None}

    class StreamingClient(NotebookClient):
        """NotebookClient that echoes stream/error outputs as they arrive."""

        def output(self, outs, msg, display_id, cell_index):
            kind = msg.get("msg_type")
            content = msg.get("content", {})
            if kind == "stream":
                out.write(content.get("text", ""))
                out.flush()
            elif kind in ("display_data", "execute_result"):
                mimes = ", ".join(sorted(content.get("data", {}).keys()))
                out.write(f"{prefix}  <display: {mimes}>\n")
                out.flush()
            return super().output(outs, msg, display_id, cell_index)

        async def _async_poll_output_msg(self, parent_msg_id, cell, cell_index):
            await super()._async_poll_output_msg(parent_msg_id, cell, cell_index)
            # The Deno kernel forwards stdout from a pipe reader, so a cell's last console.log
            # lines can arrive just after its "idle" status; nbclient would drop them. Keep
            # reading this cell's output until the channel has been quiet for a short while.
            while True:
                try:
                    msg = await ensure_async(self.kc.iopub_channel.get_msg(timeout=GRACE_S))
                except Exception:  # queue.Empty: quiet
                    return
                if msg["parent_header"].get("msg_id") != parent_msg_id:
                    continue
                if msg["msg_type"] in ("stream", "display_data", "update_display_data"):
                    self.process_message(msg, cell, cell_index)

    def on_cell_start(cell, cell_index, **_kw):
        if cell.cell_type != "code":
            return
        n = code_cells.index(cell_index) + 1
        first = next((l for l in cell.source.splitlines() if l.strip()), "")
        if len(first) > 70:
            first = first[:67] + "..."
        state["start"] = time.time()
        out.write(f"{prefix}cell {n}/{len(code_cells)} (notebook cell {cell_index + 1}): {first}\n")
        out.flush()

    def on_cell_executed(cell, cell_index, execute_reply, **_kw):
        if cell.cell_type != "code":
            return
        status["executed"] += 1
        dt = time.time() - state["start"]
        if dt >= 1.0:
            out.write(f"{prefix}  done in {dt:.1f}s\n")
            out.flush()

    def on_cell_error(cell, cell_index, execute_reply, **_kw):
        content = (execute_reply or {}).get("content", {})
        state["failed"] = {
            "cell_index": cell_index,
            "code_cell": code_cells.index(cell_index) + 1 if cell_index in code_cells else None,
            "source": cell.source,
            "ename": strip_ansi(str(content.get("ename", ""))),
            "evalue": strip_ansi(str(content.get("evalue", ""))),
            "traceback": [strip_ansi(str(t)) for t in content.get("traceback", [])],
        }

    client = StreamingClient(
        nb,
        kernel_name=args.kernel,
        timeout=None,
        startup_timeout=args.startup_timeout,
        allow_errors=False,
        record_timing=True,
        resources={"metadata": {"path": args.cwd}} if args.cwd else {},
        on_cell_start=on_cell_start,
        on_cell_executed=on_cell_executed,
        on_cell_error=on_cell_error,
    )
    t0 = time.time()
    code = 0
    try:
        client.execute()
        status["ok"] = True
    except CellExecutionError as e:
        code = 1
        status["failed_cell"] = state["failed"] or {"evalue": strip_ansi(str(e))}
    except Exception as e:  # kernel could not start, died, ...
        code = 2
        status["error"] = f"{type(e).__name__}: {strip_ansi(str(e))}"
        status["traceback"] = traceback.format_exc()
    status["seconds"] = round(time.time() - t0, 3)
    try:
        nbformat.write(client.nb, args.output)
    except Exception as e:
        status.setdefault("error", f"could not write {args.output}: {e}")
    write_json(args.status, status)
    return code


if __name__ == "__main__":
    sys.exit(main())
