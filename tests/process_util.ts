/** The repository root (the working directory of {@link runDeno}). */
export const ROOT = new URL("../", import.meta.url).pathname;

/** Runs `deno <args>` in the repository root; exit code and decoded output. */
export async function runDeno(args: string[]): Promise<{
  code: number;
  stdout: string;
  stderr: string;
}> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}
