/**
 * The embedded endpoint's two benchmark options: `onRequest` reports every answered request (operation,
 * status, time in the endpoint) without inputs or outputs, and `requestLatencyMs` holds each request at
 * least that long. Neither changes what is answered.
 */
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { startLocalSecretsManager, type EndpointRequestRecord, type LocalSecretsManager } from '../../emulator';

const LATENCY_MS = 40;
let local: LocalSecretsManager;
let client: SecretsManagerClient;
const records: EndpointRequestRecord[] = [];

beforeAll(async () => {
  local = await startLocalSecretsManager({ log: () => undefined, requestLatencyMs: LATENCY_MS, onRequest: (r) => records.push(r) });
  client = new SecretsManagerClient({
    endpoint: local.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
});

afterAll(async () => {
  client.destroy();
  await local.close();
});

it('reports each request once, by operation and status, and holds it for the injected latency', async () => {
  const created = await client.send(new CreateSecretCommand({ Name: 'bench-options-secret', SecretString: '{"k":"value-not-reported"}' }));
  await expect(client.send(new GetSecretValueCommand({ SecretId: 'bench-options-missing' }))).rejects.toMatchObject({
    name: 'ResourceNotFoundException',
  });
  const read = await client.send(new GetSecretValueCommand({ SecretId: created.ARN! }));
  expect(read.SecretString).toBe('{"k":"value-not-reported"}');

  expect(records.map((r) => [r.action, r.status])).toEqual([
    ['CreateSecret', 200],
    ['GetSecretValue', 400],
    ['GetSecretValue', 200],
  ]);
  for (const r of records) expect(r.durationMs).toBeGreaterThanOrEqual(LATENCY_MS - 1);
  expect(JSON.stringify(records)).not.toContain('value-not-reported');
});

it('refuses a negative latency', async () => {
  await expect(startLocalSecretsManager({ requestLatencyMs: -1 })).rejects.toThrow(RangeError);
});
