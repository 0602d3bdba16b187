/**
 * Atomic file and directory writes: content goes to a temporary sibling first and is renamed
 * into place, so a reader (or a resumed run after a crash) sees either the old complete version
 * or the new complete version, never a half-written one.
 * @module
 */

let counter = 0;

function tmpName(path: string, tag: string): string {
  counter++;
  return `${path}.${tag}-${Deno.pid}-${Date.now().toString(36)}-${counter}`;
}

function dirOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "." : i === 0 ? "/" : path.slice(0, i);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/**
 * Writes `data` to `path` atomically: a temporary file in the same directory is written,
 * flushed to disk and renamed over `path`. The parent directory is created when missing.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await Deno.mkdir(dirOf(path), { recursive: true });
  const tmp = tmpName(path, "tmp");
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
  try {
    let off = 0;
    while (off < bytes.length) off += await file.write(bytes.subarray(off));
    await file.sync();
  } catch (e) {
    file.close();
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
  file.close();
  await Deno.rename(tmp, path);
}

/** `writeFileAtomic` for JSON (2-space indent, trailing newline). */
export function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  return writeFileAtomic(path, JSON.stringify(value, null, 2) + "\n");
}

/**
 * Builds a directory atomically: `fill` writes into a fresh temporary directory beside `dir`,
 * which then replaces `dir`. If `dir` already exists it is first moved aside and deleted only
 * after the new one is in place; if `fill` throws, `dir` is left untouched and the temporary
 * directory is removed.
 *
 * (POSIX rename cannot replace a non-empty directory, so replacing is two renames; between them
 * `dir` is briefly absent but the previous version still exists under a `.old-*` name.)
 */
export async function writeDirAtomic(
  dir: string,
  fill: (tmpDir: string) => Promise<void>,
): Promise<void> {
  const parent = dirOf(dir);
  await Deno.mkdir(parent, { recursive: true });
  const tmp = tmpName(dir, "tmp");
  await Deno.mkdir(tmp, { recursive: true });
  try {
    await fill(tmp);
  } catch (e) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw e;
  }
  let old: string | null = null;
  if (await exists(dir)) {
    old = tmpName(dir, "old");
    await Deno.rename(dir, old);
  }
  try {
    await Deno.rename(tmp, dir);
  } catch (e) {
    if (old) await Deno.rename(old, dir).catch(() => {});
    throw e;
  }
  if (old) await Deno.remove(old, { recursive: true });
}
