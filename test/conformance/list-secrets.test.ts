/** Conformance: ListSecrets filters and pagination. Portable; every filter is scoped to this run's names. */
import { CreateSecretCommand, ListSecretsCommand, type Filter } from '@aws-sdk/client-secrets-manager';
import { secretValue, startTarget, type Target } from '../support/conformance-harness';

let t: Target;
let prefix: string;
let alpha: string;
let beta: string;
let gamma: string;

beforeAll(async () => {
  t = await startTarget();
  alpha = t.name('list-alpha');
  prefix = alpha.slice(0, alpha.lastIndexOf('/') + 1);
  beta = t.name('list-beta');
  gamma = t.name('list-gamma');
  await t.client.send(
    new CreateSecretCommand({
      Name: alpha,
      SecretString: secretValue(),
      Description: 'Orders Database',
      Tags: [{ Key: 'tier', Value: 'gold' }],
    }),
  );
  await t.client.send(new CreateSecretCommand({ Name: beta, SecretString: secretValue(), Tags: [{ Key: 'tier', Value: 'silver' }] }));
  await t.client.send(new CreateSecretCommand({ Name: gamma, SecretString: secretValue() }));
});
afterAll(() => t.close());

async function names(filters: Filter[]): Promise<string[]> {
  const out = await t.client.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [prefix] }, ...filters] }));
  return (out.SecretList ?? []).map((s) => s.Name!).sort();
}

test('name is a case-sensitive prefix match', async () => {
  expect(await names([])).toEqual([alpha, beta, gamma].sort());
  expect(await names([{ Key: 'name', Values: [alpha.slice(0, -4)] }])).toEqual([alpha]);
  expect(await names([{ Key: 'name', Values: [alpha.toUpperCase()] }])).toEqual([]);
});

test('a value starting with ! negates', async () => {
  expect(await names([{ Key: 'name', Values: [`!${beta}`] }])).toEqual([alpha, gamma].sort());
});

test('tag-key and tag-value filters', async () => {
  expect(await names([{ Key: 'tag-key', Values: ['tier'] }])).toEqual([alpha, beta].sort());
  expect(await names([{ Key: 'tag-value', Values: ['gol'] }])).toEqual([alpha]);
});

test('description matches words, not case-sensitive', async () => {
  expect(await names([{ Key: 'description', Values: ['database'] }])).toEqual([alpha]);
});

test('entries carry SecretVersionsToStages and dates', async () => {
  const out = await t.client.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [alpha] }] }));
  const entry = out.SecretList![0]!;
  expect(Object.values(entry.SecretVersionsToStages ?? {})).toEqual([['AWSCURRENT']]);
  expect(entry.CreatedDate).toBeInstanceOf(Date);
  expect(entry.Tags).toEqual([{ Key: 'tier', Value: 'gold' }]);
});

test('MaxResults pages with NextToken until every match is seen once', async () => {
  const seen: string[] = [];
  let nextToken: string | undefined;
  do {
    const out = await t.client.send(
      new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [prefix] }], MaxResults: 1, NextToken: nextToken }),
    );
    seen.push(...(out.SecretList ?? []).map((s) => s.Name!));
    nextToken = out.NextToken;
  } while (nextToken);
  expect(seen.sort()).toEqual([alpha, beta, gamma].sort());
});
