/** The staging-label gate and the factory's cold-start checks, with a mocked Secrets Manager client. */
import {
  DescribeSecretCommand,
  GetRandomPasswordCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { ConfigError, EventValidationError, RotationDisabledError, StageMismatchError } from '../../shared/errors';
import { postgresEngine } from '../../shared/engines/postgres';
import { createRotationHandler } from '../../shared/rotation/create-rotation-handler';
import type { Connector } from '../../shared/rotation/database-engine';
import { captureLogger } from '../support/rotation-endpoint';

const ARN = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:app-AbCdEf';
const TOKEN = 'token-1';
const CURRENT = JSON.stringify({ engine: 'postgres', host: 'db.example', username: 'app', password: 'current-pw-123', extra: 1 });
const sm = mockClient(SecretsManagerClient);
const neverConnect: Connector = async () => {
  throw new Error('no database in this test');
};

function handler(strategy: 'single-user' | 'alternating-users' = 'single-user', env: Record<string, string> = {}) {
  const logger = captureLogger();
  const h = createRotationHandler({
    engine: postgresEngine,
    strategy,
    secretsClient: new SecretsManagerClient({ region: 'us-east-1' }),
    env,
    connect: neverConnect,
    logger,
  });
  return { h, logger };
}

const event = (Step: string) => ({ SecretId: 'app', ClientRequestToken: TOKEN, Step });

beforeEach(() => sm.reset());

describe('gate, in the templates order', () => {
  it('rejects a secret whose rotation is disabled, before looking at the token', async () => {
    sm.on(DescribeSecretCommand).resolves({ ARN, RotationEnabled: false, VersionIdsToStages: {} });
    await expect(handler().h(event('createSecret'))).rejects.toBeInstanceOf(RotationDisabledError);
  });

  it('passes a missing RotationEnabled key, then rejects an unknown token', async () => {
    sm.on(DescribeSecretCommand).resolves({ ARN, VersionIdsToStages: { other: ['AWSCURRENT'] } });
    await expect(handler().h(event('createSecret'))).rejects.toBeInstanceOf(StageMismatchError);
  });

  it('succeeds without doing anything when the token is already AWSCURRENT, for any step (even an unknown one)', async () => {
    sm.on(DescribeSecretCommand).resolves({ ARN, RotationEnabled: true, VersionIdsToStages: { [TOKEN]: ['AWSCURRENT', 'AWSPENDING'] } });
    const { h, logger } = handler();
    for (const step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret', 'bogus']) await h(event(step));
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
    expect(sm.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(0);
    expect(logger.lines.map((l) => l.outcome)).toEqual(Array(5).fill('already-current'));
    expect(logger.lines[0]).toMatchObject({ secretArn: ARN, engine: 'postgres', strategy: 'single-user' });
  });

  it('rejects a token without AWSPENDING', async () => {
    sm.on(DescribeSecretCommand).resolves({ ARN, RotationEnabled: true, VersionIdsToStages: { [TOKEN]: ['AWSPREVIOUS'] } });
    await expect(handler().h(event('createSecret'))).rejects.toBeInstanceOf(StageMismatchError);
  });

  it('rejects an unknown or missing step only after the gate', async () => {
    sm.on(DescribeSecretCommand).resolves({ ARN, RotationEnabled: true, VersionIdsToStages: { [TOKEN]: ['AWSPENDING'] } });
    await expect(handler().h(event('deleteSecret'))).rejects.toBeInstanceOf(EventValidationError);
    await expect(handler().h({ SecretId: 'app', ClientRequestToken: TOKEN } as never)).rejects.toBeInstanceOf(EventValidationError);
    expect(sm.commandCalls(DescribeSecretCommand)).toHaveLength(2);
  });

  it('refuses a secret scheduled for deletion by name, reading and writing nothing, but still lets a finished step pass', async () => {
    const DeletedDate = new Date('2026-12-01T00:00:00Z');
    sm.on(DescribeSecretCommand).resolves({ ARN, DeletedDate, VersionIdsToStages: { old: ['AWSCURRENT'], [TOKEN]: ['AWSPENDING'] } });
    const { h, logger } = handler();
    for (const step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) {
      await expect(h(event(step))).rejects.toMatchObject({
        code: 'INVALID_REQUEST',
        message: expect.stringMatching(/scheduled for deletion/),
      });
    }
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
    expect(sm.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(0);
    expect(logger.lines.map((l) => l.errorCode)).toEqual(Array(4).fill('INVALID_REQUEST'));
    // A re-run of finishSecret after the rotation finished has nothing to do: success, as without deletion.
    sm.on(DescribeSecretCommand).resolves({ ARN, DeletedDate, VersionIdsToStages: { [TOKEN]: ['AWSCURRENT'] } });
    await expect(h(event('finishSecret'))).resolves.toBeUndefined();
  });

  it('rejects an event without SecretId or token before calling Secrets Manager', async () => {
    await expect(handler().h({ Step: 'createSecret' } as never)).rejects.toBeInstanceOf(EventValidationError);
    expect(sm.commandCalls(DescribeSecretCommand)).toHaveLength(0);
  });
});

describe('createSecret', () => {
  beforeEach(() => {
    sm.on(DescribeSecretCommand).resolves({ ARN, VersionIdsToStages: { old: ['AWSCURRENT'], [TOKEN]: ['AWSPENDING'] } });
    sm.on(GetSecretValueCommand, { VersionStage: 'AWSCURRENT' }).resolves({ SecretString: CURRENT });
  });

  it('keeps an existing pending version', async () => {
    sm.on(GetSecretValueCommand, { VersionStage: 'AWSPENDING', VersionId: TOKEN }).resolves({ SecretString: CURRENT });
    await handler().h(event('createSecret'));
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });

  it('stores a copy of current with a new password (and _clone) under AWSPENDING, forwarding RotationToken', async () => {
    sm.on(GetSecretValueCommand, { VersionStage: 'AWSPENDING', VersionId: TOKEN }).rejects(
      Object.assign(new Error('x'), { name: 'ResourceNotFoundException' }),
    );
    await handler('alternating-users', { PASSWORD_LENGTH: '40', EXCLUDE_PUNCTUATION: 'YES' }).h({
      ...event('createSecret'),
      RotationToken: 'rt-1',
    });
    // The password is generated in the function under the policy: no GetRandomPassword request.
    expect(sm.commandCalls(GetRandomPasswordCommand)).toHaveLength(0);
    const put = sm.commandCalls(PutSecretValueCommand)[0]!.args[0].input;
    expect(put).toMatchObject({ SecretId: ARN, ClientRequestToken: TOKEN, VersionStages: ['AWSPENDING'], RotationToken: 'rt-1' });
    const stored = JSON.parse(put.SecretString!) as Record<string, unknown>;
    expect(stored).toEqual({ engine: 'postgres', host: 'db.example', username: 'app_clone', password: expect.any(String), extra: 1 });
    expect(stored.password).toMatch(/^[A-Za-z0-9]{40}$/);
  });

  it('propagates errors other than not-found, writing nothing', async () => {
    sm.on(GetSecretValueCommand, { VersionStage: 'AWSPENDING', VersionId: TOKEN }).rejects(
      Object.assign(new Error('x'), { name: 'AccessDeniedException' }),
    );
    await expect(handler().h(event('createSecret'))).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });

  it.each(['AWSCURRENT', 'AWSPENDING'])(
    'refuses a %s stored as SecretBinary as an invalid secret (not a missing one), writing nothing',
    async (stage) => {
      const binary = { SecretBinary: new Uint8Array(Buffer.from(CURRENT)) };
      if (stage === 'AWSCURRENT') sm.on(GetSecretValueCommand, { VersionStage: 'AWSCURRENT' }).resolves(binary);
      sm.on(GetSecretValueCommand, { VersionStage: 'AWSPENDING', VersionId: TOKEN }).resolves(binary);
      const { h, logger } = handler();
      const err = await h(event('createSecret')).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'SECRET_INVALID', message: expect.stringMatching(/SecretBinary/) });
      expect(String((err as Error).message)).toContain(stage);
      expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
      expect(logger.text()).not.toContain('current-pw-123');
    },
  );

  it('refuses an alternate name over 63 bytes', async () => {
    const long = JSON.stringify({ engine: 'postgres', host: 'h', username: 'é'.repeat(29), password: 'current-pw-123' });
    sm.on(GetSecretValueCommand, { VersionStage: 'AWSCURRENT' }).resolves({ SecretString: long });
    sm.on(GetSecretValueCommand, { VersionStage: 'AWSPENDING', VersionId: TOKEN }).rejects(
      Object.assign(new Error('x'), { name: 'ResourceNotFoundException' }),
    );
    await expect(handler('alternating-users').h(event('createSecret'))).rejects.toMatchObject({ code: 'SECRET_INVALID' });
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });
});

describe('finishSecret', () => {
  it('moves AWSCURRENT from the old version in one write, leaving AWSPENDING on the finished version as the AWS templates do', async () => {
    sm.on(DescribeSecretCommand).resolves({ ARN, VersionIdsToStages: { old: ['AWSCURRENT'], [TOKEN]: ['AWSPENDING'] } });
    await handler().h(event('finishSecret'));
    const calls = sm.commandCalls(UpdateSecretVersionStageCommand).map((c) => c.args[0].input);
    expect(calls).toEqual([{ SecretId: ARN, VersionStage: 'AWSCURRENT', MoveToVersionId: TOKEN, RemoveFromVersionId: 'old' }]);
  });
});

describe('finishSecret after a lost answer', () => {
  const refused = () =>
    Object.assign(new Error('RemoveFromVersionId must be the version that currently has it'), {
      name: 'InvalidParameterException',
      $metadata: { httpStatusCode: 400 },
    });

  it('succeeds when its move was refused only because its own earlier attempt had made it (the labels say so)', async () => {
    sm.on(DescribeSecretCommand)
      .resolvesOnce({ ARN, VersionIdsToStages: { old: ['AWSCURRENT'], [TOKEN]: ['AWSPENDING'] } })
      .resolves({ ARN, VersionIdsToStages: { old: ['AWSPREVIOUS'], [TOKEN]: ['AWSCURRENT', 'AWSPENDING'] } });
    sm.on(UpdateSecretVersionStageCommand).rejects(refused());
    const { h, logger } = handler();
    await expect(h(event('finishSecret'))).resolves.toBeUndefined();
    expect(logger.lines.map((l) => l.outcome)).toEqual(['success']);
  });

  it('still fails typed when the labels show the move was not made', async () => {
    sm.on(DescribeSecretCommand).resolves({ ARN, VersionIdsToStages: { old: ['AWSCURRENT'], [TOKEN]: ['AWSPENDING'] } });
    sm.on(UpdateSecretVersionStageCommand).rejects(refused());
    await expect(handler().h(event('finishSecret'))).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
  });
});

describe('cold start', () => {
  it.each([
    [{ PASSWORD_LENGTH: 'abc' }],
    [{ PASSWORD_LENGTH: '0' }],
    [{ EXCLUDE_LOWERCASE: 'true', EXCLUDE_UPPERCASE: '1', EXCLUDE_NUMBERS: 'y', EXCLUDE_PUNCTUATION: 'Yes' }],
    [{ DB_TLS_MODE: 'sometimes' }],
    [{ ROTATION_STRATEGY: 'triple-users' }],
    [{ DB_CONNECT_TIMEOUT_MS: '-5' }],
  ])('fails when the handler is built, not mid-rotation: %j', (env) => {
    expect(() =>
      createRotationHandler({ engine: postgresEngine, secretsClient: new SecretsManagerClient({ region: 'us-east-1' }), env }),
    ).toThrow(ConfigError);
  });
});

describe('no AWS credentials anywhere', () => {
  const saved = { ...process.env };
  beforeAll(() => {
    // The SDK's chain must find nothing and must not ask an instance metadata service.
    for (const name of Object.keys(process.env)) {
      if (/^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|PROFILE|WEB_IDENTITY_TOKEN_FILE|ROLE_ARN|CONTAINER_.*)$/.test(name)) {
        delete process.env[name];
      }
    }
    process.env.AWS_EC2_METADATA_DISABLED = 'true';
    process.env.AWS_CONFIG_FILE = '/nonexistent/hsm-config';
    process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/hsm-credentials';
  });
  afterAll(() => {
    process.env = saved;
  });

  it('fails the step with one line saying so (TRANSIENT: the same failure comes from a credential endpoint briefly down), before any request', async () => {
    const logger = captureLogger();
    const h = createRotationHandler({
      engine: postgresEngine,
      // A real-AWS region and a non-loopback endpoint name: no fixed local credentials apply. Nothing is sent to it.
      env: { AWS_REGION: 'eu-west-1', SECRETS_MANAGER_ENDPOINT: 'https://secretsmanager.invalid' },
      connect: neverConnect,
      logger,
    });
    const err = await h(event('createSecret')).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'TransientError', code: 'TRANSIENT' });
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]).toMatchObject({ outcome: 'failure', errorCode: 'TRANSIENT', cause: { name: 'CredentialsProviderError' } });
    expect(logger.lines[0]!.message).toMatch(/^DescribeSecret: no AWS credentials could be loaded; .*execution role/);
  });
});
