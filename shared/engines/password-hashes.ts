/**
 * Password hashes computed on the client, so that the plaintext never travels inside a SQL statement
 * where the server's statement log (log_statement, general_log) would record it.
 */
import { createHash, createHmac, pbkdf2, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

/** PostgreSQL's default iteration count (scram_iterations). */
const SCRAM_ITERATIONS = 4096;
const SCRAM_KEY_BYTES = 32;

/**
 * A SCRAM-SHA-256 verifier in PostgreSQL's stored format, of the SASLprep-prepared password
 * (`scramPreparedPassword`), which is what PostgreSQL, libpq and pg feed to PBKDF2.
 */
export function scramSha256Verifier(password: string, salt: Buffer = randomBytes(16), iterations = SCRAM_ITERATIONS): string {
  const salted = pbkdf2Sync(scramPreparedPassword(password), salt, iterations, SCRAM_KEY_BYTES, 'sha256');
  return scramVerifierText(salted, salt, iterations);
}

/**
 * The same verifier, with the PBKDF2 rounds on libuv's thread pool: a few milliseconds of CPU that
 * would otherwise block the event loop (and every other rotation or request sharing it).
 */
export async function scramSha256VerifierAsync(
  password: string,
  salt: Buffer = randomBytes(16),
  iterations = SCRAM_ITERATIONS,
): Promise<string> {
  const salted = await saltedPassword(scramPreparedPassword(password), salt, iterations);
  return scramVerifierText(salted, salt, iterations);
}

/** RFC 3454 table C.1.2, the non-ASCII spaces, which SASLprep maps to U+0020 (checked before B.1, as PostgreSQL does). */
const NON_ASCII_SPACES = /[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000]/g;
/** RFC 3454 table B.1, "commonly mapped to nothing": soft hyphen, joiners, variation selectors, BOM. */
// eslint-disable-next-line no-misleading-character-class
const MAPPED_TO_NOTHING = /[\u00AD\u034F\u1806\u180B-\u180D\u200C\u200D\u2060\uFE00-\uFE0F\uFEFF]/g;

/**
 * The password as SCRAM clients prepare it (RFC 4013 SASLprep): non-ASCII spaces become U+0020, the
 * "mapped to nothing" characters go, then NFKC. This is exactly what pg (8.21 and later) does, and
 * what PostgreSQL's server and libpq do except where their SASLprep finds a prohibited or
 * bidirectionally invalid character, in which case they keep the raw password. ASCII is unchanged.
 *
 * Clients disagree whenever the result differs from the password itself (older pg and some other
 * drivers send it raw), which is why `scramPreparationProblem` refuses such a password as a new one.
 */
export function scramPreparedPassword(password: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(password)) return password;
  return password.replace(NON_ASCII_SPACES, ' ').replace(MAPPED_TO_NOTHING, '').normalize('NFKC');
}

/**
 * Why `password` must not become a PostgreSQL SCRAM password, or undefined. A password whose SASLprep
 * form differs from itself logs in from some clients and not from others (pg before 8.21 and drivers
 * without SASLprep hash it raw; PostgreSQL, libpq and newer pg hash the prepared form), so it is
 * refused before any change rather than stored in a form some application cannot use.
 */
export function scramPreparationProblem(password: string): string | undefined {
  if (scramPreparedPassword(password) === password) return undefined;
  return 'changes under SASLprep (non-ASCII spaces, invisible or compatibility characters): SCRAM clients would not agree on it';
}

/** Whether a stored PostgreSQL password (verifier) matches a password; `unverifiable` for formats not understood. */
export type VerifierMatch = 'match' | 'mismatch' | 'unverifiable';

/**
 * PBKDF2 rounds above which a stored verifier is not checked, nor a server's SCRAM challenge answered
 * by the rotation's own logins: PostgreSQL allows up to 2^31-1 (scram_iterations), which would stall the
 * step; 4096 is the default, a million takes about a second.
 */
export const MAX_VERIFIED_ITERATIONS = 1_000_000;
const SCRAM_VERIFIER = /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2}):([A-Za-z0-9+/]+={0,2})$/;
const MD5_HASH = /^md5[0-9a-f]{32}$/;

/**
 * Whether `password` is the one behind a stored PostgreSQL password (pg_authid.rolpassword): a
 * SCRAM-SHA-256 verifier, checked for both the raw and the SASLprep-prepared password (whoever stored it,
 * server, libpq or a client without SASLprep, used one of the two), or an md5 hash of password+role.
 * A mismatch is thus a proof that no client logs in with this password. Runs PBKDF2 off the event loop.
 */
export async function matchPostgresStoredPassword(stored: string, username: string, password: string): Promise<VerifierMatch> {
  if (MD5_HASH.test(stored)) return timingSafeEqualText(stored, postgresMd5Hash(password, username)) ? 'match' : 'mismatch';
  const parts = SCRAM_VERIFIER.exec(stored);
  if (parts === null) return 'unverifiable';
  const iterations = Number(parts[1]);
  const salt = Buffer.from(parts[2]!, 'base64');
  const storedKey = Buffer.from(parts[3]!, 'base64');
  const serverKey = Buffer.from(parts[4]!, 'base64');
  if (
    iterations < 1 ||
    iterations > MAX_VERIFIED_ITERATIONS ||
    storedKey.length !== SCRAM_KEY_BYTES ||
    serverKey.length !== SCRAM_KEY_BYTES
  ) {
    return 'unverifiable';
  }
  for (const candidate of new Set([password, scramPreparedPassword(password)])) {
    const salted = await saltedPassword(candidate, salt, iterations);
    const keys = scramKeys(salted);
    if (timingSafeEqual(keys.storedKey, storedKey) && timingSafeEqual(keys.serverKey, serverKey)) return 'match';
  }
  return 'mismatch';
}

function timingSafeEqualText(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

function saltedPassword(prepared: string, salt: Buffer, iterations: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    pbkdf2(Buffer.from(prepared, 'utf8'), salt, iterations, SCRAM_KEY_BYTES, 'sha256', (err, key) => (err ? reject(err) : resolve(key)));
  });
}

function scramKeys(salted: Buffer): { storedKey: Buffer; serverKey: Buffer } {
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  return {
    storedKey: createHash('sha256').update(clientKey).digest(),
    serverKey: createHmac('sha256', salted).update('Server Key').digest(),
  };
}

function scramVerifierText(salted: Buffer, salt: Buffer, iterations: number): string {
  const { storedKey, serverKey } = scramKeys(salted);
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** PostgreSQL's legacy md5 format, for servers whose password_encryption is md5. */
export function postgresMd5Hash(password: string, username: string): string {
  return `md5${createHash('md5')
    .update(password + username, 'utf8')
    .digest('hex')}`;
}

/** The mysql_native_password hash (`*` + SHA1(SHA1(password)) in upper-case hex), as MariaDB and MySQL 5.7 store it. */
export function mysqlNativePasswordHash(password: string): string {
  const inner = createHash('sha1').update(password, 'utf8').digest();
  return `*${createHash('sha1').update(inner).digest('hex').toUpperCase()}`;
}
