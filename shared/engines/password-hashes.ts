/**
 * Password hashes computed on the client, so that the plaintext never travels inside a SQL statement
 * where the server's statement log (log_statement, general_log) would record it.
 */
import { createHash, createHmac, pbkdf2, pbkdf2Sync, randomBytes } from 'node:crypto';

/** PostgreSQL's default iteration count (scram_iterations). */
const SCRAM_ITERATIONS = 4096;
const SCRAM_KEY_BYTES = 32;

/**
 * A SCRAM-SHA-256 verifier in PostgreSQL's stored format. PostgreSQL runs SASLprep on the password;
 * for ASCII it is the identity, and for other text NFKC normalisation is what SASLprep amounts to for
 * every password our generator or a sane user produces.
 */
export function scramSha256Verifier(password: string, salt: Buffer = randomBytes(16), iterations = SCRAM_ITERATIONS): string {
  const salted = pbkdf2Sync(scramPrepared(password), salt, iterations, SCRAM_KEY_BYTES, 'sha256');
  return scramVerifierText(salted, salt, iterations);
}

/**
 * The same verifier, with the PBKDF2 rounds on libuv's thread pool: a few milliseconds of CPU that
 * would otherwise block the event loop (and every other rotation or request sharing it).
 */
export async function scramSha256VerifierAsync(password: string, salt: Buffer = randomBytes(16), iterations = SCRAM_ITERATIONS): Promise<string> {
  const salted = await new Promise<Buffer>((resolve, reject) => {
    pbkdf2(scramPrepared(password), salt, iterations, SCRAM_KEY_BYTES, 'sha256', (err, key) => (err ? reject(err) : resolve(key)));
  });
  return scramVerifierText(salted, salt, iterations);
}

function scramPrepared(password: string): Buffer {
  // eslint-disable-next-line no-control-regex
  return Buffer.from(/^[\x00-\x7f]*$/.test(password) ? password : password.normalize('NFKC'), 'utf8');
}

function scramVerifierText(salted: Buffer, salt: Buffer, iterations: number): string {
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** PostgreSQL's legacy md5 format, for servers whose password_encryption is md5. */
export function postgresMd5Hash(password: string, username: string): string {
  return `md5${createHash('md5').update(password + username, 'utf8').digest('hex')}`;
}

/** The mysql_native_password hash (`*` + SHA1(SHA1(password)) in upper-case hex), as MariaDB and MySQL 5.7 store it. */
export function mysqlNativePasswordHash(password: string): string {
  const inner = createHash('sha1').update(password, 'utf8').digest();
  return `*${createHash('sha1').update(inner).digest('hex').toUpperCase()}`;
}
