import { inspect } from 'node:util';
import { z } from 'zod';
import { ConfigLoader } from '../../shared/config-loader';
import { SecretCache } from '../../shared/secret-cache';
import { SecretNotFoundError, SecretValidationError } from '../../shared/errors';
import { FakeSecretsClient } from './secret-cache.fakes';

const PASSWORD = 'Leaky-Passw0rd-Value-77';

const DatabaseConfig = z
  .object({
    host: z.string(),
    port: z.number().int().default(5432),
    username: z.string(),
    password: z.string().min(12),
    sslMode: z.enum(['require', 'verify-full']).default('require'),
  })
  .describe('DatabaseConfig');

describe('ConfigLoader', () => {
  it('loads, validates and types a secret through a client, under a prefix', async () => {
    const client = new FakeSecretsClient();
    client.put('myapp/database', { host: 'db.internal', username: 'app', password: PASSWORD });
    const loader = new ConfigLoader(client.asClient(), { prefix: 'myapp/' });
    const config = await loader.load('database', DatabaseConfig);
    const port: number = config.port; // typed by z.infer
    expect(port).toBe(5432);
    expect(config).toEqual({ host: 'db.internal', port: 5432, username: 'app', password: PASSWORD, sslMode: 'require' });
    expect(client.calls[0]!.input).toEqual({ SecretId: 'myapp/database' });
  });

  it('reads through a SecretCache, so repeated loads cost one call', async () => {
    const client = new FakeSecretsClient();
    client.put('database', { host: 'h', username: 'u', password: PASSWORD });
    const loader = new ConfigLoader(new SecretCache({ client: client.asClient() }));
    await loader.load('database', DatabaseConfig);
    await loader.load('database', DatabaseConfig);
    expect(client.count()).toBe(1);
  });

  it('names the secret, the schema and every failing path and problem', async () => {
    const client = new FakeSecretsClient();
    client.put('database', { host: 42, password: 'short', sslMode: 'off', extra: { x: 1 } });
    const err = await new ConfigLoader(client.asClient()).load('database', DatabaseConfig).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecretValidationError);
    const error = err as SecretValidationError;
    expect(error.secretId).toBe('database');
    expect(error.message).toContain('DatabaseConfig');
    expect(error.issues).toEqual([
      { path: 'host', problem: 'expected string, received number' },
      { path: 'username', problem: 'is required (expected string)' },
      { path: 'password', problem: 'too small: string must be >= 12' },
      { path: 'sslMode', problem: 'is not one of the 2 allowed value(s) (invalid_value)' },
    ]);
  });

  it('never shows a value, even when zod messages would (custom messages, error maps, unknown keys)', async () => {
    const Leaky = z
      .strictObject({
        password: z.string({ error: (issue) => `bad password ${String(issue.input)}` }).regex(/^\d+$/, {
          error: (issue) => `not digits: ${String(issue.input)}`,
        }),
        nested: z.array(z.object({ token: z.number({ error: (issue) => `got ${String(issue.input)}` }) })),
      })
      .refine(() => false, { error: (issue) => `whole input ${JSON.stringify(issue.input)}` });
    const value = { password: PASSWORD, nested: [{ token: PASSWORD }], [PASSWORD]: 1 };
    // The naive approach (zod's own messages) would leak: prove it, so this test can fail.
    const naive = Leaky.safeParse(value);
    expect(naive.success).toBe(false);
    expect(JSON.stringify(naive.error?.issues)).toContain(PASSWORD);

    const client = new FakeSecretsClient();
    client.put('leaky', value);
    const err = await new ConfigLoader(client.asClient()).load('leaky', Leaky, { schemaName: 'LeakySchema' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecretValidationError);
    const views = [String(err), JSON.stringify(err), inspect(err, { depth: 10 }), (err as Error).stack ?? ''];
    for (const view of views) expect(view).not.toContain(PASSWORD);
    expect((err as SecretValidationError).issues.map((i) => i.path)).toEqual(
      expect.arrayContaining(['password', 'nested[0].token', '']),
    );
    expect(String(err)).toContain('LeakySchema');
  });

  it('reports a binary or non-JSON secret as a type problem, without its content', async () => {
    const client = new FakeSecretsClient();
    client.put('bin', new Uint8Array([1, 2, 3]));
    client.put('text', `{"password": "${PASSWORD}"`);
    const loader = new ConfigLoader(client.asClient());
    await expect(loader.load('bin', DatabaseConfig)).rejects.toThrow('(root) is a SecretBinary, not a JSON SecretString');
    const err = await loader.load('text', DatabaseConfig).catch((e: unknown) => e);
    expect(String(err)).toContain('expected object, received string');
    expect(String(err)).not.toContain(PASSWORD);
  });

  it('maps Secrets Manager failures to typed errors', async () => {
    const loader = new ConfigLoader(new FakeSecretsClient().asClient());
    await expect(loader.load('absent', DatabaseConfig)).rejects.toBeInstanceOf(SecretNotFoundError);
  });
});
