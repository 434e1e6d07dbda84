/**
 * PostgreSQL account states for the account-state suites: a role set up in a given state, the rows that
 * must not change (pg_authid, pg_db_role_setting, memberships), a login checked from outside, and one
 * cell of the matrix (one state × one column) run through the real handler and the embedded endpoint.
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { noteSensitive } from '../../local/sensitive-values';
import { postgresEngine } from '../../shared/engines/postgres';
import { escapePostgresIdentifier as ident, escapePostgresLiteral as literal } from '../../shared/engines/postgres-escape';
import { postgresMd5Hash, scramSha256Verifier } from '../../shared/engines/password-hashes';
import type { RefusalReason } from '../../shared/errors';
import { createRotationHandler } from '../../shared/rotation/create-rotation-handler';
import type { RotationStrategyName } from '../../shared/rotation/rotation-settings';
import { captureLogger, createSecret, lambdaArn, rotate, secretValue, uniqueName, type Endpoint } from './rotation-endpoint';

/** A server the suite may create roles on: the admin logs in as `postgres`. */
export interface PgServer {
  readonly host: string;
  readonly port: number;
  /** The admin's password ('' where loopback trusts it). */
  readonly adminPassword: string;
}

export const SHARED_SERVER: PgServer = {
  host: '127.0.0.1',
  port: Number(process.env.PGPORT || 5432),
  adminPassword: process.env.PGPASSWORD ?? '',
};

export type ValidUntil = 'none' | 'past' | 'future';
/** `exhausted`: CONNECTION LIMIT 1 with the application holding the one session; `one`: CONNECTION LIMIT 1, free; `room`: 5. */
export type ConnectionLimit = 'none' | 'exhausted' | 'one' | 'room';

/** An account state: the attributes the DBA set, and whether the secret's password drifted from the role's. */
export interface AccountState {
  readonly missing?: boolean;
  readonly nologin?: boolean;
  readonly validUntil?: ValidUntil;
  readonly readOnly?: boolean;
  readonly connectionLimit?: ConnectionLimit;
  /** The role has no password (PASSWORD NULL). */
  readonly noPassword?: boolean;
  /** `ALTER ROLE … SET password_encryption = md5` on a role with a SCRAM verifier. */
  readonly md5Encryption?: boolean;
  /** The secret holds another password than the role's. */
  readonly drift?: boolean;
  /** The role's stored password is an md5 hash instead of a SCRAM verifier. */
  readonly md5Stored?: boolean;
  /** Groups the role is made a member of (pg_hba `+group` lines). */
  readonly memberOf?: readonly string[];
  /** The role is a SUPERUSER (pg_hba `+group` lines still match it only by real membership). */
  readonly superuser?: boolean;
}

export type Column = 'superuser-master' | 'rds-like-master' | 'no-master' | 'alternating-users';
export const COLUMNS: readonly Column[] = ['superuser-master', 'rds-like-master', 'no-master', 'alternating-users'];

/** What a cell must end with: rotated, or refused with a reason and nothing changed. */
export type Outcome = { readonly rotated: true } | { readonly refused: RefusalReason };

export const ROTATED: Outcome = { rotated: true };
export const refused = (reason: RefusalReason): Outcome => ({ refused: reason });

export function pgPassword(): string {
  const password = `Pg1-${randomBytes(12).toString('base64url')}`;
  noteSensitive(password);
  return password;
}

export async function pgAdmin(server: PgServer, database = 'postgres'): Promise<Client> {
  const client = new Client({
    host: server.host,
    port: server.port,
    user: 'postgres',
    password: server.adminPassword,
    database,
    connectionTimeoutMillis: 5000,
  });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** 'ok', or the SQLSTATE (or Node code) the login failed with. */
export async function loginCode(server: PgServer, username: string, password: string, database = 'postgres'): Promise<string> {
  const client = new Client({ host: server.host, port: server.port, user: username, password, database, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return 'ok';
  } catch (err) {
    return String((err as { code?: unknown }).code ?? 'no code');
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Everything about a role a rotation must leave alone (and its password, compared separately):
 * pg_authid's row, its settings in every database, its memberships both ways.
 */
export interface RoleRows {
  readonly exists: boolean;
  readonly attributes: string;
  readonly password: string | null;
  readonly settings: string;
  readonly memberships: string;
}

export async function roleRows(admin: Client, name: string): Promise<RoleRows> {
  const role = await admin.query(
    'SELECT rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, rolbypassrls, rolconnlimit, ' +
      'rolvaliduntil::text AS valid_until, rolpassword FROM pg_authid WHERE rolname = $1',
    [name],
  );
  const settings = await admin.query(
    'SELECT setdatabase, setconfig FROM pg_db_role_setting WHERE setrole = (SELECT oid FROM pg_roles WHERE rolname = $1) ORDER BY setdatabase',
    [name],
  );
  const memberships = await admin.query(
    'SELECT r.rolname AS role, u.rolname AS member FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member ' +
      'WHERE r.rolname = $1 OR u.rolname = $1 ORDER BY 1, 2',
    [name],
  );
  const row = role.rows[0] as Record<string, unknown> | undefined;
  const { rolpassword, ...attributes } = row ?? {};
  return {
    exists: row !== undefined,
    attributes: JSON.stringify(attributes),
    password: rolpassword === undefined || rolpassword === null ? null : String(rolpassword),
    settings: JSON.stringify(settings.rows),
    memberships: JSON.stringify(memberships.rows),
  };
}

/**
 * Creates the role in `state` with `password` (a SCRAM verifier computed here: no plaintext in the
 * server's log). For `exhausted`, the application's session is opened before NOLOGIN or an expiry is
 * applied, as it would have been, and returned.
 */
export async function createRoleInState(
  admin: Client,
  server: PgServer,
  name: string,
  password: string,
  state: AccountState,
): Promise<Client | undefined> {
  if (state.missing === true) return undefined;
  const attrs = [
    'LOGIN',
    state.superuser === true ? 'SUPERUSER' : '',
    state.noPassword === true
      ? 'PASSWORD NULL'
      : `PASSWORD ${literal(state.md5Stored === true ? postgresMd5Hash(password, name) : scramSha256Verifier(password))}`,
    state.validUntil === 'future' ? "VALID UNTIL '2999-12-31 00:00:00+00'" : '',
    state.connectionLimit === 'exhausted' || state.connectionLimit === 'one'
      ? 'CONNECTION LIMIT 1'
      : state.connectionLimit === 'room'
        ? 'CONNECTION LIMIT 5'
        : '',
  ];
  await admin.query(`CREATE ROLE ${ident(name)} WITH ${attrs.join(' ')}`);
  for (const group of state.memberOf ?? []) await admin.query(`GRANT ${ident(group)} TO ${ident(name)}`);
  if (state.readOnly === true) await admin.query(`ALTER ROLE ${ident(name)} SET default_transaction_read_only = on`);
  if (state.md5Encryption === true) await admin.query(`ALTER ROLE ${ident(name)} SET password_encryption = 'md5'`);
  let held: Client | undefined;
  if (state.connectionLimit === 'exhausted') {
    held = new Client({ host: server.host, port: server.port, user: name, password, database: 'postgres' });
    held.on('error', () => undefined);
    await held.connect();
  }
  if (state.nologin === true) await admin.query(`ALTER ROLE ${ident(name)} WITH NOLOGIN`);
  if (state.validUntil === 'past') await admin.query(`ALTER ROLE ${ident(name)} VALID UNTIL '2001-01-01 00:00:00+00'`);
  return held;
}

export async function dropRoles(admin: Client, names: readonly string[]): Promise<void> {
  for (const name of names) await admin.query(`DROP ROLE IF EXISTS ${ident(name)}`).catch(() => undefined);
}

/** The rotation functions of a suite: one handler per strategy, every log line kept for the reasons. */
export interface Handlers {
  readonly logs: ReturnType<typeof captureLogger>;
  arn(strategy: RotationStrategyName): string;
}

export function registerHandlers(endpoint: Endpoint): Handlers {
  const logs = captureLogger();
  const arns: Partial<Record<RotationStrategyName, string>> = {};
  for (const strategy of ['single-user', 'alternating-users'] as const) {
    const arn = lambdaArn(uniqueName(`pgacc-${strategy}`));
    endpoint.local.registerRotationFunction(
      arn,
      createRotationHandler({
        engine: postgresEngine,
        strategy,
        secretsClient: endpoint.client,
        env: { DB_TLS_MODE: 'disable' },
        logger: logs,
      }),
    );
    arns[strategy] = arn;
  }
  return { logs, arn: (strategy) => arns[strategy]! };
}

/** The masters a suite offers: the superuser, and an RDS-like one (CREATEROLE, not superuser, no pg_authid). */
export interface Masters {
  readonly superuser: string;
  readonly rdsLike: string;
  readonly rdsLikeName: string;
}

export async function createMasters(endpoint: Endpoint, admin: Client, server: PgServer): Promise<Masters> {
  const base = { engine: 'postgres', host: server.host, port: server.port, dbname: 'postgres', ssl: false };
  const superuser = await createSecret(endpoint.client, uniqueName('pgacc-master'), {
    ...base,
    username: 'postgres',
    password: server.adminPassword || 'trusted-on-loopback',
  });
  const rdsLikeName = `pgacc_rm_${randomBytes(4).toString('hex')}`;
  const password = pgPassword();
  await admin.query(`CREATE ROLE ${ident(rdsLikeName)} WITH LOGIN CREATEROLE PASSWORD ${literal(scramSha256Verifier(password))}`);
  const rdsLike = await createSecret(endpoint.client, uniqueName('pgacc-rds-master'), { ...base, username: rdsLikeName, password });
  return { superuser, rdsLike, rdsLikeName };
}

/** What a cell did, for the assertions and their messages. */
export interface CellResult {
  readonly outcome: 'rotated' | RefusalReason | 'failed-without-reason';
  readonly message: string;
  /** The role's rows after the rotation. */
  readonly after: RoleRows;
  /** AWSCURRENT after the rotation. */
  readonly current: { readonly username: string; readonly password: string };
}

/**
 * Runs one cell and checks it from outside: rotated (AWSCURRENT logs in, the role's rows other than
 * its password unchanged) or refused (the failure's reason, every row of the role and of its clone
 * unchanged, verifier included, the secret unchanged, and AWSCURRENT logs in afterwards exactly when
 * it did before). Throws with the cell's name when the check fails; drops what it created.
 */
export async function runCell(
  endpoint: Endpoint,
  handlers: Handlers,
  masters: Masters,
  server: PgServer,
  state: AccountState,
  column: Column,
  expected: Outcome,
): Promise<CellResult> {
  const name = `pgacc_${randomBytes(5).toString('hex')}`;
  const clone = `${name}_clone`;
  const password = pgPassword();
  const secretPassword = state.drift === true ? pgPassword() : password;
  const admin = await pgAdmin(server);
  let held: Client | undefined;
  try {
    held = await createRoleInState(admin, server, name, password, state);
    const before = { role: await roleRows(admin, name), clone: await roleRows(admin, clone) };
    const loggedInBefore = await loginCode(server, name, secretPassword);
    const masterarn =
      column === 'superuser-master' || column === 'alternating-users'
        ? masters.superuser
        : column === 'rds-like-master'
          ? masters.rdsLike
          : undefined;
    const arn = await createSecret(endpoint.client, uniqueName('pgacc-app'), {
      engine: 'postgres',
      host: server.host,
      port: server.port,
      username: name,
      password: secretPassword,
      dbname: 'postgres',
      ssl: false,
      ...(masterarn !== undefined ? { masterarn } : {}),
    });
    const strategy: RotationStrategyName = column === 'alternating-users' ? 'alternating-users' : 'single-user';
    const error = await rotate(endpoint.client, arn, handlers.arn(strategy)).then(
      () => undefined,
      (e: unknown) => e,
    );
    const failure = handlers.logs.lines.find((l) => l.secretArn === arn && l.outcome === 'failure');
    const current = await secretValue(endpoint.client, arn);
    const after = { role: await roleRows(admin, name), clone: await roleRows(admin, clone) };
    const where = `${JSON.stringify(state)} × ${column}`;
    const check = (ok: boolean, what: string): void => {
      if (!ok) throw new Error(`${where}: ${what} (failure: ${failure?.message ?? String(error ?? 'none')})`);
    };
    if (error === undefined) {
      check('rotated' in expected, `rotated, expected refused with ${'refused' in expected ? expected.refused : ''}`);
      check((await loginCode(server, current.username, current.password)) === 'ok', 'AWSCURRENT does not log in after the rotation');
      check(after.role.attributes === before.role.attributes, 'the role attributes changed');
      check(after.role.settings === before.role.settings, 'the role settings changed');
      if (strategy === 'single-user') {
        check(current.password !== secretPassword, 'the password did not change');
      } else {
        check(after.role.password === before.role.password, 'alternating users changed the original role password');
      }
      return { outcome: 'rotated', message: '', after: after.role, current };
    }
    const reason = (failure?.reason as RefusalReason | undefined) ?? 'failed-without-reason';
    check(
      'refused' in expected && expected.refused === reason,
      `refused with ${reason}, expected ${'refused' in expected ? expected.refused : 'rotated'}`,
    );
    check(JSON.stringify(after) === JSON.stringify(before), 'a refused rotation changed the role or its clone');
    check(current.password === secretPassword && current.username === name, 'a refused rotation changed AWSCURRENT');
    check((await loginCode(server, name, secretPassword)) === loggedInBefore, 'AWSCURRENT logs in differently after the refusal');
    return { outcome: reason, message: failure?.message ?? '', after: after.role, current };
  } finally {
    await held?.end().catch(() => undefined);
    await dropRoles(admin, [clone, name]);
    await admin.end();
  }
}

/**
 * The expected outcome of a state in a column, from the contract: the first cause that blocks a
 * login wins (missing role, NOLOGIN, VALID UNTIL past, connection limit), then drift, healed by a master
 * (proven as superuser, by elimination as an RDS-like master), refused without one or by alternating
 * users. Without a master only the code speaks: `connection-limit` for 53300, else `undetermined`.
 */
export function expectedOutcome(state: AccountState, column: Column): Outcome {
  const master = column !== 'no-master';
  const blocker: RefusalReason | undefined = state.missing
    ? 'role-missing'
    : state.nologin
      ? 'login-disabled'
      : state.validUntil === 'past'
        ? 'expired'
        : state.connectionLimit === 'exhausted'
          ? 'connection-limit'
          : undefined;
  if (blocker !== undefined) {
    // 53300 comes only after the password checked out and the role may log in.
    const codeTellsLimit = blocker === 'connection-limit' && state.drift !== true;
    return refused(master || codeTellsLimit ? blocker : 'undetermined');
  }
  const refusedLogin = state.drift === true || state.noPassword === true;
  if (!refusedLogin) {
    // The user's own session changes the password; the proving login needs one more connection.
    return state.connectionLimit === 'one' && column !== 'alternating-users' ? refused('connection-limit') : ROTATED;
  }
  switch (column) {
    case 'no-master':
      return refused('undetermined');
    case 'alternating-users':
      return refused(state.noPassword === true ? 'unsupported-auth-plugin' : 'wrong-password');
    case 'superuser-master':
      return state.noPassword === true ? refused('unsupported-auth-plugin') : ROTATED;
    case 'rds-like-master':
      // Elimination cannot see PASSWORD NULL: the documented limit, healed like drift.
      return ROTATED;
  }
}
