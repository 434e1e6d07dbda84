/**
 * `createPgPool` across real rotations of a real PostgreSQL user, driven by the embedded Secrets
 * Manager endpoint: 12 workers query without pause through one pool while 4 single-user and then 4
 * alternating-users rotations run, idle connections being dropped within milliseconds so new logins
 * happen all the time, and the cache keeping its default 5-minute TTL (so only a refused login tells
 * the pool). Not one query may fail. Then the pieces one by one: a burst of refused logins shares one
 * probe, a retired user's connection finishes its query and is closed once idle, and a secret nothing
 * logs in with fails with a typed error that shows no value.
 */
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { connectPostgresAdmin } from '../../local/admin-connections';
import { postgresAdminSettings } from '../../local/db-settings';
import { createPostgresUser, fixtureUsername, type PostgresFixtureUser } from '../../local/fixtures';
import { postgresEngine } from '../../shared/engines/postgres';
import { AuthenticationError } from '../../shared/errors';
import { createPgPool, type RotatingPgPool } from '../../shared/pools/pg-pool';
import { SecretCache } from '../../shared/secret-cache';
import { captureLogger, createSecret, rotate, secretValue, startEndpoint, uniqueName, type Endpoint } from '../support/rotation-endpoint';
import { registerSlowRotation, sleep, startWorkload, type WorkloadReport } from '../support/pool-workload';

const WORKERS = 12;
const ROTATIONS = 4;
const WINDOW_MS = 250;

let endpoint: Endpoint;
let masterArn: string;
const users: PostgresFixtureUser[] = [];
const logs = captureLogger();
let singleUserFn: string;
let alternatingFn: string;

beforeAll(async () => {
  endpoint = await startEndpoint();
  const admin = postgresAdminSettings();
  masterArn = await createSecret(endpoint.client, uniqueName('appside-pg-master'), {
    engine: 'postgres',
    host: admin.host,
    port: admin.port,
    username: admin.user,
    // Loopback trusts postgres, so any password logs in; the secret format demands a non-empty one.
    password: admin.password || 'trusted-on-loopback',
    dbname: admin.database,
    ssl: false,
  });
  singleUserFn = registerSlowRotation(endpoint, postgresEngine, 'single-user', logs, WINDOW_MS);
  alternatingFn = registerSlowRotation(endpoint, postgresEngine, 'alternating-users', logs, WINDOW_MS);
});

afterAll(async () => {
  for (const user of users) await user.drop();
  await endpoint?.close();
});

async function appSecret(extra: Record<string, unknown> = {}): Promise<{ id: string; user: PostgresFixtureUser }> {
  const user = await createPostgresUser({ username: fixtureUsername('appside') });
  users.push(user);
  const id = await createSecret(endpoint.client, uniqueName('appside-pg-pool'), {
    engine: 'postgres',
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

function poolFor(secretId: string, cache: SecretCache, pool: Parameters<typeof createPgPool>[0]['pool'] = {}): RotatingPgPool {
  const created = createPgPool({
    secretId,
    cache,
    pool: { max: 6, idleTimeoutMillis: 5, maxUses: 25, application_name: `appside-${randomBytes(4).toString('hex')}`, ...pool },
  });
  // An idle connection the server ends must not crash the test run (as with any pg.Pool).
  created.on('error', () => undefined);
  return created;
}

/** One unit of work, in one of the shapes applications use a pool. */
async function work(pool: RotatingPgPool, round: number): Promise<string> {
  switch (round % 4) {
    case 0:
      return (await pool.query<{ u: string }>('SELECT session_user AS u')).rows[0]!.u;
    case 1: {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const { rows } = await client.query<{ u: string }>('SELECT session_user AS u');
        await client.query('COMMIT');
        return rows[0]!.u;
      } finally {
        client.release();
      }
    }
    case 2: {
      // The connection is dropped after use (as a proxy or a failover would): the next checkout logs in.
      const client = await pool.connect();
      try {
        return (await client.query<{ u: string }>('SELECT session_user AS u')).rows[0]!.u;
      } finally {
        client.release(true);
      }
    }
    default:
      return (await pool.query<{ u: string; n: number }>('SELECT session_user AS u, $1::int + 1 AS n', [round])).rows[0]!.u;
  }
}

async function rotateUnderLoad(secretId: string, fn: string): Promise<{ report: WorkloadReport; pool: RotatingPgPool }> {
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

function reportFigures(label: string, report: { queries: number; failures: number }, pool: RotatingPgPool): void {
  if (process.env.APPSIDE_POOL_FIGURES) {
    process.stdout.write(`${label}: ${JSON.stringify({ queries: report.queries, failures: report.failures, ...pool.rotationStats() })}\n`);
  }
}

describe('createPgPool under rotation', () => {
  it(`${WORKERS} workers see no failed query across ${ROTATIONS} single-user rotations`, async () => {
    const { id, user } = await appSecret();
    const { report, pool } = await rotateUnderLoad(id, singleUserFn);
    reportFigures('pg single-user', report, pool);

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
    reportFigures('pg alternating-users', report, pool);

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

describe('createPgPool, piece by piece', () => {
  it('a burst of refused logins shares one probe, and every query of the burst succeeds', async () => {
    const { id } = await appSecret();
    const cache = new SecretCache({ client: endpoint.client });
    await cache.getSecret(id);
    await rotate(endpoint.client, id, singleUserFn);
    // The cache still holds the replaced password; a fresh pool opens 10 connections at once with it.
    const pool = poolFor(id, cache, { max: 10, idleTimeoutMillis: 10_000, maxUses: undefined });
    try {
      const rows = await Promise.all(
        Array.from({ length: 10 }, async () => (await pool.query<{ s: number }>('SELECT 1 AS s, pg_sleep(0.05)')).rows[0]!.s),
      );
      expect(rows).toEqual(new Array(10).fill(1));
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
    const pool = poolFor(id, cache, { max: 4, idleTimeoutMillis: 60_000, maxUses: undefined });
    const admin = await connectPostgresAdmin();
    const sessionsOf = async (name: string): Promise<number> => {
      const { rows } = await admin.query<{ n: string }>(
        'SELECT count(*) AS n FROM pg_stat_activity WHERE usename = $1 AND application_name = $2',
        [name, pool.options.application_name],
      );
      return Number(rows[0]!.n);
    };
    const busy = await pool.connect();
    let busyOut = true;
    try {
      const idle = await pool.connect();
      idle.release();
      expect(await sessionsOf(user.username)).toBe(2);

      await rotate(endpoint.client, id, alternatingFn);
      await cache.getSecret(id, { forceRefresh: true });
      const running = busy.query<{ u: string }>('SELECT session_user AS u, pg_sleep(0.4)');
      // The next checkout finds the idle connection retired, closes it and logs in as the new user.
      const fresh = await pool.connect();
      expect((await fresh.query<{ u: string }>('SELECT session_user AS u')).rows[0]!.u).toBe(`${user.username}_clone`);
      fresh.release();
      expect((await running).rows[0]!.u).toBe(user.username);
      busyOut = false;
      busy.release();
      await sleep(100);
      expect(await sessionsOf(user.username)).toBe(0);
      expect(await sessionsOf(`${user.username}_clone`)).toBe(1);
      expect(pool.rotationStats().drained).toBe(2);
    } finally {
      // pg's end() waits for every checked-out client.
      if (busyOut) busy.release(true);
      await admin.end();
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
      expect(inspect(pool, { depth: 6 })).not.toContain(value.password);
    } finally {
      await pool.end();
    }
  });

  it('refuses credentials, host or TLS in the pool options', () => {
    expect(() => createPgPool({ secretId: 'x', pool: { password: 'p' } as never })).toThrow(/pool\.password is taken from the secret/);
    expect(() => createPgPool({ secretId: 'x', pool: { host: 'h' } as never })).toThrow(/pool\.host/);
    expect(() => createPgPool({ secretId: 'x', pool: { ssl: true } as never })).toThrow(/pool\.ssl/);
  });
});
