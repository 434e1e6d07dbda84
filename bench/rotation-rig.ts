/**
 * What the rotation and fleet benchmarks share: the embedded Secrets Manager endpoint in a process of
 * its own (endpoint-process.ts, requests counted there), database users with their secrets, and
 * handlers built as the Lambdas build them (their default, signed Secrets Manager client, pointed at the
 * endpoint by SECRETS_MANAGER_ENDPOINT) and wrapped so every step is timed, its CPU read, and every
 * request and login attributed to the step that made it.
 */
import { CreateSecretCommand, RotateSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { connectMysqlAdmin } from '../local/admin-connections';
import { mysqlAdminSettings, postgresAdminSettings, type Env } from '../local/db-settings';
import { createMysqlUser, createPostgresUser, fixtureUsername } from '../local/fixtures';
import type { RotationFunction } from '../emulator';
import { lambdaArn } from '../emulator/arn';
import type { EngineFamily } from '../shared/database-secret';
import { mysqlEngine } from '../shared/engines/mysql';
import { postgresEngine } from '../shared/engines/postgres';
import { createRotationHandler } from '../shared/rotation/create-rotation-handler';
import type { Connector, DatabaseEngine } from '../shared/rotation/database-engine';
import { silentLogger } from '../shared/rotation/logger';
import type { RotationStrategyName } from '../shared/rotation/rotation-settings';
import { DatabaseLoginCounter, type DatabaseTally } from './database-logins';
import { startEndpointProcess, type EndpointProcess, type RequestTally } from './endpoint-client';
import { endpointClient, type CallTally } from './secrets-manager-calls';

export const STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;
export type StepName = (typeof STEPS)[number];

export const ENGINES: Readonly<Record<EngineFamily, DatabaseEngine>> = {
  postgres: postgresEngine,
  mysql: mysqlEngine,
};

/** Operations that write a secret version or its labels (the 50/s quota class). */
export const WRITE_OPERATIONS: ReadonlySet<string> = new Set(['PutSecretValue', 'UpdateSecretVersionStage', 'UpdateSecret']);

/** One step's cost: wall time and CPU in the handler, and what it spent on Secrets Manager and the database. */
export interface StepSample {
  readonly ms: number;
  /** CPU (user + system) of this process while the handler ran: handler, client, drivers; not the endpoint. */
  readonly cpuMs: number;
  /** Requests counted by the endpoint; `ms` is their time in the endpoint (injected latency included). */
  readonly sm: CallTally;
  readonly smByOperation: ReadonlyMap<string, CallTally>;
  readonly db: DatabaseTally;
}

/** A throw-away database user; `drop` removes it (and its alternate `_clone`). */
export interface BenchUser {
  readonly username: string;
  readonly password: string;
  readonly database: string;
  drop(): Promise<void>;
}

/** Where a benchmark's database server is: the shared local ones (default) or a private one. */
export interface BenchServer {
  /** PG* or MYSQL_* variables of the server's admin (local/db-settings.ts). */
  readonly env: Env;
  /** The secret's `ssl`. @default false */
  readonly ssl?: boolean;
}

/** A handler variant: another connector or strategy, for the levers' before/after in one run. */
export interface HandlerVariant {
  readonly name: string;
  readonly connect?: (engine: EngineFamily) => Connector;
  /** Wraps the counted connector (so the counter sees what this wrapper passes on). */
  readonly outer?: (connect: Connector) => Connector;
  readonly engineOf?: (engine: EngineFamily) => DatabaseEngine;
}

export interface RotationRigOptions {
  /** The endpoint's injected per-request latency. @default 0 */
  readonly latencyMs?: number;
  /** More variables for the handlers (DB_TLS_MODE, DB_CA_BUNDLE). */
  readonly handlerEnv?: Readonly<Record<string, string>>;
}

export interface RotationRig {
  readonly endpoint: EndpointProcess;
  /** Uncounted in the steps: creates secrets and calls RotateSecret, as the service's side would. */
  readonly driver: SecretsManagerClient;
  readonly logins: DatabaseLoginCounter;
  /** Registers a handler for engine x strategy (x variant), once each, and returns its Lambda ARN. */
  functionArn(engine: EngineFamily, strategy: RotationStrategyName, variant?: HandlerVariant): Promise<string>;
  /** Registers any rotation function (it runs in this process) under a new ARN. */
  registerFunction(name: string, fn: RotationFunction): Promise<string>;
  /** The steps recorded since the last call while `recordSteps` is on (sequential rotations only). */
  takeStepSamples(): Promise<Partial<Record<StepName, StepSample>>>;
  /** Requests the endpoint answered, by operation, since it started. */
  requestTotals(): Promise<Readonly<Record<string, RequestTally>>>;
  recordSteps: boolean;
  close(): Promise<void>;
}

interface LocalStep {
  readonly step: StepName;
  readonly ms: number;
  readonly cpuMs: number;
  readonly db: DatabaseTally;
}

export async function openRotationRig(options: RotationRigOptions = {}): Promise<RotationRig> {
  const endpoint = await startEndpointProcess({ latencyMs: options.latencyMs ?? 0 });
  const driver = endpointClient(endpoint.endpoint, endpoint.region);
  const logins = new DatabaseLoginCounter();
  const registered = new Map<string, string>();
  let local: LocalStep[] = [];
  const handlerEnv: Env = {
    SECRETS_MANAGER_ENDPOINT: endpoint.endpoint,
    AWS_REGION: endpoint.region,
    ...options.handlerEnv,
  };

  const rig: RotationRig = {
    endpoint,
    driver,
    logins,
    recordSteps: false,
    async registerFunction(name, fn) {
      const arn = lambdaArn(endpoint.region, endpoint.accountId, name);
      await endpoint.register(arn, fn);
      return arn;
    },
    async functionArn(engine, strategy, variant) {
      const key = `${engine}-${strategy}${variant ? `-${variant.name}` : ''}`;
      const existing = registered.get(key);
      if (existing !== undefined) return existing;
      const defaultEngine = ENGINES[engine];
      const chosen = variant?.engineOf?.(engine) ?? defaultEngine;
      // No secretsClient: the handler builds its default one from the environment, as the Lambdas do.
      const handler = createRotationHandler({
        engine: chosen,
        strategy,
        connect: (variant?.outer ?? ((c: Connector) => c))(logins.wrap(variant?.connect?.(engine) ?? chosen.defaultConnector)),
        env: handlerEnv,
        logger: silentLogger,
      });
      const context = { getRemainingTimeInMillis: () => 60_000 };
      const arn = await rig.registerFunction(`bench-${key}`.replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, 64), async (event) => {
        if (!rig.recordSteps) return handler(event, context);
        logins.reset();
        const cpuBefore = process.cpuUsage();
        const started = performance.now();
        try {
          await handler(event, context);
        } finally {
          const ms = performance.now() - started;
          const cpu = process.cpuUsage(cpuBefore);
          local.push({ step: event.Step as StepName, ms, cpuMs: (cpu.user + cpu.system) / 1000, db: logins.tally() });
        }
        return undefined;
      });
      registered.set(key, arn);
      return arn;
    },
    async takeStepSamples() {
      const remote = await endpoint.takeSteps();
      const taken = local;
      local = [];
      const samples: Partial<Record<StepName, StepSample>> = {};
      if (taken.length === 0) return samples;
      if (remote.length !== taken.length) throw new Error(`step records disagree: ${taken.length} here, ${remote.length} at the endpoint`);
      taken.forEach((step, i) => {
        const requests = remote[i]!.requests;
        const byOperation = new Map(Object.entries(requests).map(([op, t]) => [op, { count: t.count, ms: t.ms }]));
        const sm = [...byOperation.values()].reduce((a, t) => ({ count: a.count + t.count, ms: a.ms + t.ms }), { count: 0, ms: 0 });
        samples[step.step] = { ms: step.ms, cpuMs: step.cpuMs, sm, smByOperation: byOperation, db: step.db };
      });
      return samples;
    },
    requestTotals: () => endpoint.totals(),
    async close() {
      driver.destroy();
      await endpoint.close();
    },
  };
  return rig;
}

export function uniqueName(prefix: string): string {
  return `${benchUserPrefix()}-${prefix}-${randomBytes(4).toString('hex')}`;
}

/** The prefix of every user the benchmarks create (BENCH_USER_PREFIX, default `bench`). */
export function benchUserPrefix(): string {
  const prefix = process.env.BENCH_USER_PREFIX?.trim() || 'bench';
  if (!/^[a-z][a-z0-9]{0,7}$/.test(prefix))
    throw new Error('BENCH_USER_PREFIX must be 1-8 lower-case letters or digits, starting with a letter');
  return prefix;
}

/** The RDS-format secret of a user on `server` (default: the local server of `engine`). */
export function secretJson(
  engine: EngineFamily,
  user: Pick<BenchUser, 'username' | 'password' | 'database'>,
  masterarn?: string,
  server: BenchServer = { env: process.env },
): string {
  const admin = engine === 'postgres' ? postgresAdminSettings(server.env) : mysqlAdminSettings(server.env);
  return JSON.stringify({
    engine: engine === 'postgres' ? 'postgres' : 'mariadb',
    host: admin.host,
    port: admin.port,
    username: user.username,
    password: user.password,
    dbname: user.database,
    ssl: server.ssl ?? false,
    ...(masterarn !== undefined ? { masterarn } : {}),
  });
}

export async function createBenchUser(engine: EngineFamily, server: BenchServer = { env: process.env }): Promise<BenchUser> {
  const username = fixtureUsername(benchUserPrefix());
  return engine === 'postgres' ? createPostgresUser({ username, env: server.env }) : createMysqlUser({ username, env: server.env });
}

/** A master account like RDS's (not the server's own admin): used by alternating users. */
export async function createBenchMaster(engine: EngineFamily, server: BenchServer = { env: process.env }): Promise<BenchUser> {
  const username = fixtureUsername(benchUserPrefix());
  if (engine === 'postgres') return createPostgresUser({ username, attributes: ['SUPERUSER'], env: server.env });
  const master = await createMysqlUser({ username, ownDatabase: false, env: server.env });
  const admin = await connectMysqlAdmin(server.env);
  try {
    await admin.query('GRANT ALL PRIVILEGES ON *.* TO ?@? WITH GRANT OPTION', [master.username, '%']);
  } finally {
    await admin.end();
  }
  return master;
}

export async function createSecret(client: SecretsManagerClient, name: string, secretString: string): Promise<string> {
  const out = await client.send(new CreateSecretCommand({ Name: name, SecretString: secretString }));
  if (out.ARN === undefined) throw new Error(`CreateSecret returned no ARN for ${name}`);
  return out.ARN;
}

/** Rotates through the endpoint, which runs the four steps in process before answering. */
export async function rotateSecret(client: SecretsManagerClient, secretArn: string, functionArn: string): Promise<void> {
  await client.send(new RotateSecretCommand({ SecretId: secretArn, RotationLambdaARN: functionArn, RotateImmediately: true }));
}
