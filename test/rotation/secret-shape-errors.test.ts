/**
 * Guarantee 9 through the handler: a secret the rotation cannot use is SECRET_INVALID naming the field,
 * found before any network use of it — a `host` holding its port (adv-14) on both engines, and a next
 * version over Secrets Manager's 64 KiB SecretString limit, refused before PutSecretValue.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mysqlEngine } from '../../shared/engines/mysql';
import { postgresEngine } from '../../shared/engines/postgres';
import { MAX_SECRET_BYTES } from '../../shared/database-secret';
import { SecretValidationError } from '../../shared/errors';
import { createRotationHandler } from '../../shared/rotation/create-rotation-handler';
import type { Connector, DatabaseEngine } from '../../shared/rotation/database-engine';
import { withinSecretSizeLimit } from '../../shared/rotation/create-secret';
import { captureLogger, createSecret, lambdaArn, rotate, startEndpoint, uniqueName, type Endpoint } from '../support/rotation-endpoint';

let endpoint: Endpoint;
beforeAll(async () => {
  endpoint = await startEndpoint();
});
afterAll(() => endpoint.close());

/** The client, with the name of every command sent through it recorded. */
function recordingClient(client: SecretsManagerClient): { client: SecretsManagerClient; sent: string[] } {
  const sent: string[] = [];
  const view = Object.create(client) as SecretsManagerClient;
  Object.defineProperty(view, 'send', {
    value: (command: object, ...rest: unknown[]) => {
      sent.push(command.constructor.name.replace(/Command$/, ''));
      return (client.send as (...args: unknown[]) => Promise<unknown>).call(client, command, ...rest);
    },
  });
  return { client: view, sent };
}

const ENGINES: ReadonlyArray<{ name: string; databaseEngine: DatabaseEngine; engine: string; port: number }> = [
  { name: 'postgres', databaseEngine: postgresEngine, engine: 'postgres', port: 5432 },
  { name: 'mysql', databaseEngine: mysqlEngine, engine: 'mariadb', port: 3306 },
];

describe.each(ENGINES)('$name', ({ name, databaseEngine, engine, port }) => {
  it.each(['127.0.0.1', 'db.example.com', '[::1]'])(
    'a host holding its port (%s:port) fails createSecret as SECRET_INVALID naming host, before any login',
    async (host) => {
      const logs = captureLogger();
      const connector: Connector = jest.fn(() => Promise.reject(new Error('no login may be tried')));
      const handler = createRotationHandler({
        engine: databaseEngine,
        secretsClient: endpoint.client,
        connect: connector,
        env: {},
        logger: logs,
      });
      const functionArn = lambdaArn(uniqueName(`shape-${name}`));
      endpoint.local.registerRotationFunction(functionArn, (event) => handler(event));
      const secretId = await createSecret(endpoint.client, uniqueName(`shape-${name}`), {
        engine,
        host: `${host}:${port}`,
        port,
        username: 'infra_shape_user',
        password: 'shape-password-0',
      });
      await expect(rotate(endpoint.client, secretId, functionArn)).rejects.toBeDefined();
      expect(connector).not.toHaveBeenCalled();
      expect(logs.lines).toHaveLength(1);
      expect(logs.lines[0]).toMatchObject({ step: 'createSecret', errorCode: 'SECRET_INVALID' });
      expect(logs.lines[0]!.message).toMatch(/host must not contain a port/);
    },
  );
});

describe('a next version over 64 KiB', () => {
  it('is refused in createSecret before PutSecretValue, saying so, and nothing is stored', async () => {
    const logs = captureLogger();
    const { client, sent } = recordingClient(endpoint.client);
    const handler = createRotationHandler({
      engine: postgresEngine,
      secretsClient: client,
      env: { PASSWORD_LENGTH: '4096' },
      logger: logs,
    });
    const functionArn = lambdaArn(uniqueName('shape-big'));
    endpoint.local.registerRotationFunction(functionArn, (event) => handler(event));
    const current = { engine: 'postgres', host: 'db.example.com', username: 'infra_big_user', password: 'short-password-0' };
    // The current value fits; the same value with a 4096-character password does not.
    const filler = 'n'.repeat(MAX_SECRET_BYTES - JSON.stringify({ ...current, notes: '' }).length - 100);
    const secretId = await createSecret(endpoint.client, uniqueName('shape-big'), { ...current, notes: filler });

    await expect(rotate(endpoint.client, secretId, functionArn)).rejects.toBeDefined();
    expect(sent).toEqual(['DescribeSecret', 'GetSecretValue', 'GetSecretValue']);
    expect(sent).not.toContain('PutSecretValue');
    expect(logs.lines).toHaveLength(1);
    expect(logs.lines[0]).toMatchObject({ step: 'createSecret', errorCode: 'SECRET_INVALID' });
    expect(logs.lines[0]!.message).toMatch(
      /^The next version would be \d+ bytes, over Secrets Manager's 65536-byte SecretString limit; nothing was stored/,
    );
    await expect(endpoint.client.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: 'AWSPENDING' }))).rejects.toMatchObject(
      {
        name: 'ResourceNotFoundException',
      },
    );
  });

  it('counts UTF-8 bytes, not characters, and lets exactly 65536 bytes through', () => {
    const context = { secretId: 'app/db', step: 'createSecret' };
    const atLimit = `"${'é'.repeat((MAX_SECRET_BYTES - 2) / 2)}"`;
    expect(Buffer.byteLength(atLimit)).toBe(MAX_SECRET_BYTES);
    expect(withinSecretSizeLimit(atLimit, context)).toBe(atLimit);
    const over = `"${'é'.repeat(MAX_SECRET_BYTES / 2)}"`;
    expect(over.length).toBeLessThan(MAX_SECRET_BYTES);
    const err = (() => {
      try {
        withinSecretSizeLimit(over, context);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(SecretValidationError);
    expect((err as SecretValidationError).message).not.toContain('é');
  });
});
