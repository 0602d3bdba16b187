/**
 * A restricted pickle reader: it understands the data opcodes `torch.save` emits (protocols
 * 2–4) and never imports or calls anything. `GLOBAL` references are resolved only when their
 * `module.name` is on the caller's allow-list (otherwise the file is refused at once), and
 * `REDUCE`/`BUILD`/persistent ids are handed to the caller, which decides what they mean. Any
 * other opcode is an error, never skipped.
 * @module
 */

/** A Python tuple. */
export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

/** A Python dict (insertion-ordered, like OrderedDict). */
export class PyDict {
  readonly map = new Map<PyValue, PyValue>();
}

/** A reference to an allowed global (`module.name`), e.g. a storage class. */
export class PyGlobal {
  constructor(readonly module: string, readonly name: string) {}
  /** `module.name`. */
  get qualname(): string {
    return `${this.module}.${this.name}`;
  }
}

/** Values the reader produces (`object` covers what the caller's hooks return). */
export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyValue[]
  | PyTuple
  | PyDict
  | PyGlobal
  | object;

/** Caller-supplied meaning of the code-like opcodes. */
export interface PickleHooks {
  /** Names (`module.name`) that GLOBAL / STACK_GLOBAL may reference. */
  allowedGlobals: ReadonlySet<string>;
  /** BINPERSID: turn a persistent id into a value. */
  persistentLoad(pid: PyValue): PyValue;
  /** REDUCE with an allowed global as callable. */
  reduce(fn: PyGlobal, args: PyTuple): PyValue;
  /** BUILD: apply `state` to `obj` (return the resulting object). */
  build(obj: PyValue, state: PyValue): PyValue;
}

const MARK = Symbol("mark");

/**
 * Reads one pickle starting at `start`; returns the value and the offset after its STOP.
 * `where` names the file (and member) in error messages.
 */
export function unpickle(
  bytes: Uint8Array,
  start: number,
  hooks: PickleHooks,
  where: string,
): { value: PyValue; end: number } {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: (PyValue | typeof MARK)[] = [];
  const memo = new Map<number, PyValue>();
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  let p = start;
  let opPos = start;
  const fail = (msg: string): never => {
    throw new Error(`${where}: refusing pickle at byte ${opPos}: ${msg}`);
  };
  const need = (n: number) => {
    if (n < 0 || p + n > bytes.length) fail("unexpected end of data (truncated file?)");
  };
  const u8 = () => (need(1), bytes[p++]);
  const u16 = () => (need(2), (p += 2), dv.getUint16(p - 2, true));
  const u32 = () => (need(4), (p += 4), dv.getUint32(p - 4, true));
  const i32 = () => (need(4), (p += 4), dv.getInt32(p - 4, true));
  const u64 = () => {
    need(8);
    const v = dv.getBigUint64(p, true);
    p += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail("length too large");
    return Number(v);
  };
  const take = (n: number) => (need(n), (p += n), bytes.subarray(p - n, p));
  const line = () => {
    const nl = bytes.indexOf(0x0a, p);
    if (nl < 0 || nl - p > 256) fail("bad GLOBAL line");
    const s = new TextDecoder().decode(bytes.subarray(p, nl));
    p = nl + 1;
    return s;
  };
  const pop = (): PyValue => {
    if (stack.length === 0) fail("stack underflow");
    const v = stack.pop()!;
    if (v === MARK) fail("unexpected MARK");
    return v as PyValue;
  };
  const top = (): PyValue => {
    if (stack.length === 0) fail("stack underflow");
    const v = stack[stack.length - 1];
    if (v === MARK) fail("unexpected MARK");
    return v as PyValue;
  };
  const popMark = (): PyValue[] => {
    const i = stack.lastIndexOf(MARK);
    if (i < 0) fail("MARK missing");
    const items = stack.splice(i) as PyValue[];
    items.shift();
    return items;
  };
  const str = (b: Uint8Array) => {
    try {
      return utf8.decode(b);
    } catch {
      return fail("invalid UTF-8 string");
    }
  };
  const global = (module: string, name: string) => {
    const q = `${module}.${name}`;
    if (!hooks.allowedGlobals.has(q)) {
      fail(`global "${q}" is not allowed (only what torch.save(state_dict) writes)`);
    }
    return new PyGlobal(module, name);
  };
  const setItems = (d: PyValue, kv: PyValue[]) => {
    if (!(d instanceof PyDict)) fail("SETITEM(S) on a non-dict");
    if (kv.length % 2) fail("odd number of items for SETITEMS");
    for (let i = 0; i < kv.length; i += 2) {
      const k = kv[i];
      if (typeof k !== "string" && typeof k !== "number" && typeof k !== "boolean" && k !== null) {
        fail("unsupported dict key type");
      }
      (d as PyDict).map.set(k, kv[i + 1]);
    }
  };
  const list = (l: PyValue): PyValue[] => Array.isArray(l) ? l : fail("APPEND(S) on a non-list");

  for (;;) {
    opPos = p;
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail("unsupported pickle protocol");
        break;
      case 0x95: // FRAME
        u64();
        break;
      case 0x2e: { // STOP
        const value = pop();
        return { value, end: p };
      }
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new PyDict());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(new PyTuple([]));
        break;
      case 0x74: // TUPLE
        stack.push(new PyTuple(popMark()));
        break;
      case 0x85: // TUPLE1
        stack.push(new PyTuple([pop()]));
        break;
      case 0x86: { // TUPLE2
        const b = pop(), a = pop();
        stack.push(new PyTuple([a, b]));
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop(), b = pop(), a = pop();
        stack.push(new PyTuple([a, b, c]));
        break;
      }
      case 0x58: // BINUNICODE
        stack.push(str(take(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(str(take(u8())));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(str(take(u64())));
        break;
      case 0x54: { // BINSTRING (Python 2 str)
        const n = i32();
        stack.push(new TextDecoder("latin1").decode(take(n)));
        break;
      }
      case 0x55: // SHORT_BINSTRING
        stack.push(new TextDecoder("latin1").decode(take(u8())));
        break;
      case 0x42: // BINBYTES
        stack.push(take(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(take(u8()).slice());
        break;
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: { // LONG_BINGET
        const k = op === 0x68 ? u8() : u32();
        if (!memo.has(k)) fail(`memo key ${k} missing`);
        stack.push(memo.get(k)!);
        break;
      }
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: { // LONG1
        const b = take(u8());
        let v = 0n;
        for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
        if (b.length && b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
        stack.push(
          v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
            ? Number(v)
            : v,
        );
        break;
      }
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x47: // BINFLOAT
        need(8);
        stack.push(dv.getFloat64(p, false));
        p += 8;
        break;
      case 0x63: { // GLOBAL
        const module = line();
        const name = line();
        stack.push(global(module, name));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop(), module = pop();
        if (typeof name !== "string" || typeof module !== "string") fail("bad STACK_GLOBAL");
        stack.push(global(module as string, name as string));
        break;
      }
      case 0x51: // BINPERSID
        stack.push(hooks.persistentLoad(pop()));
        break;
      case 0x52: { // REDUCE
        const args = pop(), fn = pop();
        if (!(fn instanceof PyGlobal)) fail("REDUCE of something that is not an allowed global");
        if (!(args instanceof PyTuple)) fail("REDUCE arguments are not a tuple");
        stack.push(hooks.reduce(fn as PyGlobal, args as PyTuple));
        break;
      }
      case 0x62: { // BUILD
        const state = pop(), obj = pop();
        stack.push(hooks.build(obj, state));
        break;
      }
      case 0x73: { // SETITEM
        const v = pop(), k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: { // SETITEMS
        const kv = popMark();
        setItems(top(), kv);
        break;
      }
      case 0x61: { // APPEND
        const v = pop();
        list(top()).push(v);
        break;
      }
      case 0x65: { // APPENDS
        const vs = popMark();
        list(top()).push(...vs);
        break;
      }
      default:
        fail(
          `unsupported opcode 0x${op.toString(16).padStart(2, "0")} (${
            JSON.stringify(String.fromCharCode(op))
          })`,
        );
    }
  }
}
