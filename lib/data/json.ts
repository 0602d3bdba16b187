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
 * Parses `text` as JSON. An empty (or all-whitespace) text is a `DataError` "… is empty". On a
 * syntax error throws a `DataError` naming `file`, the line and column of the first offending
 * character and what was expected there. The position is found by `findJsonError` (V8's
 * messages do not always carry one).
 */
export function parseJsonText(text: string, file: string): unknown {
  if (text.trim() === "") {
    throw new DataError({
      file,
      message: text.length
        ? "is empty (only whitespace), expected JSON"
        : "is empty, expected JSON",
    });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    const found = findJsonError(text) ?? {
      pos: text.length,
      reason: e instanceof Error ? e.message : String(e),
    };
    const { line, column } = lineColumn(text, found.pos);
    const near = text.slice(found.pos, found.pos + 20).split("\n")[0];
    throw new DataError({
      file,
      message: `invalid JSON at line ${line}, column ${column}: ${found.reason}` +
        (near ? ` (near ${JSON.stringify(near)})` : ""),
    });
  }
}

/**
 * Scans `text` with the JSON grammar (RFC 8259) and returns the UTF-16 index of the first
 * character that cannot continue it, with the reason; `null` when `text` is valid JSON.
 */
export function findJsonError(text: string): { pos: number; reason: string } | null {
  let i = 0;
  const n = text.length;
  class Stop {
    constructor(readonly pos: number, readonly reason: string) {}
  }
  const fail = (reason: string): never => {
    throw new Stop(i, i >= n ? "unexpected end of input" : reason);
  };
  const show = () => (i < n ? JSON.stringify(String.fromCodePoint(text.codePointAt(i)!)) : "end");
  const ws = () => {
    while (i < n && (text[i] === " " || text[i] === "\t" || text[i] === "\n" || text[i] === "\r")) {
      i++;
    }
  };
  const digits = () => {
    const s = i;
    while (i < n && text[i] >= "0" && text[i] <= "9") i++;
    if (i === s) fail(`expected a digit, found ${show()}`);
  };
  const str = () => {
    i++; // opening quote
    for (;;) {
      if (i >= n) fail("");
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) fail(`control character U+${c.toString(16).padStart(4, "0")} inside a string`);
      if (c === 0x5c) {
        i++;
        if (i >= n) fail("");
        const esc = text[i];
        if (esc === "u") {
          for (let k = 1; k <= 4; k++) {
            if (!/[0-9a-fA-F]/.test(text[i + k] ?? "")) {
              i += k;
              fail(`bad \\u escape: expected a hex digit, found ${show()}`);
            }
          }
          i += 5;
        } else if ('"\\/bfnrt'.includes(esc)) i++;
        else fail(`bad escape \\${esc}`);
      } else i++;
    }
  };
  // After the opening bracket: `item`s separated by commas up to `close`, or nothing.
  const items = (close: "}" | "]", item: () => void, what: string): void => {
    i++;
    ws();
    if (text[i] === close) {
      i++;
      return;
    }
    for (;;) {
      item();
      ws();
      if (text[i] === ",") {
        i++;
        continue;
      }
      if (text[i] === close) {
        i++;
        return;
      }
      fail(`expected ',' or '${close}' after ${what}, found ${show()}`);
    }
  };
  const member = (): void => {
    ws();
    if (text[i] !== '"') fail(`expected a double-quoted property name, found ${show()}`);
    str();
    ws();
    if (text[i] !== ":") fail(`expected ':' after a property name, found ${show()}`);
    i++;
    value();
  };
  const value = (): void => {
    ws();
    if (i >= n) fail("");
    const c = text[i];
    if (c === "{") return items("}", member, "a property value");
    if (c === "[") return items("]", value, "an array element");
    if (c === '"') return str();
    for (const lit of ["true", "false", "null"]) {
      if (c === lit[0]) {
        for (let k = 0; k < lit.length; k++, i++) {
          if (text[i] !== lit[k]) fail(`unexpected ${show()} (expected ${lit})`);
        }
        return;
      }
    }
    if (c === "-" || (c >= "0" && c <= "9")) {
      if (c === "-") i++;
      if (text[i] === "0") i++;
      else digits();
      if (text[i] === ".") {
        i++;
        digits();
      }
      if (text[i] === "e" || text[i] === "E") {
        i++;
        if (text[i] === "+" || text[i] === "-") i++;
        digits();
      }
      return;
    }
    fail(`unexpected ${show()} where a value should start`);
  };
  try {
    value();
    ws();
    if (i < n) fail(`unexpected ${show()} after the end of the JSON value`);
    return null;
  } catch (e) {
    if (e instanceof Stop) return { pos: e.pos, reason: e.reason };
    throw e;
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
