/** Shared pieces of the rotation suites: an embedded endpoint, secrets, handlers and log capture. */
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  RotateSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { randomBytes } from 'node:crypto';
import { startLocalSecretsManager, type LocalSecretsManager } from '../../emulator';
import { noteSensitive } from '../../local/sensitive-values';
import type { StepLogLine, RotationLogger } from '../../shared/rotation/logger';

export interface Endpoint {
  readonly local: LocalSecretsManager;
  readonly client: SecretsManagerClient;
  close(): Promise<void>;
}

export async function startEndpoint(): Promise<Endpoint> {
  const local = await startLocalSecretsManager({ port: 0, surfaceRotationErrors: true, log: () => undefined });
  const client = new SecretsManagerClient({
    endpoint: local.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    // A surfaced rotation failure may come back as a 5xx: a retried RotateSecret would hide it.
    maxAttempts: 1,
  });
  return {
    local,
    client,
    close: async () => {
      client.destroy();
      await local.close();
    },
  };
}

/** A client of `endpoint` that records the name of every command it sends (`GetSecretValue`, …). */
export interface CountingClient {
  readonly client: SecretsManagerClient;
  /** The commands sent since the last `take`, in order; clears the record. */
  take(): string[];
}

/** A second client of the endpoint for a handler, so its own requests can be told from the test's. */
export function countingClient(endpoint: Endpoint): CountingClient {
  let sent: string[] = [];
  const client = new SecretsManagerClient({
    endpoint: endpoint.local.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  client.middlewareStack.add(
    (next, context) => (args) => {
      sent.push(String(context.commandName).replace(/Command$/, ''));
      return next(args);
    },
    { step: 'initialize', name: 'countRequests' },
  );
  return {
    client,
    take: () => {
      const out = sent;
      sent = [];
      return out;
    },
  };
}

/** Secrets Manager's writes among `commands`. */
export const WRITES: ReadonlySet<string> = new Set(['PutSecretValue', 'UpdateSecretVersionStage']);

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export function lambdaArn(name: string): string {
  return `arn:aws:lambda:us-east-1:000000000000:function:${name}`;
}

export async function createSecret(client: SecretsManagerClient, name: string, value: Record<string, unknown>): Promise<string> {
  const out = await client.send(new CreateSecretCommand({ Name: name, SecretString: JSON.stringify(value) }));
  return out.ARN!;
}

export async function rotate(client: SecretsManagerClient, secretId: string, functionArn: string): Promise<void> {
  await client.send(new RotateSecretCommand({ SecretId: secretId, RotationLambdaARN: functionArn, RotateImmediately: true }));
}

export async function secretValue(
  client: SecretsManagerClient,
  secretId: string,
  stage = 'AWSCURRENT',
): Promise<Record<string, unknown> & { username: string; password: string }> {
  const out = await client.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: stage }));
  const value = JSON.parse(out.SecretString!) as Record<string, unknown> & { username: string; password: string };
  noteSensitive(value.password);
  return value;
}

export async function stagesOf(client: SecretsManagerClient, secretId: string): Promise<Record<string, string[]>> {
  const out = await client.send(new DescribeSecretCommand({ SecretId: secretId }));
  return out.VersionIdsToStages ?? {};
}

/** Collects the handler's log lines for assertions (and leak checks). */
export function captureLogger(): RotationLogger & { lines: StepLogLine[]; text(): string } {
  const lines: StepLogLine[] = [];
  return { lines, log: (line) => lines.push(line), text: () => lines.map((l) => JSON.stringify(l)).join('\n') };
}
