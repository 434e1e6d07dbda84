/**
 * What the MySQL/MariaDB password changes and the alternate-user sync share: the accounts (host parts)
 * of a user name, the session's escaping mode, and statement failures as typed errors that name the
 * action, never the statement (it may hold a password or a hash).
 */
import { columnText as text, escapeMysql as escape } from './mysql-connector';
import { DatabaseError, ToolkitError } from '../errors';
import type { LoginRole, Row, SqlSession } from '../rotation/database-engine';
import { classifyStatementError, failureCode } from './driver-errors';
import { chainFromGlobalPriv, normalizePlugin, NATIVE_PLUGIN, type AuthMethod } from './mysql-auth-chain';
import { atLeast } from './mysql-server-info';
import { accountName, storedIdentifiedClause, type TlsRequirement } from './mysql-sql';
import type { ServerInfo } from '../rotation/database-engine';

/**
 * One account as the master reads it from the catalogs: everything the diagnosis of a refused login
 * and an exact put-back need. Stored strings are held in memory only, never logged.
 */
export interface AccountState extends TlsRequirement {
  readonly user: string;
  readonly host: string;
  /** How the account authenticates, in the order the server tries (one entry unless a MariaDB chain). */
  readonly chain: readonly AuthMethod[];
  /** ACCOUNT LOCK. */
  readonly locked: boolean;
  /** The password has expired: PASSWORD EXPIRE, or its lifetime elapsed. */
  readonly expired: boolean;
  /** PASSWORD EXPIRE was run (not only the lifetime): a put-back expires the password again. */
  readonly expiredByDba: boolean;
  /** MySQL 8.0.13+ PASSWORD REQUIRE CURRENT: 'Y', 'N' (OPTIONAL), undefined (the server's default). */
  readonly requireCurrent: 'Y' | 'N' | undefined;
  /** A MariaDB role (stored beside the users); never an account the secret stands for. */
  readonly isRole: boolean;
}

const SSL_TYPES: Readonly<Record<string, string>> = { '0': '', '1': 'ANY', '2': 'X509', '3': 'SPECIFIED' };

/**
 * As the master: the accounts of the given user names (every host part), from mysql.global_priv on
 * MariaDB 10.4+ and mysql.user elsewhere.
 */
export async function accountStatesOf(session: SqlSession, server: ServerInfo, usernames: readonly string[]): Promise<AccountState[]> {
  const names = usernames.map((u) => escape(u)).join(', ');
  const what = `reading the accounts of ${
    usernames
      .filter((u) => u !== '')
      .map(quoteName)
      .join(', ') || 'the anonymous user'
  }`;
  // Password lifetimes exist from MariaDB 10.4.3 and MySQL 5.7.4; older MariaDB has no such variable.
  const lifetimes = server.flavor === 'mysql' || atLeast(server, 10, 4);
  const clock = lifetimes ? await run(session, 'SELECT @@GLOBAL.default_password_lifetime AS lifetime, UNIX_TIMESTAMP() AS now', what) : [];
  const defaultLifetime = Number(text(clock[0]?.lifetime) || '0');
  const now = Number(text(clock[0]?.now) || String(Math.floor(Date.now() / 1000)));
  const elapsed = (changedAt: number | undefined, lifetime: number | undefined): boolean => {
    const days = lifetime === undefined || lifetime < 0 ? defaultLifetime : lifetime;
    return days > 0 && changedAt !== undefined && changedAt > 0 && now > changedAt + days * 86_400;
  };
  if (server.flavor === 'mariadb' && atLeast(server, 10, 4)) {
    const rows = await run(
      session,
      `SELECT User AS user, Host AS host, Priv AS priv FROM mysql.global_priv WHERE User IN (${names}) ORDER BY Host`,
      what,
    );
    return rows.map((r) => {
      const priv = privDocument(r.priv);
      const changedAt = typeof priv.password_last_changed === 'number' ? priv.password_last_changed : undefined;
      const lifetime = typeof priv.password_lifetime === 'number' ? priv.password_lifetime : undefined;
      return {
        user: text(r.user),
        host: text(r.host),
        chain: chainFromGlobalPriv(priv),
        locked: priv.account_locked === true,
        expired: changedAt === 0 || elapsed(changedAt, lifetime),
        expiredByDba: changedAt === 0,
        requireCurrent: undefined,
        isRole: priv.is_role === true,
        sslType: SSL_TYPES[text(priv.ssl_type) || '0'] ?? '',
        cipher: text(priv.ssl_cipher),
        issuer: text(priv.x509_issuer),
        subject: text(priv.x509_subject),
      };
    });
  }
  if (server.flavor === 'mariadb') {
    const rows = await run(
      session,
      'SELECT User AS user, Host AS host, plugin, authentication_string AS auth, Password AS password, ssl_type AS sslType, ' +
        `ssl_cipher AS cipher, x509_issuer AS issuer, x509_subject AS subject FROM mysql.user WHERE User IN (${names}) ORDER BY Host`,
      what,
    );
    return rows.map((r) => {
      const plugin = normalizePlugin(text(r.plugin)) ?? NATIVE_PLUGIN;
      const auth = text(r.auth) || (plugin === NATIVE_PLUGIN ? text(r.password) : '');
      return {
        ...tlsOf(r),
        user: text(r.user),
        host: text(r.host),
        chain: [{ plugin, authString: auth }],
        locked: false,
        expired: false,
        expiredByDba: false,
        requireCurrent: undefined,
        // Before 10.4 roles share mysql.user with the users, on an empty host (a user's '' is stored as '%').
        isRole: text(r.host) === '',
      };
    });
  }
  const requireCurrent = atLeast(server, 8, 0, 13) ? ', Password_require_current AS requireCurrent' : '';
  const rows = await run(
    session,
    'SELECT User AS user, Host AS host, plugin, HEX(authentication_string) AS authHex, ssl_type AS sslType, ssl_cipher AS cipher, ' +
      'x509_issuer AS issuer, x509_subject AS subject, password_expired AS expired, UNIX_TIMESTAMP(password_last_changed) AS changedAt, ' +
      `password_lifetime AS lifetime, account_locked AS locked${requireCurrent} FROM mysql.user WHERE User IN (${names}) ORDER BY Host`,
    what,
  );
  return rows.map((r) => {
    const explicit = text(r.expired).toUpperCase() === 'Y';
    const changedAt = text(r.changedAt) === '' ? undefined : Number(text(r.changedAt));
    const lifetime = text(r.lifetime) === '' ? undefined : Number(text(r.lifetime));
    const rc = text(r.requireCurrent).toUpperCase();
    return {
      ...tlsOf(r),
      user: text(r.user),
      host: text(r.host),
      chain: [
        {
          plugin: normalizePlugin(text(r.plugin)) ?? NATIVE_PLUGIN,
          authString: Buffer.from(text(r.authHex), 'hex').toString('latin1'),
          authHex: text(r.authHex),
        },
      ],
      locked: text(r.locked).toUpperCase() === 'Y',
      expired: explicit || elapsed(changedAt, lifetime),
      expiredByDba: explicit,
      requireCurrent: rc === 'Y' || rc === 'N' ? rc : undefined,
      isRole: false,
    };
  });
}

function tlsOf(r: Row): TlsRequirement {
  return { sslType: text(r.sslType), cipher: text(r.cipher), issuer: text(r.issuer), subject: text(r.subject) };
}

function privDocument(value: unknown): Record<string, unknown> {
  if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) return value as Record<string, unknown>;
  try {
    const parsed = JSON.parse(text(value)) as unknown;
    return parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * sql_mode flags that change how the toolkit's statements and reads are understood, dropped from its own
 * session: under NO_BACKSLASH_ESCAPES a backslash of mysql2's `escape` would end a literal early; under
 * PAD_CHAR_TO_FULL_LENGTH the CHAR columns of the grant tables (User, Host) read back padded with spaces
 * to their width, so `'app'@'%'` would be named as a host of 255 characters that no account has.
 */
const UNSAFE_SQL_MODES: ReadonlySet<string> = new Set(['NO_BACKSLASH_ESCAPES', 'PAD_CHAR_TO_FULL_LENGTH']);

/**
 * Takes `UNSAFE_SQL_MODES` out of the session's sql_mode (one read, and a SET only when one is on),
 * before any escaped statement or catalog read runs; the other flags stay as the server set them.
 * @throws DatabaseError (or the connector's NETWORK/TIMEOUT error) when the read or the SET is refused.
 */
export async function ensureSafeSqlMode(session: SqlSession, role: LoginRole): Promise<void> {
  const rows = await run(session, 'SELECT @@SESSION.sql_mode AS mode', 'reading sql_mode', role);
  const modes = text(rows[0]?.mode).split(',');
  const unsafe = modes.filter((m) => UNSAFE_SQL_MODES.has(m));
  if (unsafe.length === 0) return;
  const kept = modes.filter((m) => !UNSAFE_SQL_MODES.has(m) && /^[A-Z_]+$/.test(m)).join(',');
  await run(session, `SET SESSION sql_mode = '${kept}'`, `turning off ${unsafe.join(' and ')}`, role);
}

export async function run(session: SqlSession, sql: string, action: string, role: LoginRole = 'master'): Promise<readonly Row[]> {
  try {
    return await session.query(sql);
  } catch (err) {
    throw statementFailure(err, action, role);
  }
}

/**
 * A typed error naming what was being done, never the statement or the driver's message (both may
 * hold a password or a hash). Network and timeout failures keep their class, so they stay retryable.
 */
export function statementFailure(err: unknown, action: string, role: LoginRole): ToolkitError {
  if (err instanceof ToolkitError && err.code !== 'DATABASE') return err;
  if (!(err instanceof ToolkitError)) {
    const classified = classifyStatementError(err, { family: 'mysql', role, action });
    if (classified.code !== 'DATABASE') return classified;
  }
  const code = failureCode(err);
  const cause = err instanceof ToolkitError ? { name: err.causeSummary?.name ?? err.name, code } : err;
  return new DatabaseError(`MySQL as the ${role} user: ${action} was refused${code !== undefined ? ` (${code})` : ''}`, { cause });
}

/**
 * As the master (or the account manager `role`): puts the stored authentication of `accounts` (as read by `accountStatesOf` before a
 * change) back exactly, every method of a chain and every stored string, with no password travelling;
 * a PASSWORD EXPIRE the DBA ran is run again (setting a password renews it).
 * @throws the first statement's failure (the accounts before it are put back, those after it are not)
 */
export async function restoreStoredPasswords(
  session: SqlSession,
  server: ServerInfo,
  accounts: readonly AccountState[],
  role: LoginRole = 'master',
): Promise<void> {
  await ensureSafeSqlMode(session, role);
  for (const account of accounts) {
    const target = accountName(account.user, account.host);
    const what = `putting the stored password of ${describeAccount(account.user, account.host)} back`;
    await run(session, `ALTER USER ${target} ${storedIdentifiedClause(server, account.chain)}`, what, role);
    if (account.expiredByDba) await run(session, `ALTER USER ${target} PASSWORD EXPIRE`, what, role);
  }
}

export function describeAccount(user: string, host: string): string {
  return `account ${accountName(user, host)}`;
}

export function quoteName(name: string): string {
  return escape(name);
}
