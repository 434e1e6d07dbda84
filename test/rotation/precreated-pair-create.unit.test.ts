/**
 * createSecret for a pre-created pair, with a mocked Secrets Manager client: the next version swaps the
 * two names; a misnamed key, or a pair under a single-user function, is refused before anything is written.
 */
import { DescribeSecretCommand, GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { SecretValidationError } from '../../shared/errors';
import { postgresEngine } from '../../shared/engines/postgres';
import { createRotationHandler } from '../../shared/rotation/create-rotation-handler';
import { ALTERNATE_USERNAME_KEY } from '../../shared/rotation/precreated-pair';
import { captureLogger } from '../support/rotation-endpoint';

const ARN = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:app-AbCdEf';
const TOKEN = 'token-1';
const sm = mockClient(SecretsManagerClient);

function run(current: Record<string, unknown>, strategy: 'single-user' | 'alternating-users' = 'alternating-users') {
  sm.reset();
  sm.on(DescribeSecretCommand).resolves({ ARN, RotationEnabled: true, VersionIdsToStages: { [TOKEN]: ['AWSPENDING'] } });
  sm.on(GetSecretValueCommand, { VersionStage: 'AWSCURRENT' }).resolves({ ARN, SecretString: JSON.stringify(current) });
  sm.on(GetSecretValueCommand, { VersionStage: 'AWSPENDING' }).rejects(
    Object.assign(new Error('no pending'), { name: 'ResourceNotFoundException', $metadata: {} }),
  );
  sm.on(PutSecretValueCommand).resolves({ ARN });
  const handler = createRotationHandler({
    engine: postgresEngine,
    strategy,
    secretsClient: new SecretsManagerClient({ region: 'us-east-1' }),
    env: {},
    connect: async () => {
      throw new Error('createSecret never logs in');
    },
    logger: captureLogger(),
  });
  return handler({ SecretId: ARN, ClientRequestToken: TOKEN, Step: 'createSecret' });
}

const base = {
  engine: 'postgres',
  host: 'db.example',
  password: 'current-pw-123',
  masterarn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:m',
};

describe('createSecret, pre-created pair', () => {
  it('names the other user in the next version and the current one as its other user', async () => {
    await run({ ...base, username: 'app_blue', [ALTERNATE_USERNAME_KEY]: 'app_green', extra: 'kept' });
    const calls = sm.commandCalls(PutSecretValueCommand);
    expect(calls).toHaveLength(1);
    const next = JSON.parse(calls[0]!.args[0].input.SecretString!) as Record<string, unknown>;
    expect(next).toMatchObject({ username: 'app_green', [ALTERNATE_USERNAME_KEY]: 'app_blue', extra: 'kept' });
    expect(next.password).not.toBe(base.password);
  });

  it("keeps the templates' _clone naming for a secret without the key", async () => {
    await run({ ...base, username: 'app' });
    const next = JSON.parse(sm.commandCalls(PutSecretValueCommand)[0]!.args[0].input.SecretString!) as Record<string, unknown>;
    expect(next.username).toBe('app_clone');
    expect(next).not.toHaveProperty(ALTERNATE_USERNAME_KEY);
  });

  it.each([
    ['empty', ''],
    ['not a string', 42],
    ['the same user', 'app_blue'],
  ])('refuses a key that is %s, writing nothing', async (_label, value) => {
    await expect(run({ ...base, username: 'app_blue', [ALTERNATE_USERNAME_KEY]: value })).rejects.toThrow(SecretValidationError);
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });

  it('refuses a pair under a single-user function, writing nothing', async () => {
    const failure = run({ ...base, username: 'app_blue', [ALTERNATE_USERNAME_KEY]: 'app_green' }, 'single-user');
    await expect(failure).rejects.toThrow(/alternating-users/);
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });
});
