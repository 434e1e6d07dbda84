/**
 * Test doubles for the cached reader: a counting Secrets Manager client whose answers are held until
 * the test releases them, and a clock the test moves by hand.
 */
import type { BatchGetSecretValueCommandOutput, GetSecretValueCommandOutput } from '@aws-sdk/client-secrets-manager';
import type { SecretsReadClient } from '../../shared/secret-cache';
import { noteSensitive } from '../../local/sensitive-values';

export interface Call {
  readonly name: string;
  readonly input: Record<string, any>;
}

export interface StoredSecret {
  SecretString?: string;
  SecretBinary?: Uint8Array;
  VersionId?: string;
}

/** An AWS SDK-shaped error: `name` and `$metadata` are what the mapper reads. */
export function sdkError(name: string, status = 400, message = 'failure'): Error {
  const err = new Error(message) as Error & { $metadata: { httpStatusCode: number } };
  err.name = name;
  err.$metadata = { httpStatusCode: status };
  return err;
}

export class FakeSecretsClient {
  readonly calls: Call[] = [];
  /** `${secretId}|${stage}` → value; AWSCURRENT when no stage is sent. */
  readonly store = new Map<string, StoredSecret>();
  /** Errors thrown by the next calls, in order (per GetSecretValue/BatchGetSecretValue call). */
  readonly failures: Error[] = [];
  /** While set, every answer waits for `release()`. */
  private gate: { promise: Promise<void>; open: () => void } | undefined;

  put(secretId: string, value: string | Uint8Array | object, stage = 'AWSCURRENT'): void {
    const stored: StoredSecret =
      value instanceof Uint8Array ? { SecretBinary: value } : { SecretString: typeof value === 'string' ? value : JSON.stringify(value) };
    if (stored.SecretString !== undefined) noteSensitive(stored.SecretString);
    this.store.set(`${secretId}|${stage}`, { ...stored, VersionId: `v-${this.store.size + 1}` });
  }

  hold(): void {
    let open!: () => void;
    const promise = new Promise<void>((resolve) => (open = resolve));
    this.gate = { promise, open };
  }

  release(): void {
    const gate = this.gate;
    this.gate = undefined;
    gate?.open();
  }

  count(name?: string): number {
    return name === undefined ? this.calls.length : this.calls.filter((c) => c.name === name).length;
  }

  send = async (command: { constructor: { name: string }; input: Record<string, any> }): Promise<any> => {
    const name = command.constructor.name.replace(/Command$/, '');
    this.calls.push({ name, input: command.input });
    if (this.gate) await this.gate.promise;
    const failure = this.failures.shift();
    if (failure) throw failure;
    if (name === 'GetSecretValue') return this.getSecretValue(command.input);
    if (name === 'BatchGetSecretValue') return this.batchGet(command.input);
    throw new Error(`unexpected command ${name}`);
  };

  asClient(): SecretsReadClient {
    return this as unknown as SecretsReadClient;
  }

  private getSecretValue(input: Record<string, any>): GetSecretValueCommandOutput {
    const stage = input.VersionStage ?? 'AWSCURRENT';
    const stored = this.store.get(`${input.SecretId}|${stage}`);
    if (!stored) throw sdkError('ResourceNotFoundException');
    return { $metadata: {}, Name: input.SecretId, ...stored };
  }

  private batchGet(input: Record<string, any>): BatchGetSecretValueCommandOutput {
    const SecretValues: NonNullable<BatchGetSecretValueCommandOutput['SecretValues']> = [];
    const Errors: NonNullable<BatchGetSecretValueCommandOutput['Errors']> = [];
    for (const id of input.SecretIdList as string[]) {
      const stored = this.store.get(`${id}|AWSCURRENT`);
      if (stored) SecretValues.push({ Name: id, ARN: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${id}-AbCdEf`, ...stored });
      else Errors.push({ SecretId: id, ErrorCode: 'ResourceNotFoundException', Message: 'not found' });
    }
    return { $metadata: {}, SecretValues, Errors };
  }
}

/** A monotonic clock moved only by the test, in seconds for readability. */
export class ManualClock {
  private ms = 1_000_000;
  readonly now = (): number => this.ms;
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
}

/** Lets every pending promise callback run (the fake client answers asynchronously). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
