/**
 * SecretCache against Powertools Parameters' SecretsProvider, on the same counted client and the same
 * embedded endpoint in the same run: hit latency and throughput, API calls for 1000 concurrent cold
 * reads, and API calls and failed reads over a simulated 15-minute run with a rotation in the middle.
 */
import { PutSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { startLocalSecretsManager } from '../emulator';
import { AuthenticationError } from '../shared/errors';
import { SecretCache, type SecretValue } from '../shared/secret-cache';
import { num, table, times, verdict } from './format';
import { createSecret, uniqueName } from './rotation-rig';
import { SecretsManagerCallCounter, endpointClient } from './secrets-manager-calls';
import { installSimulatedDate } from './simulated-date';
import { ratio, summarize, type Summary } from './stats';

type Reader = (secretId: string) => Promise<unknown>;

interface Contender {
  readonly name: string;
  /** A fresh reader (empty cache) on the shared client. */
  create(client: SecretsManagerClient): Reader;
}

export interface HitResult {
  readonly name: string;
  /** Nanoseconds per hit, one sample per batch. */
  readonly nsPerHit: Summary;
  /** Hits per second, one sample per batch. */
  readonly hitsPerSecond: Summary;
}

export interface ColdReadResult {
  readonly name: string;
  readonly apiCalls: number;
  readonly ms: number;
}

export interface SimulationResult {
  readonly name: string;
  readonly reads: number;
  readonly apiCalls: number;
  /** Reads whose value the (simulated) database refused: they surface to the application as errors. */
  readonly failedReads: number;
  /** Simulated seconds from the rotation until the first read that works with the new password. */
  readonly secondsToNewValue: number;
}

export interface CacheResult {
  readonly batchSize: number;
  readonly hits: readonly HitResult[];
  readonly coldReads: readonly ColdReadResult[];
  readonly concurrentReads: number;
  readonly simulation: readonly SimulationResult[];
  readonly simulatedSeconds: number;
  readonly readsPerSecond: number;
}

const CONCURRENT_COLD_READS = 1000;
const HIT_BATCH = 20_000;
const SIMULATED_SECONDS = 15 * 60;
const SIMULATED_READS_PER_SECOND = 10;
const ROTATE_AT_SECONDS = SIMULATED_SECONDS / 2;

const secretCacheDefault: Contender = {
  name: 'SecretCache (ttl 300 s, defaults)',
  create: (client) => {
    const cache = new SecretCache({ client });
    return (id) => cache.getSecret(id);
  },
};
const powertoolsJson = (maxAge?: number): Contender => ({
  name: `Powertools SecretsProvider (transform json, maxAge ${maxAge ?? 5} s${maxAge === undefined ? ', default' : ''})`,
  create: (client) => {
    const provider = new SecretsProvider({ awsSdkV3Client: client });
    return (id) => provider.get(id, { transform: 'json', ...(maxAge !== undefined ? { maxAge } : {}) });
  },
});
const powertoolsString: Contender = {
  name: 'Powertools SecretsProvider (raw string, maxAge 300 s)',
  create: (client) => {
    const provider = new SecretsProvider({ awsSdkV3Client: client });
    return (id) => provider.get(id, { maxAge: 300 });
  },
};

export async function runCache(runs: number, log: (line: string) => void): Promise<CacheResult> {
  const local = await startLocalSecretsManager({ port: 0, log: () => undefined });
  const driver = endpointClient(local.endpoint, local.region);
  const calls = new SecretsManagerCallCounter();
  const client = calls.attach(endpointClient(local.endpoint, local.region));
  try {
    const secretId = await createSecret(driver, 'bench/cache/hits', secretString(randomPassword()));

    log(`cache: hit latency, ${runs} batches of ${HIT_BATCH} per contender`);
    const hitContenders = [secretCacheDefault, powertoolsJson(300), powertoolsString];
    const hits = await measureHits(hitContenders, client, secretId, runs);

    log(`cache: ${CONCURRENT_COLD_READS} concurrent cold reads`);
    const coldReads: ColdReadResult[] = [];
    for (const contender of [secretCacheDefault, powertoolsJson(300)]) {
      const read = contender.create(client);
      calls.reset();
      const started = performance.now();
      await Promise.all(Array.from({ length: CONCURRENT_COLD_READS }, () => read(secretId)));
      coldReads.push({ name: contender.name, apiCalls: calls.total().count, ms: performance.now() - started });
    }

    log(`cache: simulated ${SIMULATED_SECONDS / 60}-minute run with a rotation at ${ROTATE_AT_SECONDS} s`);
    const simulation: SimulationResult[] = [];
    for (const contender of [secretCacheDefault, powertoolsJson(), powertoolsJson(300)]) {
      simulation.push(await simulateRun(contender, client, driver, calls));
    }
    return {
      batchSize: HIT_BATCH,
      hits,
      coldReads,
      concurrentReads: CONCURRENT_COLD_READS,
      simulation,
      simulatedSeconds: SIMULATED_SECONDS,
      readsPerSecond: SIMULATED_READS_PER_SECOND,
    };
  } finally {
    client.destroy();
    driver.destroy();
    await local.close();
  }
}

/** Batches alternate between contenders, so drift on a shared machine hits them all alike. */
async function measureHits(
  contenders: readonly Contender[],
  client: SecretsManagerClient,
  secretId: string,
  runs: number,
): Promise<HitResult[]> {
  const readers = contenders.map((c) => c.create(client));
  for (const read of readers) {
    // Warm-up: first fetch plus enough hits for the JIT to settle.
    for (let i = 0; i < HIT_BATCH; i++) await read(secretId);
  }
  const samples = contenders.map(() => [] as number[]);
  for (let run = 0; run < runs; run++) {
    for (let k = 0; k < readers.length; k++) {
      const index = (k + run) % readers.length;
      const read = readers[index]!;
      const started = performance.now();
      for (let i = 0; i < HIT_BATCH; i++) await read(secretId);
      samples[index]!.push(((performance.now() - started) * 1e6) / HIT_BATCH);
    }
  }
  return contenders.map((c, i) => ({
    name: c.name,
    nsPerHit: summarize(samples[i]!),
    hitsPerSecond: summarize(samples[i]!.map((ns) => 1e9 / ns)),
  }));
}

/**
 * One application instance reading its database secret 10 times a simulated second for 15 minutes; at
 * 7.5 minutes the password changes in the database and in AWSCURRENT together. A read "fails" when the
 * value it got is refused by the database; SecretCache goes through `withSecret`, its rotation bridge,
 * Powertools through `get` as its documentation shows.
 */
async function simulateRun(
  contender: Contender,
  client: SecretsManagerClient,
  driver: SecretsManagerClient,
  calls: SecretsManagerCallCounter,
): Promise<SimulationResult> {
  let databasePassword = randomPassword();
  const secretId = await createSecret(driver, uniqueName('bench/cache/sim'), secretString(databasePassword));
  const date = installSimulatedDate();
  let simulatedMs = 0;
  try {
    const useValue = (value: unknown): void => {
      if ((value as { password?: unknown }).password !== databasePassword) {
        throw new AuthenticationError('the simulated database refused the password', { secretId });
      }
    };
    let read: () => Promise<void>;
    if (contender === secretCacheDefault) {
      const cache = new SecretCache({ client, clock: () => simulatedMs });
      read = () => cache.withSecret(secretId, (value: SecretValue) => useValue(value));
    } else {
      const reader = contender.create(client);
      read = async () => useValue(await reader(secretId));
    }
    calls.reset();
    let failedReads = 0;
    let rotatedAtMs: number | undefined;
    let firstGoodAfterRotationMs: number | undefined;
    const stepMs = 1000 / SIMULATED_READS_PER_SECOND;
    const reads = SIMULATED_SECONDS * SIMULATED_READS_PER_SECOND;
    for (let i = 0; i < reads; i++) {
      if (rotatedAtMs === undefined && simulatedMs >= ROTATE_AT_SECONDS * 1000) {
        databasePassword = randomPassword();
        await putSecret(driver, secretId, databasePassword);
        rotatedAtMs = simulatedMs;
      }
      try {
        await read();
        if (rotatedAtMs !== undefined && firstGoodAfterRotationMs === undefined) firstGoodAfterRotationMs = simulatedMs;
      } catch {
        failedReads++;
      }
      simulatedMs += stepMs;
      date.advance(stepMs);
    }
    // Background refreshes started by the last reads are API calls too.
    await new Promise((resolve) => setTimeout(resolve, 50));
    return {
      name: contender.name,
      reads,
      apiCalls: calls.total().count,
      failedReads,
      secondsToNewValue: ((firstGoodAfterRotationMs ?? simulatedMs) - (rotatedAtMs ?? 0)) / 1000,
    };
  } finally {
    date.restore();
  }
}

function randomPassword(): string {
  return randomBytes(18).toString('base64url');
}

function secretString(password: string): string {
  return JSON.stringify({ engine: 'postgres', host: '127.0.0.1', port: 5432, username: 'bench_app', password, dbname: 'app' });
}

async function putSecret(client: SecretsManagerClient, secretId: string, password: string): Promise<void> {
  await client.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: secretString(password) }));
}

const HIT_GOAL_FACTOR = 2;

export function renderCache(result: CacheResult): string {
  const ours = result.hits[0]!;
  const theirs = result.hits[1]!;
  const hitFactor = ratio(ours.hitsPerSecond.median, theirs.hitsPerSecond.median);
  const coldOurs = result.coldReads[0]!;
  const coldTheirs = result.coldReads[1]!;
  return [
    '## 3. Cache',
    '',
    `One client with a counting middleware, one embedded endpoint, both libraries in the same process and run. Hits: ${result.hits[0]!.nsPerHit.n} batches of ${num(result.batchSize)} sequential awaited reads of one cached JSON secret per contender, batches interleaved. SecretCache returns the parsed, frozen object, so the like-for-like Powertools row is \`transform: 'json'\`; the raw-string row is Powertools' cheapest path.`,
    '',
    table(
      ['reader', 'ns per hit, median / p95', 'hits per second, median'],
      result.hits.map((h) => [h.name, `${num(h.nsPerHit.median)} / ${num(h.nsPerHit.p95)}`, num(h.hitsPerSecond.median)]),
    ),
    '',
    table(
      [`${num(result.concurrentReads)} concurrent cold reads of one secret`, 'GetSecretValue calls', 'wall time'],
      result.coldReads.map((c) => [c.name, num(c.apiCalls), `${num(c.ms, 1)} ms`]),
    ),
    '',
    `Simulated ${result.simulatedSeconds / 60} minutes, ${result.readsPerSecond} reads per simulated second, password changed in the database and in AWSCURRENT together at ${result.simulatedSeconds / 2} s (SecretCache on an injected monotonic clock; Powertools under a shifted global \`Date\`, since it reads the wall clock). A failed read is one whose value the database refuses; SecretCache reads through \`withSecret\`, which force-refreshes on an authentication failure.`,
    '',
    table(
      ['reader', 'reads', 'API calls', 'failed reads', 'seconds until the new password works'],
      result.simulation.map((s) => [s.name, num(s.reads), num(s.apiCalls), num(s.failedReads), num(s.secondsToNewValue, 1)]),
    ),
    '',
    '### Goals',
    '',
    table(
      ['goal', 'measured', 'verdict'],
      [
        [`hit throughput ≥ ${HIT_GOAL_FACTOR}× Powertools (json)`, times(hitFactor), verdict(hitFactor >= HIT_GOAL_FACTOR)],
        [
          `1 call where Powertools makes ${num(result.concurrentReads)}`,
          `${num(coldOurs.apiCalls)} vs ${num(coldTheirs.apiCalls)}`,
          verdict(coldOurs.apiCalls === 1),
        ],
      ],
    ),
    '',
  ].join('\n');
}
