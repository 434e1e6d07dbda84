/**
 * The options of a MySQL/MariaDB account other than its rights and its password: TLS requirement,
 * resource limits (MAX_STATEMENT_TIME on MariaDB), password lifetime, account lock, MySQL 8's password
 * policy options, and the authentication methods (MariaDB chains several: `IDENTIFIED VIA a OR b`).
 * Read from the catalogs the server keeps them in (mysql.global_priv's JSON on MariaDB 10.4+,
 * mysql.user elsewhere), and written back as statements that set EVERY option explicitly: ALTER USER
 * changes only what it names, so an option the original no longer has would otherwise stay on the
 * alternate user.
 *
 * The stored authentication strings (password hashes) are held in memory for the chain's non-password
 * methods only and never reach a message.
 */
import { escapeMysql as escape, columnText as text } from './mysql-connector';
import { DatabaseError } from '../errors';
import type { Row, ServerInfo, SqlSession } from '../rotation/database-engine';
import { mysqlNativePasswordHash } from './password-hashes';
import { atLeast } from './mysql-server-info';
import { identifiedClause, NATIVE_PLUGIN, normalizePlugin, requireClause, type PasswordForm, type TlsRequirement } from './mysql-sql';

/** One authentication method of an account. */
export interface AuthMethod {
  /** The plugin, lower case ('' is stored for the legacy native method and read as mysql_native_password). */
  readonly plugin: string;
  /** What the server stores after USING: a password hash for password methods, a service or principal name for others. */
  readonly authString: string;
}

/** MySQL 8's password-policy options; each null when the account follows the server's default. */
export interface MysqlPasswordPolicy {
  /** PASSWORD HISTORY n (8.0.3+). */
  readonly history?: number | null;
  /** PASSWORD REUSE INTERVAL n DAY (8.0.3+). */
  readonly reuseDays?: number | null;
  /** PASSWORD REQUIRE CURRENT (true), OPTIONAL (false), DEFAULT (null) (8.0.13+). */
  readonly requireCurrent?: boolean | null;
  /** FAILED_LOGIN_ATTEMPTS n (8.0.19+; 0 = off). */
  readonly failedLoginAttempts?: number;
  /** PASSWORD_LOCK_TIME n days, -1 = UNBOUNDED (8.0.19+). */
  readonly lockDays?: number;
}

/** Everything about one `user@host` account that is neither a right nor the password. */
export interface AccountOptions extends TlsRequirement {
  readonly host: string;
  /** The authentication methods in the order the server tries them; one for most accounts. */
  readonly auth: readonly AuthMethod[];
  readonly maxQueriesPerHour: number;
  readonly maxUpdatesPerHour: number;
  readonly maxConnectionsPerHour: number;
  readonly maxUserConnections: number;
  /** MariaDB's MAX_STATEMENT_TIME in seconds, as a decimal string; undefined on MySQL. */
  readonly maxStatementTime?: string;
  /**
   * Days until the password expires: null = the server's default_password_lifetime, 0 = never.
   * Undefined where the server has no per-account lifetime (MariaDB before 10.4).
   */
  readonly passwordLifetime?: number | null;
  /** ACCOUNT LOCK; undefined where the server has none (MariaDB before 10.4). */
  readonly locked?: boolean;
  /** MySQL 8 only. */
  readonly passwordPolicy?: MysqlPasswordPolicy;
}

/** Plugins whose stored string is derived from the password: the alternate user gets its own. */
const PASSWORD_PLUGINS: ReadonlySet<string> = new Set([NATIVE_PLUGIN, 'ed25519', 'parsec', 'caching_sha2_password', 'sha256_password']);
/**
 * Methods of a MariaDB chain copied as they are: their USING string names an OS user, a PAM service or a
 * Kerberos principal, not a credential. Any other method (mysql_old_password holds the ORIGINAL's hash)
 * is refused, since copying it would let the alternate user log in with the original's password.
 */
const COPIED_PLUGINS: ReadonlySet<string> = new Set(['unix_socket', 'named_pipe', 'pam', 'gssapi']);
/** What an entry that takes no password may hold: the methods above, and MySQL's socket method. */
const PASSWORDLESS_COPIED: ReadonlySet<string> = new Set([...COPIED_PLUGINS, 'auth_socket']);

/** TLS types by the number mysql.global_priv stores. */
const SSL_TYPES = ['', 'ANY', 'X509', 'SPECIFIED'] as const;

/**
 * The options of every account (host part) of `username`, ordered by host; empty when there is none.
 * A MariaDB role of the same name is not an account and is left out.
 * @throws DatabaseError when the catalog cannot be read (the master lacks SELECT on the mysql schema).
 */
export async function readAccountOptions(session: SqlSession, server: ServerInfo, username: string): Promise<AccountOptions[]> {
  if (server.flavor === 'mariadb' && atLeast(server, 10, 4)) {
    const rows = await session.query(
      `SELECT Host AS host, Priv AS priv FROM mysql.global_priv WHERE User = ${escape(username)} ORDER BY Host`,
    );
    // A MariaDB role lives beside the users (host ''), and may share a user's name: it is not an account.
    return rows.filter((r) => !isRolePriv(r.priv)).map((r) => fromGlobalPriv(text(r.host), r.priv));
  }
  const rows = await session.query(`SELECT * FROM mysql.user WHERE User = ${escape(username)} ORDER BY Host`);
  return rows.filter((r) => text(r.is_role).toUpperCase() !== 'Y').map((r) => fromUserRow(server, r));
}

/**
 * Reads one mysql.global_priv row (MariaDB 10.4+): `priv` as the driver returns the column, JSON text or
 * already parsed (mysql2 parses it when the server flags the column as JSON). Exported for tests.
 */
export function fromGlobalPriv(host: string, priv: unknown): AccountOptions {
  const parsed = typeof priv === 'object' && priv !== null && !Buffer.isBuffer(priv) ? priv : parseJson(text(priv));
  if (parsed === undefined || parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new DatabaseError(`mysql.global_priv holds options this toolkit cannot read for the account at host ${escape(host)}`);
  }
  return fromPrivObject(host, parsed as Record<string, unknown>);
}

function isRolePriv(priv: unknown): boolean {
  const parsed = typeof priv === 'object' && priv !== null && !Buffer.isBuffer(priv) ? priv : parseJson(text(priv));
  return parsed !== null && typeof parsed === 'object' && (parsed as Record<string, unknown>).is_role === true;
}

function parseJson(json: string): unknown {
  try {
    return JSON.parse(json) as unknown;
  } catch {
    return undefined;
  }
}

function fromPrivObject(host: string, priv: Record<string, unknown>): AccountOptions {
  const top: AuthMethod = { plugin: normalizePlugin(str(priv.plugin)) ?? NATIVE_PLUGIN, authString: str(priv.authentication_string) };
  const chain = Array.isArray(priv.auth_or) ? (priv.auth_or as unknown[]) : [];
  // auth_or lists every method in order; the empty object marks where the top-level method stands.
  const auth =
    chain.length === 0
      ? [top]
      : chain.map((entry) => {
          const e = (entry ?? {}) as Record<string, unknown>;
          return e.plugin === undefined
            ? top
            : { plugin: normalizePlugin(str(e.plugin)) ?? NATIVE_PLUGIN, authString: str(e.authentication_string) };
        });
  const lifetime = num(priv.password_lifetime, -1);
  return {
    host,
    auth,
    sslType: SSL_TYPES[num(priv.ssl_type, 0)] ?? 'SPECIFIED',
    cipher: str(priv.ssl_cipher),
    issuer: str(priv.x509_issuer),
    subject: str(priv.x509_subject),
    maxQueriesPerHour: num(priv.max_questions, 0),
    maxUpdatesPerHour: num(priv.max_updates, 0),
    maxConnectionsPerHour: num(priv.max_connections, 0),
    maxUserConnections: num(priv.max_user_connections, 0),
    // Absent means none: written out as 0 so that an alternate user's own limit is removed.
    maxStatementTime: decimal(priv.max_statement_time) ?? '0',
    passwordLifetime: lifetime < 0 ? null : lifetime,
    locked: priv.account_locked === true,
  };
}

/** Reads one mysql.user row (MySQL, MariaDB before 10.4), taking only the columns the version has. Exported for tests. */
export function fromUserRow(server: ServerInfo, r: Row): AccountOptions {
  const has = (column: string): boolean => Object.prototype.hasOwnProperty.call(r, column);
  const mariadb = server.flavor === 'mariadb';
  const options: AccountOptions = {
    host: text(r.Host),
    auth: [{ plugin: normalizePlugin(text(r.plugin)) ?? NATIVE_PLUGIN, authString: text(r.authentication_string) }],
    sslType: text(r.ssl_type).toUpperCase(),
    cipher: text(r.ssl_cipher),
    issuer: text(r.x509_issuer),
    subject: text(r.x509_subject),
    maxQueriesPerHour: num(r.max_questions, 0),
    maxUpdatesPerHour: num(r.max_updates, 0),
    maxConnectionsPerHour: num(r.max_connections, 0),
    maxUserConnections: num(r.max_user_connections, 0),
    ...(mariadb && has('max_statement_time') ? { maxStatementTime: decimal(r.max_statement_time) ?? '0' } : {}),
    ...(has('password_lifetime') ? { passwordLifetime: r.password_lifetime === null ? null : num(r.password_lifetime, 0) } : {}),
    ...(has('account_locked') ? { locked: text(r.account_locked).toUpperCase() === 'Y' } : {}),
  };
  if (mariadb) return options;
  const policy: { -readonly [K in keyof MysqlPasswordPolicy]: MysqlPasswordPolicy[K] } = {};
  if (has('Password_reuse_history')) policy.history = r.Password_reuse_history === null ? null : num(r.Password_reuse_history, 0);
  if (has('Password_reuse_time')) policy.reuseDays = r.Password_reuse_time === null ? null : num(r.Password_reuse_time, 0);
  if (has('Password_require_current')) {
    const v = text(r.Password_require_current).toUpperCase();
    policy.requireCurrent = v === 'Y' ? true : v === 'N' ? false : null;
  }
  if (has('User_attributes') && atLeast(server, 8, 0, 19)) {
    const locking = userAttributes(r.User_attributes).Password_locking as Record<string, unknown> | undefined;
    policy.failedLoginAttempts = num(locking?.failed_login_attempts, 0);
    policy.lockDays = num(locking?.password_lock_time_days, 0);
  }
  return Object.keys(policy).length > 0 ? { ...options, passwordPolicy: policy } : options;
}

/**
 * `REQUIRE … WITH … PASSWORD EXPIRE … ACCOUNT …`: every option of `o`, each written out even at its
 * default, so that ALTER USER leaves nothing of the account it changes behind.
 */
export function accountOptionsClause(server: ServerInfo, o: AccountOptions): string {
  const limits = [
    `MAX_QUERIES_PER_HOUR ${int(o.maxQueriesPerHour)}`,
    `MAX_UPDATES_PER_HOUR ${int(o.maxUpdatesPerHour)}`,
    `MAX_CONNECTIONS_PER_HOUR ${int(o.maxConnectionsPerHour)}`,
    `MAX_USER_CONNECTIONS ${int(o.maxUserConnections)}`,
  ];
  if (server.flavor === 'mariadb' && o.maxStatementTime !== undefined) limits.push(`MAX_STATEMENT_TIME ${o.maxStatementTime}`);
  const parts = [requireClause(o), `WITH ${limits.join(' ')}`];
  if (o.passwordLifetime !== undefined) {
    parts.push(
      o.passwordLifetime === null
        ? 'PASSWORD EXPIRE DEFAULT'
        : o.passwordLifetime === 0
          ? 'PASSWORD EXPIRE NEVER'
          : `PASSWORD EXPIRE INTERVAL ${int(o.passwordLifetime)} DAY`,
    );
  }
  const p = o.passwordPolicy;
  if (p !== undefined) {
    if (p.history !== undefined) parts.push(`PASSWORD HISTORY ${p.history === null ? 'DEFAULT' : int(p.history)}`);
    if (p.reuseDays !== undefined) parts.push(`PASSWORD REUSE INTERVAL ${p.reuseDays === null ? 'DEFAULT' : `${int(p.reuseDays)} DAY`}`);
    if (p.requireCurrent !== undefined) {
      parts.push(`PASSWORD REQUIRE CURRENT${p.requireCurrent === null ? ' DEFAULT' : p.requireCurrent ? '' : ' OPTIONAL'}`);
    }
    if (p.failedLoginAttempts !== undefined) parts.push(`FAILED_LOGIN_ATTEMPTS ${int(p.failedLoginAttempts)}`);
    if (p.lockDays !== undefined) parts.push(`PASSWORD_LOCK_TIME ${p.lockDays < 0 ? 'UNBOUNDED' : int(p.lockDays)}`);
  }
  if (o.locked !== undefined) parts.push(o.locked ? 'ACCOUNT LOCK' : 'ACCOUNT UNLOCK');
  return parts.join(' ');
}

/**
 * The `IDENTIFIED …` clause giving `password` to an account authenticated like `o`. A single method
 * goes through mysql-sql's `identifiedClause`; a MariaDB chain keeps every method in its order, the
 * password methods with the new password (a mysql_native_password hash computed here, so the
 * statement log holds no plaintext; ed25519 and parsec take `PASSWORD('…')`, which cannot be avoided),
 * the others with their USING string unchanged.
 * @throws DatabaseError, naming the plugin, when no method takes a password or one cannot be copied.
 */
export function identifiedFor(server: ServerInfo, o: AccountOptions, password: string, form: PasswordForm = 'hash'): string {
  if (o.auth.length === 1) return identifiedClause(server, o.auth[0]!.plugin, password, form);
  if (server.flavor !== 'mariadb') throw severalMethods();
  const methods = o.auth.map((m) => {
    if (!/^[a-z0-9_]+$/.test(m.plugin)) throw uncopiable(m.plugin);
    if (m.plugin === NATIVE_PLUGIN) {
      return form === 'hash'
        ? `${NATIVE_PLUGIN} USING ${escape(mysqlNativePasswordHash(password))}`
        : `${NATIVE_PLUGIN} USING PASSWORD(${escape(password)})`;
    }
    if (m.plugin === 'ed25519' || m.plugin === 'parsec') return `${m.plugin} USING PASSWORD(${escape(password)})`;
    return copiedMethod(m, 'USING', COPIED_PLUGINS);
  });
  if (!takesPasswordAt(o)) {
    throw new DatabaseError(`No authentication method of the account (${o.auth.map((m) => m.plugin).join(' OR ')}) takes a password`);
  }
  return `IDENTIFIED VIA ${methods.join(' OR ')}`;
}

/** True when some method of the account takes a password (false for a socket-only entry, say). */
export function takesPasswordAt(o: AccountOptions): boolean {
  return o.auth.some((m) => isPasswordPlugin(m.plugin));
}

/**
 * The `IDENTIFIED …` clause of an account no method of which takes a password (`'app'@'localhost'
 * IDENTIFIED VIA unix_socket`, for a job run as the OS user): every method copied as stored, USING
 * string included (an OS user, a PAM service, a Kerberos principal: never a credential).
 * @throws DatabaseError, naming the plugin, for a method this toolkit does not copy.
 */
export function copiedIdentified(server: ServerInfo, o: AccountOptions): string {
  if (server.flavor === 'mariadb') return `IDENTIFIED VIA ${o.auth.map((m) => copiedMethod(m, 'USING', PASSWORDLESS_COPIED)).join(' OR ')}`;
  if (o.auth.length !== 1) throw severalMethods();
  return `IDENTIFIED WITH ${copiedMethod(o.auth[0]!, 'AS', PASSWORDLESS_COPIED)}`;
}

/**
 * A method re-stated as stored (`unix_socket`, `pam USING 'service'`), its string being no credential.
 * @throws DatabaseError, naming the plugin, when it is not among `copied`.
 */
function copiedMethod(m: AuthMethod, keyword: 'USING' | 'AS', copied: ReadonlySet<string>): string {
  if (!/^[a-z0-9_]+$/.test(m.plugin) || !copied.has(m.plugin)) throw uncopiable(m.plugin);
  return m.authString === '' ? m.plugin : `${m.plugin} ${keyword} ${escape(m.authString)}`;
}

/** Only MariaDB stores a chain of methods: a MySQL account cannot be re-stated with several. */
function severalMethods(): DatabaseError {
  return new DatabaseError('The account has several authentication methods; only MariaDB chains (IDENTIFIED VIA … OR …) can be copied');
}

/** True when a method's stored string is derived from the password (and so differs between the two users). */
export function isPasswordPlugin(plugin: string): boolean {
  return PASSWORD_PLUGINS.has(plugin);
}

function uncopiable(plugin: string): DatabaseError {
  return new DatabaseError(
    `The account's authentication chain holds the ${plugin} method, which this toolkit does not copy to another account (its stored string could be a credential of the original)`,
  );
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : text(v);
}

function num(v: unknown, fallback: number): number {
  if (v === undefined || v === null || v === '') return fallback;
  const n = Number(typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' ? v : text(v));
  return Number.isFinite(n) ? n : fallback;
}

function decimal(v: unknown): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const s = typeof v === 'number' ? String(v) : text(v);
  if (!/^\d+(\.\d+)?$/.test(s)) throw new DatabaseError('The account holds a MAX_STATEMENT_TIME this toolkit cannot read');
  return s;
}

function int(n: number): string {
  if (!Number.isInteger(n)) throw new DatabaseError('The account holds a limit this toolkit cannot read');
  return String(n);
}

function userAttributes(v: unknown): Record<string, unknown> {
  if (v === null || v === undefined) return {};
  const parsed = typeof v === 'object' && !Buffer.isBuffer(v) ? v : parseJson(text(v));
  return parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
}
