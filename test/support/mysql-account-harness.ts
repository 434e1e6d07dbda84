/**
 * One cell of the MySQL/MariaDB account-state matrix: a user in a given state on a given server, its
 * secret (with or without a master), a rotation driven through the embedded Secrets Manager endpoint's
 * RotateSecret exactly as the service would, and the checks made from outside afterwards:
 * - the outcome (rotated, renewed, or refused with a reason) from the handler's own failure line;
 * - AWSCURRENT logs in from the application's address (127.0.0.2, a second loopback address, through
 *   a `stream` with that local address), or, for a refusal, the application can log in exactly as
 *   well as before;
 * - nothing the DBA set changed: SHOW CREATE USER and mysql.global_priv of every account of the user,
 *   compared before and after (only the verifiers and the change time may move when a password did);
 * - no password in the handler's lines, the failure messages or the endpoint's log.
 */
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { createConnection, type Connection } from 'mysql2/promise';
import { connectMysqlAdmin } from '../../local/admin-connections';
import { mysqlAdminSettings } from '../../local/db-settings';
import { noteSensitive } from '../../local/sensitive-values';
import { mysqlEngine } from '../../shared/engines/mysql';
import { mysqlNativePasswordHash } from '../../shared/engines/password-hashes';
import { createRotationHandler } from '../../shared/rotation/create-rotation-handler';
import type { RotationStrategyName } from '../../shared/rotation/rotation-settings';
import { captureLogger, createSecret, lambdaArn, rotate, secretValue } from './rotation-endpoint';
import type { TestEndpoint } from './rotation-rig';

/** The application's address: a second loopback address, as a host of its own. */
export const APP_ADDRESS = '127.0.0.2';

/** A server the cells run on: the shared MariaDB or a private one. */
export interface MysqlServer {
  readonly port: number;
  admin(): Promise<Connection>;
}

/** The shared MariaDB on 127.0.0.1:3306 (root, empty password). */
export function sharedMariadb(): MysqlServer {
  return { port: mysqlAdminSettings().port, admin: () => connectMysqlAdmin() };
}

/** A user's state before the rotation: how each of its accounts is created, and what its secret holds. */
export interface AccountSpec {
  /** Host parts of the user's accounts. @default ['%'] */
  readonly hosts?: readonly string[];
  /** After `IDENTIFIED …` on every account: `ACCOUNT LOCK`, `PASSWORD EXPIRE`, `REQUIRE X509`, limits… */
  readonly options?: string;
  /** How every account authenticates, given the password's native hash and the password. @default native */
  readonly identified?: (hash: string, password: string) => string;
  /** SELECT (User, Host) ON mysql.user, so single-user without a master can list its host entries. @default true */
  readonly mayListAccounts?: boolean;
  /** The secret holds a password the accounts do not have (drift). */
  readonly drifted?: boolean;
  /** The secret names a user that does not exist. */
  readonly missing?: boolean;
  /** Appended to the generated user name (quotes, backslashes, '@', non-ASCII, length). */
  readonly usernameSuffix?: string;
  /** More fields of the user's secret (e.g. `dbname`). */
  readonly secretFields?: Readonly<Record<string, unknown>>;
  /** Runs once the accounts exist, before the state is read (e.g. a refused login that blocks the user). */
  readonly prepare?: (server: MysqlServer, username: string, password: string) => Promise<void>;
}

/** How the rotation and the application reach the server. */
export interface CellOptions {
  /** The rotation function's environment on top of DB_TLS_MODE=disable. */
  readonly env?: Record<string, string>;
  /** Leave `ssl` out of the secret, so DB_TLS_MODE decides (TLS cells). */
  readonly tls?: boolean;
  /** The application's TLS options (a client certificate). */
  readonly appSsl?: object;
}

/** What a cell promises: rotated (or renewed), or refused with an error code and a reason. */
export type Outcome =
  { readonly kind: 'rotated' } | { readonly kind: 'refused'; readonly code: string; readonly reason?: string; readonly message?: RegExp };

/** What the handler reported for the rotation: its failure line's code, reason and message. */
export interface CellResult {
  readonly ok: boolean;
  readonly errorCode?: string;
  readonly reason?: string;
  readonly message?: string;
}

/** A strong password of every character class (validation plugins accept it), noted for the leak scan. */
export function strongPassword(): string {
  const pw = `Aa1-${randomBytes(12).toString('base64url')}`;
  noteSensitive(pw);
  return pw;
}

/** A user name with a suite's prefix (`myacc` by default) and a random suffix. */
export function shortName(tag: string, prefix = 'myacc'): string {
  return `${prefix}_${tag}_${randomBytes(3).toString('hex')}`;
}

/** Logs in from `localAddress` (the application's address by default); true when the server accepted. */
export async function logsIn(
  server: MysqlServer,
  user: string,
  password: string,
  localAddress = APP_ADDRESS,
  ssl?: object,
): Promise<boolean> {
  let conn: Connection | undefined;
  try {
    conn = await createConnection({
      host: '127.0.0.1',
      port: server.port,
      user,
      password,
      connectTimeout: 5000,
      stream: () => connect({ host: '127.0.0.1', port: server.port, localAddress }),
      ...(ssl !== undefined ? { ssl } : {}),
    });
    conn.on('error', () => undefined);
    await conn.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await conn?.end().catch(() => undefined);
  }
}

/**
 * What the DBA set on every account of `user`: SHOW CREATE USER and the global_priv document. With
 * `verifiers: false`, stored verifiers and the change time are masked (a rotation changes those).
 */
export async function dbaState(admin: Connection, user: string, verifiers: boolean): Promise<Record<string, unknown>> {
  const [rows] = await admin.query('SELECT Host AS host, Priv AS priv FROM mysql.global_priv WHERE User = ? ORDER BY Host', [user]);
  const state: Record<string, unknown> = {};
  for (const row of rows as Array<{ host: string; priv: unknown }>) {
    const host = String(row.host);
    const [shown] = await admin.query('SHOW CREATE USER ?@?', [user, host]);
    let create = String(Object.values((shown as Array<Record<string, unknown>>)[0]!)[0]);
    const doc = (typeof row.priv === 'string' ? JSON.parse(row.priv) : row.priv) as Record<string, unknown>;
    if (!verifiers) {
      create = create.replace(/(USING|PASSWORD) '[^']*'/g, "$1 '<verifier>'").replace(/ PASSWORD EXPIRE(?! INTERVAL| NEVER| DEFAULT)/, '');
      delete doc.authentication_string;
      delete doc.password_last_changed;
      if (Array.isArray(doc.auth_or))
        doc.auth_or = (doc.auth_or as Array<Record<string, unknown>>).map(({ authentication_string: _a, ...rest }) => rest);
    }
    state[host] = { create, priv: doc };
  }
  return state;
}

/** What every cell of a file shares: the endpoint, the server, and the master on it. */
export interface CellContext {
  readonly endpoint: TestEndpoint;
  readonly server: MysqlServer;
  /** The master secret's ARN on this server. */
  readonly masterArn: string;
  /** The prefix of every user name the cells create. @default 'myacc' */
  readonly namePrefix?: string;
}

/** Creates a master (every privilege WITH GRANT OPTION, like RDS's) and its secret. */
export async function createMaster(
  endpoint: TestEndpoint,
  server: MysqlServer,
  prefix?: string,
): Promise<{ arn: string; username: string }> {
  const username = shortName('m', prefix);
  const password = strongPassword();
  const admin = await server.admin();
  try {
    await admin.query('CREATE USER ?@? IDENTIFIED BY PASSWORD ?', [username, '%', mysqlNativePasswordHash(password)]);
    await admin.query('GRANT ALL PRIVILEGES ON *.* TO ?@? WITH GRANT OPTION', [username, '%']);
  } finally {
    await admin.end();
  }
  const arn = await createSecret(endpoint.client, `${username}-secret`, {
    engine: 'mariadb',
    host: '127.0.0.1',
    port: server.port,
    username,
    password,
    ssl: false,
  });
  return { arn, username };
}

/** Drops every account of the given user names (and their clones). */
export async function dropUsers(server: MysqlServer, names: readonly string[]): Promise<void> {
  const admin = await server.admin();
  try {
    const all = names.flatMap((n) => [n, `${n}_clone`]);
    const [rows] = await admin.query('SELECT User AS user, Host AS host FROM mysql.global_priv WHERE User IN (?)', [all]);
    for (const r of rows as Array<{ user: string; host: string }>)
      await admin.query('DROP USER IF EXISTS ?@?', [String(r.user), String(r.host)]);
  } finally {
    await admin.end();
  }
}

/** Everything read back after one cell's rotation, for `expectOutcome`. */
export interface CellRun {
  readonly result: CellResult;
  readonly username: string;
  readonly before: { exact: Record<string, unknown>; masked: Record<string, unknown> };
  readonly after: { exact: Record<string, unknown>; masked: Record<string, unknown> };
  readonly appBefore: boolean;
  readonly appAfter: boolean;
  readonly oldAfter: boolean;
  readonly current: { username: string; password: string };
  /** The password the secret held before the rotation. */
  readonly secretPassword: string;
  /** Every text the rotation produced (handler lines, failure messages, the endpoint's log). */
  readonly texts: readonly string[];
  /** Every password of the cell: none may appear in `texts`. */
  readonly passwords: readonly string[];
}

/**
 * Sets up the user, rotates once (Secrets Manager runs the four steps), and reads everything back.
 * The caller asserts; `cleanup` names the users to drop.
 */
export async function runCell(
  ctx: CellContext,
  spec: AccountSpec,
  strategy: RotationStrategyName,
  withMaster: boolean,
  cleanup: string[],
  options: CellOptions = {},
): Promise<CellRun> {
  const username = `${shortName(strategy === 'single-user' ? 's' : 'a', ctx.namePrefix)}${spec.usernameSuffix ?? ''}`;
  cleanup.push(username);
  const password = strongPassword();
  const admin = await ctx.server.admin();
  try {
    if (!spec.missing) {
      for (const host of spec.hosts ?? ['%']) {
        const identified =
          spec.identified?.(mysqlNativePasswordHash(password), password) ?? `IDENTIFIED BY PASSWORD '${mysqlNativePasswordHash(password)}'`;
        await admin.query(`CREATE USER ${admin.format('?@?', [username, host])} ${identified} ${spec.options ?? ''}`);
        if (spec.mayListAccounts !== false) await admin.query('GRANT SELECT (User, Host) ON mysql.user TO ?@?', [username, host]);
      }
    }
    if (spec.prepare !== undefined) await spec.prepare(ctx.server, username, password);
    const secretPassword = spec.drifted ? strongPassword() : password;
    const before = { exact: await dbaState(admin, username, true), masked: await dbaState(admin, username, false) };
    const appBefore = await logsIn(ctx.server, username, secretPassword, APP_ADDRESS, options.appSsl);
    const logs = captureLogger();
    const handler = createRotationHandler({
      engine: mysqlEngine,
      strategy,
      secretsClient: ctx.endpoint.client,
      env: { DB_TLS_MODE: 'disable', ...options.env },
      logger: logs,
    });
    const fn = lambdaArn(shortName('fn', ctx.namePrefix));
    ctx.endpoint.local.registerRotationFunction(fn, (event) => handler(event));
    // Secrets Manager names allow only letters, digits and -/_+=.@!
    const secretId = await createSecret(ctx.endpoint.client, `${username.replace(/[^A-Za-z0-9/_+=.@!-]/g, '_')}-secret`, {
      engine: 'mariadb',
      host: '127.0.0.1',
      port: ctx.server.port,
      username,
      password: secretPassword,
      ...(options.tls === true ? {} : { ssl: false }),
      ...spec.secretFields,
      ...(withMaster ? { masterarn: ctx.masterArn } : {}),
    });
    let apiError: string | undefined;
    await rotate(ctx.endpoint.client, secretId, fn).catch((err: unknown) => {
      apiError = `${(err as Error).name}: ${(err as Error).message}`;
    });
    const failure = logs.lines.find((l) => l.outcome === 'failure');
    const current = await secretValue(ctx.endpoint.client, secretId);
    const pending = await secretValue(ctx.endpoint.client, secretId, 'AWSPENDING').catch(() => undefined);
    const after = { exact: await dbaState(admin, username, true), masked: await dbaState(admin, username, false) };
    return {
      result: {
        ok: failure === undefined && apiError === undefined,
        ...(failure?.errorCode !== undefined ? { errorCode: failure.errorCode } : {}),
        ...(failure?.reason !== undefined ? { reason: failure.reason } : {}),
        ...(failure?.message !== undefined ? { message: failure.message } : apiError !== undefined ? { message: apiError } : {}),
      },
      username,
      before,
      after,
      appBefore,
      appAfter: await logsIn(ctx.server, current.username, current.password, APP_ADDRESS, options.appSsl),
      oldAfter:
        current.password !== secretPassword ? await logsIn(ctx.server, username, secretPassword, APP_ADDRESS, options.appSsl) : false,
      current: { username: current.username, password: current.password },
      secretPassword,
      texts: [logs.text(), failure?.message ?? '', apiError ?? '', ...ctx.endpoint.logLines],
      passwords: [password, secretPassword, current.password, pending?.password ?? ''].filter((p) => p.length >= 8),
    };
  } finally {
    await admin.end();
  }
}

/** How many of the cell's passwords appear in what the rotation wrote. */
export function leakedPasswords(run: CellRun): number {
  const texts = run.texts.join('\n');
  return run.passwords.filter((p) => texts.includes(p)).length;
}

/** Asserts a cell's outcome and the checks from outside (see the module comment). */
export function expectOutcome(run: CellRun, expected: Outcome, label: string): void {
  const seen = { label, ...run.result };
  if (expected.kind === 'rotated') {
    expect(seen).toEqual({ label, ok: true });
    expect({ label, appLogsIn: run.appAfter }).toEqual({ label, appLogsIn: true });
    if (run.current.username === run.username) {
      expect({ label, oldPasswordLogsIn: run.oldAfter }).toEqual({ label, oldPasswordLogsIn: false });
      expect({ label, dba: run.after.masked }).toEqual({ label, dba: run.before.masked });
    } else {
      // Alternating users: the original account is not touched at all.
      expect({ label, dba: run.after.exact }).toEqual({ label, dba: run.before.exact });
    }
  } else {
    expect(seen).toMatchObject({
      label,
      ok: false,
      errorCode: expected.code,
      ...(expected.reason !== undefined ? { reason: expected.reason } : {}),
    });
    if (expected.message !== undefined) expect(run.result.message).toMatch(expected.message);
    expect({ label, dba: run.after.exact }).toEqual({ label, dba: run.before.exact });
    expect({ label, appLogsIn: run.appAfter }).toEqual({ label, appLogsIn: run.appBefore });
    expect({ label, current: run.current }).toEqual({ label, current: { username: run.username, password: run.secretPassword } });
  }
  expect({ label, leaks: leakedPasswords(run) }).toEqual({ label, leaks: 0 });
}
