/**
 * The account-management SQL of each MySQL flavour, as pure functions of the server and the account.
 * Every name and value is escaped on the client with mysql2's own `escape` (string literals); the
 * session first makes sure NO_BACKSLASH_ESCAPES is off, which those literals rely on.
 *
 * Password statements keep the plaintext out of the server's statement logs wherever the server has
 * a client-side form for it (`form: 'hash'`, the default):
 * - MariaDB, oneself: `SET PASSWORD = '<mysql_native_password hash>'` (a bare literal is read as a hash
 *   there; ALTER USER would need the global CREATE USER privilege, even for oneself);
 * - MariaDB, as master: `ALTER USER … IDENTIFIED BY PASSWORD '<hash>'`, or for an authentication chain
 *   `IDENTIFIED VIA a USING … OR b …` with every method of the chain kept;
 * - MySQL 5.7/8.x, accounts on mysql_native_password: `IDENTIFIED WITH mysql_native_password AS '<hash>'`;
 * - MySQL 8.x caching_sha2_password / sha256_password: no client-side form exists (the server salts),
 *   so `IDENTIFIED BY '<plain>'` is unavoidable; MySQL rewrites it to `<secret>` in its general and
 *   slow logs unless the server runs with --log-raw;
 * - MariaDB ed25519: `PASSWORD('<plain>')`, likewise unavoidable.
 *
 * `form: 'plain'` is the one deliberate exception, used only when the server refuses the hashed form
 * because a password-validation plugin must see the password (MariaDB simple_password_check or
 * cracklib_password_check with strict_password_validation, MySQL validate_password): the plaintext then
 * reaches the server. MariaDB writes such a statement to its general log (and the slow log) exactly as
 * sent, password included, when those logs are on; MySQL rewrites the password as `<secret>`.
 *
 * MySQL 8.0.14+ single-user: the user's own change keeps the replaced password valid as the account's
 * secondary password (`RETAIN CURRENT PASSWORD`), so applications still holding AWSCURRENT keep logging
 * in while they switch; the next rotation's RETAIN replaces it, and a step that puts a password back
 * after a failed proof discards it (`DISCARD OLD PASSWORD`). MySQL 8.0.13+ accounts under PASSWORD
 * REQUIRE CURRENT get `REPLACE '<current>'`.
 */
import { escapeMysql as escape } from './mysql-connector';
import { DatabaseError } from '../errors';
import type { ServerInfo } from '../rotation/database-engine';
import { mysqlNativePasswordHash } from './password-hashes';
import { atLeast, describeServer } from './mysql-server-info';
import { findKeyword, tokenize, unquote } from './mysql-statement-tokens';
import {
  NATIVE_PLUGIN,
  describeChain,
  methodTakesPassword,
  normalizePlugin,
  passwordShut,
  pluginKind,
  secretMethods,
  type AuthMethod,
} from './mysql-auth-chain';

export { NATIVE_PLUGIN, normalizePlugin } from './mysql-auth-chain';

/** Plugins whose password the server hashes itself, so the statement must carry the plaintext. */
const SERVER_HASHED_PLUGINS: ReadonlySet<string> = new Set(['caching_sha2_password', 'sha256_password', 'ed25519', 'parsec']);
/** MySQL plugins whose accounts may hold a secondary password (8.0.14+). */
const DUAL_PASSWORD_PLUGINS: ReadonlySet<string> = new Set(['mysql_native_password', 'caching_sha2_password', 'sha256_password']);

/**
 * How a password travels in a statement: as the client-computed hash where one exists (`hash`), or as
 * the plaintext the server validates (`plain`, only after a password-validation plugin refused a hash).
 */
export type PasswordForm = 'hash' | 'plain';

/** What the user's own password change must say beyond the new password. */
export interface OwnPasswordOptions {
  readonly form?: PasswordForm;
  /** The password the session logged in with: MySQL 8.0.13+ `REPLACE` clause. */
  readonly currentPassword?: string;
  /** MySQL PASSWORD REQUIRE CURRENT as SHOW CREATE USER says it: then no form without REPLACE is offered. */
  readonly requireCurrent?: boolean;
  /** Putting the previous password back: nothing is retained as a secondary password. */
  readonly restoring?: boolean;
}

/** `'user'@'host'` as a string-literal account name (quotes, spaces, capitals and unicode survive). */
export function accountName(user: string, host: string): string {
  return `${escape(user)}@${escape(host)}`;
}

/** MariaDB's user-name limit from 10.6 (mysql.global_priv `User char(128)`), and before it (`char(80)`). */
const MARIADB_USERNAME_LIMIT = 128;
const MARIADB_OLD_USERNAME_LIMIT = 80;

/**
 * User-name length limit in characters: MySQL 5.7+ (and Aurora) 32, older MySQL 16; MariaDB 128 from
 * 10.6, 80 before. Without `server` (createSecret, before any login) the largest its `engine` may
 * allow: 128 for `mariadb`, so no name a server accepts is refused there; setSecret then checks the
 * server itself before any change.
 */
export function usernameLimit(engine: string, server?: ServerInfo): number {
  if (server === undefined) return engine.trim().toLowerCase() === 'mariadb' ? MARIADB_USERNAME_LIMIT : 32;
  if (server.flavor === 'mariadb') return atLeast(server, 10, 6) ? MARIADB_USERNAME_LIMIT : MARIADB_OLD_USERNAME_LIMIT;
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
 * How the account behind a SHOW CREATE USER row authenticates: every method of a MariaDB chain
 * (`IDENTIFIED VIA a USING '…' OR b`), with the stored strings the row shows. Empty when it names none.
 */
export function chainFromCreateUser(statement: string): AuthMethod[] {
  const tokens = tokenize(statement);
  const at = findKeyword(tokens, 'IDENTIFIED');
  if (at < 0) return [];
  const how = tokens[at + 1]?.text.toUpperCase();
  if (how === 'BY') {
    const literal = tokens[at + 2]?.text.toUpperCase() === 'PASSWORD' ? tokens[at + 3] : tokens[at + 2];
    return [{ plugin: NATIVE_PLUGIN, authString: literal?.kind === 'quoted' ? unquote(literal.text) : '' }];
  }
  if (how !== 'WITH' && how !== 'VIA') return [];
  const chain: AuthMethod[] = [];
  let i = at + 2;
  while (tokens[i] !== undefined) {
    const plugin = normalizePlugin(unquote(tokens[i]!.text)) ?? NATIVE_PLUGIN;
    let authString = '';
    const next = tokens[i + 1]?.text.toUpperCase();
    if ((next === 'USING' || next === 'AS') && tokens[i + 2]?.kind === 'quoted') {
      authString = unquote(tokens[i + 2]!.text);
      i += 3;
    } else {
      i += 1;
    }
    chain.push({ plugin, authString });
    if (tokens[i]?.text.toUpperCase() !== 'OR') break;
    i += 1;
  }
  return chain;
}

/** MySQL's PASSWORD REQUIRE CURRENT in a SHOW CREATE USER row: true unless OPTIONAL (DEFAULT counts as on). */
export function requiresCurrentPassword(statement: string): boolean {
  const tokens = tokenize(statement);
  for (let i = findKeyword(tokens, 'REQUIRE'); i >= 0; i = findKeyword(tokens, 'REQUIRE', i + 1)) {
    if (tokens[i - 1]?.text.toUpperCase() === 'PASSWORD' && tokens[i + 1]?.text.toUpperCase() === 'CURRENT') {
      return tokens[i + 2]?.text.toUpperCase() !== 'OPTIONAL';
    }
  }
  return false;
}

/**
 * Statements for the logged-in user to set its own password, in order of preference: when the first
 * is refused for lack of privilege, the next is tried.
 */
export function ownPasswordStatements(
  server: ServerInfo,
  password: string,
  plugin: string | undefined,
  options: OwnPasswordOptions = {},
): string[] {
  const p = normalizePlugin(plugin);
  const form = options.form ?? 'hash';
  if (server.flavor === 'mariadb') {
    if (p === undefined || p === NATIVE_PLUGIN) {
      return [
        form === 'hash' ? `SET PASSWORD = ${escape(mysqlNativePasswordHash(password))}` : `SET PASSWORD = PASSWORD(${escape(password)})`,
      ];
    }
    if (p === 'ed25519' || p === 'parsec') return [`SET PASSWORD = PASSWORD(${escape(password)})`];
    throw noPassword(p);
  }
  const replace = atLeast(server, 8, 0, 13) && options.currentPassword !== undefined ? ` REPLACE ${escape(options.currentPassword)}` : '';
  const plain = `ALTER USER USER() IDENTIFIED BY ${escape(password)}${replace}`;
  const statements: string[] = [];
  const known = p === undefined || DUAL_PASSWORD_PLUGINS.has(p);
  if (known && atLeast(server, 8, 0, 14) && options.restoring !== true) statements.push(`${plain} RETAIN CURRENT PASSWORD`);
  if (p === NATIVE_PLUGIN && form === 'hash' && !(options.requireCurrent === true && atLeast(server, 8, 0, 13))) {
    // Changing one's own plugin clause may need CREATE USER on some versions; then the plain form.
    statements.push(`ALTER USER CURRENT_USER() IDENTIFIED WITH ${NATIVE_PLUGIN} AS ${escape(mysqlNativePasswordHash(password))}`);
  }
  if (p === undefined || SERVER_HASHED_PLUGINS.has(p) || p === NATIVE_PLUGIN) {
    statements.push(plain);
    return statements;
  }
  throw noPassword(p);
}

/** MySQL 8.0.14+: drops the logged-in account's secondary password (after a password was put back). */
export function discardOldPasswordStatement(): string {
  return 'ALTER USER USER() DISCARD OLD PASSWORD';
}

/** True when the server keeps secondary passwords (MySQL 8.0.14+; MariaDB has none). */
export function hasDualPasswords(server: ServerInfo): boolean {
  return server.flavor === 'mysql' && atLeast(server, 8, 0, 14);
}

/** The `IDENTIFIED …` clause for the master to give `password` to an account using `plugin`. */
export function identifiedClause(server: ServerInfo, plugin: string | undefined, password: string, form: PasswordForm = 'hash'): string {
  const p = normalizePlugin(plugin) ?? NATIVE_PLUGIN;
  if (!/^[a-z0-9_]+$/.test(p)) throw noPassword(p);
  if (server.flavor === 'mariadb') {
    if (p === NATIVE_PLUGIN) {
      return form === 'hash' ? `IDENTIFIED BY PASSWORD ${escape(mysqlNativePasswordHash(password))}` : `IDENTIFIED BY ${escape(password)}`;
    }
    if (p === 'ed25519' || p === 'parsec') return `IDENTIFIED VIA ${p} USING PASSWORD(${escape(password)})`;
    throw noPassword(p);
  }
  if (p === NATIVE_PLUGIN) {
    return form === 'hash'
      ? `IDENTIFIED WITH ${NATIVE_PLUGIN} AS ${escape(mysqlNativePasswordHash(password))}`
      : `IDENTIFIED WITH ${NATIVE_PLUGIN} BY ${escape(password)}`;
  }
  if (SERVER_HASHED_PLUGINS.has(p)) return `IDENTIFIED WITH ${p} BY ${escape(password)}`;
  throw noPassword(p);
}

/**
 * The `IDENTIFIED …` clause giving `password` to every method of an account's authentication that holds
 * the secret's password (`secretMethods`: with `replacing`, the password being replaced, a second password
 * of the chain is kept), and keeping the others exactly as stored (a MariaDB chain keeps its unix_socket,
 * PAM or GSSAPI methods, in their order). A single method is `identifiedClause`.
 * @throws DatabaseError when no method takes a password, or the chain holds passwords none of which is
 *   the secret's (which one to set cannot be told)
 */
export function chainIdentifiedClause(
  server: ServerInfo,
  chain: readonly AuthMethod[],
  password: string,
  form: PasswordForm = 'hash',
  replacing?: string,
): string {
  if (chain.length <= 1 || server.flavor !== 'mariadb') return identifiedClause(server, chain[0]?.plugin, password, form);
  if (!chain.some(methodTakesPassword)) {
    throw noPassword(describeChain(chain));
  }
  const secrets = secretMethods(chain, password, replacing);
  if (secrets === undefined) throw ambiguousChain(chain);
  const parts = chain.map((m, i) => {
    const plugin = checkedPlugin(m.plugin, chain);
    switch (pluginKind(plugin)) {
      case 'client-hashed':
        // A shut door ('invalid') stays shut: the DBA closed password logins through this method; so does
        // another password of the chain (the one other clients log in with).
        if (passwordShut(m) || secrets[i] !== true) return `${plugin} USING ${escape(m.authString)}`;
        return form === 'hash'
          ? `${plugin} USING ${escape(mysqlNativePasswordHash(password))}`
          : `${plugin} USING PASSWORD(${escape(password)})`;
      case 'server-hashed':
        return `${plugin} USING PASSWORD(${escape(password)})`;
      case 'socket':
      case 'external':
        return m.authString === '' ? plugin : `${plugin} USING ${escape(m.authString)}`;
      default:
        throw noPassword(describeChain(chain));
    }
  });
  return `IDENTIFIED VIA ${parts.join(' OR ')}`;
}

/**
 * The `IDENTIFIED …` clause that puts an account's stored authentication back exactly as it was read
 * (every method, every stored string), with no password travelling at all.
 */
export function storedIdentifiedClause(server: ServerInfo, chain: readonly AuthMethod[]): string {
  if (chain.length === 0) throw new DatabaseError('The account has no stored authentication to put back');
  if (server.flavor === 'mariadb') {
    const parts = chain.map((m) => {
      const plugin = checkedPlugin(m.plugin, chain);
      return m.authString === '' && pluginKind(plugin) !== 'client-hashed' ? plugin : `${plugin} USING ${escape(m.authString)}`;
    });
    return `IDENTIFIED VIA ${parts.join(' OR ')}`;
  }
  const only = chain[0]!;
  const plugin = checkedPlugin(only.plugin, chain);
  // caching_sha2_password stores binary salt bytes: a hex literal carries them unchanged.
  const printable = /^[\x20-\x7e]*$/.test(only.authString);
  const stored = printable || only.authHex === undefined ? escape(only.authString) : `0x${only.authHex}`;
  return `IDENTIFIED WITH ${plugin} AS ${stored}`;
}

function checkedPlugin(plugin: string, chain: readonly AuthMethod[]): string {
  const p = normalizePlugin(plugin) ?? NATIVE_PLUGIN;
  if (!/^[a-z0-9_]+$/.test(p)) throw noPassword(describeChain(chain));
  return p;
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
  form: PasswordForm = 'hash',
): string {
  return `CREATE USER IF NOT EXISTS ${account} ${identifiedClause(server, plugin, placeholderPassword, form)} ${requireClause(tls)}`;
}

/** What else an ALTER USER setting a password says. */
export interface AlterPasswordOptions {
  readonly form?: PasswordForm;
  /** MySQL 8.0.14+: keep the replaced password valid as the secondary one. */
  readonly retainCurrent?: boolean;
  /**
   * The password being replaced, when known: a MariaDB chain holding several passwords has only the
   * methods holding it set (`secretMethods`). Never logged.
   */
  readonly replacing?: string;
}

/** ALTER USER giving `password` to a single-plugin account, with its TLS requirement restated when given. */
export function alterPasswordStatement(
  server: ServerInfo,
  account: string,
  plugin: string | undefined,
  password: string,
  tls?: TlsRequirement,
  options: AlterPasswordOptions = {},
): string {
  const require = tls === undefined ? '' : ` ${requireClause(tls)}`;
  return `ALTER USER ${account} ${identifiedClause(server, plugin, password, options.form)}${require}${retainClause(server, plugin, options)}`;
}

/**
 * ALTER USER giving `password` to every password method of an account's authentication (see
 * `chainIdentifiedClause`) and nothing else: TLS requirements, resource limits, lock and expiry
 * options are not named, so the server keeps them.
 */
export function alterAccountPasswordStatement(
  server: ServerInfo,
  account: string,
  chain: readonly AuthMethod[],
  password: string,
  options: AlterPasswordOptions = {},
): string {
  return `ALTER USER ${account} ${chainIdentifiedClause(server, chain, password, options.form, options.replacing)}${retainClause(server, chain[0]?.plugin, options)}`;
}

function retainClause(server: ServerInfo, plugin: string | undefined, options: AlterPasswordOptions): string {
  const p = normalizePlugin(plugin) ?? NATIVE_PLUGIN;
  // RETAIN goes only with a plaintext IDENTIFIED … BY, which native accounts get in the plain form.
  const byForm = SERVER_HASHED_PLUGINS.has(p) || (p === NATIVE_PLUGIN && options.form === 'plain');
  return options.retainCurrent === true && hasDualPasswords(server) && DUAL_PASSWORD_PLUGINS.has(p) && byForm
    ? ' RETAIN CURRENT PASSWORD'
    : '';
}

/**
 * The error for a chain holding several passwords none of which is the secret's: setting them all would
 * lock out whoever logs in with the other one, and which one the secret stands for cannot be told.
 */
export function ambiguousChain(chain: readonly AuthMethod[], who = 'The account'): DatabaseError {
  return new DatabaseError(
    `${who} authenticates with ${describeChain(chain)}, a chain holding several passwords, none of which is the secret's: ` +
      'which one the secret stands for cannot be told, and setting them all would lock out the clients of the other. Nothing was changed',
  );
}

function noPassword(plugin: string): DatabaseError {
  return new DatabaseError(`The account authenticates with the ${plugin} plugin, which takes no password this toolkit can set`);
}
