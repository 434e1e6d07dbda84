/**
 * Fleet scale: many secrets (half per engine) rotated single-user with at most 20 rotations in flight,
 * against the local servers through one embedded endpoint and one handler per engine, as a shared
 * rotation function would see them. Every rotation is then checked by logging in with the new password.
 */
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { performance } from 'node:perf_hooks';
import { canLoginMysql, canLoginPostgres, connectMysqlAdmin, connectPostgresAdmin } from '../local/admin-connections';
import type { EngineFamily } from '../shared/database-secret';
import { dropMysqlUsers, dropPostgresUsers } from '../local/fixtures';
import { ms, num, table, verdict } from './format';
import { mapWithLimit, sampleMax } from './pool';
import { createBenchUser, createSecret, openRotationRig, rotateSecret, secretJson, uniqueName, type BenchUser } from './rotation-rig';
import { summarize, type Summary } from './stats';

export interface FleetResult {
  readonly secrets: number;
  readonly concurrency: number;
  readonly totalMs: number;
  readonly rotationsPerSecond: number;
  readonly rotationMs: Summary;
  readonly failures: number;
  readonly verifiedLogins: number;
  /** Most sessions the handlers held open at once (counted in the connector). */
  readonly peakHandlerSessions: number;
  /** Server-wide peaks sampled during the run; other clients on the servers count too. */
  readonly peakServerConnections: { readonly postgres: number; readonly mysql: number };
  readonly rssBeforeMb: number;
  readonly peakRssMb: number;
  readonly smCalls: number;
  readonly logins: number;
  readonly setupMs: number;
  /** CPU time (user + system) of this process per rotation: handlers, their signed client and drivers, and the driver's SDK calls (the endpoint runs in its own process). */
  readonly cpuMsPerRotation: number;
  /** Share of the run the event loop was busy (0..1). */
  readonly eventLoopUtilization: number;
}

const CONCURRENCY = 20;
const SETUP_CONCURRENCY = 8;

interface FleetMember {
  readonly engine: EngineFamily;
  readonly user: BenchUser;
  readonly secretArn: string;
}

export async function runFleet(secrets: number, log: (line: string) => void): Promise<FleetResult> {
  const rig = await openRotationRig();
  const members: FleetMember[] = [];
  try {
    const setupStarted = performance.now();
    log(`fleet: creating ${secrets} users and secrets`);
    const engines: EngineFamily[] = Array.from({ length: secrets }, (_, i) => (i % 2 === 0 ? 'postgres' : 'mysql'));
    const addMember = async (engine: EngineFamily): Promise<void> => {
      const user = await withRetry(() => createBenchUser(engine));
      const secretArn = await createSecret(rig.driver, uniqueName(`bench-fleet-${engine}`), secretJson(engine, user));
      members.push({ engine, user, secretArn });
    };
    // PostgreSQL roles one at a time: concurrent GRANTs on schema public collide ("tuple concurrently updated").
    await Promise.all([
      mapWithLimit(
        engines.filter((e) => e === 'postgres'),
        1,
        addMember,
      ),
      mapWithLimit(
        engines.filter((e) => e === 'mysql'),
        SETUP_CONCURRENCY,
        addMember,
      ),
    ]);
    const setupMs = performance.now() - setupStarted;

    const functions = { postgres: await rig.functionArn('postgres', 'single-user'), mysql: await rig.functionArn('mysql', 'single-user') };
    const requestsBefore = await rig.requestTotals();
    rig.logins.reset();
    rig.logins.resetPeak();
    const rssBeforeMb = process.memoryUsage.rss() / 2 ** 20;
    const rss = sampleMax(() => process.memoryUsage.rss(), 20);
    const pgAdmin = await connectPostgresAdmin();
    const myAdmin = await connectMysqlAdmin();
    const pgPeak = sampleMax(
      async () =>
        Number((await pgAdmin.query('SELECT count(*) AS n FROM pg_stat_activity WHERE backend_type = $1', ['client backend'])).rows[0].n),
      50,
    );
    const myPeak = sampleMax(async () => {
      const [rows] = await myAdmin.query("SHOW GLOBAL STATUS LIKE 'Threads_connected'");
      return Number((rows as Array<{ Value: string }>)[0]?.Value ?? 0);
    }, 50);

    log(`fleet: rotating ${members.length} secrets, ${CONCURRENCY} in flight`);
    const durations: number[] = [];
    let failures = 0;
    const cpuBefore = process.cpuUsage();
    const eluBefore = performance.eventLoopUtilization();
    const started = performance.now();
    await mapWithLimit(members, CONCURRENCY, async (member) => {
      const t0 = performance.now();
      try {
        await rotateSecret(rig.driver, member.secretArn, functions[member.engine]);
        durations.push(performance.now() - t0);
      } catch {
        failures++;
      }
    });
    const totalMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    const elu = performance.eventLoopUtilization(eluBefore);
    const peakRss = await rss.stop();
    const peakServer = { postgres: await pgPeak.stop(), mysql: await myPeak.stop() };
    await pgAdmin.end();
    await myAdmin.end();
    // Requests the handlers made: everything the endpoint answered during the run but the driver's RotateSecret calls.
    const requestsAfter = await rig.requestTotals();
    const smCalls = Object.entries(requestsAfter)
      .filter(([op]) => op !== 'RotateSecret')
      .reduce((n, [op, t]) => n + t.count - (requestsBefore[op]?.count ?? 0), 0);
    const logins = rig.logins.tally().logins;

    log('fleet: verifying every new password by logging in');
    const verified = await mapWithLimit(members, SETUP_CONCURRENCY, async (member) => {
      const out = await rig.driver.send(new GetSecretValueCommand({ SecretId: member.secretArn }));
      const value = JSON.parse(out.SecretString ?? '{}') as { username?: string; password?: string };
      if (value.password === undefined || value.password === member.user.password) return false;
      return member.engine === 'postgres'
        ? canLoginPostgres(member.user.username, value.password)
        : canLoginMysql(member.user.username, value.password);
    });
    const verifiedLogins = verified.filter(Boolean).length;

    return {
      secrets: members.length,
      concurrency: CONCURRENCY,
      totalMs,
      rotationsPerSecond: (members.length - failures) / (totalMs / 1000),
      rotationMs: summarize(durations),
      failures: failures + (members.length - failures - verifiedLogins),
      verifiedLogins,
      peakHandlerSessions: rig.logins.peakOpen(),
      peakServerConnections: peakServer,
      rssBeforeMb,
      peakRssMb: peakRss / 2 ** 20,
      smCalls,
      logins,
      setupMs,
      cpuMsPerRotation: (cpu.user + cpu.system) / 1000 / members.length,
      eventLoopUtilization: elu.utilization,
    };
  } finally {
    log('fleet: dropping users');
    await dropAll(members);
    await rig.close();
  }
}

async function withRetry<T>(make: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await make();
    } catch (err) {
      if (attempt >= attempts) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }
}

/** One admin login per engine for all drops, instead of one per user. */
async function dropAll(members: readonly FleetMember[]): Promise<void> {
  const names = (engine: EngineFamily): string[] =>
    members.filter((m) => m.engine === engine).flatMap((m) => [m.user.username, `${m.user.username}_clone`]);
  const databases = members.filter((m) => m.engine === 'mysql').map((m) => m.user.database);
  await Promise.all([
    dropPostgresUsers(names('postgres')).catch(() => undefined),
    dropMysqlUsers(names('mysql'), process.env, databases).catch(() => undefined),
  ]);
}

export function renderFleet(result: FleetResult): string {
  return [
    '## 4. Fleet',
    '',
    `${num(result.secrets)} secrets (half PostgreSQL, half MariaDB), single-user, rotated through one embedded endpoint (in its own process, counting requests) and one handler per engine (its default signed client) with at most ${result.concurrency} RotateSecret calls in flight; each rotation runs its four steps in this process. Afterwards every secret's new AWSCURRENT password is checked by logging in from outside. Setup (users and secrets) took ${ms(result.setupMs, 0)} and is not counted.`,
    '',
    table(
      ['measure', 'value'],
      [
        ['total time', ms(result.totalMs, 0)],
        ['rotations per second', num(result.rotationsPerSecond, 1)],
        ['one rotation under load, median / p95', `${ms(result.rotationMs.median)} / ${ms(result.rotationMs.p95)}`],
        ['failures (failed RotateSecret or new password refused)', `${num(result.failures)} ${verdict(result.failures === 0)}`],
        ['new passwords verified by a login', `${num(result.verifiedLogins)} of ${num(result.secrets)}`],
        ['peak DB sessions held by the handlers', num(result.peakHandlerSessions)],
        [
          'peak server connections sampled (PostgreSQL / MariaDB, all clients)',
          `${num(result.peakServerConnections.postgres)} / ${num(result.peakServerConnections.mysql)}`,
        ],
        ['RSS before / peak during the run', `${num(result.rssBeforeMb, 0)} MB / ${num(result.peakRssMb, 0)} MB`],
        ['Secrets Manager requests by the handlers', `${num(result.smCalls)} (${num(result.smCalls / result.secrets, 1)} per rotation)`],
        ['database logins by the handlers', `${num(result.logins)} (${num(result.logins / result.secrets, 1)} per rotation)`],
        [
          "CPU of the benchmark process per rotation (handlers + signed client + drivers + the driver's RotateSecret; not the endpoint)",
          ms(result.cpuMsPerRotation),
        ],
        ['event loop busy during the run', `${num(result.eventLoopUtilization * 100, 0)} %`],
      ],
    ),
    '',
    "The RSS is the benchmark process: both handlers and the 20 rotations in flight share it (the endpoint runs in its own process). Server-wide connection counts include the benchmark's own admin sampler and any other client of the servers at the time.",
    '',
  ].join('\n');
}
