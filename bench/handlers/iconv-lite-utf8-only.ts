/**
 * A stand-in for iconv-lite in a trimmed MySQL bundle. mysql2 calls iconv-lite only for encodings Node's
 * Buffer lacks: on a utf8mb4 connection that is `cesu8`, which the server uses for utf8mb3 metadata
 * (column names). CESU-8 is UTF-8 in which each UTF-16 surrogate is its own 3-byte sequence, so a
 * byte-wise decoder to UTF-16 code units covers it. Any other encoding fails loudly.
 */
interface Decoder {
  write(bytes: Uint8Array): string;
  end(): string;
}

const SUPPORTED = new Set(['cesu8', 'cesu-8']);

function unsupported(encoding: string): never {
  throw new Error(`encoding ${encoding} is not bundled: this function connects with utf8mb4 only`);
}

/** Decodes CESU-8 (and plain UTF-8) to a string; malformed bytes become U+FFFD. */
export function decodeCesu8(bytes: Uint8Array): string {
  const units: number[] = [];
  let out = '';
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i]!;
    const cont = (k: number): number => (bytes[i + k] ?? 0) & 0x3f;
    if (b < 0x80) {
      units.push(b);
      i += 1;
    } else if (b >= 0xc0 && b < 0xe0 && i + 1 < bytes.length) {
      units.push(((b & 0x1f) << 6) | cont(1));
      i += 2;
    } else if (b >= 0xe0 && b < 0xf0 && i + 2 < bytes.length) {
      units.push(((b & 0x0f) << 12) | (cont(1) << 6) | cont(2));
      i += 3;
    } else if (b >= 0xf0 && i + 3 < bytes.length) {
      const cp = ((b & 0x07) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3);
      units.push(0xd800 + ((cp - 0x10000) >> 10), 0xdc00 + ((cp - 0x10000) & 0x3ff));
      i += 4;
    } else {
      units.push(0xfffd);
      i += 1;
    }
    if (units.length >= 4096) out += String.fromCharCode(...units.splice(0));
  }
  return out + String.fromCharCode(...units);
}

export function getDecoder(encoding: string): Decoder {
  if (!SUPPORTED.has(encoding.toLowerCase())) unsupported(encoding);
  return { write: decodeCesu8, end: () => '' };
}

export function getEncoder(encoding: string): never {
  return unsupported(encoding);
}

export function encodingExists(encoding: string): boolean {
  return Buffer.isEncoding(encoding) || SUPPORTED.has(encoding.toLowerCase());
}
