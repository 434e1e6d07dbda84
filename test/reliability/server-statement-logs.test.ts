/**
 * No password reaches a server's statement log (issue 12: "no password appears in logs, errors or server
 * statement logs"). One private PostgreSQL (log_statement = all, to server.log in its folder) and one
 * private MariaDB (the general log, to general.log in its folder) receive every flow that sends a
 * password to the server: single-user rotations with and without a master, alternating-users rotations
 * (the alternate user's creation, then the sync back to the original), a drifted password healed by the
 * master after a refused login, a new password put back after its proof was refused, and the logins of
 * the pools and `withSecret` across a rotation. Then both logs are searched for every password and
 * secret string the file handled (and their SQL-escaped forms), after asserting that the logs did record
 * the password statements, so an empty or silent log cannot pass.
 *
 * Private servers, because turning statement logging on is a server-wide setting the shared servers must
 * never get (docs/testing.md). The documented exception — MariaDB's plaintext fallback when a
 * password-validation plugin refuses hashes — is proven on its own in
 * test/accounts/mysql-private-server.test.ts and is not reached here (no such plugin is loaded).
 */
import { GetSecretValueCommand, ListSecretVersionIdsCommand } from '@aws-sdk/client-secrets-manager';
import { createConnection } from 'mysql2/promise';
import { Client } from 'pg';
import { randomBytes } from 'node:crypto';
import { canLoginMysql, canLoginPostgres, connectMysqlAdmin, connectPostgresAdmin } from '../../local/admin-connections';
import { createMysqlUser, createPostgresUser, fixturePassword } from '../../local/fixtures';
import { startPrivateMariadb, type PrivateMariadb } from '../../local/private-mariadb';
import { startPrivatePostgres, type PrivatePostgres } from '../../local/private-postgres';
import { noteSensitive } from '../../local/sensitive-values';
import type { EngineFamily } from '../../shared/database-secret';
import { mysqlEngine } from '../../shared/engines/mysql';
import { mysqlNativePasswordHash, scramSha256Verifier } from '../../shared/engines/password-hashes';
import { postgresEngine } from '../../shared/engines/postgres';
import { createMysqlPool } from '../../shared/pools/mysql-pool';
import { createPgPool } from '../../shared/pools/pg-pool';
import { createRotationHandler } from '../../shared/rotation/create-rotation-handler';
import type { Connector, DatabaseEngine } from '../../shared/rotation/database-engine';
import { PASSWORD_POLICY_ENV } from '../../shared/rotation/password-policy';
import type { RotationStrategyName } from '../../shared/rotation/rotation-settings';
import { SecretCache } from '../../shared/secret-cache';
import {
  captureLogger,
  createSecret,
  lambdaArn,
  rotate,
  secretValue,
  startEndpoint,
  uniqueName,
  type Endpoint,
} from '../support/rotation-endpoint';
import { LeakScanner, describeLeaks, readSensitiveValues } from '../setup/leak-scanner';
import { recordFigure } from '../support/figures';

let pg: PrivatePostgres;
let maria: PrivateMariadb;
let endpoint: Endpoint;
const logs = captureLogger();
/** Every password this file made or set outside a rotation (the rotations' own are read back from the secrets). */
const handled: string[] = [];
const secretIds: string[] = [];

/** Quotes, a backslash and a double quote: a password that must be escaped to appear in any SQL literal. */
function awkwardPassword(): string {
  const pw = `${fixturePassword()}'"\\x`;
  noteSensitive(pw);
  handled.push(pw);
  return pw;
}

/** What the two engines differ in, for the flows below. */
interface World {
  readonly family: EngineFamily;
  readonly engine: DatabaseEngine;
  readonly port: number;
  masterArn: string;
  /** A new login user with an awkward password. */
  user(): Promise<{ username: string; password: string }>;
  /** The DBA (or another tool) changes the password behind the secret's back, sending only its hash. */
  drift(username: string, password: string): Promise<void>;
  canLogin(username: string, password: string): Promise<boolean>;
  /** An application's plain driver login: the user name, or the driver's own refusal error. */
  whoAmI(credentials: { username: string; password: string }): Promise<string>;
  /** The secret's engine-specific fields. */
  readonly fields: Record<string, unknown>;
  log(): string;
}

const worlds: Record<EngineFamily, World> = {} as Record<EngineFamily, World>;

beforeAll(async () => {
  [pg, maria, endpoint] = await Promise.all([startPrivatePostgres(), startPrivateMariadb(), startEndpoint()]);
  handled.push(pg.env.PGPASSWORD!);
  const mysqlEnv = { ...process.env, MYSQL_HOST: '127.0.0.1', MYSQL_PORT: String(maria.port), MYSQL_USER: 'root', MYSQL_PASSWORD: '' };

  worlds.postgres = {
    family: 'postgres',
    engine: postgresEngine,
    port: pg.port,
    masterArn: '',
    user: () => createPostgresUser({ env: pg.env, password: awkwardPassword() }),
    drift: async (username, password) => {
      const admin = await connectPostgresAdmin(pg.env);
      try {
        await admin.query(`ALTER ROLE "${username}" PASSWORD '${scramSha256Verifier(password)}'`);
      } finally {
        await admin.end();
      }
    },
    canLogin: (username, password) => canLoginPostgres(username, password, pg.env),
    whoAmI: async ({ username, password }) => {
      const client = new Client({ host: '127.0.0.1', port: pg.port, database: 'postgres', user: username, password });
      client.on('error', () => undefined);
      try {
        await client.connect();
        return String((await client.query('SELECT current_user AS u')).rows[0]?.u);
      } finally {
        await client.end().catch(() => undefined);
      }
    },
    fields: { engine: 'postgres', dbname: 'postgres' },
    log: () => pg.log(),
  };
  // The private server's superuser is the master: a real password, logged in over SCRAM.
  worlds.postgres.masterArn = await createSecret(endpoint.client, uniqueName('pls-pg-master'), {
    engine: 'postgres',
    host: '127.0.0.1',
    port: pg.port,
    username: 'postgres',
    password: pg.env.PGPASSWORD,
    dbname: 'postgres',
    ssl: false,
  });

  worlds.mysql = {
    family: 'mysql',
    engine: mysqlEngine,
    port: maria.port,
    masterArn: '',
    user: () => createMysqlUser({ env: mysqlEnv, password: awkwardPassword() }),
    drift: async (username, password) => {
      const admin = await maria.admin();
      try {
        await admin.query('ALTER USER ?@? IDENTIFIED BY PASSWORD ?', [username, '%', mysqlNativePasswordHash(password)]);
      } finally {
        await admin.end();
      }
    },
    canLogin: (username, password) => canLoginMysql(username, password, mysqlEnv),
    whoAmI: async ({ username, password }) => {
      const conn = await createConnection({ host: '127.0.0.1', port: maria.port, user: username, password });
      conn.on('error', () => undefined);
      try {
        const [rows] = await conn.query('SELECT USER() AS u');
        return String((rows as Array<{ u: string }>)[0]?.u).replace(/@.*$/, '');
      } finally {
        await conn.end().catch(() => undefined);
      }
    },
    fields: { engine: 'mariadb' },
    log: () => maria.generalLog(),
  };
  const masterName = `pls_m_${randomBytes(3).toString('hex')}`;
  const masterPassword = awkwardPassword();
  const admin = await connectMysqlAdmin(mysqlEnv);
  try {
    await admin.query('CREATE USER ?@? IDENTIFIED BY PASSWORD ?', [masterName, '%', mysqlNativePasswordHash(masterPassword)]);
    await admin.query('GRANT ALL PRIVILEGES ON *.* TO ?@? WITH GRANT OPTION', [masterName, '%']);
  } finally {
    await admin.end();
  }
  worlds.mysql.masterArn = await createSecret(endpoint.client, uniqueName('pls-my-master'), {
    engine: 'mariadb',
    host: '127.0.0.1',
    port: maria.port,
    username: masterName,
    password: masterPassword,
    ssl: false,
  });
  secretIds.push(worlds.postgres.masterArn, worlds.mysql.masterArn);

  for (const world of Object.values(worlds)) {
    for (const strategy of ['single-user', 'alternating-users'] as const) {
      endpoint.local.registerRotationFunction(fn(world.family, strategy), handlerFor(world, strategy));
    }
    endpoint.local.registerRotationFunction(
      fn(world.family, 'refused-proof'),
      handlerFor(world, 'single-user', proofRefused(world.engine)),
    );
  }
}, 120_000);

afterAll(async () => {
  await endpoint?.close();
  await pg?.stop();
  await maria?.stop();
});

/** Generated passwords may hold every character the API can give: quotes and backslashes included. */
function handlerFor(world: World, strategy: RotationStrategyName, connect?: Connector) {
  return createRotationHandler({
    engine: world.engine,
    strategy,
    secretsClient: endpoint.client,
    env: { [PASSWORD_POLICY_ENV.excludeCharacters]: '' },
    logger: logs,
    ...(connect ? { connect } : {}),
  });
}

function fn(family: EngineFamily, name: string): string {
  return lambdaArn(`pls-${family}-${name}`);
}

/**
 * The engine's own connector, except that the proof of a new password in setSecret (the `pending`
 * login) is sent a wrong password: the server really refuses it, and the rotation must put the old
 * password back.
 */
function proofRefused(engine: DatabaseEngine): Connector {
  return async (request) => {
    if (request.step !== 'setSecret' || request.role !== 'pending') return engine.defaultConnector(request);
    const wrong = awkwardPassword();
    return engine.defaultConnector({ ...request, secret: { ...request.secret, password: wrong } });
  };
}

async function secretFor(world: World, user: { username: string; password: string }, extra: Record<string, unknown> = {}): Promise<string> {
  const arn = await createSecret(endpoint.client, uniqueName(`pls-${world.family}`), {
    ...world.fields,
    host: '127.0.0.1',
    port: world.port,
    username: user.username,
    password: user.password,
    ssl: false,
    ...extra,
  });
  secretIds.push(arn);
  return arn;
}

describe.each(['postgres', 'mysql'] as const)('the flows that send passwords, %s', (family) => {
  const world = (): World => worlds[family];

  it('single user, without and with a master: rotated twice, each new password logs in', async () => {
    for (const extra of [{}, { masterarn: world().masterArn }]) {
      const user = await world().user();
      const arn = await secretFor(world(), user, extra);
      await rotate(endpoint.client, arn, fn(family, 'single-user'));
      await rotate(endpoint.client, arn, fn(family, 'single-user'));
      const current = await secretValue(endpoint.client, arn);
      expect(await world().canLogin(current.username, current.password)).toBe(true);
      expect(await world().canLogin(user.username, user.password)).toBe(false);
    }
  });

  it('alternating users: the alternate user is created, then the original synced back', async () => {
    const user = await world().user();
    const arn = await secretFor(world(), user, { masterarn: world().masterArn });
    await rotate(endpoint.client, arn, fn(family, 'alternating-users'));
    const clone = await secretValue(endpoint.client, arn);
    expect(clone.username).toBe(`${user.username}_clone`);
    await rotate(endpoint.client, arn, fn(family, 'alternating-users'));
    const back = await secretValue(endpoint.client, arn);
    expect(back.username).toBe(user.username);
    expect(await world().canLogin(back.username, back.password)).toBe(true);
    expect(await world().canLogin(clone.username, clone.password)).toBe(true);
  });

  it('drift: AWSCURRENT is refused, the master proves drift and sets the new password', async () => {
    const user = await world().user();
    const arn = await secretFor(world(), user, { masterarn: world().masterArn });
    await world().drift(user.username, awkwardPassword());
    expect(await world().canLogin(user.username, user.password)).toBe(false);
    await rotate(endpoint.client, arn, fn(family, 'single-user'));
    const current = await secretValue(endpoint.client, arn);
    expect(await world().canLogin(current.username, current.password)).toBe(true);
    expect(logs.lines.some((l) => l.secretArn === arn && l.level === 'warn' && /drift proven/.test(l.message))).toBe(true);
  });

  it('a new password whose proof is refused is put back by the same session', async () => {
    const user = await world().user();
    const arn = await secretFor(world(), user);
    await expect(rotate(endpoint.client, arn, fn(family, 'refused-proof'))).rejects.toBeDefined();
    expect(logs.lines.filter((l) => l.secretArn === arn && l.outcome === 'failure').map((l) => l.step)).toEqual(['setSecret']);
    expect(await world().canLogin(user.username, user.password)).toBe(true);
  });

  it('the pools and withSecret log in across a rotation, through a cache holding the replaced password', async () => {
    const user = await world().user();
    const arn = await secretFor(world(), user);
    const cache = new SecretCache({ client: endpoint.client });
    await cache.getSecret(arn);
    await rotate(endpoint.client, arn, fn(family, 'single-user'));
    if (family === 'postgres') {
      const pool = createPgPool({ secretId: arn, cache, pool: { max: 1 } });
      pool.on('error', () => undefined);
      try {
        expect((await pool.query('SELECT current_user AS u')).rows[0]?.u).toBe(user.username);
      } finally {
        await pool.end();
      }
    } else {
      const pool = createMysqlPool({ secretId: arn, cache, pool: { connectionLimit: 1 } });
      try {
        const [rows] = await pool.query('SELECT CURRENT_USER() AS u');
        expect(String((rows as Array<{ u: string }>)[0]?.u)).toMatch(new RegExp(`^${user.username}@`));
      } finally {
        await pool.end();
      }
    }
    const stale = new SecretCache({ client: endpoint.client });
    await stale.getSecret(arn);
    await rotate(endpoint.client, arn, fn(family, 'single-user'));
    // The application's own login with the cached (replaced) password is refused; withSecret refreshes.
    const loggedIn = await stale.withSecret(arn, (value) => world().whoAmI(value as { username: string; password: string }));
    expect(loggedIn).toBe(user.username);
  });
});

/** Every password and secret string of every version of every secret this file made, deprecated ones too. */
async function everySecretValue(): Promise<string[]> {
  const values: string[] = [];
  for (const id of secretIds) {
    const list = await endpoint.client.send(new ListSecretVersionIdsCommand({ SecretId: id, IncludeDeprecated: true }));
    for (const version of list.Versions ?? []) {
      const out = await endpoint.client.send(new GetSecretValueCommand({ SecretId: id, VersionId: version.VersionId! }));
      const text = out.SecretString ?? '';
      values.push(text, String((JSON.parse(text) as { password?: unknown }).password ?? ''));
    }
  }
  return values;
}

/** A value as it would stand inside a SQL string literal on either server: doubled quotes, backslash escapes. */
function sqlForms(value: string): string[] {
  return [
    value,
    value.replace(/'/g, "''"),
    value.replace(/\\/g, '\\\\').replace(/'/g, "\\'"),
    value.replace(/\\/g, '\\\\').replace(/'/g, "''"),
    value.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/"/g, '\\"'),
  ];
}

describe('the statement logs of both servers', () => {
  let scanner: LeakScanner;
  let count = 0;

  beforeAll(async () => {
    // The register also holds every password a Secrets Manager client of this process saw (GetRandomPassword's too).
    const values = [...handled, ...(await everySecretValue()), ...readSensitiveValues(process.env.ROTATION_TOOLKIT_SENSITIVE_FILE)];
    const forms = [...new Set(values.filter((v) => v.length >= 8).flatMap(sqlForms))];
    count = new Set(values).size;
    scanner = new LeakScanner(forms);
  });

  it('PostgreSQL logged the password statements (as verifiers) and no password or secret string', async () => {
    const marker = `pls_marker_${randomBytes(6).toString('hex')}`;
    const admin = await connectPostgresAdmin(pg.env);
    try {
      await admin.query(`SELECT '${marker}' AS marker`);
    } finally {
      await admin.end();
    }
    // The server writes its log through the logger process: wait until the marker is there.
    let text = pg.log();
    for (let i = 0; i < 100 && !text.includes(marker); i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      text = pg.log();
    }
    expect(text).toContain(marker);
    // The statements that carry a password were logged: the scan below is not vacuous.
    expect(text).toMatch(/ALTER ROLE .* PASSWORD 'SCRAM-SHA-256\$/);
    expect(text).toMatch(/CREATE ROLE .*_clone.* PASSWORD 'SCRAM-SHA-256\$/);
    expect(text).toMatch(/password authentication failed/);
    const leaks = scanner.scan(text);
    expect(describeLeaks('private PostgreSQL statement log', leaks)).toEqual([]);
    recordFigure('leakscan.bytes.PostgreSQL statement log', text.length);
    recordFigure('leakscan.statementLogValues', count);
  });

  it('MariaDB logged the password statements (as hashes) and no password or secret string', () => {
    const text = maria.generalLog();
    expect(text).toMatch(/SET PASSWORD = '\*[0-9A-F]{40}'/);
    expect(text).toMatch(/SET PASSWORD FOR .* = '\*[0-9A-F]{40}'|ALTER USER .* IDENTIFIED BY PASSWORD '\*[0-9A-F]{40}'/);
    expect(text).toMatch(/CREATE USER .*_clone/);
    expect(text).toMatch(/Access denied/);
    const leaks = scanner.scan(text);
    expect(describeLeaks('private MariaDB general log', leaks)).toEqual([]);
    expect(logs.text().length).toBeGreaterThan(0);
    expect(describeLeaks('rotation log lines', scanner.scan(logs.text()))).toEqual([]);
    recordFigure('leakscan.bytes.MariaDB general log', text.length);
  });
});
