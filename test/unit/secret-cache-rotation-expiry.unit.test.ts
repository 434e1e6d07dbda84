/**
 * `expireAtNextRotation`: an AWSCURRENT value expires at the secret's NextRotationDate (from one
 * DescribeSecret beside each fetch) when that comes before its TTL, and the TTL rules otherwise.
 * Driven through a real SecretsManagerClient mocked with aws-sdk-client-mock.
 */
import {
  BatchGetSecretValueCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { SecretCache } from '../../shared/secret-cache';
import { ManualClock } from '../support/secret-cache-fakes';

const ID = 'appside/app-db';
const WALL_START = Date.UTC(2026, 0, 1, 12, 0, 0);

const sm = mockClient(SecretsManagerClient);

function setup(options: { ttlSeconds?: number; expireAtNextRotation?: boolean } = {}) {
  const clock = new ManualClock();
  const start = clock.now();
  // Wall and monotonic time move together, as they do in a process.
  const wallClock = (): number => WALL_START + (clock.now() - start);
  const client = new SecretsManagerClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  const cache = new SecretCache({
    client,
    clock: clock.now,
    wallClock,
    random: () => 0.5,
    ttlSeconds: options.ttlSeconds ?? 3600,
    expireAtNextRotation: options.expireAtNextRotation ?? true,
  });
  return { clock, cache };
}

function rotationIn(seconds: number): Date {
  return new Date(WALL_START + seconds * 1000);
}

beforeEach(() => {
  sm.reset();
  sm.on(GetSecretValueCommand).resolvesOnce({ SecretString: 'before-rotation' }).resolves({ SecretString: 'after-rotation' });
});

describe('SecretCache expireAtNextRotation', () => {
  it('expires the value at NextRotationDate when that comes before the TTL', async () => {
    const { clock, cache } = setup();
    sm.on(DescribeSecretCommand).resolves({ RotationEnabled: true, NextRotationDate: rotationIn(600) });

    await expect(cache.getSecret(ID)).resolves.toBe('before-rotation');
    clock.advance(599);
    await expect(cache.getSecret(ID)).resolves.toBe('before-rotation');
    clock.advance(1);
    // Past the rotation date: callers wait for a new fetch (not served from memory), though the TTL is an hour.
    await expect(cache.getSecret(ID)).resolves.toBe('after-rotation');
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    expect(sm.commandCalls(DescribeSecretCommand)).toHaveLength(2);
    expect(cache.stats()).toMatchObject({ fetches: 2, describes: 2 });
  });

  it('keeps the TTL when the rotation date is after it, in the past, or absent (rotation off)', async () => {
    for (const describe of [
      { RotationEnabled: true, NextRotationDate: rotationIn(7200) },
      { RotationEnabled: true, NextRotationDate: rotationIn(-60) },
      { RotationEnabled: false },
      {},
    ]) {
      sm.reset();
      sm.on(GetSecretValueCommand).resolvesOnce({ SecretString: 'before-rotation' }).resolves({ SecretString: 'after-rotation' });
      sm.on(DescribeSecretCommand).resolves(describe);
      const { clock, cache } = setup();
      await cache.getSecret(ID);
      clock.advance(3500);
      await expect(cache.getSecret(ID)).resolves.toBe('before-rotation');
      expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    }
  });

  it('makes no DescribeSecret call without the option, nor for AWSPENDING or a version id', async () => {
    const plain = setup({ expireAtNextRotation: false });
    sm.on(DescribeSecretCommand).resolves({ NextRotationDate: rotationIn(10) });
    await plain.cache.getSecret(ID);
    expect(sm.commandCalls(DescribeSecretCommand)).toHaveLength(0);
    expect(plain.cache.stats().describes).toBe(0);

    const aware = setup();
    await aware.cache.getSecret(ID, { versionStage: 'AWSPENDING' });
    await aware.cache.getSecret(ID, { versionId: 'v-1' });
    expect(sm.commandCalls(DescribeSecretCommand)).toHaveLength(0);
  });

  it('falls back to the TTL when DescribeSecret fails, and stops asking after AccessDenied', async () => {
    const { clock, cache } = setup({ ttlSeconds: 60 });
    const denied = Object.assign(new Error('not allowed'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });
    sm.on(DescribeSecretCommand).rejects(denied);

    await expect(cache.getSecret(ID)).resolves.toBe('before-rotation');
    clock.advance(61);
    await expect(cache.getSecret(ID)).resolves.toBe('after-rotation');
    expect(sm.commandCalls(DescribeSecretCommand)).toHaveLength(1);
  });

  it('asks for the rotation date of each secret a prefetch batch loads', async () => {
    const { clock, cache } = setup();
    sm.on(BatchGetSecretValueCommand).resolves({
      SecretValues: [
        { Name: 'a', SecretString: 'a-before' },
        { Name: 'b', SecretString: 'b-before' },
      ],
    });
    sm.on(DescribeSecretCommand, { SecretId: 'a' }).resolves({ NextRotationDate: rotationIn(30) });
    sm.on(DescribeSecretCommand, { SecretId: 'b' }).resolves({});
    sm.on(GetSecretValueCommand).resolves({ SecretString: 'a-after' });

    const report = await cache.prefetch(['a', 'b']);
    expect(report.failed).toEqual([]);
    expect(sm.commandCalls(DescribeSecretCommand)).toHaveLength(2);
    clock.advance(31);
    await expect(cache.getSecret('a')).resolves.toBe('a-after');
    await expect(cache.getSecret('b')).resolves.toBe('b-before');
  });

  it('serves the value through a Secrets Manager outage after the rotation date, within maxStaleSeconds', async () => {
    const { clock, cache } = setup();
    sm.on(DescribeSecretCommand).resolves({ NextRotationDate: rotationIn(100) });
    await cache.getSecret(ID);
    sm.on(GetSecretValueCommand).rejects(
      Object.assign(new Error('down'), { name: 'InternalServiceError', $metadata: { httpStatusCode: 500 } }),
    );
    clock.advance(101);
    await expect(cache.getSecret(ID)).resolves.toBe('before-rotation');
  });
});
