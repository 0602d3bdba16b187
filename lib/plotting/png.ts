/**
 * A minimal PNG decoder (8-bit grey/RGB/RGBA/grey+alpha, non-interlaced) over `node:zlib`, used to
 * check that exported figures really contain a drawn plot.
 * @module
 */
import { inflateSync } from "node:zlib";

/** Decoded image: `pixels` holds `channels` bytes per pixel, row-major. */
export interface DecodedPng {
  width: number;
  height: number;
  channels: number;
  pixels: Uint8Array;
}

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

/** Decodes a PNG file's bytes. Throws on unsupported formats (16-bit, palette, interlaced). */
export function decodePng(bytes: Uint8Array): DecodedPng {
  for (let i = 0; i < 8; i++) {
    if (bytes[i] !== SIGNATURE[i]) throw new Error("not a PNG file (bad signature)");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 8;
  let width = 0, height = 0, bitDepth = 0, colorType = 0, interlace = 0;
  const idat: Uint8Array[] = [];
  while (pos + 8 <= bytes.length) {
    const len = view.getUint32(pos);
    const type = String.fromCharCode(...bytes.subarray(pos + 4, pos + 8));
    const body = bytes.subarray(pos + 8, pos + 8 + len);
    if (type === "IHDR") {
      width = view.getUint32(pos + 8);
      height = view.getUint32(pos + 12);
      bitDepth = body[8];
      colorType = body[9];
      interlace = body[12];
    } else if (type === "IDAT") {
      idat.push(body);
    } else if (type === "IEND") {
      break;
    }
    pos += 12 + len;
  }
  const channelsByType: Record<number, number> = { 0: 1, 2: 3, 4: 2, 6: 4 };
  const channels = channelsByType[colorType];
  if (bitDepth !== 8 || channels === undefined || interlace !== 0) {
    throw new Error(
      `unsupported PNG (bit depth ${bitDepth}, colour type ${colorType}, interlace ${interlace})`,
    );
  }
  const total = idat.reduce((n, c) => n + c.length, 0);
  const compressed = new Uint8Array(total);
  let off = 0;
  for (const c of idat) {
    compressed.set(c, off);
    off += c.length;
  }
  const raw = new Uint8Array(inflateSync(compressed));
  const stride = width * channels;
  if (raw.length < height * (stride + 1)) throw new Error("truncated PNG image data");
  const pixels = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const row = y * stride;
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? pixels[row + x - channels] : 0;
      const b = y > 0 ? pixels[row - stride + x] : 0;
      const c = x >= channels && y > 0 ? pixels[row - stride + x - channels] : 0;
      let v = src[x];
      switch (filter) {
        case 0:
          break;
        case 1:
          v += a;
          break;
        case 2:
          v += b;
          break;
        case 3:
          v += (a + b) >> 1;
          break;
        case 4:
          v += paeth(a, b, c);
          break;
        default:
          throw new Error(`bad PNG filter type ${filter} in row ${y}`);
      }
      pixels[row + x] = v & 0xff;
    }
  }
  return { width, height, channels, pixels };
}

/** Counts pixels whose RGB is within `tolerance` (per channel) of `hex` (`#rrggbb`). */
export function countColor(img: DecodedPng, hex: string, tolerance = 8): number {
  const r = parseInt(hex.slice(1, 3), 16), g = parseInt(hex.slice(3, 5), 16);
  const b = parseInt(hex.slice(5, 7), 16);
  let n = 0;
  for (let i = 0; i < img.width * img.height; i++) {
    const p = i * img.channels;
    const [pr, pg, pb] = img.channels >= 3
      ? [img.pixels[p], img.pixels[p + 1], img.pixels[p + 2]]
      : [img.pixels[p], img.pixels[p], img.pixels[p]];
    if (
      Math.abs(pr - r) <= tolerance && Math.abs(pg - g) <= tolerance &&
      Math.abs(pb - b) <= tolerance
    ) n++;
  }
  return n;
}

/** Fraction of pixels that differ from the top-left pixel (0 for a blank image). */
export function nonBackgroundFraction(img: DecodedPng): number {
  const bg = img.pixels.subarray(0, img.channels);
  let n = 0;
  for (let i = 0; i < img.width * img.height; i++) {
    const p = i * img.channels;
    for (let c = 0; c < img.channels; c++) {
      if (img.pixels[p + c] !== bg[c]) {
        n++;
        break;
      }
    }
  }
  return n / (img.width * img.height);
}
