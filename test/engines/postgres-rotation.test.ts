/**
 * End to end against the real PostgreSQL: the real SDK client, the embedded endpoint's RotateSecret and
 * the Postgres handler, checked from outside with the admin helpers.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { canLoginPostgres, connectPostgresAdmin } from '../../local/admin-connections';
import { createPostgresUser, dropPostgresUsers, type PostgresFixtureUser } from '../../local/fixtures';
import { postgresAdminSettings } from '../../local/db-settings';
import { postgresEngine } from '../../shared/engines/postgres';
import { createRotationHandler } from '../../shared/rotation/create-rotation-handler';
import type { RotationStrategyName } from '../../shared/rotation/rotation-settings';
import {
  captureLogger,
  createSecret,
  lambdaArn,
  rotate,
  secretValue,
  stagesOf,
  startEndpoint,
  uniqueName,
  WRITES,
  countingClient,
  type CountingClient,
  type Endpoint,
} from '../support/rotation-endpoint';

let endpoint: Endpoint;
let client: SecretsManagerClient;
let masterArn: string;
/** The handlers' own client: their requests, told from the test's. */
let counting: CountingClient;
const logs = captureLogger();
const users: PostgresFixtureUser[] = [];

beforeAll(async () => {
  endpoint = await startEndpoint();
  client = endpoint.client;
  const admin = postgresAdminSettings();
  masterArn = await createSecret(client, uniqueName('pg-master'), {
    engine: 'postgres',
    host: admin.host,
    port: admin.port,
    username: admin.user,
    // Loopback trusts postgres, so any password logs in; the secret format demands a non-empty one.
    password: admin.password || 'trusted-on-loopback',
    dbname: admin.database,
    ssl: false,
  });
  counting = countingClient(endpoint);
  for (const strategy of ['single-user', 'alternating-users'] as const) {
    endpoint.local.registerRotationFunction(
      lambdaArn(`pg-${strategy}`),
      createRotationHandler({ engine: postgresEngine, strategy, secretsClient: counting.client, env: {}, logger: logs }),
    );
  }
});

afterAll(async () => {
  for (const u of users) await u.drop();
  counting?.client.destroy();
  await endpoint?.close();
});

async function fixture(options: Parameters<typeof createPostgresUser>[0] = {}): Promise<PostgresFixtureUser> {
  const user = await createPostgresUser(options);
  users.push(user);
  return user;
}

async function secretFor(user: PostgresFixtureUser, extra: Record<string, unknown> = {}): Promise<string> {
  return createSecret(client, uniqueName('pg-app'), {
    engine: 'postgres',
    host: user.host,
    port: String(user.port),
    username: user.username,
    password: user.password,
    dbname: user.database,
    ssl: false,
    custom: 'kept',
    ...extra,
  });
}

const fn = (strategy: RotationStrategyName): string => lambdaArn(`pg-${strategy}`);

async function asUser(username: string, password: string, sql: string): Promise<void> {
  const { Client } = await import('pg');
  const s = postgresAdminSettings();
  const c = new Client({ host: s.host, port: s.port, user: username, password, database: s.database });
  c.on('error', () => undefined);
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

describe('single-user', () => {
  it('rotates three times: the new password works, the old one is refused, extra keys are kept', async () => {
    const user = await fixture();
    const arn = await secretFor(user);
    let old = user.password;
    for (let i = 0; i < 3; i++) {
      await rotate(client, arn, fn('single-user'));
      const current = await secretValue(client, arn);
      expect(current.username).toBe(user.username);
      expect(current.password).not.toBe(old);
      expect(current.custom).toBe('kept');
      expect(await canLoginPostgres(user.username, current.password)).toBe(true);
      expect(await canLoginPostgres(user.username, old)).toBe(false);
      old = current.password;
    }
    const stages = await stagesOf(client, arn);
    // As in AWS's templates, AWSPENDING stays on the finished version, never on another one.
    const strayPending = Object.values(stages).filter((s) => s.includes('AWSPENDING') && !s.includes('AWSCURRENT'));
    expect(strayPending).toHaveLength(0);
    expect(Object.values(stages).filter((s) => s.includes('AWSPREVIOUS'))).toHaveLength(1);
  });

  it('self-heals a drifted current password through the masterarn', async () => {
    const user = await fixture();
    const arn = await secretFor(user, { masterarn: masterArn, password: 'drifted-not-the-password' });
    await rotate(client, arn, fn('single-user'));
    const current = await secretValue(client, arn);
    expect(await canLoginPostgres(user.username, current.password)).toBe(true);
  });

  it('fails on a drifted password without a masterarn and changes nothing', async () => {
    const user = await fixture();
    const arn = await secretFor(user, { password: 'drifted-not-the-password' });
    await expect(rotate(client, arn, fn('single-user'))).rejects.toThrow();
    expect(await canLoginPostgres(user.username, user.password)).toBe(true);
    expect((await secretValue(client, arn)).password).toBe('drifted-not-the-password');
  });

  it('rotates a username that needs quoting', async () => {
    const name = `Rt "Quo'te" ü ${Date.now().toString(36)}`;
    await dropPostgresUsers([name, `${name}_clone`]);
    const user = await fixture({ username: name });
    const arn = await secretFor(user);
    await rotate(client, arn, fn('single-user'));
    const current = await secretValue(client, arn);
    expect(await canLoginPostgres(name, current.password)).toBe(true);
    expect(await canLoginPostgres(name, user.password)).toBe(false);
  });
});

describe('alternating users', () => {
  it('rotates three times: usernames alternate, both log in, rights and objects are shared, in at most 12 requests and 2 writes a rotation', async () => {
    const user = await fixture();
    const table = `t_${user.username}`;
    const admin = await connectPostgresAdmin();
    try {
      await admin.query(`CREATE TABLE "${table}" (v int)`);
      await admin.query(`GRANT SELECT, INSERT ON "${table}" TO "${user.username}"`);
    } finally {
      await admin.end();
    }
    const arn = await secretFor(user, { masterarn: masterArn });
    const seen: string[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const before = await secretValue(client, arn);
        counting.take();
        await rotate(client, arn, fn('alternating-users'));
        const sent = counting.take();
        expect(sent.length).toBeLessThanOrEqual(12);
        expect(sent.filter((c) => WRITES.has(c))).toHaveLength(2);
        const current = await secretValue(client, arn);
        seen.push(current.username);
        expect(current.username).not.toBe(before.username);
        expect(await canLoginPostgres(current.username, current.password)).toBe(true);
        // The previous user still logs in: that is the point of alternating.
        expect(await canLoginPostgres(before.username, before.password)).toBe(true);
        // Rights granted to the original user hold for both.
        await asUser(current.username, current.password, `INSERT INTO "${table}" VALUES (${i})`);
        // What one user creates the other can use.
        await asUser(current.username, current.password, `CREATE TABLE "${table}_${i}" (v int)`);
        await asUser(before.username, before.password, `INSERT INTO "${table}_${i}" VALUES (1)`);
      }
      expect(seen).toEqual([`${user.username}_clone`, user.username, `${user.username}_clone`]);
    } finally {
      const a = await connectPostgresAdmin();
      try {
        for (let i = 0; i < 3; i++) await a.query(`DROP TABLE IF EXISTS "${table}_${i}"`);
        await a.query(`DROP TABLE IF EXISTS "${table}"`);
      } finally {
        await a.end();
      }
    }
  });

  it('alternates a username that needs quoting', async () => {
    const name = `Rt "Alt'Q" ß ${Date.now().toString(36)}`;
    await dropPostgresUsers([name, `${name}_clone`]);
    const user = await fixture({ username: name });
    const arn = await secretFor(user, { masterarn: masterArn });
    for (const expected of [`${name}_clone`, name]) {
      await rotate(client, arn, fn('alternating-users'));
      const current = await secretValue(client, arn);
      expect(current.username).toBe(expected);
      expect(await canLoginPostgres(current.username, current.password)).toBe(true);
    }
  });

  it('refuses to rotate when the current password has drifted (confused deputy) and creates no clone', async () => {
    const user = await fixture();
    const arn = await secretFor(user, { masterarn: masterArn, password: 'drifted-not-the-password' });
    await expect(rotate(client, arn, fn('alternating-users'))).rejects.toThrow();
    const admin = await connectPostgresAdmin();
    try {
      const { rowCount } = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [`${user.username}_clone`]);
      expect(rowCount).toBe(0);
    } finally {
      await admin.end();
    }
  });
});

describe('re-running steps', () => {
  it.each(['single-user', 'alternating-users'] as const)('%s: each step re-run after success changes nothing', async (strategy) => {
    const user = await fixture();
    const arn = await secretFor(user, { masterarn: masterArn });
    const runLog = captureLogger();
    const handler = createRotationHandler({ engine: postgresEngine, strategy, secretsClient: client, env: {}, logger: runLog });
    const pendingAfter: Record<string, string> = {};
    const wrapperArn = lambdaArn(uniqueName(`pg-twice-${strategy}`));
    endpoint.local.registerRotationFunction(wrapperArn, async (event) => {
      await handler(event);
      const first = event.Step === 'finishSecret' ? undefined : (await secretValue(client, arn, 'AWSPENDING')).password;
      await handler(event);
      if (first !== undefined) {
        pendingAfter[event.Step] = (await secretValue(client, arn, 'AWSPENDING')).password;
        expect(pendingAfter[event.Step]).toBe(first);
      }
    });
    await rotate(client, arn, wrapperArn);
    const outcomes = runLog.lines.map((l) => `${l.step}:${l.outcome}`);
    // Single user: the re-run finds AWSCURRENT refused and AWSPENDING in place. Alternating users re-run
    // the idempotent sync (they never try AWSPENDING first, which would be a refused login in every normal
    // rotation): same pending password, same end state.
    expect(outcomes).toEqual([
      'createSecret:success',
      'createSecret:skipped',
      'setSecret:success',
      strategy === 'single-user' ? 'setSecret:skipped' : 'setSecret:success',
      'testSecret:success',
      'testSecret:success',
      'finishSecret:success',
      'finishSecret:already-current',
    ]);
    const current = await secretValue(client, arn);
    expect(await canLoginPostgres(current.username, current.password)).toBe(true);
  });
});

describe('TLS mode and deadline', () => {
  it('prefer falls back to plaintext with a warning; the default verify-full refuses the server without TLS', async () => {
    const user = await fixture();
    const value = { engine: 'postgres', host: user.host, port: user.port, username: user.username, password: user.password };
    const preferLog = captureLogger();
    const preferArn = lambdaArn(uniqueName('pg-prefer'));
    endpoint.local.registerRotationFunction(
      preferArn,
      createRotationHandler({ engine: postgresEngine, secretsClient: client, env: { DB_TLS_MODE: 'prefer' }, logger: preferLog }),
    );
    const strictArn = lambdaArn(uniqueName('pg-strict'));
    endpoint.local.registerRotationFunction(
      strictArn,
      createRotationHandler({ engine: postgresEngine, secretsClient: client, env: {}, logger: captureLogger() }),
    );
    const strictSecret = await createSecret(client, uniqueName('pg-strict'), value);
    await expect(rotate(client, strictSecret, strictArn)).rejects.toThrow(/TLS/);
    expect(await canLoginPostgres(user.username, user.password)).toBe(true);

    const preferSecret = await createSecret(client, uniqueName('pg-prefer'), value);
    await rotate(client, preferSecret, preferArn);
    const current = await secretValue(client, preferSecret);
    expect(await canLoginPostgres(user.username, current.password)).toBe(true);
    expect(preferLog.lines.some((l) => l.level === 'warn' && /without TLS/.test(l.message))).toBe(true);
  });

  it('fails with a TimeoutError before Lambda would kill it', async () => {
    const user = await fixture();
    const arn = await secretFor(user);
    const handler = createRotationHandler({ engine: postgresEngine, secretsClient: client, env: {}, logger: captureLogger() });
    const fnArn = lambdaArn(uniqueName('pg-late'));
    endpoint.local.registerRotationFunction(fnArn, (event) =>
      handler(event, { getRemainingTimeInMillis: () => (event.Step === 'setSecret' ? 500 : 60_000) }),
    );
    await expect(rotate(client, arn, fnArn)).rejects.toThrow(/Lambda time/);
    expect(await canLoginPostgres(user.username, user.password)).toBe(true);
  });
});
