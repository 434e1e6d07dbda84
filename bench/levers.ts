/**
 * The levers of issue 14 still open, each measured before/after in one run: rotations of the shipped
 * handler and of a variant that undoes one lever, interleaved round by round (section 1's method), plus
 * mysql2's login cost with and without the session options.
 *
 * - pg sessions: `close()` without waiting for the server's socket close (before: `awaitServerClose`).
 * - PostgreSQL alternating users: independent statements pipelined (before: the same statements, one
 *   round trip each, by a wrapper that sends a statement only when the previous one is answered).
 * - mysql2: `MYSQL_SESSION_OPTIONS` (before: mysql2's defaults).
 */
import { parseDatabaseSecret } from '../shared/database-secret';
import { MYSQL_SESSION_OPTIONS, mysqlConnectorWith } from '../shared/engines/mysql-connector';
import { postgresConnector } from '../shared/engines/postgres-connector';
import type { Connector, SqlSession } from '../shared/rotation/database-engine';
import { mysqlAdminSettings } from '../local/db-settings';
import { ms, num, table, times } from './format';
import { measureInterleaved, scenarioLabel, type RotationScenarioResult, type ScenarioSpec } from './rotation-latency';
import { createBenchUser, openRotationRig, type HandlerVariant } from './rotation-rig';
import { median } from './stats';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const AWAITS_CLOSE: HandlerVariant = {
  name: 'before: close awaits the server',
  connect: () => postgresConnector({ awaitServerClose: true }),
};
const UNPIPELINED: HandlerVariant = { name: 'before: one round trip per statement', outer: serialized };
const MYSQL2_DEFAULTS: HandlerVariant = { name: "before: mysql2's defaults", connect: () => mysqlConnectorWith({}) };

const SPECS: readonly ScenarioSpec[] = [
  { engine: 'postgres', strategy: 'single-user' },
  { engine: 'postgres', strategy: 'single-user', variant: AWAITS_CLOSE },
  { engine: 'postgres', strategy: 'alternating-users' },
  { engine: 'postgres', strategy: 'alternating-users', variant: AWAITS_CLOSE },
  { engine: 'postgres', strategy: 'alternating-users', variant: UNPIPELINED },
  { engine: 'mysql', strategy: 'single-user' },
  { engine: 'mysql', strategy: 'single-user', variant: MYSQL2_DEFAULTS },
  { engine: 'mysql', strategy: 'alternating-users' },
  { engine: 'mysql', strategy: 'alternating-users', variant: MYSQL2_DEFAULTS },
];

/** Sends each statement only once the previous one is answered: what the session did before pipelining. */
function serialized(connect: Connector): Connector {
  return async (request) => {
    const session = await connect(request);
    let last: Promise<unknown> = Promise.resolve();
    const wrapped: SqlSession = {
      query: (sql, params) => {
        const next = last.then(() => session.query(sql, params));
        last = next.catch(() => undefined);
        return next;
      },
      close: () => session.close(),
    };
    return wrapped;
  };
}

export interface LoginCost {
  readonly variant: string;
  /** Median over rounds of CPU per login + SELECT 1 + close. */
  readonly cpuMsPerLogin: number;
  readonly wallMsPerLogin: number;
  /** Heap an open session holds (bytes), measured between full collections. */
  readonly heldBytesPerSession: number;
}

export interface LeversResult {
  readonly scenarios: readonly RotationScenarioResult[];
  readonly mysqlLogins: readonly LoginCost[];
  readonly loginsPerRound: number;
  readonly rounds: number;
}

const LOGINS_PER_ROUND = 20;

export async function runLevers(runs: number, log: (line: string) => void): Promise<LeversResult> {
  const rig = await openRotationRig();
  let scenarios: RotationScenarioResult[];
  try {
    log(`levers: ${SPECS.length} handler variants, ${runs} rotations each, interleaved`);
    scenarios = await measureInterleaved(rig, SPECS, runs);
  } finally {
    await rig.close();
  }
  log(`levers: mysql2 logins, ${runs} rounds of ${LOGINS_PER_ROUND} per variant`);
  const mysqlLogins = await measureMysqlLogins(runs);
  return { scenarios, mysqlLogins, loginsPerRound: LOGINS_PER_ROUND, rounds: runs };
}

async function measureMysqlLogins(rounds: number): Promise<LoginCost[]> {
  const user = await createBenchUser('mysql');
  try {
    const admin = mysqlAdminSettings();
    const secret = parseDatabaseSecret({
      engine: 'mariadb',
      host: admin.host,
      port: admin.port,
      username: user.username,
      password: user.password,
      dbname: user.database,
    });
    const variants = [
      { variant: "mysql2's defaults", connect: mysqlConnectorWith({}) },
      {
        variant: `shipped (${Object.entries(MYSQL_SESSION_OPTIONS)
          .map(([k, v]) => `${k}: ${String(v)}`)
          .join(', ')})`,
        connect: mysqlConnectorWith(),
      },
    ];
    const samples = variants.map(() => ({ cpu: [] as number[], wall: [] as number[] }));
    const login = (connect: Connector): Promise<SqlSession> =>
      connect({ family: 'mysql', role: 'current', secret, tlsMode: 'disable', connectTimeoutMs: 5_000 });
    const once = async (connect: Connector): Promise<void> => {
      const session = await login(connect);
      await session.query('SELECT 1');
      await session.close();
    };
    for (const v of variants) await once(v.connect);
    for (let round = 0; round < rounds; round++) {
      for (const [i, v] of variants.entries()) {
        const cpu = process.cpuUsage();
        const started = performance.now();
        for (let n = 0; n < LOGINS_PER_ROUND; n++) await once(v.connect);
        const used = process.cpuUsage(cpu);
        samples[i]!.wall.push((performance.now() - started) / LOGINS_PER_ROUND);
        samples[i]!.cpu.push((used.user + used.system) / 1000 / LOGINS_PER_ROUND);
      }
    }
    const held: number[] = [];
    for (const v of variants) held.push(await heldPerSession(() => login(v.connect)));
    return variants.map((v, i) => ({
      variant: v.variant,
      cpuMsPerLogin: median(samples[i]!.cpu),
      wallMsPerLogin: median(samples[i]!.wall),
      heldBytesPerSession: held[i]!,
    }));
  } finally {
    await user.drop();
  }
}

const HELD_SESSIONS = 10;

/** A full collection, made callable for this measurement only (V8's flag, then a context's `gc`). */
function fullGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** Heap held per open session: sessions opened and kept between two full collections. */
async function heldPerSession(open: () => Promise<SqlSession>): Promise<number> {
  const gc = fullGc();
  // Sessions closed earlier finish closing in the background: let them go first.
  await new Promise((resolve) => setTimeout(resolve, 200));
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  const sessions: SqlSession[] = [];
  for (let i = 0; i < HELD_SESSIONS; i++) sessions.push(await open());
  gc();
  gc();
  const after = process.memoryUsage().heapUsed;
  for (const session of sessions) await session.close();
  return (after - before) / HELD_SESSIONS;
}

function pair(
  scenarios: readonly RotationScenarioResult[],
  shipped: (s: RotationScenarioResult) => boolean,
  before: string,
): string[] | undefined {
  const after = scenarios.find((s) => shipped(s) && s.variant === undefined);
  const old = scenarios.find((s) => shipped(s) && s.variant === before);
  if (!after || !old) return undefined;
  return [
    `${after.engine} ${after.strategy}: ${before.replace(/^before: /, '')} → shipped`,
    `${ms(old.handlerMs.median, 2)} → ${ms(after.handlerMs.median, 2)} (${times(after.handlerMs.median / old.handlerMs.median)})`,
    `${ms(old.cpuMs.median, 2)} → ${ms(after.cpuMs.median, 2)} (${times(after.cpuMs.median / old.cpuMs.median)})`,
    `${ms(old.queryMs.median + old.loginMs.median, 2)} → ${ms(after.queryMs.median + after.loginMs.median, 2)}`,
    `${num(old.roundTrips)} → ${num(after.roundTrips)}`,
  ];
}

export function renderLevers(result: LeversResult): string {
  const s = result.scenarios;
  const rows = [
    pair(s, (x) => x.engine === 'postgres' && x.strategy === 'single-user', AWAITS_CLOSE.name),
    pair(s, (x) => x.engine === 'postgres' && x.strategy === 'alternating-users', AWAITS_CLOSE.name),
    pair(s, (x) => x.engine === 'postgres' && x.strategy === 'alternating-users', UNPIPELINED.name),
    pair(s, (x) => x.engine === 'mysql' && x.strategy === 'single-user', MYSQL2_DEFAULTS.name),
    pair(s, (x) => x.engine === 'mysql' && x.strategy === 'alternating-users', MYSQL2_DEFAULTS.name),
  ].filter((r): r is string[] => r !== undefined);
  const [defaults, shipped] = result.mysqlLogins;
  return [
    '## 1c. Levers, before and after in one run',
    '',
    `Each lever is undone in one handler variant; the shipped handler and its variants rotate interleaved round by round, ${s[0]?.runs ?? 0} warm rotations each (section 1's method: default signed client, endpoint in its own process, loopback servers without TLS). "DB time" is logins plus statements (pipelined statements timed once, first sent to last answered).`,
    '',
    table(
      ['lever (before → shipped)', 'handler median', 'CPU per rotation median', 'DB time (logins + statements)', 'statement round trips'],
      rows,
    ),
    '',
    'Every variant:',
    '',
    table(
      ['handler', 'handler median / p95', 'CPU median', 'logins / time', 'statements (round trips) / time'],
      s.map((x) => [
        scenarioLabel(x),
        `${ms(x.handlerMs.median, 2)} / ${ms(x.handlerMs.p95, 2)}`,
        ms(x.cpuMs.median, 2),
        `${num(x.logins)} / ${ms(x.loginMs.median, 2)}`,
        `${num(x.queries)} (${num(x.roundTrips)}) / ${ms(x.queryMs.median, 2)}`,
      ]),
    ),
    '',
    `mysql2 logins alone (login, \`SELECT 1\`, close; ${result.rounds} interleaved rounds of ${result.loginsPerRound} per variant, medians; the heap an open session holds is measured with ${HELD_SESSIONS} sessions open between two full collections):`,
    '',
    table(
      ['session options', 'CPU per login', 'wall per login', 'heap held per open session'],
      result.mysqlLogins.map((l) => [
        l.variant,
        ms(l.cpuMsPerLogin, 3),
        ms(l.wallMsPerLogin, 2),
        `${num(l.heldBytesPerSession / 1024, 1)} KB`,
      ]),
    ),
    '',
    defaults && shipped ? `CPU per login: ${times(shipped.cpuMsPerLogin / defaults.cpuMsPerLogin)} of mysql2's defaults.` : '',
    '',
  ].join('\n');
}
