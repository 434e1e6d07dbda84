/**
 * The embedded Secrets Manager endpoint: a faithful in-memory Secrets Manager on loopback that the
 * unmodified `@aws-sdk/client-secrets-manager` talks to by `endpoint` alone, with AWS's staging-label,
 * idempotency and rotation semantics. LocalStack or AWS replace it by configuration only.
 */
import type { AddressInfo } from 'node:net';
import { buildOperationTable } from './operation-table';
import { RotationCoordinator } from './rotation';
import { createEndpointServer } from './server';
import { SecretStore } from './store';
import type { LocalSecretsManager, LocalSecretsManagerOptions } from './types';

export type {
  EndpointRequestRecord,
  LocalSecretsManager,
  LocalSecretsManagerOptions,
  RotationEvent,
  RotationFunction,
  RotationRecord,
  RotationStep,
  RotationStepRecord,
  RotationTrigger,
} from './types';
export { ROTATION_STEPS } from './types';

const LOOPBACK = '127.0.0.1';

function writeToStderr(line: string): void {
  process.stderr.write(`${line}\n`);
}

export async function startLocalSecretsManager(options: LocalSecretsManagerOptions = {}): Promise<LocalSecretsManager> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '000000000000';
  const now = options.now ?? (() => new Date());
  const log = options.log ?? writeToStderr;
  const store = new SecretStore(region, accountId, now);
  const rotation = new RotationCoordinator({
    store,
    now,
    region,
    accountId,
    log,
    surfaceErrors: options.surfaceRotationErrors ?? false,
  });
  const server = createEndpointServer(buildOperationTable({ store, now }, rotation), log, {
    ...(options.requestLatencyMs !== undefined ? { latencyMs: options.requestLatencyMs } : {}),
    ...(options.onRequest !== undefined ? { onRequest: options.onRequest } : {}),
  });
  // The SDK keeps connections alive; an idle one must not hold close() open.
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, LOOPBACK, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  return {
    endpoint: `http://${LOOPBACK}:${port}`,
    port,
    region,
    accountId,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
    registerRotationFunction: (arn, handler) => rotation.register(arn, handler),
    registeredRotationFunctions: () => rotation.registered(),
    rotationHistory: (secretId) => rotation.historyOf(secretId),
    retryRotation: (secretId) => rotation.retry(secretId),
  };
}
