/**
 * The conformance suite's target: the endpoint named by SECRETS_MANAGER_ENDPOINT (LocalStack, AWS) when
 * set, else a fresh embedded endpoint. Cases tagged [embedded] always use an embedded endpoint of their
 * own. Every test names its secrets uniquely, so files and tests may run in parallel, and every secret
 * made is force-deleted at the end (against AWS nothing must be left behind).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { DeleteSecretCommand, SecretsManagerClient, type SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';
import { startLocalSecretsManager, type LocalSecretsManager, type LocalSecretsManagerOptions } from '../../emulator';
import { noteSensitive } from '../../local/sensitive-values';

const DUMMY = { accessKeyId: 'test', secretAccessKey: 'test' } as const;

export interface Target {
  readonly client: SecretsManagerClient;
  readonly endpoint: string;
  /** Present when the target is the embedded endpoint. */
  readonly embedded?: LocalSecretsManager;
  /** A unique secret name, remembered for clean-up. */
  name(label: string): string;
  close(): Promise<void>;
}

function isLoopback(endpoint: string): boolean {
  const host = new URL(endpoint).hostname;
  return host === 'localhost' || host === '[::1]' || /^127\./.test(host) || host.endsWith('.localhost.localstack.cloud');
}

function makeClient(endpoint: string, withDummyCredentials: boolean): SecretsManagerClient {
  const config: SecretsManagerClientConfig = {
    endpoint,
    region: process.env.AWS_REGION ?? 'us-east-1',
    // Conformance cases assert the first answer; SDK retries would hide it.
    maxAttempts: 1,
  };
  return new SecretsManagerClient(withDummyCredentials ? { ...config, credentials: DUMMY } : config);
}

function build(endpoint: string, client: SecretsManagerClient, embedded?: LocalSecretsManager): Target {
  const run = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const names: string[] = [];
  return {
    client,
    endpoint,
    ...(embedded ? { embedded } : {}),
    name(label: string): string {
      const name = `conformance/${run}/${label}-${randomBytes(4).toString('hex')}`;
      names.push(name);
      return name;
    },
    async close(): Promise<void> {
      await Promise.allSettled(
        names.map((SecretId) => client.send(new DeleteSecretCommand({ SecretId, ForceDeleteWithoutRecovery: true }))),
      );
      client.destroy();
      await embedded?.close();
    },
  };
}

/** The target of portable cases: SECRETS_MANAGER_ENDPOINT if set, else an embedded endpoint. */
export async function startTarget(): Promise<Target> {
  const external = process.env.SECRETS_MANAGER_ENDPOINT?.trim();
  if (external) return build(external, makeClient(external, isLoopback(external)));
  return startEmbedded();
}

/** An embedded endpoint, whatever SECRETS_MANAGER_ENDPOINT says: for [embedded] cases. */
export async function startEmbedded(options: LocalSecretsManagerOptions = {}): Promise<Target> {
  const embedded = await startLocalSecretsManager({ log: () => undefined, ...options });
  return build(embedded.endpoint, makeClient(embedded.endpoint, true), embedded);
}

/** A fresh secret-looking value, registered with the suite's leak scan. */
export function secretValue(label = 'value'): string {
  const value = JSON.stringify({ username: label, password: `pw-${randomBytes(12).toString('base64url')}` });
  noteSensitive(value);
  return value;
}

/** A ClientRequestToken/VersionId of the form the SDK generates. */
export function token(): string {
  return randomUUID();
}

/** The rejection's SDK exception name, failing when the promise resolves. */
export async function errorName(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return (err as { name: string }).name;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** The whole rejection, failing when the promise resolves. */
export async function rejection(promise: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}
