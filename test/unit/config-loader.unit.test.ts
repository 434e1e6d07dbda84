import { inspect } from 'node:util';
import { z } from 'zod';
import * as zm from 'zod/mini';
import { z as z3 } from 'zod/v3';
import { ConfigLoader, type StandardSchemaV1 } from '../../shared/config-loader';
import { SecretCache } from '../../shared/secret-cache';
import { ConfigError, SecretNotFoundError, SecretValidationError, TimeoutError } from '../../shared/errors';
import { FakeSecretsClient } from '../support/secret-cache-fakes';

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
    expect((err as SecretValidationError).issues.map((i) => i.path)).toEqual(expect.arrayContaining(['password', 'nested[0].token', '']));
    expect(String(err)).toContain('LeakySchema');
  });

  it.each([
    [
      'a transform that parses a field as JSON',
      z.object({ password: z.string().transform((text) => JSON.parse(text) as unknown) }),
      'SyntaxError',
    ],
    [
      'a refinement that throws with the value',
      z.object({
        password: z.string().refine((text) => {
          throw new Error(`refused ${text}`);
        }),
      }),
      'Error',
    ],
  ])('turns %s throwing into a SecretValidationError that shows neither value nor message', async (_label, schema, thrown) => {
    // Unwrapped, the schema's own exception quotes the value (V8's JSON.parse its first 10 characters): prove it first.
    const quoted = PASSWORD.slice(0, 10);
    expect(() => schema.safeParse({ password: PASSWORD })).toThrow(quoted);
    const client = new FakeSecretsClient();
    client.put('throws', { password: PASSWORD });
    const err = await new ConfigLoader(client.asClient()).load('throws', schema, { schemaName: 'Throwing' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecretValidationError);
    expect((err as SecretValidationError).issues).toEqual([{ path: '', problem: expect.stringContaining(`zod schema throw ${thrown}`) }]);
    for (const view of [String(err), JSON.stringify(err), inspect(err, { depth: 10 }), (err as Error).stack ?? '']) {
      expect(view).not.toContain(quoted);
    }
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

  it('fails a read from a client that never answers with a TimeoutError, aborting the request, instead of hanging', async () => {
    let signal: AbortSignal | undefined;
    const silent = {
      send: (_command: unknown, options?: { abortSignal?: AbortSignal }) => {
        signal = options?.abortSignal;
        return new Promise<never>(() => undefined);
      },
    } as unknown as ConstructorParameters<typeof ConfigLoader>[0];
    const err = await new ConfigLoader(silent, { fetchTimeoutMs: 20 }).load('database', DatabaseConfig).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).message).toMatch(/^GetSecretValue: no answer from Secrets Manager within 20 ms/);
    expect(signal?.aborted).toBe(true);
    expect(() => new ConfigLoader(silent, { fetchTimeoutMs: -1 })).toThrow(ConfigError);
  });

  it('refuses an empty name before reading anything (under a prefix it would read the prefix itself)', async () => {
    const client = new FakeSecretsClient();
    client.put('myapp/', { host: 'h', username: 'u', password: PASSWORD });
    const loader = new ConfigLoader(client.asClient(), { prefix: 'myapp' });
    for (const name of ['', '  ', undefined as unknown as string]) {
      await expect(loader.load(name, DatabaseConfig)).rejects.toThrow(new ConfigError('a config name must be a non-empty string'));
    }
    expect(client.count()).toBe(0);
  });

  it('maps Secrets Manager failures to typed errors', async () => {
    const loader = new ConfigLoader(new FakeSecretsClient().asClient());
    await expect(loader.load('absent', DatabaseConfig)).rejects.toBeInstanceOf(SecretNotFoundError);
  });
});

describe('ConfigLoader accepts any Standard Schema validator', () => {
  it('a zod 3 schema (zod/v3): typed by its output, and its issues described without values', async () => {
    const V3Config = z3
      .object({ host: z3.string(), port: z3.number().int().default(5432), mode: z3.enum(['a', 'b']) })
      .describe('V3Config');
    const client = new FakeSecretsClient();
    client.put('ok', { host: 'db', mode: 'a' });
    client.put('bad', { host: PASSWORD.length, mode: PASSWORD, extra: PASSWORD, [PASSWORD]: 1 });
    const loader = new ConfigLoader(client.asClient());
    const config = await loader.load('ok', V3Config);
    const port: number = config.port; // z3.infer's output type, through ~standard.types
    expect(port).toBe(5432);
    const err = await loader.load('bad', z3.strictObject(V3Config.shape).describe('V3Config')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecretValidationError);
    expect((err as SecretValidationError).issues).toEqual([
      { path: 'host', problem: 'expected string, received number' },
      { path: 'mode', problem: 'is not one of the 2 allowed value(s) (invalid_enum_value)' },
      { path: '', problem: 'has 2 unrecognized key(s)' },
    ]);
    expect(inspect(err, { depth: 10 })).not.toContain(PASSWORD);
    expect(String(err)).toContain('V3Config');
  });

  it('a zod 4 mini schema', async () => {
    const Mini = zm.object({ host: zm.string(), port: zm.number() });
    const client = new FakeSecretsClient();
    client.put('mini', { host: 'db', port: 'x' });
    await expect(new ConfigLoader(client.asClient()).load('mini', Mini)).rejects.toThrow('port expected number, received string');
  });

  it('any other Standard Schema, async included: its messages are never shown, only the vendor and the path', async () => {
    const leaky: StandardSchemaV1<unknown, { token: string }> = {
      '~standard': {
        version: 1,
        vendor: 'acme',
        validate: async (value) => {
          const token = (value as { token?: unknown }).token;
          return typeof token === 'string' && token.length > 100
            ? { value: { token } }
            : { issues: [{ message: `bad token ${String(token)}`, path: [{ key: 'token' }] }] };
        },
      },
    };
    const client = new FakeSecretsClient();
    client.put('acme', { token: PASSWORD });
    const err = await new ConfigLoader(client.asClient()).load('acme', leaky).catch((e: unknown) => e);
    expect((err as SecretValidationError).issues).toEqual([{ path: 'token', problem: 'failed acme validation' }]);
    for (const view of [String(err), JSON.stringify(err), inspect(err, { depth: 10 })]) expect(view).not.toContain(PASSWORD);
    client.put('acme-ok', { token: 'x'.repeat(101) });
    const ok: { token: string } = await new ConfigLoader(client.asClient()).load('acme-ok', leaky);
    expect(ok.token).toHaveLength(101);
  });
});
