/**
 * Reads `pytorch_model.bin` files written by `torch.save(state_dict)` — the zip format
 * (PyTorch ≥ 1.6: `<name>/data.pkl` + one stored member `<name>/data/<key>` per storage) and the
 * legacy format (consecutive pickles: magic number, protocol, system info, the object, the
 * storage keys, then each storage's raw data) — without running Python or any pickled code.
 * Only the globals a state dict needs are allowed (OrderedDict, the tensor rebuild functions and
 * the storage classes); tensors that share a storage (tied weights) are supported.
 * @module
 */
import { PyDict, PyGlobal, type PyTuple, type PyValue, unpickle } from "./pickle.ts";
import { convertToFloat32, DTYPE_SIZE, numel, type RawDtype, type RawTensor } from "./tensors.ts";
import { isZip, ZipArchive } from "./zip.ts";

const STORAGE_DTYPES: Record<string, RawDtype> = {
  "torch.FloatStorage": "F32",
  "torch.HalfStorage": "F16",
  "torch.BFloat16Storage": "BF16",
  "torch.DoubleStorage": "F64",
  "torch.LongStorage": "I64",
  "torch.IntStorage": "I32",
  "torch.ShortStorage": "I16",
  "torch.CharStorage": "I8",
  "torch.ByteStorage": "U8",
  "torch.BoolStorage": "BOOL",
};

const ALLOWED = new Set([
  "collections.OrderedDict",
  "torch._utils._rebuild_tensor_v2",
  "torch._utils._rebuild_parameter",
  ...Object.keys(STORAGE_DTYPES),
]);

/** A storage referenced by the pickle (its bytes are located later). */
class StorageRef {
  constructor(readonly key: string, readonly dtype: RawDtype, readonly numel: number) {}
}

/** A tensor view of a storage. */
class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

/** Parses a torch checkpoint held in memory into its named tensors. */
export function parseTorchCheckpoint(bytes: Uint8Array, file: string): Map<string, RawTensor> {
  const storages = new Map<string, StorageRef>();
  const fail = (msg: string): never => {
    throw new Error(`${file}: ${msg}`);
  };
  const ints = (v: PyValue, what: string): number[] => {
    const items = (v as PyTuple)?.items;
    if (!Array.isArray(items) || !items.every((x) => typeof x === "number" && x >= 0)) {
      fail(`${what} is not a tuple of non-negative integers`);
    }
    return items as number[];
  };
  let legacy = false;
  const hooks = {
    allowedGlobals: ALLOWED,
    persistentLoad(pid: PyValue): PyValue {
      const t = (pid as PyTuple)?.items;
      if (!Array.isArray(t) || t[0] !== "storage" || t.length < 5) {
        fail("unsupported persistent id in pickle");
      }
      const [, type, key, , count] = t as PyValue[];
      if (!(type instanceof PyGlobal) || !(type.qualname in STORAGE_DTYPES)) {
        fail("persistent id names an unknown storage type");
      }
      if (typeof key !== "string" || typeof count !== "number" || count < 0) {
        fail("malformed storage persistent id");
      }
      if (legacy && t.length > 5 && t[5] !== null) fail("legacy storage views are not supported");
      const dtype = STORAGE_DTYPES[(type as PyGlobal).qualname];
      const prev = storages.get(key as string);
      if (prev) {
        if (prev.dtype !== dtype) fail(`storage ${key} used with two dtypes`);
        return prev;
      }
      const s = new StorageRef(key as string, dtype, count as number);
      storages.set(s.key, s);
      return s;
    },
    reduce(fn: PyGlobal, args: PyTuple): PyValue {
      const a = args.items;
      switch (fn.qualname) {
        case "collections.OrderedDict":
          if (a.length) fail("OrderedDict called with arguments");
          return new PyDict();
        case "torch._utils._rebuild_tensor_v2": {
          if (a.length < 6 || a.length > 7) fail("_rebuild_tensor_v2 with unexpected arguments");
          const storage = a[0];
          if (!(storage instanceof StorageRef)) fail("tensor without a storage");
          if (typeof a[1] !== "number" || a[1] < 0) fail("bad tensor storage offset");
          const shape = ints(a[2], "tensor size");
          const stride = ints(a[3], "tensor stride");
          if (shape.length !== stride.length) fail("tensor size and stride differ in length");
          return new TensorRef(storage as StorageRef, a[1] as number, shape, stride);
        }
        case "torch._utils._rebuild_parameter":
          if (!(a[0] instanceof TensorRef)) fail("_rebuild_parameter without a tensor");
          return a[0];
        default:
          return fail(`calling ${fn.qualname} is not allowed`);
      }
    },
    build(obj: PyValue, state: PyValue): PyValue {
      // torch's state_dict carries a `_metadata` attribute (module versions): ignored.
      if (obj instanceof PyDict && state instanceof PyDict) return obj;
      return fail("BUILD is only allowed to set attributes of a dict");
    },
  };

  let root: PyValue;
  let storageBytes: (s: StorageRef) => { bytes: Uint8Array; offset: number; length: number };
  if (isZip(bytes)) {
    const zip = new ZipArchive(bytes, file);
    const pkl = [...zip.entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
    if (pkl.length !== 1) fail("zip archive without a single <name>/data.pkl (not a torch file?)");
    const prefix = pkl[0].slice(0, -"data.pkl".length);
    const data = zip.read(pkl[0]);
    const r = unpickle(data, 0, hooks, `${file} (${pkl[0]})`);
    if (r.end !== data.length) fail("trailing bytes after the pickle in data.pkl");
    root = r.value;
    storageBytes = (s) => {
      const name = `${prefix}data/${s.key}`;
      if (!zip.entries.has(name)) fail(`storage "${s.key}" has no archive member ${name}`);
      const b = zip.read(name);
      return { bytes: b, offset: 0, length: b.length };
    };
  } else if (bytes[0] === 0x80) {
    legacy = true;
    const where = `${file} (legacy torch format)`;
    const noHooks = { ...hooks, allowedGlobals: new Set<string>() };
    let r = unpickle(bytes, 0, noHooks, where);
    if (r.value !== LEGACY_MAGIC && r.value !== Number(LEGACY_MAGIC)) {
      fail("not a torch checkpoint (bad magic number)");
    }
    r = unpickle(bytes, r.end, noHooks, where);
    if (r.value !== 1001) fail(`unsupported legacy protocol version ${String(r.value)}`);
    r = unpickle(bytes, r.end, noHooks, where);
    const info = r.value instanceof PyDict ? r.value.map : null;
    if (!info || info.get("little_endian") !== true) {
      fail("only little-endian checkpoints are supported");
    }
    r = unpickle(bytes, r.end, hooks, where);
    root = r.value;
    r = unpickle(bytes, r.end, noHooks, where);
    const keys = r.value;
    if (!Array.isArray(keys) || !keys.every((k) => typeof k === "string")) {
      fail("legacy storage key list is malformed");
    }
    const located = new Map<string, { offset: number; length: number }>();
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let p = r.end;
    for (const key of keys as string[]) {
      const s = storages.get(key);
      if (!s) fail(`legacy storage "${key}" is not referenced by any tensor`);
      if (p + 8 > bytes.length) fail(`storage "${key}" is missing (truncated file?)`);
      const n = Number(dv.getBigInt64(p, true));
      const length = n * DTYPE_SIZE[s!.dtype];
      if (n < 0 || p + 8 + length > bytes.length) {
        fail(`storage "${key}" extends past the end of the file (truncated file?)`);
      }
      located.set(key, { offset: p + 8, length });
      p += 8 + length;
    }
    storageBytes = (s) => {
      const loc = located.get(s.key);
      if (!loc) fail(`storage "${s.key}" has no data`);
      return { bytes, offset: loc!.offset, length: loc!.length };
    };
  } else {
    return fail("not a PyTorch checkpoint (neither a zip archive nor a legacy pickle)");
  }

  if (!(root instanceof PyDict)) fail("the pickled object is not a state dict (dict of tensors)");
  const out = new Map<string, RawTensor>();
  for (const [name, value] of (root as PyDict).map) {
    if (typeof name !== "string") fail("state dict key is not a string");
    if (!(value instanceof TensorRef)) fail(`state dict entry "${name}" is not a tensor`);
    const t = value as TensorRef;
    const s = t.storage;
    const loc = storageBytes(s);
    const item = DTYPE_SIZE[s.dtype];
    if (loc.length < s.numel * item) {
      fail(
        `storage "${s.key}" of tensor "${name}" has ${loc.length} bytes, expected ${
          s.numel * item
        }`,
      );
    }
    const count = numel(t.shape);
    let last = t.offset;
    for (let d = 0; d < t.shape.length; d++) {
      if (t.shape[d] > 0) last += (t.shape[d] - 1) * t.stride[d];
    }
    if (count > 0 && last >= s.numel) {
      fail(`tensor "${name}" [${t.shape}] reads past the end of its storage "${s.key}"`);
    }
    let contiguous = true;
    for (let d = t.shape.length - 1, want = 1; d >= 0; d--) {
      if (t.shape[d] !== 1 && t.stride[d] !== want) contiguous = false;
      want *= t.shape[d];
    }
    const index = contiguous ? undefined : (i: number) => {
      let pos = 0;
      for (let d = t.shape.length - 1; d >= 0; d--) {
        pos += (i % t.shape[d]) * t.stride[d];
        i = Math.floor(i / t.shape[d]);
      }
      return pos;
    };
    out.set(name as string, {
      dtype: s.dtype,
      shape: t.shape,
      toFloat32: () =>
        convertToFloat32(loc.bytes, loc.offset + t.offset * item, s.dtype, count, index),
    });
  }
  return out;
}

/** Reads and parses a `pytorch_model.bin` from disk. */
export async function readTorchCheckpoint(path: string): Promise<Map<string, RawTensor>> {
  return parseTorchCheckpoint(await Deno.readFile(path), path);
}
