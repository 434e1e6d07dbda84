/**
 * The credentials of a rotation-aware pool, without a database: which value new connections use
 * before, during and after a rotation, that refused logins share one probe, that an AWSCURRENT re-read
 * during a probe does not switch back to a refused value, and what counts as a retired account.
 */
import { AccessDeniedError } from '../../shared/errors';
import { PoolCredentials } from '../../shared/pools/pool-credentials';
import { SecretCache } from '../../shared/secret-cache';
import { FakeSecretsClient, sdkError } from '../support/secret-cache-fakes';

const ID = 'appside/app-db';

function secret(username: string, password: string): Record<string, unknown> {
  return { engine: 'postgres', host: '127.0.0.1', port: 5432, username, password, dbname: 'app' };
}

function setup(accepted: Set<string>) {
  const client = new FakeSecretsClient();
  const cache = new SecretCache({ client: client.asClient(), random: () => 0.5 });
  const trials: string[] = [];
  const credentials = new PoolCredentials({
    cache,
    secretId: ID,
    family: 'postgres',
    probeLogin: async (s) => {
      trials.push(s.password);
      await new Promise((resolve) => setImmediate(resolve));
      if (!accepted.has(`${s.username}/${s.password}`)) throw Object.assign(new Error('refused'), { code: '28P01' });
    },
  });
  return { client, cache, credentials, trials };
}

describe('PoolCredentials', () => {
  it('logs in again after a refusal, and again only when other credentials were refused the second time (at most twice)', () => {
    const { credentials } = setup(new Set());
    const login = (password: string) => ({
      secret: {} as never,
      value: JSON.stringify(secret('app', password)),
      account: 'app@127.0.0.1:5432/app',
    });
    const a = login('a');
    const b = login('b');
    const c = login('c');
    expect(credentials.shouldRetry(a, undefined, 1)).toBe(true);
    // A rotation step landed between the probe and the retry: the retry was refused with new credentials.
    expect(credentials.shouldRetry(b, a, 2)).toBe(true);
    // Refused twice with the same credentials: the probe found nothing better, so stop.
    expect(credentials.shouldRetry(a, a, 2)).toBe(false);
    expect(credentials.shouldRetry(c, b, 3)).toBe(false);
  });

  it('uses AWSPENDING once AWSCURRENT is refused, until AWSCURRENT changes', async () => {
    const db = new Set(['app/old-pw']);
    const { client, credentials, trials } = setup(db);
    client.put(ID, secret('app', 'old-pw'));
    const before = await credentials.refresh();
    expect(before.secret.password).toBe('old-pw');

    // setSecret: the database takes the new password, which only AWSPENDING holds.
    client.put(ID, secret('app', 'new-pw'), 'AWSPENDING');
    db.clear();
    db.add('app/new-pw');
    await credentials.recover(before);
    expect(trials).toEqual(['new-pw']);
    expect((await credentials.refresh()).secret.password).toBe('new-pw');

    // finishSecret, and the cache re-reads AWSCURRENT: the override ends, the value is the same.
    client.put(ID, secret('app', 'new-pw'));
    await credentials.refresh();
    const after = await credentials.recover(before).then(() => credentials.snapshot()!);
    expect(after.secret.password).toBe('new-pw');
    expect(credentials.stats().probes).toBe(1);
  });

  it('refused logins arriving together share one probe; a late one does not probe again', async () => {
    const db = new Set(['app/new-pw']);
    const { client, credentials, trials } = setup(db);
    client.put(ID, secret('app', 'old-pw'));
    const stale = await credentials.refresh();
    client.put(ID, secret('app', 'new-pw'));
    await Promise.all(Array.from({ length: 8 }, () => credentials.recover(stale)));
    await credentials.recover(stale);
    expect(trials).toEqual(['new-pw']);
    expect(credentials.stats().probes).toBe(1);
    expect(credentials.snapshot()!.secret.password).toBe('new-pw');
  });

  it('does not switch back to a refused AWSCURRENT that a concurrent read picks up during the probe', async () => {
    const db = new Set(['app/old-pw']);
    const { client, cache, credentials } = setup(db);
    client.put(ID, secret('app', 'old-pw'));
    const first = await credentials.refresh();
    // Rotation 1 under way: the pool moves to AWSPENDING while the cache still holds the old AWSCURRENT.
    client.put(ID, secret('app', 'pw-1'), 'AWSPENDING');
    db.clear();
    db.add('app/pw-1');
    await credentials.recover(first);
    const onPending = credentials.snapshot()!;
    // Rotation 1 finishes, rotation 2 sets pw-2; a login with pw-1 is refused and a probe starts.
    client.put(ID, secret('app', 'pw-1'));
    client.put(ID, secret('app', 'pw-2'), 'AWSPENDING');
    db.clear();
    db.add('app/pw-2');
    const probe = credentials.recover(onPending);
    // Another checkout reads AWSCURRENT (pw-1, just force-refreshed by the probe) before the probe ends:
    // the same refused value, re-read into a new object.
    await cache.getSecret(ID, { forceRefresh: true });
    await credentials.refresh();
    // A waiter refused with pw-1 arriving now must wait for the probe, not retry with pw-1 at once.
    await credentials.recover(onPending);
    expect(credentials.snapshot()!.secret.password).toBe('pw-2');
    await probe;
    expect((await credentials.refresh()).secret.password).toBe('pw-2');
    expect(credentials.stats().probes).toBe(2);
  });

  it('keeps the known credentials through a Secrets Manager outage, but not through AccessDenied', async () => {
    const { client, cache, credentials } = setup(new Set());
    client.put(ID, secret('app', 'pw'));
    await credentials.refresh();
    client.failures.push(sdkError('InternalServiceError', 500));
    await cache.getSecret(ID, { forceRefresh: true }).catch(() => undefined);
    expect((await credentials.refresh()).secret.password).toBe('pw');

    const denied = setup(new Set());
    denied.client.put(ID, secret('app', 'pw'));
    await denied.credentials.refresh();
    denied.client.failures.push(sdkError('AccessDeniedException', 400));
    await denied.cache.getSecret(ID, { forceRefresh: true }).catch(() => undefined);
    await expect(denied.credentials.refresh()).rejects.toBeInstanceOf(AccessDeniedError);
  });

  it('retires a login when the user (or host, port, database) changes, not when only the password does', async () => {
    const { client, cache, credentials } = setup(new Set());
    client.put(ID, secret('app', 'pw-1'));
    const first = await credentials.refresh();
    client.put(ID, secret('app', 'pw-2'));
    await cache.getSecret(ID, { forceRefresh: true });
    await credentials.refresh();
    expect(credentials.isRetired(first)).toBe(false);
    client.put(ID, secret('app_clone', 'pw-3'));
    await cache.getSecret(ID, { forceRefresh: true });
    await credentials.refresh();
    expect(credentials.isRetired(first)).toBe(true);
  });
});
