import { SecretCache } from '../../shared/secret-cache';
import { SecretNotFoundError } from '../../shared/errors';
import { FakeSecretsClient, ManualClock, sdkError, settle } from '../support/secret-cache-fakes';

function setup() {
  const client = new FakeSecretsClient();
  const clock = new ManualClock();
  const cache = new SecretCache({ client: client.asClient(), clock: clock.now, random: () => 0.5 });
  return { client, clock, cache };
}

describe('SecretCache.prefetch', () => {
  it('loads 45 secrets in three BatchGetSecretValue calls of at most 20 ids, then serves them from memory', async () => {
    const { client, cache } = setup();
    const ids = Array.from({ length: 45 }, (_, i) => `app/s${i}`);
    ids.forEach((id) => client.put(id, { id }));
    const report = await cache.prefetch([...ids, ids[0]!]);
    expect(report.failed).toEqual([]);
    expect([...report.loaded].sort()).toEqual([...ids].sort());
    expect(client.calls.map((c) => c.input.SecretIdList.length)).toEqual([20, 20, 5]);
    await Promise.all(ids.map((id) => cache.getSecret(id)));
    expect(client.count()).toBe(3);
    await expect(cache.getSecret('app/s7')).resolves.toEqual({ id: 'app/s7' });
  });

  it('lets concurrent reads join the batch instead of calling GetSecretValue', async () => {
    const { client, cache } = setup();
    client.put('a', 'A');
    client.put('b', 'B');
    client.hold();
    const prefetch = cache.prefetch(['a', 'b']);
    const reads = Promise.all([cache.getSecret('a'), cache.getSecret('b'), cache.getSecret('a')]);
    await settle();
    client.release();
    await expect(reads).resolves.toEqual(['A', 'B', 'A']);
    await prefetch;
    expect(client.calls.map((c) => c.name)).toEqual(['BatchGetSecretValue']);
  });

  it('skips fresh secrets and joins a fetch already in flight', async () => {
    const { client, cache } = setup();
    client.put('fresh', 'F');
    client.put('flying', 'X');
    client.put('new', 'N');
    await cache.getSecret('fresh');
    client.hold();
    const flying = cache.getSecret('flying');
    await settle();
    const prefetch = cache.prefetch(['fresh', 'flying', 'new']);
    await settle();
    client.release();
    await flying;
    const report = await prefetch;
    expect([...report.loaded].sort()).toEqual(['flying', 'fresh', 'new']);
    expect(client.calls.map((c) => [c.name, c.input.SecretIdList ?? c.input.SecretId])).toEqual([
      ['GetSecretValue', 'fresh'],
      ['GetSecretValue', 'flying'],
      ['BatchGetSecretValue', ['new']],
    ]);
  });

  it('reports per-secret errors with their typed error while loading the rest', async () => {
    const { client, cache } = setup();
    client.put('ok', 'fine');
    const report = await cache.prefetch(['ok', 'missing']);
    expect(report.loaded).toEqual(['ok']);
    expect(report.failed).toHaveLength(1);
    expect(report.failed[0]!.secretId).toBe('missing');
    expect(report.failed[0]!.error).toBeInstanceOf(SecretNotFoundError);
    expect(report.failed[0]!.error.secretId).toBe('missing');
    await expect(cache.getSecret('missing')).rejects.toBeInstanceOf(SecretNotFoundError);
    expect(client.count()).toBe(1); // the NotFound is remembered for the back-off
  });

  it('matches secrets requested by full or partial ARN', async () => {
    const { client, cache } = setup();
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db';
    client.send = async (command: any) => {
      client.calls.push({ name: 'BatchGetSecretValue', input: command.input });
      return {
        SecretValues: [
          { Name: 'app/db', ARN: `${arn}-AbCdEf`, SecretString: 'by-partial-arn' },
          { Name: 'app/full', ARN: `${arn}2-XyZ123`, SecretString: 'by-full-arn' },
        ],
      };
    };
    const report = await cache.prefetch([arn, `${arn}2-XyZ123`]);
    expect(report.failed).toEqual([]);
    await expect(cache.getSecret(arn)).resolves.toBe('by-partial-arn');
    await expect(cache.getSecret(`${arn}2-XyZ123`)).resolves.toBe('by-full-arn');
    expect(client.count()).toBe(1);
  });

  it('falls back to GetSecretValue per secret when BatchGetSecretValue is denied', async () => {
    const { client, cache } = setup();
    client.put('a', 'A');
    client.put('b', 'B');
    client.failures.push(sdkError('AccessDeniedException'));
    const report = await cache.prefetch(['a', 'b']);
    expect(report.failed).toEqual([]);
    expect(client.calls.map((c) => c.name)).toEqual(['BatchGetSecretValue', 'GetSecretValue', 'GetSecretValue']);
    await expect(cache.getSecret('b')).resolves.toBe('B');
    expect(client.count()).toBe(3);
  });

  it('reports every secret of a batch that failed as a whole', async () => {
    const { client, cache } = setup();
    client.put('a', 'A');
    client.failures.push(sdkError('ThrottlingException'));
    const report = await cache.prefetch(['a', 'b']);
    expect(report.failed.map((f) => [f.secretId, f.error.code])).toEqual([
      ['a', 'THROTTLED'],
      ['b', 'THROTTLED'],
    ]);
  });
});
