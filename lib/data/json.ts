/**
 * Reading JSON data files with errors that point at the place: a syntax error reports the line
 * and column (computed from the parser's position), invalid UTF-8 and missing files name the file.
 * @module
 */
import { DataError } from "./types.ts";

/** 1-based line and column (in characters) of UTF-16 index `pos` in `text`. */
export function lineColumn(text: string, pos: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(Math.max(pos, 0), text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  // Column counts code points, as an editor would show it.
  const column = Array.from(text.slice(lineStart, end)).length + 1;
  return { line, column };
}

/**
 * Parses `text` as JSON. On a syntax error throws a `DataError` naming `file`, the line and
 * column, and the parser's complaint. The position comes from V8's message ("at position N");
 * when the parser gives none (unexpected end of input) the end of the text is used.
 */
export function parseJsonText(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const m = /at position (\d+)/.exec(msg);
    const pos = m ? Number(m[1]) : text.length;
    const { line, column } = lineColumn(text, pos);
    // Drop V8's own "(line x column y)" suffix: ours is computed the same way for every message.
    const reason = msg.replace(/\s*\(line \d+ column \d+\)/, "").replace(
      / in JSON at position \d+/,
      "",
    );
    const near = text.slice(pos, pos + 20).split("\n")[0];
    throw new DataError({
      file,
      message: `invalid JSON at line ${line}, column ${column}: ${reason}` +
        (near ? ` (near ${JSON.stringify(near)})` : ""),
    });
  }
}

/** Reads a UTF-8 text file; a missing file or invalid UTF-8 is a `DataError` naming the file. */
export async function readTextStrict(path: string): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new DataError({ file: path, message: "file not found" });
    }
    throw new DataError({
      file: path,
      message: `cannot read: ${e instanceof Error ? e.message : String(e)}`,
    });
  }
  try {
    // fatal: invalid bytes are an error, not silently replaced by U+FFFD. A leading BOM is
    // dropped (it is encoding, not content).
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    // Find the first invalid byte to point at it (error path only, so byte-by-byte is fine).
    let bad = 0;
    const dec = new TextDecoder("utf-8", { fatal: true });
    for (let i = 0; i < bytes.length; i++) {
      try {
        dec.decode(bytes.subarray(i, i + 1), { stream: i + 1 < bytes.length });
      } catch {
        bad = i;
        break;
      }
    }
    throw new DataError({ file: path, message: `not valid UTF-8 (bad byte at offset ${bad})` });
  }
}

/** Reads and parses a JSON file (see `parseJsonText`). */
export async function readJsonFile(path: string): Promise<unknown> {
  return parseJsonText(await readTextStrict(path), path);
}
