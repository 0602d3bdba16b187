/**
 * Builds the native kernels' C sources (`native_kernels.c` and `native_bf16.c` beside this file) into a shared
 * library, once per machine: `cc -O3 -march=native -fopenmp ...` (Debian: `gcc`) writes
 * `$XDG_CACHE_HOME/bert-mrc-native/<hash of sources, flags and CPU flags>.so` (default
 * `~/.cache/...`). The sources are read next to this module (`import.meta.url`), so the build works
 * from any working directory. `native.ts` opens the result.
 * @module
 */
import { existsSync } from "../util/fs.ts";

/** The C files compiled into the native library, relative to this module. */
export const NATIVE_SOURCE_FILES: readonly string[] = ["native_kernels.c", "native_bf16.c"];

// -fno-trapping-math lets GCC turn the branch-free selects of the element-wise loops into vector
// code (results are unchanged; no exception flags are read). -z nodelete keeps the library (and
// with it libgomp) mapped when Deno closes it at exit: unmapping libgomp under its idle worker
// threads crashed about 1 exit in 12 with a segmentation fault.
const FLAGS = [
  "-O3",
  "-march=native",
  "-fno-trapping-math",
  "-fopenmp",
  "-shared",
  "-fPIC",
  "-Wl,-z,nodelete",
];

/** Reads one source file beside this module (a file: URL, or fetched when lib/ is remote). */
async function readSource(name: string): Promise<string> {
  const url = new URL(`./${name}`, import.meta.url);
  if (url.protocol === "file:") return await Deno.readTextFile(url);
  const res = await fetch(url);
  if (!res.ok) throw new Error(`cannot read ${url}: HTTP ${res.status}`);
  return await res.text();
}

/** The C sources of the native kernels, by file name (read at build time). */
export async function readNativeSources(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of NATIVE_SOURCE_FILES) out[f] = await readSource(f);
  return out;
}

async function sha256(text: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(d)].slice(0, 8).map((b) => b.toString(16).padStart(2, "0")).join("");
}

function cacheDir(): string {
  const xdg = Deno.env.get("XDG_CACHE_HOME");
  const home = Deno.env.get("HOME");
  return xdg
    ? `${xdg}/bert-mrc-native`
    : home
    ? `${home}/.cache/bert-mrc-native`
    : "/tmp/bert-mrc-native";
}

/** The `flags` line of /proc/cpuinfo (the architecture name where there is none). */
export function cpuFlags(): string {
  try {
    return /^flags\s*:(.*)$/m.exec(Deno.readTextFileSync("/proc/cpuinfo"))?.[1] ?? "";
  } catch {
    return Deno.build.arch;
  }
}

/**
 * Compiles the sources into the cache (once per sources, flags and CPU); returns the library
 * path. Throws with the compiler's first lines when there is no compiler or the build fails.
 */
export async function buildNative(): Promise<string> {
  const sources = await readNativeSources();
  const dir = cacheDir();
  // -march=native: the CPU's feature flags are part of the key (a shared home directory must not
  // hand one machine a library built for another). The first file's key is its text alone (the
  // hash of the former single source); more files are appended with their names.
  const names = Object.keys(sources);
  const text = names.map((n, i) => (i === 0 ? sources[n] : `\n/* ${n} */\n${sources[n]}`))
    .join("");
  const lib = `${dir}/${await sha256(text + FLAGS.join(" ") + cpuFlags())}.so`;
  if (existsSync(lib)) return lib;
  await Deno.mkdir(dir, { recursive: true });
  const tmpDir = await Deno.makeTempDir({ dir });
  const tmp = `${tmpDir}/lib.so`;
  try {
    const files: string[] = [];
    for (const n of names) {
      await Deno.writeTextFile(`${tmpDir}/${n}`, sources[n]);
      files.push(`${tmpDir}/${n}`);
    }
    const cc = Deno.env.get("CC") ?? "cc";
    let out: Deno.CommandOutput;
    try {
      out = await new Deno.Command(cc, {
        args: [...FLAGS, "-o", tmp, ...files, "-lm", "-ldl"],
        stdout: "piped",
        stderr: "piped",
      }).output();
    } catch (e) {
      throw new Error(
        `no C compiler (${cc}: ${e instanceof Error ? e.message.split("\n")[0] : e}); ` +
          "install gcc for the native kernels",
      );
    }
    if (!out.success) {
      const err = new TextDecoder().decode(out.stderr).trim().split("\n").slice(0, 2).join(" | ");
      throw new Error(`${cc} failed: ${err}`);
    }
    // Rename into place: a concurrent process sees either no library or a complete one.
    await Deno.rename(tmp, lib);
    return lib;
  } finally {
    await Deno.remove(tmpDir, { recursive: true }).catch(() => {});
  }
}
