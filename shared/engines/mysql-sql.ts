/**
 * The account-management SQL of each MySQL flavour, as pure functions of the server and the account.
 * Every name and value is escaped on the client with mysql2's own `escape` (string literals); the
 * session first makes sure NO_BACKSLASH_ESCAPES is off, which those literals rely on.
 *
 * Password statements keep the plaintext out of the server's statement logs wherever the server has
 * a client-side form for it:
 * - MariaDB, oneself: `SET PASSWORD = '<mysql_native_password hash>'` (a bare literal is read as a hash
 *   there; ALTER USER would need the global CREATE USER privilege, even for oneself);
 * - MariaDB, as master: `ALTER USER … IDENTIFIED BY PASSWORD '<hash>'`;
 * - MySQL 5.7/8.x, accounts on mysql_native_password: `IDENTIFIED WITH mysql_native_password AS '<hash>'`;
 * - MySQL 8.x caching_sha2_password / sha256_password: no client-side form exists (the server salts),
 *   so `IDENTIFIED BY '<plain>'` is unavoidable; MySQL rewrites it to `<secret>` in its general and
 *   slow logs unless the server runs with --log-raw;
 * - MariaDB ed25519: `PASSWORD('<plain>')`, likewise unavoidable.
 */
import { escapeMysql as escape } from './mysql-connector';
import { DatabaseError } from '../errors';
import type { ServerInfo } from '../rotation/engine-strategy';
import { mysqlNativePasswordHash } from './password-hashes';
import { atLeast, describeServer } from './mysql-server-info';
import { findKeyword, tokenize, unquote } from './mysql-statement-tokens';

export const NATIVE_PLUGIN = 'mysql_native_password';
/** Plugins whose password the server hashes itself, so the statement must carry the plaintext. */
const SERVER_HASHED_PLUGINS: ReadonlySet<string> = new Set(['caching_sha2_password', 'sha256_password', 'ed25519']);

/** `'user'@'host'` as a string-literal account name (quotes, spaces, capitals and unicode survive). */
export function accountName(user: string, host: string): string {
  return `${escape(user)}@${escape(host)}`;
}

/** User-name length limits in characters: MySQL 5.7+ (and Aurora) 32, older MySQL 16, MariaDB 80. */
export function usernameLimit(engine: string, server?: ServerInfo): number {
  if (server === undefined) return engine.trim().toLowerCase() === 'mariadb' ? 80 : 32;
  if (server.flavor === 'mariadb') return 80;
  return atLeast(server, 5, 7) ? 32 : 16;
}

export function usernameProblem(username: string, engine: string, server?: ServerInfo): string | undefined {
  const length = [...username].length;
  if (length === 0) return 'the user name is empty';
  const limit = usernameLimit(engine, server);
  const where = server === undefined ? `engine ${engine}` : describeServer(server);
  if (length > limit) return `the user name is ${length} characters long; ${where} allows at most ${limit}`;
  // MySQL stores user names as utf8mb3: characters outside the BMP cannot be stored.
  if ([...username].some((ch) => ch.codePointAt(0)! > 0xffff)) return 'the user name holds characters MySQL cannot store (outside the BMP)';
  return undefined;
}

/** What an account authenticates with, normalised: '' (MariaDB's legacy empty plugin) means native. */
export function normalizePlugin(plugin: string | undefined): string | undefined {
  if (plugin === undefined) return undefined;
  const p = plugin.trim().toLowerCase();
  return p === '' ? NATIVE_PLUGIN : p;
}

/**
 * The auth plugin named in a SHOW CREATE USER row: `IDENTIFIED WITH 'plugin'` (MySQL),
 * `IDENTIFIED BY PASSWORD` (MariaDB, native) or `IDENTIFIED VIA plugin` (MariaDB). Undefined when the
 * row names none.
 */
export function pluginFromCreateUser(statement: string): string | undefined {
  const tokens = tokenize(statement);
  const at = findKeyword(tokens, 'IDENTIFIED');
  if (at < 0) return undefined;
  const how = tokens[at + 1]?.text.toUpperCase();
  if (how === 'BY') return NATIVE_PLUGIN;
  if (how === 'WITH' || how === 'VIA') {
    const plugin = tokens[at + 2];
    return plugin === undefined ? undefined : normalizePlugin(unquote(plugin.text));
  }
  return undefined;
}

/**
 * Statements for the logged-in user to set its own password, in order of preference: when the first
 * is refused for lack of privilege, the next is tried.
 */
export function ownPasswordStatements(server: ServerInfo, password: string, plugin: string | undefined): string[] {
  const p = normalizePlugin(plugin);
  if (server.flavor === 'mariadb') {
    if (p === undefined || p === NATIVE_PLUGIN) return [`SET PASSWORD = ${escape(mysqlNativePasswordHash(password))}`];
    if (p === 'ed25519') return [`SET PASSWORD = PASSWORD(${escape(password)})`];
    throw noPassword(p);
  }
  const plain = `ALTER USER USER() IDENTIFIED BY ${escape(password)}`;
  if (p === NATIVE_PLUGIN) {
    // Changing one's own plugin clause may need CREATE USER on some versions; then the plain form.
    return [`ALTER USER CURRENT_USER() IDENTIFIED WITH ${NATIVE_PLUGIN} AS ${escape(mysqlNativePasswordHash(password))}`, plain];
  }
  if (p === undefined || SERVER_HASHED_PLUGINS.has(p)) return [plain];
  throw noPassword(p);
}

/** The `IDENTIFIED …` clause for the master to give `password` to an account using `plugin`. */
export function identifiedClause(server: ServerInfo, plugin: string | undefined, password: string): string {
  const p = normalizePlugin(plugin) ?? NATIVE_PLUGIN;
  if (!/^[a-z0-9_]+$/.test(p)) throw noPassword(p);
  if (server.flavor === 'mariadb') {
    if (p === NATIVE_PLUGIN) return `IDENTIFIED BY PASSWORD ${escape(mysqlNativePasswordHash(password))}`;
    if (p === 'ed25519') return `IDENTIFIED VIA ed25519 USING PASSWORD(${escape(password)})`;
    throw noPassword(p);
  }
  if (p === NATIVE_PLUGIN) return `IDENTIFIED WITH ${NATIVE_PLUGIN} AS ${escape(mysqlNativePasswordHash(password))}`;
  if (SERVER_HASHED_PLUGINS.has(p)) return `IDENTIFIED WITH ${p} BY ${escape(password)}`;
  throw noPassword(p);
}

/** An account's TLS requirement as mysql.user stores it. */
export interface TlsRequirement {
  /** '' / 'ANY' / 'X509' / 'SPECIFIED' */
  readonly sslType: string;
  readonly cipher: string;
  readonly issuer: string;
  readonly subject: string;
}

/** `REQUIRE …` reproducing a TLS requirement (valid in CREATE USER and ALTER USER on both flavours). */
export function requireClause(tls: TlsRequirement): string {
  switch (tls.sslType.trim().toUpperCase()) {
    case '':
      return 'REQUIRE NONE';
    case 'ANY':
      return 'REQUIRE SSL';
    case 'X509':
      return 'REQUIRE X509';
    default: {
      const parts = [
        tls.subject !== '' ? `SUBJECT ${escape(tls.subject)}` : undefined,
        tls.issuer !== '' ? `ISSUER ${escape(tls.issuer)}` : undefined,
        tls.cipher !== '' ? `CIPHER ${escape(tls.cipher)}` : undefined,
      ].filter((s): s is string => s !== undefined);
      // SPECIFIED with nothing specified cannot be created by SQL; err on the strict side.
      return parts.length > 0 ? `REQUIRE ${parts.join(' AND ')}` : 'REQUIRE SSL';
    }
  }
}

/**
 * CREATE USER IF NOT EXISTS with a throw-away password, so the account cannot log in with the pending
 * password before its grants are complete (the rotation's retry tests the pending login first and
 * would otherwise stop early with a half-granted user).
 */
export function createAccountStatement(
  server: ServerInfo,
  account: string,
  plugin: string | undefined,
  placeholderPassword: string,
  tls: TlsRequirement,
): string {
  return `CREATE USER IF NOT EXISTS ${account} ${identifiedClause(server, plugin, placeholderPassword)} ${requireClause(tls)}`;
}

export function alterPasswordStatement(
  server: ServerInfo,
  account: string,
  plugin: string | undefined,
  password: string,
  tls?: TlsRequirement,
): string {
  const require = tls === undefined ? '' : ` ${requireClause(tls)}`;
  return `ALTER USER ${account} ${identifiedClause(server, plugin, password)}${require}`;
}

function noPassword(plugin: string): DatabaseError {
  return new DatabaseError(
    `The account authenticates with the ${plugin} plugin, which takes no password this toolkit can set`,
  );
}
