/**
 * The Deno Jupyter kernelspec: finding it (what `jupyter kernelspec list` would list) and
 * installing it with `deno jupyter --install` when it is missing.
 * @module
 */

function home(): string {
  return Deno.env.get("HOME") ?? "/root";
}

/**
 * Jupyter data directories searched for kernelspecs, in Jupyter's order: `$JUPYTER_PATH`
 * entries, `$JUPYTER_DATA_DIR` (else the user data dir), then the system dirs.
 */
export function jupyterDataDirs(): string[] {
  const dirs: string[] = [];
  const jp = Deno.env.get("JUPYTER_PATH");
  if (jp) dirs.push(...jp.split(":").filter((d) => d !== ""));
  const user = Deno.env.get("JUPYTER_DATA_DIR") ??
    (Deno.build.os === "darwin"
      ? `${home()}/Library/Jupyter`
      : `${Deno.env.get("XDG_DATA_HOME") ?? `${home()}/.local/share`}/jupyter`);
  dirs.push(user, "/usr/local/share/jupyter", "/usr/share/jupyter");
  return dirs;
}

/** Path of the installed `deno` kernelspec's kernel.json, or null when none is installed. */
export function findDenoKernelSpec(name = "deno"): string | null {
  for (const dir of jupyterDataDirs()) {
    const path = `${dir}/kernels/${name}/kernel.json`;
    try {
      const spec = JSON.parse(Deno.readTextFileSync(path));
      if (Array.isArray(spec.argv) && spec.argv.length > 0) return path;
    } catch {
      // absent or unreadable: keep looking
    }
  }
  return null;
}

/**
 * Makes sure the Deno kernelspec is installed; runs `deno jupyter --install` if not. Returns the
 * kernel.json path. Throws with the installer's output when installation fails.
 */
export async function ensureDenoKernel(
  log: (line: string) => void = console.log,
): Promise<string> {
  const found = findDenoKernelSpec();
  if (found) return found;
  log("[report] Deno Jupyter kernel not installed; running 'deno jupyter --install'");
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["jupyter", "--install"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const installed = findDenoKernelSpec();
  if (!out.success || !installed) {
    const dec = new TextDecoder();
    throw new Error(
      `'deno jupyter --install' failed (exit ${out.code}); searched ${
        jupyterDataDirs().join(", ")
      }:\n${dec.decode(out.stdout)}${dec.decode(out.stderr)}`,
    );
  }
  return installed;
}
