/**
 * `createMysqlPool` across real rotations of a real MariaDB user, driven by the embedded Secrets
 * Manager endpoint: 12 workers query without pause through one pool while 4 single-user and then 4
 * alternating-users rotations run, idle connections being dropped all the time (the driver's reaper
 * keeps none idle, and some workers close their connection after use) so new logins keep happening,
 * and the cache keeping its default 5-minute TTL (so only a refused login tells the pool). Not one
 * query may fail. Then the pieces one by one: a burst of refused logins shares one probe, a retired
 * user's connection finishes its query and is closed once idle, and a secret nothing logs in with fails
 * with a typed error that shows no value.
 */
import type { Connection } from 'mysql2/promise';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { connectMysqlAdmin } from '../../local/admin-connections';
import { createMysqlUser, fixtureUsername, type MysqlFixtureUser } from '../../local/fixtures';
import { mysqlEngine } from '../../shared/engines/mysql';
import { AuthenticationError } from '../../shared/errors';
import { createMysqlPool, type MysqlPoolOptions, type RotatingMysqlPool } from '../../shared/pools/mysql-pool';
import { SecretCache } from '../../shared/secret-cache';
import { captureLogger, createSecret, rotate, secretValue, startEndpoint, uniqueName, type Endpoint } from '../support/rotation-endpoint';
import { registerSlowRotation, sleep, startWorkload, type WorkloadReport } from '../support/pool-workload';

const WORKERS = 12;
const ROTATIONS = 4;
const WINDOW_MS = 250;
const WHO = "SELECT SUBSTRING_INDEX(USER(), '@', 1) AS u";

let endpoint: Endpoint;
let admin: Connection;
let master: MysqlFixtureUser;
let masterArn: string;
const users: MysqlFixtureUser[] = [];
const logs = captureLogger();
let singleUserFn: string;
let alternatingFn: string;

beforeAll(async () => {
  endpoint = await startEndpoint();
  admin = await connectMysqlAdmin();
  // An RDS-like master: every privilege WITH GRANT OPTION, but not root.
  master = await createMysqlUser({ username: fixtureUsername('appside'), ownDatabase: false });
  await admin.query('GRANT ALL PRIVILEGES ON *.* TO ?@? WITH GRANT OPTION', [master.username, '%']);
  masterArn = await createSecret(endpoint.client, uniqueName('appside-mysql-master'), {
    engine: 'mariadb',
    host: master.host,
    port: master.port,
    username: master.username,
    password: master.password,
    ssl: false,
  });
  singleUserFn = registerSlowRotation(endpoint, mysqlEngine, 'single-user', logs, WINDOW_MS);
  alternatingFn = registerSlowRotation(endpoint, mysqlEngine, 'alternating-users', logs, WINDOW_MS);
});

afterAll(async () => {
  for (const user of users) await user.drop();
  await master?.drop();
  await admin?.end();
  await endpoint?.close();
});

async function appSecret(extra: Record<string, unknown> = {}): Promise<{ id: string; user: MysqlFixtureUser }> {
  const user = await createMysqlUser({ username: fixtureUsername('appside') });
  users.push(user);
  const id = await createSecret(endpoint.client, uniqueName('appside-mysql-pool'), {
    engine: 'mariadb',
    host: user.host,
    port: user.port,
    username: user.username,
    password: user.password,
    dbname: user.database,
    ssl: false,
    ...extra,
  });
  return { id, user };
}

function poolFor(secretId: string, cache: SecretCache, pool: MysqlPoolOptions = {}): RotatingMysqlPool {
  return createMysqlPool({
    secretId,
    cache,
    // maxIdle 0: the driver's reaper closes every idle connection each second; gracefulEnd: closed politely.
    pool: { connectionLimit: 6, maxIdle: 0, idleTimeout: 5, gracefulEnd: true, ...pool },
  });
}

/** One unit of work, in one of the shapes applications use a pool. */
async function work(pool: RotatingMysqlPool, round: number): Promise<string> {
  switch (round % 4) {
    case 0: {
      const [rows] = await pool.query(WHO);
      return (rows as Array<{ u: string }>)[0]!.u;
    }
    case 1: {
      const connection = await pool.getConnection();
      try {
        await connection.beginTransaction();
        const [rows] = await connection.query(WHO);
        await connection.commit();
        return (rows as Array<{ u: string }>)[0]!.u;
      } finally {
        connection.release();
      }
    }
    case 2: {
      // The connection is closed after use (as a proxy or a failover would): the next checkout logs in.
      const connection = await pool.getConnection();
      try {
        const [rows] = await connection.query(WHO);
        return (rows as Array<{ u: string }>)[0]!.u;
      } finally {
        await connection.end();
      }
    }
    default: {
      const [rows] = await pool.execute(`${WHO}, ? + 1 AS n`, [round]);
      return (rows as Array<{ u: string }>)[0]!.u;
    }
  }
}

async function rotateUnderLoad(secretId: string, fn: string): Promise<{ report: WorkloadReport; pool: RotatingMysqlPool }> {
  const cache = new SecretCache({ client: endpoint.client });
  const pool = poolFor(secretId, cache);
  const workload = startWorkload(WORKERS, (_, round) => work(pool, round));
  let report: WorkloadReport;
  try {
    await workload.untilQueries(5);
    for (let i = 0; i < ROTATIONS; i++) {
      await rotate(endpoint.client, secretId, fn);
      await sleep(100);
    }
  } finally {
    report = await workload.stop();
    await pool.end();
  }
  return { report, pool };
}

function reportFigures(label: string, report: WorkloadReport, pool: RotatingMysqlPool): void {
  if (process.env.APPSIDE_POOL_FIGURES) {
    process.stdout.write(`${label}: ${JSON.stringify({ queries: report.queries, failures: report.failures, ...pool.rotationStats() })}\n`);
  }
}

describe('createMysqlPool under rotation', () => {
  it(`${WORKERS} workers see no failed query across ${ROTATIONS} single-user rotations`, async () => {
    const { id, user } = await appSecret();
    const { report, pool } = await rotateUnderLoad(id, singleUserFn);
    reportFigures('mysql single-user', report, pool);

    expect(report.failureKinds).toEqual([]);
    expect(report.failures).toBe(0);
    expect(report.queries).toBeGreaterThan(WORKERS * 20);
    expect([...report.usersSeen]).toEqual([user.username]);
    const stats = pool.rotationStats();
    // New logins really happened all along, and the old password really was refused at some of them.
    expect(stats.logins).toBeGreaterThan(ROTATIONS * 5);
    expect(stats.refusedLogins).toBeGreaterThan(0);
    expect(stats.probes).toBeGreaterThan(0);
    expect(stats.probes).toBeLessThanOrEqual(stats.refusedLogins);
    expect((await secretValue(endpoint.client, id)).password).not.toBe(user.password);
  });

  it(`${WORKERS} workers see no failed query across ${ROTATIONS} alternating-users rotations, as both users`, async () => {
    const { id, user } = await appSecret({ masterarn: masterArn });
    const { report, pool } = await rotateUnderLoad(id, alternatingFn);
    reportFigures('mysql alternating-users', report, pool);

    expect(report.failureKinds).toEqual([]);
    expect(report.failures).toBe(0);
    expect(report.queries).toBeGreaterThan(WORKERS * 20);
    expect([...report.usersSeen].sort()).toEqual([user.username, `${user.username}_clone`].sort());
    const stats = pool.rotationStats();
    expect(stats.logins).toBeGreaterThan(ROTATIONS * 5);
    // The user that was switched away from had its password changed at the next rotation: refused, then recovered.
    expect(stats.refusedLogins).toBeGreaterThan(0);
  });
});

describe('createMysqlPool, piece by piece', () => {
  it('a burst of refused logins shares one probe, and every query of the burst succeeds', async () => {
    const { id } = await appSecret();
    const cache = new SecretCache({ client: endpoint.client });
    await cache.getSecret(id);
    await rotate(endpoint.client, id, singleUserFn);
    // The cache still holds the replaced password; a fresh pool opens 10 connections at once with it.
    const pool = poolFor(id, cache, { connectionLimit: 10, maxIdle: 10, idleTimeout: 60_000 });
    try {
      const results = await Promise.all(
        Array.from({ length: 10 }, async () => {
          const [rows] = await pool.query('SELECT 1 AS s, SLEEP(0.05) AS z');
          return (rows as Array<{ s: number }>)[0]!.s;
        }),
      );
      expect(results).toEqual(new Array(10).fill(1));
      const stats = pool.rotationStats();
      expect(stats.refusedLogins).toBe(10);
      expect(stats.probes).toBe(1);
      // The first read, one forced AWSCURRENT refresh (unchanged values are not retried).
      expect(cache.stats().fetches).toBeLessThanOrEqual(3);
    } finally {
      await pool.end();
    }
  });

  it("a retired user's connection finishes its query, is closed once idle, and idle ones are closed at checkout", async () => {
    const { id, user } = await appSecret({ masterarn: masterArn });
    const cache = new SecretCache({ client: endpoint.client });
    const pool = poolFor(id, cache, { connectionLimit: 4, maxIdle: 4, idleTimeout: 60_000, gracefulEnd: false });
    const sessionsOf = async (name: string): Promise<number> => {
      const [rows] = await admin.query('SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER = ?', [name]);
      return Number((rows as Array<{ n: number }>)[0]!.n);
    };
    const busy = await pool.getConnection();
    let busyOut = true;
    try {
      const idle = await pool.getConnection();
      idle.release();
      expect(await sessionsOf(user.username)).toBe(2);

      await rotate(endpoint.client, id, alternatingFn);
      await cache.getSecret(id, { forceRefresh: true });
      const running = busy.query(`${WHO}, SLEEP(0.4) AS z`);
      // The next checkout finds the idle connection retired, closes it and logs in as the new user.
      const fresh = await pool.getConnection();
      const [freshRows] = await fresh.query(WHO);
      expect((freshRows as Array<{ u: string }>)[0]!.u).toBe(`${user.username}_clone`);
      fresh.release();
      const [busyRows] = await running;
      expect((busyRows as Array<{ u: string }>)[0]!.u).toBe(user.username);
      busyOut = false;
      busy.release();
      await sleep(200);
      expect(await sessionsOf(user.username)).toBe(0);
      expect(await sessionsOf(`${user.username}_clone`)).toBe(1);
      expect(pool.rotationStats().drained).toBe(2);
    } finally {
      if (busyOut) busy.release();
      await pool.end();
    }
  });

  it('fails with a typed error naming the secret, and no value, when nothing logs in', async () => {
    const { id } = await appSecret({ password: `wrong-${randomBytes(8).toString('hex')}` });
    const cache = new SecretCache({ client: endpoint.client });
    const pool = poolFor(id, cache);
    try {
      const err = await pool.query('SELECT 1').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(AuthenticationError);
      expect((err as AuthenticationError).secretId).toBe(id);
      const value = await secretValue(endpoint.client, id);
      expect(String((err as Error).message)).not.toContain(value.password);
      expect(inspect(pool, { depth: 8 })).not.toContain(value.password);
    } finally {
      await pool.end();
    }
  });

  it('never shows the password when the pool is inspected after logins', async () => {
    const { id, user } = await appSecret();
    const pool = poolFor(id, new SecretCache({ client: endpoint.client }), { maxIdle: 6, idleTimeout: 60_000 });
    try {
      const connection = await pool.getConnection();
      expect(inspect(connection, { depth: 8 })).not.toContain(user.password);
      connection.release();
      expect(inspect(pool, { depth: 8 })).not.toContain(user.password);
    } finally {
      await pool.end();
    }
  });

  it('refuses credentials, host or TLS in the pool options', () => {
    expect(() => createMysqlPool({ secretId: 'x', pool: { password: 'p' } as never })).toThrow(/pool\.password is taken from the secret/);
    expect(() => createMysqlPool({ secretId: 'x', pool: { uri: 'mysql://h' } as never })).toThrow(/pool\.uri/);
    expect(() => createMysqlPool({ secretId: 'x', pool: { ssl: {} } as never })).toThrow(/pool\.ssl/);
  });
});
