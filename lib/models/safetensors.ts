/**
 * The safetensors format: an 8-byte little-endian header length N, N bytes of JSON
 * (`{"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}`, offsets
 * relative to the end of the header), then the raw little-endian tensor data.
 * Reading validates everything before any value is used: header inside the file, known dtypes,
 * offsets inside the data, sizes matching the shapes, no overlap and no gap (as the reference
 * implementation requires).
 * @module
 */
import { convertToFloat32, DTYPE_SIZE, numel, type RawDtype, type RawTensor } from "./tensors.ts";

/** Largest header accepted (the reference implementation's limit is 100 MB). */
const MAX_HEADER = 100_000_000;

/** Parsed safetensors file. */
export interface SafetensorsFile {
  tensors: Map<string, RawTensor>;
  metadata: Record<string, string>;
}

/** One tensor of a safetensors header: dtype, shape and byte range in the data section. */
export interface SafetensorsEntry {
  /** Tensor name as stored. */
  name: string;
  /** Element type. */
  dtype: RawDtype;
  /** Shape (row-major). */
  shape: number[];
  /** Start of its bytes, relative to the data section. */
  begin: number;
  /** End (exclusive) of its bytes, relative to the data section. */
  end: number;
}

/** A validated safetensors header: its tensors (header order), metadata, where the data starts. */
export interface SafetensorsHeader {
  entries: SafetensorsEntry[];
  metadata: Record<string, string>;
  /** Byte offset of the data section in the file (8 + header length). */
  dataStart: number;
}

/** The header length a file's first 8 bytes announce, checked against the file's size. */
function headerLength(first8: Uint8Array, fileLength: number, fail: (m: string) => never): number {
  if (fileLength < 8) fail(`file is ${fileLength} bytes, shorter than the 8-byte header length`);
  const n = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(fileLength - 8)) {
    fail(`header length ${n} is larger than the rest of the file (${fileLength - 8} bytes)`);
  }
  if (n > BigInt(MAX_HEADER)) fail(`header length ${n} exceeds ${MAX_HEADER}`);
  return Number(n);
}

/**
 * Parses and validates the header of a safetensors file of `fileLength` bytes from `head`, its
 * first `8 + N` bytes (at least): every check of {@link parseSafetensors} that needs no tensor
 * value (dtypes, shapes, offsets inside the data section, sizes, no overlap, no gap).
 */
export function parseSafetensorsHeader(
  head: Uint8Array,
  fileLength: number,
  file: string,
): SafetensorsHeader {
  const fail = (msg: string): never => {
    throw new Error(`${file}: invalid safetensors file: ${msg}`);
  };
  const headerLen = headerLength(head, fileLength, fail);
  if (head.length < 8 + headerLen) fail("header is cut short");
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(
      head.subarray(8, 8 + headerLen),
    ));
  } catch (e) {
    fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    fail("header is not a JSON object");
  }
  const dataStart = 8 + headerLen;
  const dataLen = fileLength - dataStart;
  const metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (typeof info !== "object" || info === null) fail("__metadata__ is not an object");
      for (const [k, v] of Object.entries(info as Record<string, unknown>)) {
        if (typeof v !== "string") fail(`__metadata__.${k} is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    const t = info as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof t !== "object" || t === null) fail(`tensor "${name}": entry is not an object`);
    if (typeof t.dtype !== "string" || !(t.dtype in DTYPE_SIZE)) {
      fail(`tensor "${name}": unsupported dtype ${JSON.stringify(t.dtype)}`);
    }
    const isIndex = (x: unknown) => typeof x === "number" && Number.isSafeInteger(x) && x >= 0;
    if (!Array.isArray(t.shape) || !t.shape.every(isIndex)) {
      fail(`tensor "${name}": bad shape ${JSON.stringify(t.shape)}`);
    }
    const off = t.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every(isIndex) || off[0] > off[1]) {
      fail(`tensor "${name}": bad data_offsets ${JSON.stringify(off)}`);
    }
    const [begin, end] = off as [number, number];
    const dtype = t.dtype as RawDtype;
    const shape = t.shape as number[];
    if (end > dataLen) {
      fail(
        `tensor "${name}": data_offsets [${begin}, ${end}] point outside the file (data section is ${dataLen} bytes; truncated file?)`,
      );
    }
    const want = numel(shape) * DTYPE_SIZE[dtype];
    if (end - begin !== want) {
      fail(
        `tensor "${name}": ${end - begin} bytes for shape [${shape}] ${dtype}, expected ${want}`,
      );
    }
    entries.push({ name, dtype, shape, begin, end });
  }
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  let prev = "";
  for (const e of sorted) {
    if (e.begin < pos) {
      fail(`tensor "${e.name}": data_offsets [${e.begin}, ${e.end}] overlap tensor "${prev}"`);
    }
    if (e.begin > pos) {
      fail(`tensor "${e.name}": gap of ${e.begin - pos} bytes before its data at ${e.begin}`);
    }
    pos = e.end;
    prev = e.name;
  }
  if (pos !== dataLen) {
    fail(`${dataLen - pos} bytes after the last tensor's data (offsets cover ${pos} bytes)`);
  }
  return { entries, metadata, dataStart };
}

/** Parses a safetensors file held in memory; `file` names it in error messages. */
export function parseSafetensors(bytes: Uint8Array, file: string): SafetensorsFile {
  const { entries, metadata, dataStart } = parseSafetensorsHeader(bytes, bytes.length, file);
  const tensors = new Map<string, RawTensor>();
  for (const e of entries) {
    tensors.set(e.name, {
      dtype: e.dtype,
      shape: e.shape,
      toFloat32: () => convertToFloat32(bytes, dataStart + e.begin, e.dtype, numel(e.shape)),
    });
  }
  return { tensors, metadata };
}

/**
 * Reads and validates only the header of a safetensors file on disk (8 + N bytes, whatever the
 * file's size): the tensors' names, dtypes and shapes, without their values.
 */
export async function readSafetensorsHeader(path: string): Promise<SafetensorsHeader> {
  const f = await Deno.open(path, { read: true });
  try {
    const size = (await f.stat()).size;
    const readAt = async (n: number) => {
      const buf = new Uint8Array(n);
      let got = 0;
      while (got < n) {
        const r = await f.read(buf.subarray(got));
        if (r === null) break;
        got += r;
      }
      return buf.subarray(0, got);
    };
    const first = await readAt(Math.min(8, size));
    const fail = (msg: string): never => {
      throw new Error(`${path}: invalid safetensors file: ${msg}`);
    };
    const n = headerLength(first, size, fail);
    const head = new Uint8Array(8 + n);
    head.set(first);
    head.set(await readAt(n), 8);
    return parseSafetensorsHeader(head, size, path);
  } finally {
    f.close();
  }
}

/** Reads and parses a safetensors file from disk. */
export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  return parseSafetensors(await Deno.readFile(path), path);
}

/** A float32 tensor to write. */
export interface Float32Entry {
  name: string;
  shape: number[];
  data: Float32Array;
}

/**
 * Serialises float32 tensors (dtype "F32") in the given order, with optional string metadata.
 * The header is padded with spaces to a multiple of 8 bytes, like the reference writer.
 */
export function serializeSafetensors(
  entries: readonly Float32Entry[],
  metadata: Record<string, string> = { format: "pt" },
): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const e of entries) {
    if (e.data.length !== numel(e.shape)) {
      throw new Error(
        `serializeSafetensors: "${e.name}" has ${e.data.length} values for [${e.shape}]`,
      );
    }
    if (e.name in header) throw new Error(`serializeSafetensors: duplicate name "${e.name}"`);
    header[e.name] = {
      dtype: "F32",
      shape: e.shape,
      data_offsets: [offset, offset + e.data.length * 4],
    };
    offset += e.data.length * 4;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) {
    const padded = new Uint8Array(json.length + pad).fill(0x20);
    padded.set(json);
    json = padded;
  }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let p = 8 + json.length;
  const little = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  for (const e of entries) {
    if (little) out.set(new Uint8Array(e.data.buffer, e.data.byteOffset, e.data.length * 4), p);
    else {
      const dv = new DataView(out.buffer, p);
      for (let i = 0; i < e.data.length; i++) dv.setFloat32(i * 4, e.data[i], true);
    }
    p += e.data.length * 4;
  }
  return out;
}
