/**
 * File-system checks shared by the layers.
 * @module
 */

/**
 * Whether `path` can be stat'ed (a file, a folder, or a link to one); false on any error.
 *
 * @example
 * ```ts
 * import { exists } from "./fs.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(await exists("/no/such/path"), false);
 * ```
 */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** {@link exists}, synchronously. */
export function existsSync(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
