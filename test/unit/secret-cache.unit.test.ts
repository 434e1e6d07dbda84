import { inspect } from 'node:util';
import { SecretCache, type SecretCacheOptions } from '../../shared/secret-cache';
import {
  AccessDeniedError,
  ConfigError,
  SecretNotFoundError,
  ThrottledError,
  TimeoutError,
  ToolkitError,
  TransientError,
} from '../../shared/errors';
import { FakeSecretsClient, ManualClock, sdkError, settle } from '../support/secret-cache-fakes';

const PASSWORD = 'hunter2-Sup3r-S3cret-Value';
const ID = 'app/db';

function setup(options: Omit<SecretCacheOptions, 'client' | 'clock'> = {}) {
  const client = new FakeSecretsClient();
  const clock = new ManualClock();
  const cache = new SecretCache({ random: () => 0.5, ...options, client: client.asClient(), clock: clock.now });
  return { client, clock, cache };
}

describe('SecretCache: single flight', () => {
  it('answers 1000 concurrent misses of one key with one GetSecretValue call', async () => {
    const { client, cache } = setup();
    client.put(ID, { username: 'app', password: PASSWORD });
    client.hold();
    const reads = Array.from({ length: 1000 }, () => cache.getSecret(ID));
    await settle();
    client.release();
    const values = await Promise.all(reads);
    expect(client.count()).toBe(1);
    expect(new Set(values).size).toBe(1);
    expect(values[0]).toEqual({ username: 'app', password: PASSWORD });
    expect(cache.stats()).toMatchObject({ misses: 1000, fetches: 1, hits: 0 });
  });

  it('does not make other keys wait for a slow one', async () => {
    let answerSlow!: (v: unknown) => void;
    const send = jest.fn((command: any) =>
      command.input.SecretId === 'slow'
        ? new Promise((resolve) => (answerSlow = resolve))
        : Promise.resolve({ SecretString: 'fast-value' }),
    );
    const cache = new SecretCache({ client: { send } as any });
    const slow = cache.getSecret('slow');
    await expect(cache.getSecret('fast')).resolves.toBe('fast-value');
    answerSlow({ SecretString: 'slow-value' });
    await expect(slow).resolves.toBe('slow-value');
    expect(send).toHaveBeenCalledTimes(2);
  });

  it('lets a forced refresh join the fetch already in flight', async () => {
    const { client, cache } = setup();
    client.put(ID, 'v1');
    client.hold();
    const miss = cache.getSecret(ID);
    const forced = cache.getSecret(ID, { forceRefresh: true });
    await settle();
    client.release();
    await expect(Promise.all([miss, forced])).resolves.toEqual(['v1', 'v1']);
    expect(client.count()).toBe(1);
  });

  it('shares one call between concurrent forced refreshes of a cached key', async () => {
    const { client, cache } = setup();
    client.put(ID, 'v1');
    await cache.getSecret(ID);
    client.put(ID, 'v2');
    const forced = await Promise.all(Array.from({ length: 20 }, () => cache.getSecret(ID, { forceRefresh: true })));
    expect(forced.every((v) => v === 'v2')).toBe(true);
    expect(client.count()).toBe(2);
  });
});

describe('SecretCache: cache key and values', () => {
  it('keys by version stage and version id, with no stage meaning AWSCURRENT', async () => {
    const { client, cache } = setup();
    client.put(ID, 'current');
    client.put(ID, 'previous-v0', 'AWSPREVIOUS');
    await expect(cache.getSecret(ID)).resolves.toBe('current');
    await expect(cache.getSecret(ID, { versionStage: 'AWSPREVIOUS' })).resolves.toBe('previous-v0');
    await expect(cache.getSecret(ID, { versionStage: 'AWSCURRENT' })).resolves.toBe('current');
    expect(client.count()).toBe(2);
    expect(client.calls[1]!.input).toEqual({ SecretId: ID, VersionStage: 'AWSPREVIOUS' });
    client.store.set(`${ID}|AWSCURRENT`, { SecretString: 'pinned' });
    await cache.getSecret(ID, { versionId: 'v-9' });
    expect(client.calls[2]!.input).toEqual({ SecretId: ID, VersionId: 'v-9' });
  });

  it('deep-freezes JSON objects and returns the same frozen object to every reader', async () => {
    const { client, cache } = setup();
    client.put(ID, { password: PASSWORD, hosts: [{ name: 'a' }] });
    const first = (await cache.getSecret(ID)) as any;
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first.hosts)).toBe(true);
    expect(Object.isFrozen(first.hosts[0])).toBe(true);
    expect(() => {
      first.password = 'changed';
    }).toThrow(TypeError);
    expect(() => first.hosts.push({})).toThrow(TypeError);
    expect(await cache.getSecret(ID)).toBe(first);
    expect(first.password).toBe(PASSWORD);
  });

  it('returns non-JSON strings, numeric strings and broken JSON exactly as stored', async () => {
    const { client, cache } = setup();
    client.put('pin', '0042');
    client.put('num', '12345');
    client.put('broken', '{"password": "x"');
    client.put('quoted', '"text"');
    await expect(cache.getSecret('pin')).resolves.toBe('0042');
    await expect(cache.getSecret('num')).resolves.toBe('12345');
    await expect(cache.getSecret('broken')).resolves.toBe('{"password": "x"');
    await expect(cache.getSecret('quoted')).resolves.toBe('"text"');
  });

  it('round-trips SecretBinary byte for byte, as a copy the caller cannot use to alter the cache', async () => {
    const { client, cache } = setup();
    const bytes = Uint8Array.from({ length: 512 }, (_, i) => (i * 7) % 256);
    const pooled = new Uint8Array(1024);
    pooled.set(bytes, 100);
    client.put(ID, pooled.subarray(100, 612));
    const first = (await cache.getSecret(ID)) as Uint8Array;
    expect(first).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(first).equals(Buffer.from(bytes))).toBe(true);
    first.fill(0);
    const second = (await cache.getSecret(ID)) as Uint8Array;
    expect(Buffer.from(second).equals(Buffer.from(bytes))).toBe(true);
    expect(client.count()).toBe(1);
    expect(cache.stats().bytes).toBe(512);
  });
});

describe('SecretCache: freshness', () => {
  it('serves fresh values from memory', async () => {
    const { client, clock, cache } = setup();
    client.put(ID, 'v1');
    await cache.getSecret(ID);
    clock.advance(239);
    await cache.getSecret(ID);
    expect(client.count()).toBe(1);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1, staleServed: 0 });
  });

  it('inside the refresh window serves the cached value at once and starts exactly one refresh', async () => {
    const { client, clock, cache } = setup();
    client.put(ID, 'v1');
    await cache.getSecret(ID);
    client.put(ID, 'v2');
    clock.advance(250);
    client.hold();
    const during = await Promise.all(Array.from({ length: 50 }, () => cache.getSecret(ID)));
    expect(during.every((v) => v === 'v1')).toBe(true);
    expect(client.count()).toBe(2);
    client.release();
    await settle();
    await expect(cache.getSecret(ID)).resolves.toBe('v2');
    expect(client.count()).toBe(2);
    expect(cache.stats().staleServed).toBe(50);
  });

  it('after the hard expiry makes callers wait for the new value', async () => {
    const { client, clock, cache } = setup();
    client.put(ID, 'v1');
    await cache.getSecret(ID);
    client.put(ID, 'v2');
    clock.advance(301);
    client.hold();
    let settled = false;
    const read = cache.getSecret(ID).then((v) => {
      settled = true;
      return v;
    });
    await settle();
    expect(settled).toBe(false);
    client.release();
    await expect(read).resolves.toBe('v2');
  });

  it('honours a custom TTL and refresh window, and rejects a window longer than the TTL', async () => {
    const { client, clock, cache } = setup({ ttlSeconds: 10, refreshBeforeExpirySeconds: 2 });
    client.put(ID, 'v1');
    await cache.getSecret(ID);
    clock.advance(7.9);
    await cache.getSecret(ID);
    expect(client.count()).toBe(1);
    clock.advance(0.2);
    await cache.getSecret(ID);
    expect(client.count()).toBe(2);
    expect(() => new SecretCache({ ttlSeconds: 10, refreshBeforeExpirySeconds: 11 })).toThrow(ConfigError);
    expect(() => new SecretCache({ maxEntries: 0 })).toThrow(ConfigError);
  });
});

describe('SecretCache: errors', () => {
  it('serves the old value when a background refresh is throttled, and backs off before retrying', async () => {
    const { client, clock, cache } = setup();
    client.put(ID, 'v1');
    await cache.getSecret(ID);
    clock.advance(250);
    client.failures.push(sdkError('ThrottlingException'));
    await expect(cache.getSecret(ID)).resolves.toBe('v1');
    await settle();
    expect(client.count()).toBe(2);
    // random 0.5 x base 1 s: no new attempt for 500 ms, whatever the callers do.
    clock.advance(0.4);
    await expect(cache.getSecret(ID)).resolves.toBe('v1');
    expect(client.count()).toBe(2);
    clock.advance(0.2);
    await expect(cache.getSecret(ID)).resolves.toBe('v1');
    await settle();
    expect(client.count()).toBe(3);
    expect(cache.stats().errors).toBe(1);
  });

  it('grows the back-off exponentially with repeated failures, within the cap', async () => {
    const { client, clock, cache } = setup({ backoff: { baseMs: 1000, maxMs: 3000 }, random: () => 0.999 });
    client.put(ID, 'v1');
    await cache.getSecret(ID);
    clock.advance(250);
    const attemptsAt: number[] = [];
    for (let ms = 0; ms <= 12_000; ms += 100) {
      if (client.failures.length === 0) client.failures.push(sdkError('InternalServiceError', 500));
      const before = client.count();
      await expect(cache.getSecret(ID)).resolves.toBe('v1');
      await settle();
      if (client.count() > before) attemptsAt.push(ms);
      clock.advance(0.1);
    }
    const gaps = attemptsAt.slice(1).map((t, i) => t - attemptsAt[i]!);
    // ~1 s, ~2 s, then capped at ~3 s.
    expect(gaps.slice(0, 4)).toEqual([1000, 2000, 3000, 3000]);
  });

  it('after the hard expiry serves stale through transient errors up to maxStaleSeconds, then fails', async () => {
    const { client, clock, cache } = setup({ maxStaleSeconds: 100 });
    client.put(ID, 'v1');
    await cache.getSecret(ID);
    clock.advance(301);
    client.failures.push(sdkError('ServiceUnavailable', 503));
    await expect(cache.getSecret(ID)).resolves.toBe('v1');
    expect(cache.stats().staleServed).toBe(1);
    clock.advance(50);
    client.failures.push(sdkError('ThrottlingException'));
    await expect(cache.getSecret(ID)).resolves.toBe('v1');
    await settle();
    clock.advance(60); // 411 s old: beyond ttl + maxStale
    client.failures.push(sdkError('ThrottlingException'));
    await expect(cache.getSecret(ID)).rejects.toBeInstanceOf(ThrottledError);
  });

  it('serves stale through a credential provider failure (an instance or container credential endpoint briefly down)', async () => {
    const { client, clock, cache } = setup({ maxStaleSeconds: 100 });
    client.put(ID, 'v1');
    await cache.getSecret(ID);
    clock.advance(301);
    client.failures.push(sdkError('CredentialsProviderError'));
    await expect(cache.getSecret(ID)).resolves.toBe('v1');
    expect(cache.stats().staleServed).toBe(1);
  });

  it('does not serve a stale value once access is denied, and remembers the error for the back-off', async () => {
    const { client, clock, cache } = setup();
    client.put(ID, { password: PASSWORD });
    await cache.getSecret(ID);
    clock.advance(301);
    client.failures.push(sdkError('AccessDeniedException'));
    await expect(cache.getSecret(ID)).rejects.toBeInstanceOf(AccessDeniedError);
    const calls = client.count();
    await expect(cache.getSecret(ID)).rejects.toBeInstanceOf(AccessDeniedError);
    expect(client.count()).toBe(calls);
    await expect(cache.getSecret(ID, { forceRefresh: true })).resolves.toEqual({ password: PASSWORD });
  });

  it('drops the value when a background refresh finds the secret deleted', async () => {
    const { client, clock, cache } = setup();
    client.put(ID, 'v1');
    await cache.getSecret(ID);
    clock.advance(250);
    client.store.clear();
    await expect(cache.getSecret(ID)).resolves.toBe('v1');
    await settle();
    clock.advance(5);
    const err = await cache.getSecret(ID).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecretNotFoundError);
    expect((err as SecretNotFoundError).secretId).toBe(ID);
  });

  it('treats a DecryptionFailure as a revocation', async () => {
    const { client, clock, cache } = setup();
    client.put(ID, 'v1');
    await cache.getSecret(ID);
    clock.advance(301);
    client.failures.push(sdkError('DecryptionFailure'));
    await expect(cache.getSecret(ID)).rejects.toBeInstanceOf(AccessDeniedError);
  });

  it('fails a fetch that never answers with a TimeoutError, through an unref-ed timer', async () => {
    const timers: NodeJS.Timeout[] = [];
    const realSetTimeout = global.setTimeout;
    const spy = jest.spyOn(global, 'setTimeout').mockImplementation(((fn: () => void, ms?: number) => {
      const t = realSetTimeout(fn, ms);
      timers.push(t);
      return t;
    }) as typeof setTimeout);
    try {
      const cache = new SecretCache({ client: { send: () => new Promise(() => undefined) } as any, fetchTimeoutMs: 20 });
      await expect(cache.getSecret(ID)).rejects.toBeInstanceOf(TimeoutError);
      expect(timers.length).toBeGreaterThan(0);
      expect(timers.every((t) => !t.hasRef())).toBe(true);
    } finally {
      spy.mockRestore();
    }
  });

  it('is built without a region and reports the missing region as a typed error at the first read', async () => {
    const saved = { ...process.env };
    for (const name of [
      'AWS_REGION',
      'AWS_DEFAULT_REGION',
      'ENVIRONMENT',
      'SECRETS_MANAGER_ENDPOINT',
      'AWS_ENDPOINT_URL_SECRETS_MANAGER',
      'AWS_ENDPOINT_URL',
    ]) {
      delete process.env[name];
    }
    try {
      const cache = new SecretCache();
      await expect(cache.getSecret(ID)).rejects.toBeInstanceOf(ConfigError);
    } finally {
      process.env = saved;
    }
  });
});

describe('SecretCache: memory bounds and invalidation', () => {
  it('evicts the least recently read entry beyond maxEntries', async () => {
    const { client, cache } = setup({ maxEntries: 2 });
    for (const id of ['a', 'b', 'c']) client.put(id, id);
    await cache.getSecret('a');
    await cache.getSecret('b');
    await cache.getSecret('a');
    await cache.getSecret('c');
    expect(cache.stats()).toMatchObject({ entries: 2, evictions: 1 });
    const calls = client.count();
    await cache.getSecret('a');
    expect(client.count()).toBe(calls);
    await cache.getSecret('b');
    expect(client.count()).toBe(calls + 1);
  });

  it('evicts by UTF-8 bytes beyond maxBytes and does not keep a value larger than the bound', async () => {
    const { client, cache } = setup({ maxBytes: 10 });
    client.put('a', 'éé'); // 4 bytes
    client.put('b', 'bbbb');
    client.put('c', 'cccc');
    client.put('huge', 'x'.repeat(11));
    await cache.getSecret('a');
    await cache.getSecret('b');
    expect(cache.stats().bytes).toBe(8);
    await cache.getSecret('c');
    expect(cache.stats()).toMatchObject({ bytes: 8, entries: 2, evictions: 1 });
    await expect(cache.getSecret('huge')).resolves.toBe('x'.repeat(11));
    expect(cache.stats().bytes).toBe(8);
    const calls = client.count();
    await cache.getSecret('a');
    expect(client.count()).toBe(calls + 1);
  });

  it('invalidates every stage of one secret, or everything', async () => {
    const { client, cache } = setup();
    client.put(ID, 'cur');
    client.put(ID, 'prev', 'AWSPREVIOUS');
    client.put('other', 'o');
    await cache.getSecret(ID);
    await cache.getSecret(ID, { versionStage: 'AWSPREVIOUS' });
    await cache.getSecret('other');
    cache.invalidate(ID);
    expect(cache.stats()).toMatchObject({ entries: 1, bytes: 1 });
    cache.invalidate();
    expect(cache.stats()).toMatchObject({ entries: 0, bytes: 0 });
  });

  it('does not store a value fetched before an invalidation', async () => {
    const { client, cache } = setup();
    client.put(ID, 'old');
    client.hold();
    const read = cache.getSecret(ID);
    await settle();
    cache.invalidate(ID);
    client.put(ID, 'new');
    client.release();
    await expect(read).resolves.toBe('new'); // the fake answers at release time
    client.put(ID, 'newer');
    await expect(cache.getSecret(ID)).resolves.toBe('newer');
  });
});

describe('SecretCache: never shows a value', () => {
  it('keeps values out of inspect, JSON, toString and every error', async () => {
    const { client, clock, cache } = setup();
    client.put(ID, { username: 'app', password: PASSWORD });
    client.put('plain', PASSWORD);
    await cache.getSecret(ID);
    await cache.getSecret('plain');
    const views = [inspect(cache, { depth: 10, showHidden: true }), JSON.stringify(cache), String(cache)];
    for (const view of views) expect(view).not.toContain(PASSWORD);

    clock.advance(301);
    // An SDK error whose message echoes the value, as a misbehaving proxy might.
    client.failures.push(sdkError('AccessDeniedException', 403, `denied for ${PASSWORD}`));
    const err = await cache.getSecret(ID).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ToolkitError);
    const rendered = [String(err), (err as Error).stack ?? '', JSON.stringify(err), inspect(err, { depth: 10 })];
    for (const text of rendered) expect(text).not.toContain(PASSWORD);
    expect((err as ToolkitError).secretId).toBe(ID);
  });
});

describe('a reader with no AWS credentials anywhere', () => {
  it('fails with one retryable error saying where credentials come from, before any request', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the SDK client, loaded only here
    const { SecretsManagerClient } = require('@aws-sdk/client-secrets-manager') as typeof import('@aws-sdk/client-secrets-manager');
    const noCredentials = async (): Promise<never> => {
      throw Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
    };
    // Port 9 (discard) on loopback: nothing is sent, signing fails first.
    const client = new SecretsManagerClient({
      region: 'eu-west-1',
      endpoint: 'http://127.0.0.1:9',
      credentials: noCredentials,
      maxAttempts: 1,
    });
    try {
      const err = await new SecretCache({ client }).getSecret('prod/app/db').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TransientError);
      expect((err as ToolkitError).message).toMatch(/^GetSecretValue: no AWS credentials could be loaded; .*instance profile/);
      expect((err as ToolkitError).message.split('\n')).toHaveLength(1);
    } finally {
      client.destroy();
    }
  });
});
