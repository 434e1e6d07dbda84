/**
 * The application side of the pool rotation suites: N workers querying through a pool without pause
 * (a few ms of think time), counting every query and every failure, and the database users they saw.
 * Also a rotation function that holds the setSecret → finishSecret window open for a while, so that
 * new logins with the old password really happen while only AWSPENDING works.
 */
import type { RotationLogger } from '../../shared/rotation/logger';
import { createRotationHandler } from '../../shared/rotation/create-rotation-handler';
import type { DatabaseEngine } from '../../shared/rotation/database-engine';
import { summarizeCause } from '../../shared/errors';
import { lambdaArn, uniqueName, type Endpoint } from './rotation-endpoint';

export interface WorkloadReport {
  readonly queries: number;
  readonly failures: number;
  /** Error names and codes of the failures (never a message: it could quote a value). */
  readonly failureKinds: readonly string[];
  /** Database users the workers' queries ran as. */
  readonly usersSeen: ReadonlySet<string>;
}

export interface Workload {
  /** Resolves once every worker did at least `n` queries (all counted, failed or not). */
  untilQueries(n: number): Promise<void>;
  stop(): Promise<WorkloadReport>;
}

/** `runOne(worker, round)` runs one unit of work and returns the database user it ran as. */
export function startWorkload(workers: number, runOne: (worker: number, round: number) => Promise<string>): Workload {
  let running = true;
  let queries = 0;
  let failures = 0;
  const failureKinds: string[] = [];
  const usersSeen = new Set<string>();
  const perWorker = new Array<number>(workers).fill(0);

  const loop = async (worker: number): Promise<void> => {
    for (let round = 0; running; round++) {
      try {
        usersSeen.add(await runOne(worker, round));
      } catch (err) {
        failures++;
        const cause = summarizeCause(err);
        if (failureKinds.length < 20) failureKinds.push(`${cause.name}${cause.code !== undefined ? `:${cause.code}` : ''}`);
      }
      queries++;
      perWorker[worker]!++;
      // Think time: connections fall idle now and then, and the idle reaper takes them.
      await sleep(Math.floor(Math.random() * 4));
    }
  };
  const done = Promise.all(Array.from({ length: workers }, (_, i) => loop(i)));

  return {
    async untilQueries(n: number): Promise<void> {
      while (perWorker.some((count) => count < n)) await sleep(10);
    },
    async stop(): Promise<WorkloadReport> {
      running = false;
      await done;
      return { queries, failures, failureKinds, usersSeen };
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Registers a rotation function on the embedded endpoint that runs the real handler and keeps the
 * window after setSecret open for `windowMs`: the database has the new password, AWSCURRENT the old one.
 */
export function registerSlowRotation(
  endpoint: Endpoint,
  engine: DatabaseEngine,
  strategy: 'single-user' | 'alternating-users',
  logger: RotationLogger,
  windowMs: number,
): string {
  const handler = createRotationHandler({ engine, strategy, secretsClient: endpoint.client, env: {}, logger });
  const arn = lambdaArn(uniqueName(`appside-pool-${strategy}`));
  endpoint.local.registerRotationFunction(arn, async (event) => {
    await handler(event);
    if (event.Step === 'setSecret') await sleep(windowMs);
  });
  return arn;
}
