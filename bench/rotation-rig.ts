/**
 * What the rotation and fleet benchmarks share: an embedded Secrets Manager endpoint, a counted client
 * for the handlers, database users with their secrets, and handlers wrapped so every step is timed and
 * every request and login is attributed to the step that made it.
 */
import { CreateSecretCommand, RotateSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { connectMysqlAdmin } from '../local/admin-connections';
import { mysqlAdminSettings, postgresAdminSettings } from '../local/db-settings';
import { createMysqlUser, createPostgresUser } from '../local/fixtures';
import { startLocalSecretsManager, type LocalSecretsManager } from '../local/secrets-manager';
import { lambdaArn } from '../local/secrets-manager/arn';
import type { EngineFamily } from '../shared/database-secret';
import { mysqlEngine } from '../shared/engines/mysql';
import { postgresEngine } from '../shared/engines/postgres';
import { createRotationHandler } from '../shared/rotation/create-rotation-handler';
import type { DatabaseEngine } from '../shared/rotation/database-engine';
import { silentLogger } from '../shared/rotation/logger';
import type { RotationStrategyName } from '../shared/rotation/rotation-settings';
import { DatabaseLoginCounter, type DatabaseTally } from './database-logins';
import { SecretsManagerCallCounter, endpointClient, type CallTally } from './secrets-manager-calls';

export const STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;
export type StepName = (typeof STEPS)[number];

export const ENGINE_STRATEGIES: Readonly<Record<EngineFamily, DatabaseEngine>> = {
  postgres: postgresEngine,
  mysql: mysqlEngine,
};

/** One step's cost: wall time in the handler, and what it spent on Secrets Manager and the database. */
export interface StepSample {
  readonly ms: number;
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

export interface RotationRig {
  readonly local: LocalSecretsManager;
  /** Uncounted: creates secrets and calls RotateSecret, as the service's side would. */
  readonly driver: SecretsManagerClient;
  /** The handlers' client; its requests are the ones counted. */
  readonly handlerClient: SecretsManagerClient;
  readonly calls: SecretsManagerCallCounter;
  readonly logins: DatabaseLoginCounter;
  /** Registers a handler for engine x strategy (once each) and returns its Lambda ARN. */
  functionArn(engine: EngineFamily, strategy: RotationStrategyName): string;
  /** Per-step samples recorded while `recordSteps` is on (sequential rotations only). */
  takeStepSamples(): Partial<Record<StepName, StepSample>>;
  recordSteps: boolean;
  close(): Promise<void>;
}

export async function openRotationRig(): Promise<RotationRig> {
  const local = await startLocalSecretsManager({ port: 0, surfaceRotationErrors: true, log: () => undefined });
  const driver = endpointClient(local.endpoint, local.region);
  const calls = new SecretsManagerCallCounter();
  const handlerClient = calls.attach(endpointClient(local.endpoint, local.region));
  const logins = new DatabaseLoginCounter();
  const registered = new Map<string, string>();
  let samples: Partial<Record<StepName, StepSample>> = {};

  const rig: RotationRig = {
    local,
    driver,
    handlerClient,
    calls,
    logins,
    recordSteps: false,
    functionArn(engine, strategy) {
      const key = `${engine}-${strategy}`;
      const existing = registered.get(key);
      if (existing !== undefined) return existing;
      const arn = lambdaArn(local.region, local.accountId, `bench-${key}`);
      const engineStrategy = ENGINE_STRATEGIES[engine];
      const handler = createRotationHandler({
        engine: engineStrategy,
        strategy,
        secretsClient: handlerClient,
        connect: logins.wrap(engineStrategy.defaultConnector),
        env: {},
        logger: silentLogger,
      });
      local.registerRotationFunction(arn, async (event) => {
        if (!rig.recordSteps) return handler(event);
        calls.reset();
        logins.reset();
        const started = performance.now();
        await handler(event);
        const ms = performance.now() - started;
        samples[event.Step as StepName] = { ms, sm: calls.total(), smByOperation: calls.byOperation(), db: logins.tally() };
        return undefined;
      });
      registered.set(key, arn);
      return arn;
    },
    takeStepSamples() {
      const taken = samples;
      samples = {};
      return taken;
    },
    async close() {
      driver.destroy();
      handlerClient.destroy();
      await local.close();
    },
  };
  return rig;
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** The RDS-format secret of a user on the local server of `engine`. */
export function secretJson(engine: EngineFamily, user: Pick<BenchUser, 'username' | 'password' | 'database'>, masterarn?: string): string {
  const admin = engine === 'postgres' ? postgresAdminSettings() : mysqlAdminSettings();
  return JSON.stringify({
    engine: engine === 'postgres' ? 'postgres' : 'mariadb',
    host: admin.host,
    port: admin.port,
    username: user.username,
    password: user.password,
    dbname: user.database,
    ssl: false,
    ...(masterarn !== undefined ? { masterarn } : {}),
  });
}

export async function createBenchUser(engine: EngineFamily): Promise<BenchUser> {
  return engine === 'postgres' ? createPostgresUser() : createMysqlUser();
}

/** A master account like RDS's (not the server's own admin): used by alternating users. */
export async function createBenchMaster(engine: EngineFamily): Promise<BenchUser> {
  if (engine === 'postgres') return createPostgresUser({ attributes: ['SUPERUSER'] });
  const master = await createMysqlUser({ ownDatabase: false });
  const admin = await connectMysqlAdmin();
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
