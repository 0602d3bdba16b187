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

/** Parses a safetensors file held in memory; `file` names it in error messages. */
export function parseSafetensors(bytes: Uint8Array, file: string): SafetensorsFile {
  const fail = (msg: string): never => {
    throw new Error(`${file}: invalid safetensors file: ${msg}`);
  };
  if (bytes.length < 8) {
    fail(`file is ${bytes.length} bytes, shorter than the 8-byte header length`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = dv.getBigUint64(0, true);
  if (n > BigInt(bytes.length - 8)) {
    fail(`header length ${n} is larger than the rest of the file (${bytes.length - 8} bytes)`);
  }
  if (n > BigInt(MAX_HEADER)) fail(`header length ${n} exceeds ${MAX_HEADER}`);
  const headerLen = Number(n);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(
      bytes.subarray(8, 8 + headerLen),
    ));
  } catch (e) {
    fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    fail("header is not a JSON object");
  }
  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const entries: { name: string; dtype: RawDtype; shape: number[]; begin: number; end: number }[] =
    [];
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
