/**
 * Pools across rotations: `createPgPool` / `createMysqlPool` against plain `pg.Pool` and mysql2 pools
 * fed from Powertools Parameters' SecretsProvider, in the same process, on the same servers and the
 * same embedded endpoint. Per engine x strategy x contender: a fresh user and secret, workers querying
 * without pause through one pool (idle connections closed within milliseconds, so new logins happen
 * all the time), a steady phase, then rotations that hold the setSecret → finishSecret window open
 * (the database has the new password, AWSCURRENT the old one). Counted: failed queries, and the latency
 * of the successful ones in each phase.
 *
 * The plain contenders are written as their documentation suggests:
 * - read once: the pool is created from one Powertools read at start (the usual pattern);
 * - pg `password` callback: pg asks for the password at every new connection; Powertools answers from
 *   its cache (default maxAge 5 s); the user is fixed when the pool is made;
 * - mysql2 re-created: mysql2 has no password callback, so a refused login (errno 1045) makes the
 *   wrapper fetch the secret anew (`forceFetch`) and swap in a new pool; the refused query still fails.
 */
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { connectMysqlAdmin } from '../local/admin-connections';
import { postgresAdminSettings } from '../local/db-settings';
import { createMysqlUser, createPostgresUser } from '../local/fixtures';
import type { EngineFamily } from '../shared/database-secret';
import { createMysqlPool } from '../shared/pools/mysql-pool';
import { createPgPool } from '../shared/pools/pg-pool';
import { createRotationHandler } from '../shared/rotation/create-rotation-handler';
import { silentLogger } from '../shared/rotation/logger';
import type { RotationStrategyName } from '../shared/rotation/rotation-settings';
import { SecretCache } from '../shared/secret-cache';
import { summarizeCause } from '../shared/errors';
import { ms, num, table } from './format';
import {
  ENGINES,
  createSecret,
  openRotationRig,
  rotateSecret,
  secretJson,
  uniqueName,
  type BenchUser,
  type RotationRig,
} from './rotation-rig';
import { endpointClient } from './secrets-manager-calls';
import { quantile } from './stats';

const WORKERS = 8;
const STEADY_MS = 1500;
const AFTER_ROTATION_MS = 400;
const WINDOW_MS = 250;
const PG_POOL = { max: 4, idleTimeoutMillis: 20, maxUses: 40 } as const;
const MYSQL_POOL = { connectionLimit: 4, maxIdle: 0, idleTimeout: 20 } as const;

type ContenderId = 'toolkit' | 'read-once' | 'pg-password-callback' | 'mysql-recreated';

/** A pool under test: one query, and the end of it. */
interface BenchPool {
  query(): Promise<void>;
  end(): Promise<void>;
}

interface PhaseFigures {
  readonly queries: number;
  readonly failed: number;
  /** Successful queries' latency, ms. */
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export interface PoolScenarioResult {
  readonly engine: EngineFamily;
  readonly strategy: RotationStrategyName;
  readonly contender: string;
  readonly rotations: number;
  readonly steady: PhaseFigures;
  readonly rotating: PhaseFigures;
  /** Error classes and codes of the failures (never a message). */
  readonly failureKinds: readonly string[];
}

export interface PoolsResult {
  readonly workers: number;
  readonly rotations: number;
  readonly scenarios: readonly PoolScenarioResult[];
}

const CONTENDERS: Readonly<Record<EngineFamily, readonly ContenderId[]>> = {
  postgres: ['toolkit', 'read-once', 'pg-password-callback'],
  mysql: ['toolkit', 'read-once', 'mysql-recreated'],
};

const CONTENDER_NAMES: Readonly<Record<ContenderId, (engine: EngineFamily) => string>> = {
  toolkit: (e) => (e === 'postgres' ? 'createPgPool (SecretCache defaults)' : 'createMysqlPool (SecretCache defaults)'),
  'read-once': (e) =>
    e === 'postgres' ? 'pg.Pool, credentials read once from Powertools' : 'mysql2 pool, credentials read once from Powertools',
  'pg-password-callback': () => 'pg.Pool, `password` callback reading Powertools (maxAge 5 s)',
  'mysql-recreated': () => 'mysql2 pool re-created from Powertools (forceFetch) on a refused login',
};

interface Credentials {
  host: string;
  port: number;
  username: string;
  password: string;
  dbname?: string;
}

export async function runPools(rotations: number, log: (line: string) => void): Promise<PoolsResult> {
  const rig = await openRotationRig();
  const reader = endpointClient(rig.endpoint.endpoint, rig.endpoint.region);
  const cleanup: BenchUser[] = [];
  try {
    const mysqlMaster = await createMysqlMaster();
    cleanup.push(mysqlMaster);
    const masters: Record<EngineFamily, string> = {
      postgres: await createSecret(rig.driver, uniqueName('appsx-bench-pg-master'), postgresMasterJson()),
      mysql: await createSecret(rig.driver, uniqueName('appsx-bench-my-master'), secretJson('mysql', mysqlMaster)),
    };
    const scenarios: PoolScenarioResult[] = [];
    for (const engine of ['postgres', 'mysql'] as const) {
      for (const strategy of ['single-user', 'alternating-users'] as const) {
        const fn = await slowRotationFunction(rig, engine, strategy);
        for (const contender of CONTENDERS[engine]) {
          log(`pools: ${engine} ${strategy} ${contender}, ${rotations} rotations`);
          const user = await createUser(engine);
          cleanup.push(user);
          const secretId = await createSecret(
            rig.driver,
            uniqueName('appsx-bench-pool'),
            secretJson(engine, user, strategy === 'alternating-users' ? masters[engine] : undefined),
          );
          const pool = await openPool(engine, contender, secretId, reader);
          scenarios.push({
            engine,
            strategy,
            contender: CONTENDER_NAMES[contender](engine),
            rotations,
            ...(await underRotation(pool, () => rotateSecret(rig.driver, secretId, fn), rotations)),
          });
        }
      }
    }
    return { workers: WORKERS, rotations, scenarios };
  } finally {
    reader.destroy();
    for (const user of cleanup) await user.drop().catch(() => undefined);
    await rig.close();
  }
}

/** A rotation function that keeps the window after setSecret open, as a slow rotation would. */
async function slowRotationFunction(rig: RotationRig, engine: EngineFamily, strategy: RotationStrategyName): Promise<string> {
  const handler = createRotationHandler({ engine: ENGINES[engine], strategy, secretsClient: rig.driver, env: {}, logger: silentLogger });
  return rig.registerFunction(uniqueName(`appsx-bench-pools-${engine}-${strategy}`), async (event) => {
    await handler(event);
    if (event.Step === 'setSecret') await sleep(WINDOW_MS);
  });
}

async function underRotation(
  pool: BenchPool,
  rotate: () => Promise<void>,
  rotations: number,
): Promise<Pick<PoolScenarioResult, 'steady' | 'rotating' | 'failureKinds'>> {
  let phase: 'steady' | 'rotating' = 'steady';
  let running = true;
  const samples = { steady: { ok: [] as number[], failed: 0 }, rotating: { ok: [] as number[], failed: 0 } };
  const failureKinds = new Set<string>();
  const worker = async (): Promise<void> => {
    while (running) {
      const bucket = samples[phase];
      const started = performance.now();
      try {
        await pool.query();
        bucket.ok.push(performance.now() - started);
      } catch (err) {
        bucket.failed++;
        const cause = summarizeCause(err);
        failureKinds.add(`${cause.name}${cause.code !== undefined ? `:${cause.code}` : ''}`);
      }
      await sleep(Math.floor(Math.random() * 4));
    }
  };
  const workers = Array.from({ length: WORKERS }, worker);
  try {
    await sleep(STEADY_MS);
    phase = 'rotating';
    for (let i = 0; i < rotations; i++) {
      await rotate();
      await sleep(AFTER_ROTATION_MS);
    }
  } finally {
    running = false;
    await Promise.all(workers);
    await pool.end();
  }
  return { steady: figures(samples.steady), rotating: figures(samples.rotating), failureKinds: [...failureKinds].sort() };
}

function figures(bucket: { ok: number[]; failed: number }): PhaseFigures {
  return {
    queries: bucket.ok.length + bucket.failed,
    failed: bucket.failed,
    p50: quantile(bucket.ok, 0.5),
    p99: quantile(bucket.ok, 0.99),
    max: bucket.ok.length === 0 ? Number.NaN : Math.max(...bucket.ok),
  };
}

async function openPool(engine: EngineFamily, contender: ContenderId, secretId: string, client: SecretsManagerClient): Promise<BenchPool> {
  const provider = new SecretsProvider({ awsSdkV3Client: client });
  const read = async (forceFetch = false): Promise<Credentials> =>
    (await provider.get(secretId, { transform: 'json', ...(forceFetch ? { forceFetch } : {}) })) as unknown as Credentials;
  if (engine === 'postgres') {
    if (contender === 'toolkit') {
      const pool = createPgPool({ secretId, cache: new SecretCache({ client }), pool: { ...PG_POOL } });
      pool.on('error', () => undefined);
      return { query: async () => void (await pool.query('SELECT 1')), end: () => pool.end() };
    }
    const pg = await import('pg');
    const initial = await read();
    const pool = new pg.Pool({
      ...PG_POOL,
      host: initial.host,
      port: Number(initial.port),
      user: initial.username,
      database: initial.dbname,
      password: contender === 'pg-password-callback' ? async () => (await read()).password : initial.password,
    });
    pool.on('error', () => undefined);
    return { query: async () => void (await pool.query('SELECT 1')), end: () => pool.end() };
  }
  if (contender === 'toolkit') {
    const pool = createMysqlPool({ secretId, cache: new SecretCache({ client }), pool: { ...MYSQL_POOL } });
    return { query: async () => void (await pool.query('SELECT 1')), end: () => pool.end() };
  }
  const mysql = await import('mysql2/promise');
  const make = (c: Credentials) =>
    mysql.createPool({
      ...MYSQL_POOL,
      host: c.host,
      port: Number(c.port),
      user: c.username,
      password: c.password,
      ...(c.dbname ? { database: c.dbname } : {}),
    });
  let pool = make(await read());
  const retired: Array<ReturnType<typeof make>> = [];
  let refreshing: Promise<void> | undefined;
  return {
    async query() {
      const current = pool;
      try {
        await current.query('SELECT 1');
      } catch (err) {
        if (contender === 'mysql-recreated' && (err as { errno?: number }).errno === 1045 && current === pool) {
          refreshing ??= read(true).then((fresh) => {
            retired.push(pool);
            pool = make(fresh);
            refreshing = undefined;
          });
          await refreshing.catch(() => undefined);
        }
        throw err;
      }
    },
    async end() {
      await Promise.all([pool, ...retired].map((p) => p.end().catch(() => undefined)));
    },
  };
}

function postgresMasterJson(): string {
  const s = postgresAdminSettings();
  // Loopback trusts postgres, so any password logs in; the secret format demands a non-empty one.
  return JSON.stringify({
    engine: 'postgres',
    host: s.host,
    port: s.port,
    username: s.user,
    password: s.password || 'trusted-on-loopback',
    dbname: s.database,
    ssl: false,
  });
}

async function createUser(engine: EngineFamily): Promise<BenchUser> {
  const username = `appsx_${randomBytes(4).toString('hex')}`;
  return engine === 'postgres' ? createPostgresUser({ username }) : createMysqlUser({ username });
}

/** An RDS-like master (every privilege WITH GRANT OPTION, not root) for MySQL alternating users. */
async function createMysqlMaster(): Promise<BenchUser> {
  const master = await createMysqlUser({ username: `appsx_${randomBytes(4).toString('hex')}_m`, ownDatabase: false });
  const admin = await connectMysqlAdmin();
  try {
    await admin.query('GRANT ALL PRIVILEGES ON *.* TO ?@? WITH GRANT OPTION', [master.username, '%']);
  } finally {
    await admin.end();
  }
  return master;
}

function sleep(msToWait: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, msToWait));
}

export function renderPools(result: PoolsResult): string {
  const rows = result.scenarios.map((s) => {
    const failedShare = s.rotating.queries === 0 ? Number.NaN : (100 * s.rotating.failed) / s.rotating.queries;
    return [
      `${s.engine === 'postgres' ? 'PostgreSQL' : 'MariaDB'} ${s.strategy}`,
      s.contender,
      `${num(s.rotating.failed)} of ${num(s.rotating.queries)} (${num(failedShare, 1)} %)`,
      `${ms(s.steady.p50, 2)} / ${ms(s.steady.p99, 1)}`,
      `${ms(s.rotating.p50, 2)} / ${ms(s.rotating.p99, 1)} / ${ms(s.rotating.max, 0)}`,
      ms(s.rotating.p99 - s.steady.p99, 1),
      s.failureKinds.length === 0 ? '–' : s.failureKinds.join(', '),
    ];
  });
  return [
    '## 6. Pools across rotations',
    '',
    `${result.workers} workers query \`SELECT 1\` without pause (0–3 ms think time) through one pool per contender; idle connections are closed after 20 ms (pg also retires a connection after 40 uses), so new logins happen all the time. After a ${STEADY_MS / 1000} s steady phase, ${result.rotations} rotations run one after another through the embedded endpoint, each holding the setSecret → finishSecret window open ${WINDOW_MS} ms (the database has the new password, AWSCURRENT still the old one), with ${AFTER_ROTATION_MS} ms between them. A fresh user and secret per row. A failed query is any query the application saw fail. Latency is that of the successful queries; "added p99" is the rotating phase's p99 minus the steady phase's. Powertools is \`SecretsProvider\` with \`transform: 'json'\` on the same endpoint.`,
    '',
    table(
      ['scenario', 'pool', 'failed queries while rotating', 'steady p50 / p99', 'rotating p50 / p99 / max', 'added p99', 'failures seen'],
      rows,
    ),
    '',
  ].join('\n');
}
