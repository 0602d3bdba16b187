/**
 * The Python of the Hugging Face peer (torch, transformers) that benches and parity tests compare
 * against: `$HF_PYTHON`, else `python3` on the PATH. Nothing in the product needs it.
 * @module
 */

/** The peer's Python: `$HF_PYTHON`, else `python3`. */
export function peerPython(): string {
  return Deno.env.get("HF_PYTHON") || "python3";
}

/**
 * Whether `python` runs and imports `module` (e.g. `transformers`); a test that needs it is
 * ignored, with this reason, when it does not.
 *
 * @example
 * ```ts
 * import { pythonImports } from "./python.ts";
 * const r = await pythonImports("no_such_module_xyz", "python3");
 * if (r.ok) throw new Error("imported a module that does not exist");
 * ```
 */
export async function pythonImports(
  module: string,
  python = peerPython(),
): Promise<{ ok: boolean; reason: string }> {
  const ok = await new Deno.Command(python, {
    args: ["-c", `import ${module}`],
    stdout: "null",
    stderr: "null",
  }).output().then((o) => o.success).catch(() => false);
  return {
    ok,
    reason: ok
      ? `${python} imports ${module}`
      : `${python} cannot import ${module} (set HF_PYTHON to a Python with transformers)`,
  };
}
