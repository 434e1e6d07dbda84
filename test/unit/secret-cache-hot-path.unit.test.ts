/**
 * The cache's hit path (the default AWSCURRENT read answered without building a key or reordering the
 * LRU when the entry is already the most recent) keeps every guarantee of the general path.
 */
import { SecretCache, type SecretCacheOptions } from '../../shared/secret-cache';
import { ConfigError } from '../../shared/errors';
import { FakeSecretsClient, ManualClock, sdkError, settle } from '../support/secret-cache-fakes';

const PASSWORD = 'hot-path-Pa55word-Value';

function setup(options: Omit<SecretCacheOptions, 'client' | 'clock'> = {}) {
  const client = new FakeSecretsClient();
  const clock = new ManualClock();
  const cache = new SecretCache({ random: () => 0.5, ...options, client: client.asClient(), clock: clock.now });
  return { client, clock, cache };
}

describe('SecretCache hit path', () => {
  it('counts every hit and serves the same frozen value without calling Secrets Manager', async () => {
    const { client, cache } = setup();
    client.put('app/db', { username: 'app', password: PASSWORD });
    const first = await cache.getSecret('app/db');
    for (let i = 0; i < 5; i++) expect(await cache.getSecret('app/db')).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(client.count()).toBe(1);
    expect(cache.stats()).toMatchObject({ hits: 5, misses: 1, staleServed: 0, fetches: 1 });
  });

  it('shares one entry between getSecret(id) and an explicit AWSCURRENT stage', async () => {
    const { client, cache } = setup();
    client.put('app/db', 'current-value');
    await cache.getSecret('app/db', { versionStage: 'AWSCURRENT' });
    await expect(cache.getSecret('app/db')).resolves.toBe('current-value');
    await expect(cache.getSecret('app/db', {})).resolves.toBe('current-value');
    expect(client.count()).toBe(1);
    expect(cache.stats().entries).toBe(1);
  });

  it('keeps AWSPENDING and version reads apart from the AWSCURRENT entry of the same id', async () => {
    const { client, cache } = setup();
    client.put('app/db', 'current-value');
    client.put('app/db', 'pending-value', 'AWSPENDING');
    await expect(cache.getSecret('app/db', { versionStage: 'AWSPENDING' })).resolves.toBe('pending-value');
    await expect(cache.getSecret('app/db')).resolves.toBe('current-value');
    await expect(cache.getSecret('app/db', { versionStage: 'AWSPENDING' })).resolves.toBe('pending-value');
    expect(cache.stats().entries).toBe(2);
    expect(client.count()).toBe(2);
  });

  it('still rejects (not throws) an invalid id, even one shaped like the key of a cached read', async () => {
    const { client, cache } = setup();
    client.put('app/db', 'pending-value', 'AWSPENDING');
    await cache.getSecret('app/db', { versionStage: 'AWSPENDING' });
    const read = cache.getSecret('');
    expect(read).toBeInstanceOf(Promise);
    await expect(read).rejects.toBeInstanceOf(ConfigError);
    await expect(cache.getSecret('app/db\u0000AWSPENDING\u0000')).rejects.toBeInstanceOf(ConfigError);
    expect(cache.stats().hits).toBe(0);
  });

  it('hands every reader of a binary secret its own copy', async () => {
    const { client, cache } = setup();
    client.put('bin', new Uint8Array([1, 2, 3]));
    const a = (await cache.getSecret('bin')) as Uint8Array;
    a[0] = 99;
    const b = (await cache.getSecret('bin')) as Uint8Array;
    expect([...b]).toEqual([1, 2, 3]);
    expect(cache.stats().hits).toBe(1);
  });

  it('leaves the hit path in the refresh window: one background refresh, stale counted', async () => {
    const { client, clock, cache } = setup({ ttlSeconds: 300 });
    client.put('app/db', 'v1');
    await cache.getSecret('app/db');
    clock.advance(241);
    client.put('app/db', 'v2');
    await expect(cache.getSecret('app/db')).resolves.toBe('v1');
    await expect(cache.getSecret('app/db')).resolves.toBe('v1');
    await settle();
    expect(client.count()).toBe(2);
    expect(cache.stats()).toMatchObject({ hits: 2, staleServed: 2 });
    await expect(cache.getSecret('app/db')).resolves.toBe('v2');
    expect(cache.stats().staleServed).toBe(2);
  });

  it('stops serving a value once a non-retryable failure drops it', async () => {
    const { client, clock, cache } = setup({ ttlSeconds: 300 });
    client.put('app/db', 'v1');
    await cache.getSecret('app/db');
    clock.advance(301);
    client.failures.push(sdkError('AccessDeniedException'));
    await expect(cache.getSecret('app/db')).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
    // Within the back-off the remembered error is served, never the dropped value.
    await expect(cache.getSecret('app/db')).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
    expect(cache.stats().hits).toBe(0);
  });

  it('forgets an invalidated entry on the hit path too', async () => {
    const { client, cache } = setup();
    client.put('app/db', 'v1');
    await cache.getSecret('app/db');
    client.put('app/db', 'v2');
    cache.invalidate('app/db');
    await expect(cache.getSecret('app/db')).resolves.toBe('v2');
    expect(client.count()).toBe(2);
  });

  describe('LRU order with repeated reads of the most recent entry', () => {
    it('evicts the entry read least recently, not the one inserted first', async () => {
      const { client, cache } = setup({ maxEntries: 3 });
      for (const id of ['a', 'b', 'c', 'd']) client.put(id, id);
      await cache.getSecret('a');
      await cache.getSecret('b');
      await cache.getSecret('c');
      // c is already the most recent: these reads must not disturb the order a, b, c.
      await cache.getSecret('c');
      await cache.getSecret('c');
      // Promote a on the hit path: the order becomes b, c, a.
      await cache.getSecret('a');
      await cache.getSecret('a');
      await cache.getSecret('d');
      expect(cache.stats()).toMatchObject({ entries: 3, evictions: 1 });
      const calls = client.count();
      await cache.getSecret('a');
      await cache.getSecret('c');
      await cache.getSecret('d');
      expect(client.count()).toBe(calls);
      await cache.getSecret('b');
      expect(client.count()).toBe(calls + 1);
    });

    it('reorders correctly after the most recent entry was evicted or invalidated', async () => {
      const { client, cache } = setup({ maxEntries: 2 });
      for (const id of ['a', 'b', 'c']) client.put(id, id);
      await cache.getSecret('a');
      await cache.getSecret('b');
      cache.invalidate('b');
      await cache.getSecret('c');
      // Order a, c; reading a promotes it, so c is now the least recent.
      await cache.getSecret('a');
      await cache.getSecret('b');
      expect(cache.stats()).toMatchObject({ entries: 2, evictions: 1 });
      const calls = client.count();
      await cache.getSecret('a');
      await cache.getSecret('b');
      expect(client.count()).toBe(calls);
      await cache.getSecret('c');
      expect(client.count()).toBe(calls + 1);
    });
  });
});
