/**
 * Counts and times the Secrets Manager requests a client sends, by operation, with an SDK middleware
 * at the `initialize` step: one count per `send`, whatever retries happen below it. Only operation
 * names and durations are kept, never inputs or outputs (they carry secret values).
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { performance } from 'node:perf_hooks';

export interface CallTally {
  readonly count: number;
  readonly ms: number;
}

export class SecretsManagerCallCounter {
  readonly #byOperation = new Map<string, { count: number; ms: number }>();

  /** Installs the counter on `client` (once per client). */
  attach(client: SecretsManagerClient): SecretsManagerClient {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const operation = String((context as { commandName?: string }).commandName ?? 'unknown').replace(/Command$/, '');
        const started = performance.now();
        try {
          return await next(args);
        } finally {
          const tally = this.#byOperation.get(operation) ?? { count: 0, ms: 0 };
          tally.count += 1;
          tally.ms += performance.now() - started;
          this.#byOperation.set(operation, tally);
        }
      },
      { step: 'initialize', name: 'benchSecretsManagerCallCounter', override: true },
    );
    return client;
  }

  total(): CallTally {
    let count = 0;
    let ms = 0;
    for (const tally of this.#byOperation.values()) {
      count += tally.count;
      ms += tally.ms;
    }
    return { count, ms };
  }

  byOperation(): ReadonlyMap<string, CallTally> {
    return new Map([...this.#byOperation].map(([op, t]) => [op, { ...t }]));
  }

  reset(): void {
    this.#byOperation.clear();
  }
}

/** A client of a loopback endpoint with the fixed dummy credentials the endpoint accepts. */
export function endpointClient(endpoint: string, region = 'us-east-1'): SecretsManagerClient {
  return new SecretsManagerClient({ endpoint, region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
}
