/**
 * Real faults rather than injected errors: the server kills the rotation's connection mid-setSecret
 * (pg_terminate_backend, MariaDB KILL), the database port is closed, the database stalls, Secrets
 * Manager throttles; and the last recovery rung, the operator's redrive of a stuck rotation.
 */
import { RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { connectMysqlAdmin, connectPostgresAdmin } from '../../local/admin-connections';
import { mysqlAdminSettings, postgresAdminSettings } from '../../local/db-settings';
import { isRetryable } from '../../shared/errors';
import type { Connector } from '../../shared/rotation/database-engine';
import { lastFailure, recover } from '../support/recovery';
import { recordFigure } from '../support/figures';
import {
  COMBINATIONS,
  databaseEngineOf,
  type Combination,
  type Rig,
  type SecretState,
  rigSuite,
  type RigOptions,
} from '../support/rotation-rig';
import { startTcpFaultProxy, type TcpFaultProxy } from '../support/tcp-fault-proxy';
import type { EngineFamily } from '../../shared/database-secret';

const suite = rigSuite();

function rig(combination: Combination, options: RigOptions = {}): Promise<Rig> {
  return suite.rig(combination, options);
}

async function rotate(r: Rig): Promise<unknown> {
  try {
    await r.endpoint.client.send(new RotateSecretCommand({ SecretId: r.secretId, RotationLambdaARN: r.functionArn }));
    return undefined;
  } catch (err) {
    return err;
  }
}

function failureCodes(r: Rig): string[] {
  return r.logs.lines.filter((l) => l.outcome === 'failure').map((l) => `${l.step}:${l.errorCode}`);
}

async function expectRotated(r: Rig, before: SecretState): Promise<void> {
  const after = await r.state();
  expect(after.current.versionId).not.toBe(before.current.versionId);
  expect(after.previous?.versionId).toBe(before.current.versionId);
  expect(await r.canLogin(after.current)).toBe(true);
  expect(await r.canLogin(before.current)).toBe(r.combination.strategy === 'alternating-users');
  expect(Object.values(after.stages).filter((s) => s.includes('AWSPENDING') && !s.includes('AWSCURRENT'))).toEqual([]);
}

/** A connector that notes each session's server-side id, so a test can kill exactly that session. */
function sessionIdRecorder(engine: EngineFamily): { connector: Connector; last: () => number | undefined } {
  const base = databaseEngineOf(engine).defaultConnector;
  let last: number | undefined;
  const connector: Connector = async (request) => {
    const session = await base(request);
    const rows = await session.query(engine === 'postgres' ? 'SELECT pg_backend_pid() AS id' : 'SELECT CONNECTION_ID() AS id');
    last = Number(rows[0]?.id);
    return session;
  };
  return { connector, last: () => last };
}

async function killSession(engine: EngineFamily, id: number): Promise<void> {
  if (engine === 'postgres') {
    const admin = await connectPostgresAdmin();
    try {
      await admin.query('SELECT pg_terminate_backend($1)', [id]);
    } finally {
      await admin.end();
    }
    return;
  }
  const admin = await connectMysqlAdmin();
  try {
    await admin.query(`KILL CONNECTION ${Number(id)}`);
  } finally {
    await admin.end();
  }
}

/** Kills the rotation's session just before its first account-changing statement; returns what it killed. */
async function rotateWithKill(r: Rig, engine: EngineFamily, last: () => number | undefined): Promise<string | undefined> {
  let killed: string | undefined;
  r.injector.reset();
  r.injector.setObserver(async (call) => {
    if (killed !== undefined || call.kind !== 'query' || !['ALTER', 'CREATE', 'SET'].includes(call.name)) return;
    const id = last();
    if (id === undefined) return;
    killed = `${call.name} (call ${call.index})`;
    await killSession(engine, id);
    // Let the driver see the socket close before the statement is written: an idle session killed by a
    // DBA, a failover or a proxy's idle timeout.
    await new Promise((resolve) => setTimeout(resolve, 50));
  });
  try {
    expect(await rotate(r)).toBeDefined();
  } finally {
    r.injector.setObserver(undefined);
  }
  return killed;
}

describe.each(COMBINATIONS)('the server kills the connection mid-setSecret: $engine, $strategy', (combination) => {
  it('fails setSecret with a typed error, keeps AWSCURRENT working, and converges on retry', async () => {
    const recorder = sessionIdRecorder(combination.engine);
    const r = await rig(combination, { connector: recorder.connector });
    const before = await r.state();
    const killed = await rotateWithKill(r, combination.engine, recorder.last);
    expect(killed).toBeDefined();
    const failure = lastFailure(r);
    expect(failure?.failedStep).toBe('setSecret');
    const codes = failureCodes(r);
    expect(codes).toHaveLength(1);
    expect(codes[0]).toMatch(/^setSecret:[A-Z_]+$/);
    expect(await r.canLogin(before.current)).toBe(true);
    await recover(r, failure!, 'retry-step', async () => undefined);
    await expectRotated(r, before);
    recordFigure(`kill.${combination.engine}.${combination.strategy}`, `${killed} -> ${codes.join(',')}`);
  });

  // BUG (reported to the lead): a session the server killed between two statements fails the next one
  // as DATABASE ("a statement was refused"), not NETWORK: pg rejects with a codeless "not queryable"
  // Error and mysql2 with a codeless closed-state error, and the connectors do not remember that the
  // connection was lost. Marked failing so it runs; remove `.failing` once the connectors are fixed.
  it('classifies the killed session as a lost connection (NETWORK, retryable)', async () => {
    const recorder = sessionIdRecorder(combination.engine);
    const r = await rig(combination, { connector: recorder.connector });
    await rotateWithKill(r, combination.engine, recorder.last);
    const failure = lastFailure(r);
    try {
      expect(failureCodes(r)).toEqual(['setSecret:NETWORK']);
    } finally {
      // Leave the rig rotated either way, so its fixture drops cleanly.
      await recover(r, failure!, 'retry-step', async () => undefined);
    }
  });
});

describe.each<EngineFamily>(['postgres', 'mysql'])('the database is unreachable or slow: %s', (engine) => {
  let proxy: TcpFaultProxy;
  beforeAll(async () => {
    proxy = await startTcpFaultProxy(engine === 'postgres' ? postgresAdminSettings().port : mysqlAdminSettings().port);
  });
  afterAll(() => proxy.close());

  it.each([
    { mode: 'refuse' as const, code: 'NETWORK' },
    { mode: 'stall' as const, code: 'TIMEOUT' },
  ])('$mode: setSecret fails as $code, nothing changes, and the rotation completes once the server is back', async ({ mode, code }) => {
    const r = await rig({ engine, strategy: 'single-user' }, { port: proxy.port, connectTimeoutMs: 400 });
    const before = await r.state();
    await proxy.setMode(mode);
    try {
      expect(await rotate(r)).toBeDefined();
    } finally {
      await proxy.setMode('forward');
    }
    expect(failureCodes(r)).toEqual([`setSecret:${code}`]);
    const during = await r.state();
    expect(during.current.versionId).toBe(before.current.versionId);
    expect(await r.canLogin(before.current)).toBe(true);
    const record = await suite.endpoint.local.retryRotation(r.secretId);
    expect(record.outcome).toBe('succeeded');
    await expectRotated(r, before);
  });
});

describe('Secrets Manager throttles', () => {
  it.each<EngineFamily>(['postgres', 'mysql'])(
    '%s: a throttled PutSecretValue fails createSecret as THROTTLED, retryable, and the retry completes',
    async (engine) => {
      const r = await rig({ engine, strategy: 'single-user' });
      const before = await r.state();
      // A clean rotation finds the PutSecretValue call's number; the next rotation is throttled exactly there.
      r.injector.reset();
      const put = { at: 0 };
      r.injector.setObserver(async (call) => {
        if (put.at === 0 && call.name === 'PutSecretValue') put.at = call.index;
      });
      expect(await rotate(r)).toBeUndefined();
      r.injector.setObserver(undefined);
      const rotated = await r.state();
      expect(put.at).toBeGreaterThan(0);
      r.injector.arm({ at: put.at, timing: 'before', sdkError: 'ThrottlingException' });
      expect(await rotate(r)).toBeDefined();
      expect(failureCodes(r)).toContain('createSecret:THROTTLED');
      const failure = lastFailure(r)!;
      expect(failure.failedStep).toBe('createSecret');
      await recover(r, failure, 'retry-step', async () => undefined);
      await expectRotated(r, rotated);
      expect(before.current.versionId).not.toBe(rotated.current.versionId);
    },
  );

  it('classifies throttling as retryable', () => {
    const { fromSecretsManagerError } = jest.requireActual<typeof import('../../shared/errors')>('../../shared/errors');
    const err = fromSecretsManagerError(Object.assign(new Error('x'), { name: 'ThrottlingException' }), 'PutSecretValue');
    expect(err.code).toBe('THROTTLED');
    expect(isRetryable(err)).toBe(true);
  });
});
