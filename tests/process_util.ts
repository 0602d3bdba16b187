/** The repository root (the working directory of {@link runDeno}). */
export const ROOT = new URL("../", import.meta.url).pathname;

/** Runs `deno <args>` in the repository root (with `env` added to the environment); exit code
 * and decoded output. */
export async function runDeno(args: string[], env: Record<string, string> = {}): Promise<{
  code: number;
  stdout: string;
  stderr: string;
}> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}
