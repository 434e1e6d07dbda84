/**
 * Conformance [embedded]: the concurrency storm and the version limit. AWS throttles and keeps
 * versions younger than 24 hours, so neither holds there as it does here.
 */
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { secretValue, startEmbedded, token, type Target } from '../support/conformance-harness';

let t: Target;
beforeAll(async () => {
  t = await startEmbedded();
});
afterAll(() => t.close());

test('[embedded] concurrency storm: 200 parallel PutSecretValue/UpdateSecretVersionStage calls leave one AWSCURRENT, one AWSPREVIOUS and a consistent version map', async () => {
  const name = t.name('storm');
  const created = await t.client.send(new CreateSecretCommand({ Name: name, SecretString: secretValue() }));
  const seed: string[] = [created.VersionId!];
  await t.client.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'SEED', MoveToVersionId: created.VersionId }));
  // Seeds keep a label of their own, so the version limit never drops a version a mover targets.
  for (let i = 0; i < 4; i++) {
    const put = new PutSecretValueCommand({ SecretId: name, SecretString: `seed-${i}`, VersionStages: [`SEED${i}`] });
    seed.push((await t.client.send(put)).VersionId!);
  }
  const values = new Map<string, string>();
  const calls = Array.from({ length: 200 }, (_, i) => {
    if (i % 2 === 0) {
      const versionId = token();
      const value = `storm-${i}`;
      values.set(versionId, value);
      return t.client.send(new PutSecretValueCommand({ SecretId: name, SecretString: value, ClientRequestToken: versionId }));
    }
    // Each mover reads the holder then moves: racing movers may find the label gone, as on AWS.
    return (async () => {
      const current = await t.client.send(new GetSecretValueCommand({ SecretId: name }));
      return t.client.send(
        new UpdateSecretVersionStageCommand({
          SecretId: name,
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: seed[i % seed.length],
          RemoveFromVersionId: current.VersionId,
        }),
      );
    })();
  });
  const results = await Promise.allSettled(calls);
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => (r.reason as Error).name);
  expect(new Set(failures)).toEqual(failures.length ? new Set(['InvalidParameterException']) : new Set());
  expect(results.filter((r, i) => i % 2 === 0 && r.status === 'fulfilled')).toHaveLength(100);

  const map = (await t.client.send(new DescribeSecretCommand({ SecretId: name }))).VersionIdsToStages ?? {};
  const holders = (stage: string): string[] =>
    Object.entries(map)
      .filter(([, s]) => s.includes(stage))
      .map(([id]) => id);
  expect(holders('AWSCURRENT')).toHaveLength(1);
  expect(holders('AWSPREVIOUS')).toHaveLength(1);
  expect(holders('AWSPREVIOUS')[0]).not.toBe(holders('AWSCURRENT')[0]);
  for (const labels of Object.values(map)) expect(new Set(labels).size).toBe(labels.length);

  const listed = await t.client.send(new ListSecretVersionIdsCommand({ SecretId: name }));
  const fromList = Object.fromEntries((listed.Versions ?? []).map((v) => [v.VersionId!, v.VersionStages ?? []]));
  expect(fromList).toEqual(map);
  const current = await t.client.send(new GetSecretValueCommand({ SecretId: name }));
  expect(current.VersionId).toBe(holders('AWSCURRENT')[0]);
  if (values.has(current.VersionId!)) expect(current.SecretString).toBe(values.get(current.VersionId!));
});

test('[embedded] deprecated versions past the 100-version limit are dropped, oldest first; labelled ones stay', async () => {
  const name = t.name('version-limit');
  const created = await t.client.send(new CreateSecretCommand({ Name: name, SecretString: 'v-0' }));
  const ids = [created.VersionId!];
  for (let i = 1; i <= 105; i++) {
    ids.push((await t.client.send(new PutSecretValueCommand({ SecretId: name, SecretString: `v-${i}` }))).VersionId!);
  }
  const all: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await t.client.send(new ListSecretVersionIdsCommand({ SecretId: name, IncludeDeprecated: true, NextToken: nextToken }));
    all.push(...(page.Versions ?? []).map((v) => v.VersionId!));
    nextToken = page.NextToken;
  } while (nextToken);
  expect(all).toHaveLength(100);
  expect(all).not.toContain(ids[0]);
  expect(all).toContain(ids[105]);
  expect(all).toContain(ids[104]);
  expect(await t.client.send(new GetSecretValueCommand({ SecretId: name, VersionId: ids[6] }))).toMatchObject({ SecretString: 'v-6' });
});
