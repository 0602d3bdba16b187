/**
 * A minimal reader for the zip archives `torch.save` writes: entries must be stored
 * (uncompressed); ZIP64 sizes and offsets are understood; each entry's CRC-32 is verified when
 * it is read.
 * @module
 */

/** One archive member. */
export interface ZipEntry {
  name: string;
  /** Offset of the member's data in the archive. */
  dataOffset: number;
  size: number;
  crc32: number;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (zip/PNG polynomial). */
export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Whether the bytes start like a zip archive. */
export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 3 &&
    bytes[3] === 4;
}

/** A parsed archive: entries by name and a checked reader. */
export class ZipArchive {
  readonly entries = new Map<string, ZipEntry>();
  private readonly verified = new Set<string>();

  /** Parses the central directory of `bytes`; `file` names the archive in errors. */
  constructor(readonly bytes: Uint8Array, readonly file: string) {
    const fail = (msg: string): never => {
      throw new Error(`${file}: corrupted zip archive: ${msg}`);
    };
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const len = bytes.length;
    let eocd = -1;
    for (let i = len - 22; i >= Math.max(0, len - 22 - 65535); i--) {
      if (dv.getUint32(i, true) === 0x06054b50) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) fail("end of central directory not found (truncated file?)");
    let count = dv.getUint16(eocd + 10, true);
    let cdSize = dv.getUint32(eocd + 12, true);
    let cdOffset = dv.getUint32(eocd + 16, true);
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      const loc = eocd - 20;
      if (loc < 0 || dv.getUint32(loc, true) !== 0x07064b50) fail("ZIP64 locator missing");
      const rec = Number(dv.getBigUint64(loc + 8, true));
      if (rec + 56 > len || dv.getUint32(rec, true) !== 0x06064b50) fail("ZIP64 record missing");
      count = Number(dv.getBigUint64(rec + 32, true));
      cdSize = Number(dv.getBigUint64(rec + 40, true));
      cdOffset = Number(dv.getBigUint64(rec + 48, true));
    }
    if (cdOffset + cdSize > len) fail("central directory points outside the file");
    let p = cdOffset;
    const dec = new TextDecoder();
    for (let i = 0; i < count; i++) {
      if (p + 46 > len || dv.getUint32(p, true) !== 0x02014b50) {
        fail(`central directory entry ${i} is damaged`);
      }
      const method = dv.getUint16(p + 10, true);
      const crc = dv.getUint32(p + 16, true);
      let csize = dv.getUint32(p + 20, true);
      let usize = dv.getUint32(p + 24, true);
      const nameLen = dv.getUint16(p + 28, true);
      const extraLen = dv.getUint16(p + 30, true);
      const commentLen = dv.getUint16(p + 32, true);
      let localOffset = dv.getUint32(p + 42, true);
      const name = dec.decode(bytes.subarray(p + 46, p + 46 + nameLen));
      // ZIP64 extended information (id 1): the 0xffffffff fields, in order.
      let q = p + 46 + nameLen;
      const extraEnd = q + extraLen;
      while (q + 4 <= extraEnd) {
        const id = dv.getUint16(q, true);
        const sz = dv.getUint16(q + 2, true);
        if (id === 1) {
          let r = q + 4;
          if (usize === 0xffffffff) (usize = Number(dv.getBigUint64(r, true))), (r += 8);
          if (csize === 0xffffffff) (csize = Number(dv.getBigUint64(r, true))), (r += 8);
          if (localOffset === 0xffffffff) localOffset = Number(dv.getBigUint64(r, true));
        }
        q += 4 + sz;
      }
      p = extraEnd + commentLen;
      if (method !== 0) {
        fail(`entry "${name}" is compressed (method ${method}); only stored entries are supported`);
      }
      if (csize !== usize) fail(`entry "${name}" sizes disagree`);
      if (localOffset + 30 > len || dv.getUint32(localOffset, true) !== 0x04034b50) {
        fail(`entry "${name}": local header missing (truncated file?)`);
      }
      const dataOffset = localOffset + 30 + dv.getUint16(localOffset + 26, true) +
        dv.getUint16(localOffset + 28, true);
      if (dataOffset + usize > len) fail(`entry "${name}" extends past the end of the file`);
      this.entries.set(name, { name, dataOffset, size: usize, crc32: crc });
    }
  }

  /** The bytes of an entry (a view, not a copy), CRC-checked on first access. */
  read(name: string): Uint8Array {
    const e = this.entries.get(name);
    if (!e) throw new Error(`${this.file}: archive has no entry "${name}"`);
    const data = this.bytes.subarray(e.dataOffset, e.dataOffset + e.size);
    if (!this.verified.has(name)) {
      if (crc32(data) !== e.crc32) {
        throw new Error(`${this.file}: entry "${name}" is corrupted (CRC-32 mismatch)`);
      }
      this.verified.add(name);
    }
    return data;
  }
}
