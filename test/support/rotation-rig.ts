/**
 * One engine × strategy wired for reliability tests: the embedded endpoint, a rotation handler whose
 * Secrets Manager client and connector go through a FaultInjector, a fixture user and its secret, and
 * the checks made from outside the rotation (who logs in, which version holds which label).
 */
import { DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { canLoginMysql, canLoginPostgres, connectMysqlAdmin } from '../../local/admin-connections';
import { mysqlAdminSettings, postgresAdminSettings } from '../../local/db-settings';
import { FaultInjector } from './fault-injection';
import { createMysqlUser, createPostgresUser } from '../../local/fixtures';
import { startLocalSecretsManager, type LocalSecretsManager } from '../../emulator';
import { noteSensitive } from '../../local/sensitive-values';
import { mysqlEngine } from '../../shared/engines/mysql';
import { postgresEngine } from '../../shared/engines/postgres';
import { createRotationHandler } from '../../shared/rotation/create-rotation-handler';
import type { Connector, DatabaseEngine } from '../../shared/rotation/database-engine';
import type { RotationHandler } from '../../shared/rotation/event';
import type { RotationStrategyName } from '../../shared/rotation/rotation-settings';
import { captureLogger, createSecret, lambdaArn, uniqueName } from './rotation-endpoint';
import type { EngineFamily } from '../../shared/database-secret';

export interface Combination {
  readonly engine: EngineFamily;
  readonly strategy: RotationStrategyName;
}

export const COMBINATIONS: readonly Combination[] = [
  { engine: 'postgres', strategy: 'single-user' },
  { engine: 'postgres', strategy: 'alternating-users' },
  { engine: 'mysql', strategy: 'single-user' },
  { engine: 'mysql', strategy: 'alternating-users' },
];

export interface Credential {
  readonly versionId: string;
  readonly username: string;
  readonly password: string;
}

export interface SecretState {
  readonly stages: Readonly<Record<string, readonly string[]>>;
  readonly current: Credential;
  readonly pending?: Credential;
  readonly previous?: Credential;
}

export interface TestEndpoint {
  readonly local: LocalSecretsManager;
  /** Never wrapped: what the tests use to look from outside. */
  readonly client: SecretsManagerClient;
  /** Every line the endpoint logged, for the leak scan. */
  readonly logLines: string[];
  newClient(): SecretsManagerClient;
  close(): Promise<void>;
}

export async function startTestEndpoint(): Promise<TestEndpoint> {
  const logLines: string[] = [];
  const local = await startLocalSecretsManager({ port: 0, surfaceRotationErrors: true, log: (line) => logLines.push(line) });
  const clients: SecretsManagerClient[] = [];
  const newClient = (): SecretsManagerClient => {
    const c = new SecretsManagerClient({
      endpoint: local.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    clients.push(c);
    return c;
  };
  const client = newClient();
  return {
    local,
    client,
    logLines,
    newClient,
    close: async () => {
      for (const c of clients) c.destroy();
      await local.close();
    },
  };
}

export function databaseEngineOf(engine: EngineFamily): DatabaseEngine {
  return engine === 'postgres' ? postgresEngine : mysqlEngine;
}

export interface Rig {
  readonly combination: Combination;
  readonly endpoint: TestEndpoint;
  readonly injector: FaultInjector;
  readonly handler: RotationHandler;
  readonly functionArn: string;
  readonly secretId: string;
  readonly baseUsername: string;
  /** The database the user's secret names (the equivalence check reads privileges there). */
  readonly database?: string;
  readonly logs: ReturnType<typeof captureLogger>;
  state(): Promise<SecretState>;
  canLogin(credential: Pick<Credential, 'username' | 'password'>): Promise<boolean>;
  /** Runs one step as Secrets Manager would invoke it. */
  invoke(step: string, token: string): Promise<void>;
  drop(): Promise<void>;
}

export interface RigOptions {
  /** Give the secret a `masterarn` (alternating users always get one). */
  readonly withMaster?: boolean;
  readonly connectTimeoutMs?: number;
  /** The connector under the injector (default: the engine's own). */
  readonly connector?: Connector;
  /** Where the secret (and its master) say the server is, e.g. a fault proxy's port. */
  readonly port?: number;
  /** The fixture user's name (default a unique `rt_…` name), e.g. with a suite's own prefix. */
  readonly username?: string;
  /** A master of the test's own making (e.g. RDS-like) instead of the superuser one; implies a master. */
  readonly master?: { readonly username: string; readonly password: string; readonly dbname?: string };
  /** The `dbname` the user's secret names, instead of the fixture's. */
  readonly dbname?: string;
}

export async function createRig(endpoint: TestEndpoint, combination: Combination, options: RigOptions = {}): Promise<Rig> {
  const { engine, strategy } = combination;
  const injector = new FaultInjector();
  const logs = captureLogger();
  const wrapped = injector.wrapClient(endpoint.newClient());
  const databaseEngine = databaseEngineOf(engine);
  const handler = createRotationHandler({
    engine: databaseEngine,
    strategy,
    secretsClient: wrapped,
    connect: injector.wrapConnector(options.connector ?? databaseEngine.defaultConnector),
    env: options.connectTimeoutMs !== undefined ? { DB_CONNECT_TIMEOUT_MS: String(options.connectTimeoutMs) } : {},
    logger: logs,
  });
  const functionArn = lambdaArn(uniqueName(`rel-${engine}-${strategy}`));
  endpoint.local.registerRotationFunction(functionArn, (event) => handler(event));

  const named = options.username !== undefined ? { username: options.username } : {};
  const user = engine === 'postgres' ? await createPostgresUser(named) : await createMysqlUser(named);
  if (engine === 'mysql') await grantExtraMysqlRights(user.username);
  const needsMaster = strategy === 'alternating-users' || options.withMaster === true || options.master !== undefined;
  const masterArn =
    options.master !== undefined
      ? await ownMasterSecret(endpoint.client, engine, options.master, options.port)
      : needsMaster
        ? await createMasterSecret(endpoint.client, engine, options.port)
        : undefined;
  const database = options.dbname ?? user.database;
  const secretId = await createSecret(endpoint.client, uniqueName(`rel-${engine}-${strategy}`), {
    engine: engine === 'postgres' ? 'postgres' : 'mariadb',
    host: user.host,
    port: options.port ?? user.port,
    username: user.username,
    password: user.password,
    dbname: database,
    ssl: false,
    ...(masterArn !== undefined ? { masterarn: masterArn } : {}),
  });

  const canLogin = async (c: Pick<Credential, 'username' | 'password'>): Promise<boolean> =>
    engine === 'postgres' ? canLoginPostgres(c.username, c.password, process.env, database) : canLoginMysql(c.username, c.password);

  return {
    combination,
    endpoint,
    injector,
    handler,
    functionArn,
    secretId,
    baseUsername: user.username,
    database,
    logs,
    state: () => readState(endpoint.client, secretId),
    canLogin,
    invoke: (step, token) => handler({ SecretId: secretId, ClientRequestToken: token, Step: step }),
    drop: () => user.drop(),
  };
}

/** The labels and the credentials behind AWSCURRENT, AWSPENDING and AWSPREVIOUS; every password noted. */
export async function readState(client: SecretsManagerClient, secretId: string): Promise<SecretState> {
  const described = await client.send(new DescribeSecretCommand({ SecretId: secretId }));
  const stages = described.VersionIdsToStages ?? {};
  const holder = (stage: string): string | undefined => Object.keys(stages).find((id) => stages[id]?.includes(stage));
  const read = async (stage: string): Promise<Credential | undefined> => {
    const versionId = holder(stage);
    if (versionId === undefined) return undefined;
    try {
      const out = await client.send(new GetSecretValueCommand({ SecretId: secretId, VersionId: versionId }));
      const value = JSON.parse(out.SecretString ?? '{}') as { username?: string; password?: string };
      if (typeof value.username !== 'string' || typeof value.password !== 'string') return undefined;
      noteSensitive(value.password);
      return { versionId, username: value.username, password: value.password };
    } catch (err) {
      // RotateSecret's AWSPENDING version has no value until createSecret writes it.
      if ((err as { name?: string }).name === 'ResourceNotFoundException') return undefined;
      throw err;
    }
  };
  const current = await read('AWSCURRENT');
  if (current === undefined) throw new Error(`secret ${secretId} has no readable AWSCURRENT`);
  const pendingId = holder('AWSPENDING');
  const pending = pendingId !== undefined && pendingId !== current.versionId ? await read('AWSPENDING') : undefined;
  const previous = await read('AWSPREVIOUS');
  return { stages, current, ...(pending ? { pending } : {}), ...(previous ? { previous } : {}) };
}

/** A master secret for a master the test made itself (e.g. an RDS-like one with fewer rights). */
async function ownMasterSecret(
  client: SecretsManagerClient,
  engine: EngineFamily,
  master: NonNullable<RigOptions['master']>,
  port?: number,
): Promise<string> {
  const settings = engine === 'postgres' ? postgresAdminSettings() : mysqlAdminSettings();
  return createSecret(client, uniqueName(`rel-${engine}-own-master`), {
    engine: engine === 'postgres' ? 'postgres' : 'mariadb',
    host: settings.host,
    port: port ?? settings.port,
    username: master.username,
    password: master.password,
    ...(master.dbname !== undefined ? { dbname: master.dbname } : engine === 'postgres' ? { dbname: 'postgres' } : {}),
    ssl: false,
  });
}

/** A master secret for the local server: postgres trusts loopback; MariaDB's root has no password. */
export async function createMasterSecret(client: SecretsManagerClient, engine: EngineFamily, port?: number): Promise<string> {
  if (engine === 'postgres') {
    const admin = postgresAdminSettings();
    return createSecret(client, uniqueName('rel-pg-master'), {
      engine: 'postgres',
      host: admin.host,
      port: port ?? admin.port,
      username: admin.user,
      password: admin.password || 'trusted-on-loopback',
      dbname: admin.database,
      ssl: false,
    });
  }
  // MariaDB's root logs in with an empty password, which a secret cannot hold: an RDS-like master instead.
  const master = await createMysqlUser({ ownDatabase: false });
  const admin = await connectMysqlAdmin();
  try {
    await admin.query('GRANT ALL PRIVILEGES ON *.* TO ?@? WITH GRANT OPTION', [master.username, '%']);
  } finally {
    await admin.end();
  }
  masterDrops.push(() => master.drop());
  const settings = mysqlAdminSettings();
  return createSecret(client, uniqueName('rel-my-master'), {
    engine: 'mariadb',
    host: settings.host,
    port: port ?? settings.port,
    username: master.username,
    password: master.password,
    ssl: false,
  });
}

const masterDrops: Array<() => Promise<void>> = [];

/** Drops the MySQL masters this worker created. */
export async function dropMasters(): Promise<void> {
  for (const drop of masterDrops.splice(0)) await drop();
}

/** More than one kind of right, so a half-copied grant set shows. */
async function grantExtraMysqlRights(username: string): Promise<void> {
  const admin = await connectMysqlAdmin();
  try {
    await admin.query('GRANT PROCESS ON *.* TO ?@?', [username, '%']);
    await admin.query('GRANT SELECT (User, Host) ON mysql.user TO ?@?', [username, '%']);
  } finally {
    await admin.end();
  }
}

/** SHOW GRANTS of an account, with its user name replaced so two users' sets compare equal. */
export async function mysqlGrantSet(username: string): Promise<string[]> {
  const admin = await connectMysqlAdmin();
  try {
    const [rows] = await admin.query('SHOW GRANTS FOR ?@?', [username, '%']);
    return (
      (rows as Array<Record<string, unknown>>)
        .map((r) => String(Object.values(r)[0]))
        .filter((g) => !/^GRANT USAGE ON \*\.\* TO/.test(g) || /WITH|REQUIRE/.test(g))
        .map((g) =>
          g
            .split(`\`${username}\``)
            .join('`<user>`')
            .replace(/ IDENTIFIED BY PASSWORD '[^']*'/, ''),
        )
        // Column lists come back in no fixed order.
        .map((g) => g.replace(/\(([^)]*)\)/g, (_, cols: string) => `(${cols.split(', ').sort().join(', ')})`))
        .sort()
    );
  } finally {
    await admin.end();
  }
}

/** A suite's endpoint and rigs: started before its tests, every rig and the masters dropped after them. */
export interface RigSuite {
  /** The endpoint; available once the suite's `beforeAll` has run. */
  readonly endpoint: TestEndpoint;
  /** Creates a rig on the suite's endpoint and drops it with the suite. */
  rig(combination: Combination, options?: RigOptions): Promise<Rig>;
}

/** Registers the `beforeAll`/`afterAll` hooks every rig-based suite needs. Call at a suite file's top level. */
export function rigSuite(): RigSuite {
  let endpoint: TestEndpoint | undefined;
  const rigs: Rig[] = [];
  beforeAll(async () => {
    endpoint = await startTestEndpoint();
  });
  afterAll(async () => {
    for (const r of rigs) await r.drop();
    await dropMasters();
    await endpoint?.close();
  });
  const started = (): TestEndpoint => {
    if (!endpoint) throw new Error('rigSuite: the endpoint starts in beforeAll');
    return endpoint;
  };
  return {
    get endpoint() {
      return started();
    },
    async rig(combination, options = {}) {
      const r = await createRig(started(), combination, options);
      rigs.push(r);
      return r;
    },
  };
}
