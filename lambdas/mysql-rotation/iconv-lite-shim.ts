/**
 * Stands in for iconv-lite in the MySQL Lambda bundle (an esbuild alias, wired in `ROTATION_SHIMS`,
 * lib/rotation-bundling.ts).
 *
 * mysql2 loads iconv-lite eagerly (~490 KB, a third of the bundle) but calls it only for charsets Node
 * cannot decode itself. The rotation connects with utf8mb4, so the only such charset it meets is
 * MySQL's 3-byte `utf8`/`utf8mb3` (mysql2 calls it `cesu8`), which for the characters it can hold is
 * byte-for-byte UTF-8. Anything else fails loudly instead of decoding wrongly.
 */
interface Coder<T> {
  write(input: T): T extends Buffer ? string : Buffer;
  end(): undefined;
}

function assertSupported(encoding: string): void {
  if (encoding.toLowerCase().replace(/[^a-z0-9]/g, '') !== 'cesu8') {
    throw new Error(`Charset encoding ${encoding} is not available in the rotation bundle; use utf8mb4`);
  }
}

export function getDecoder(encoding: string): Coder<Buffer> {
  assertSupported(encoding);
  return { write: (buf: Buffer) => buf.toString('utf8'), end: () => undefined };
}

export function getEncoder(encoding: string): { write(input: string): Buffer; end(): undefined } {
  assertSupported(encoding);
  return { write: (text: string) => Buffer.from(text, 'utf8'), end: () => undefined };
}

export function encodingExists(encoding: string): boolean {
  return encoding.toLowerCase().replace(/[^a-z0-9]/g, '') === 'cesu8' || Buffer.isEncoding(encoding);
}
