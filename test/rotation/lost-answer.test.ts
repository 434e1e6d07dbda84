/**
 * A Secrets Manager answer lost after the write was made (a 5xx from a proxy or load balancer that
 * had already forwarded the request): the signed client retries, and the retry meets the state its
 * first attempt left. finishSecret must come out successful, not fail the rotation on its own retry.
 * The embedded endpoint behind a loopback proxy that drops the first UpdateSecretVersionStage answer;
 * the embedded endpoint takes the repeated move as made, and an endpoint that refuses it instead is
 * covered by the labels check in test/rotation/handler-gate.unit.test.ts.
 */
import { CreateSecretCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { postgresEngine } from '../../shared/engines/postgres';
import { createRotationHandler } from '../../shared/rotation/create-rotation-handler';
import { captureLogger, stagesOf, startEndpoint, uniqueName, type Endpoint } from '../support/rotation-endpoint';

let endpoint: Endpoint;
let proxy: http.Server;
let proxyUrl: string;
let dropped = 0;

beforeAll(async () => {
  endpoint = await startEndpoint();
  const target = new URL(endpoint.local.endpoint);
  proxy = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const upstream = http.request(
        { hostname: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
        (answer) => {
          const body: Buffer[] = [];
          answer.on('data', (c: Buffer) => body.push(c));
          answer.on('end', () => {
            // The write is made upstream; its answer is replaced by a gateway error, once.
            if (req.headers['x-amz-target'] === 'secretsmanager.UpdateSecretVersionStage' && dropped === 0) {
              dropped++;
              res.writeHead(502, { 'content-type': 'text/html' });
              res.end('<html>Bad Gateway</html>');
              return;
            }
            res.writeHead(answer.statusCode ?? 500, answer.headers);
            res.end(Buffer.concat(body));
          });
        },
      );
      upstream.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});

afterAll(async () => {
  proxy.closeAllConnections();
  await new Promise<void>((resolve) => proxy.close(() => resolve()));
  await endpoint.close();
});

it('finishSecret whose move was made but answered 502 succeeds on the labels its retry finds', async () => {
  const name = uniqueName('hsm-lost');
  const created = await endpoint.client.send(
    new CreateSecretCommand({
      Name: name,
      SecretString: JSON.stringify({ engine: 'postgres', host: 'h', username: 'u', password: 'old-pw-1' }),
    }),
  );
  const token = '0b6f7a52-1c1e-4e0b-9d43-a1b000000001';
  await endpoint.client.send(
    new PutSecretValueCommand({
      SecretId: created.ARN,
      ClientRequestToken: token,
      SecretString: JSON.stringify({ engine: 'postgres', host: 'h', username: 'u', password: 'new-pw-2' }),
      VersionStages: ['AWSPENDING'],
    }),
  );
  const logger = captureLogger();
  // The Lambdas' own signed client, through the proxy.
  const handler = createRotationHandler({
    engine: postgresEngine,
    env: { SECRETS_MANAGER_ENDPOINT: proxyUrl, AWS_REGION: 'us-east-1' },
    logger,
  });
  await expect(handler({ SecretId: created.ARN!, ClientRequestToken: token, Step: 'finishSecret' })).resolves.toBeUndefined();
  expect(dropped).toBe(1);
  expect(logger.lines.map((l) => l.outcome)).toEqual(['success']);
  const stages = await stagesOf(endpoint.client, created.ARN!);
  expect(stages[token]).toContain('AWSCURRENT');
});
