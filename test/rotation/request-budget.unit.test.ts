/**
 * What each step asks of Secrets Manager and of the database: nothing twice. finishSecret reuses the
 * gate's DescribeSecret; single-user setSecret reads AWSPREVIOUS only once AWSCURRENT is refused; the
 * PostgreSQL password change reuses the password_encryption its server-info query read. The contract
 * around them does not move: passwords are generated in the function, AWSCURRENT logs in first (no refused login in a normal rotation), the new
 * password is proven by a login before setSecret returns, finishSecret makes one write.
 */
import {
  DescribeSecretCommand,
  GetRandomPasswordCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { postgresEngine } from '../../shared/engines/postgres';
import { PASSWORD_ENCRYPTION_SQL, SERVER_INFO_SQL } from '../../shared/engines/postgres-sql';
import { AuthenticationError } from '../../shared/errors';
import { createRotationHandler } from '../../shared/rotation/create-rotation-handler';
import type { ConnectRequest, Connector, LoginRole, Row, SqlSession } from '../../shared/rotation/database-engine';
import { captureLogger } from '../support/rotation-endpoint';

const ARN = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:app-AbCdEf';
const TOKEN = 'token-1';
const PASSWORDS = { previous: 'previous-pw-111', current: 'current-pw-222', pending: 'pending-pw-333' } as const;
const secretJson = (password: string): string => JSON.stringify({ engine: 'postgres', host: 'db.example', username: 'app', password });
const sm = mockClient(SecretsManagerClient);

interface FakeDatabase {
  readonly connect: Connector;
  readonly logins: LoginRole[];
  readonly sql: string[];
}

/**
 * A database that accepts only `accepted` passwords and answers the engine's reads. An ALTER ROLE …
 * PASSWORD makes it accept the pending password instead, as the real one would.
 */
function fakeDatabase(accepted: string[], passwordEncryption = 'scram-sha-256'): FakeDatabase {
  const logins: LoginRole[] = [];
  const sql: string[] = [];
  const connect: Connector = async (request: ConnectRequest): Promise<SqlSession> => {
    logins.push(request.role);
    if (!accepted.includes(request.secret.password)) {
      throw new AuthenticationError(`refused the ${request.role} secret`, { secretId: request.secretId });
    }
    return {
      async query(text: string): Promise<readonly Row[]> {
        sql.push(text);
        if (text.startsWith('ALTER ROLE')) accepted.splice(0, accepted.length, PASSWORDS.pending);
        if (text === SERVER_INFO_SQL) {
          return [{ version_num: '150004', version: '15.4', aurora: false, password_encryption: passwordEncryption }];
        }
        if (text === PASSWORD_ENCRYPTION_SQL) return [{ password_encryption: passwordEncryption }];
        return [];
      },
      async close(): Promise<void> {},
    };
  };
  return { connect, logins, sql };
}

function handler(db: FakeDatabase) {
  return createRotationHandler({
    engine: postgresEngine,
    strategy: 'single-user',
    secretsClient: new SecretsManagerClient({ region: 'us-east-1' }),
    env: {},
    connect: db.connect,
    logger: captureLogger(),
  });
}

const event = (Step: string) => ({ SecretId: 'app', ClientRequestToken: TOKEN, Step });

function requests(): string[] {
  return sm.calls().map((call) => {
    const command = call.args[0] as unknown as { constructor: { name: string }; input: { VersionStage?: string } };
    const name = command.constructor.name.replace(/Command$/, '');
    return name === 'GetSecretValue' ? `${name}(${command.input.VersionStage})` : name;
  });
}

const notFound = () => Object.assign(new Error('x'), { name: 'ResourceNotFoundException' });
const denied = () => Object.assign(new Error('x'), { name: 'AccessDeniedException' });

beforeEach(() => {
  sm.reset();
  sm.on(DescribeSecretCommand).resolves({
    ARN,
    VersionIdsToStages: { old: ['AWSCURRENT'], prev: ['AWSPREVIOUS'], [TOKEN]: ['AWSPENDING'] },
  });
  sm.on(GetSecretValueCommand, { VersionStage: 'AWSCURRENT' }).resolves({ SecretString: secretJson(PASSWORDS.current) });
  sm.on(GetSecretValueCommand, { VersionStage: 'AWSPREVIOUS' }).resolves({ SecretString: secretJson(PASSWORDS.previous) });
  sm.on(GetSecretValueCommand, { VersionStage: 'AWSPENDING', VersionId: TOKEN }).resolves({ SecretString: secretJson(PASSWORDS.pending) });
});

describe('single-user setSecret', () => {
  it('does not read AWSPREVIOUS when AWSCURRENT logs in (a failing AWSPREVIOUS read cannot even matter)', async () => {
    sm.on(GetSecretValueCommand, { VersionStage: 'AWSPREVIOUS' }).rejects(denied() as never);
    const db = fakeDatabase([PASSWORDS.current]);
    await handler(db)(event('setSecret'));
    expect(requests()).toEqual(['DescribeSecret', 'GetSecretValue(AWSCURRENT)', 'GetSecretValue(AWSPENDING)']);
    expect(db.logins).toEqual(['current', 'pending']);
  });

  it('reads and tries AWSPREVIOUS only after AWSCURRENT is refused', async () => {
    const db = fakeDatabase([PASSWORDS.previous]);
    await handler(db)(event('setSecret'));
    expect(requests()).toEqual([
      'DescribeSecret',
      'GetSecretValue(AWSCURRENT)',
      'GetSecretValue(AWSPENDING)',
      'GetSecretValue(AWSPREVIOUS)',
    ]);
    expect(db.logins).toEqual(['current', 'pending', 'previous', 'pending']);
    expect(db.sql.some((s) => s.startsWith('ALTER ROLE "app" WITH PASSWORD'))).toBe(true);
  });

  it('still fails as before when neither AWSCURRENT nor a missing AWSPREVIOUS can log in', async () => {
    sm.on(GetSecretValueCommand, { VersionStage: 'AWSPREVIOUS' }).rejects(notFound() as never);
    const db = fakeDatabase([]);
    await expect(handler(db)(event('setSecret'))).rejects.toBeInstanceOf(AuthenticationError);
    expect(db.logins).toEqual(['current', 'pending']);
  });

  it('is a no-op retry when AWSPENDING already logs in, reading only what the check needs', async () => {
    const db = fakeDatabase([PASSWORDS.pending]);
    await handler(db)(event('setSecret'));
    expect(requests()).toEqual(['DescribeSecret', 'GetSecretValue(AWSCURRENT)', 'GetSecretValue(AWSPENDING)']);
    expect(db.logins).toEqual(['current', 'pending']);
    expect(db.sql).toEqual([]);
  });

  it('changes the password with one server read: password_encryption comes with the server info', async () => {
    const db = fakeDatabase([PASSWORDS.current]);
    await handler(db)(event('setSecret'));
    expect(db.sql).toHaveLength(2);
    expect(db.sql[0]).toBe(SERVER_INFO_SQL);
    expect(db.sql[1]).toMatch(/^ALTER ROLE "app" WITH PASSWORD 'SCRAM-SHA-256\$4096:/);
    expect(db.sql.join('\n')).not.toContain(PASSWORDS.pending);
  });

  it('honours an md5 password_encryption read with the server info', async () => {
    const db = fakeDatabase([PASSWORDS.current], 'md5');
    await handler(db)(event('setSecret'));
    expect(db.sql[1]).toMatch(/^ALTER ROLE "app" WITH PASSWORD 'md5[0-9a-f]{32}'$/);
  });
});

describe('finishSecret', () => {
  it('makes no DescribeSecret of its own and one write, leaving AWSPENDING on the finished version', async () => {
    await handler(fakeDatabase([]))(event('finishSecret'));
    expect(sm.commandCalls(DescribeSecretCommand)).toHaveLength(1);
    expect(sm.commandCalls(UpdateSecretVersionStageCommand).map((c) => c.args[0].input)).toEqual([
      { SecretId: ARN, VersionStage: 'AWSCURRENT', MoveToVersionId: TOKEN, RemoveFromVersionId: 'old' },
    ]);
  });

  it('moves AWSCURRENT from the version the gate saw, not a hard-coded one', async () => {
    sm.on(DescribeSecretCommand).resolves({ ARN, VersionIdsToStages: { other: ['AWSCURRENT'], [TOKEN]: ['AWSPENDING'] } });
    await handler(fakeDatabase([]))(event('finishSecret'));
    expect(sm.commandCalls(UpdateSecretVersionStageCommand)[0]!.args[0].input).toMatchObject({ RemoveFromVersionId: 'other' });
  });
});

describe('a whole single-user rotation', () => {
  it('makes 11 Secrets Manager requests (the templates make 14), 2 of them writes, and 3 logins, none refused', async () => {
    sm.on(GetSecretValueCommand, { VersionStage: 'AWSPENDING', VersionId: TOKEN })
      .rejectsOnce(notFound() as never)
      .resolves({ SecretString: secretJson(PASSWORDS.pending) });
    sm.on(PutSecretValueCommand).resolves({});
    sm.on(UpdateSecretVersionStageCommand).resolves({});
    const db = fakeDatabase([PASSWORDS.current]);
    const h = handler(db);
    const perStep: Record<string, number> = {};
    for (const step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) {
      const before = sm.calls().length;
      await h(event(step));
      perStep[step] = sm.calls().length - before;
    }
    expect(perStep).toEqual({ createSecret: 4, setSecret: 3, testSecret: 2, finishSecret: 2 });
    expect(sm.calls()).toHaveLength(11);
    expect(sm.commandCalls(GetRandomPasswordCommand)).toHaveLength(0);
    expect(sm.commandCalls(PutSecretValueCommand).length + sm.commandCalls(UpdateSecretVersionStageCommand).length).toBe(2);
    // current changes its password, the new one is proven, testSecret logs in: none is refused.
    expect(db.logins).toEqual(['current', 'pending', 'pending']);
  });
});
