/**
 * CPU per Secrets Manager request: the SDK client against the rotation Lambdas' signed client, in one
 * process against the embedded endpoint (which runs in the same process, so its own CPU is in both
 * columns alike). Interleaved rounds, medians: the lever behind `shared/secrets-api/signed-client.ts`.
 */
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { startLocalSecretsManager } from '../emulator';
import { createSignedSecretsApi } from '../shared/secrets-api/signed-client';

export interface SecretsApiResult {
  readonly requestsPerRound: number;
  readonly rounds: number;
  /** Median CPU milliseconds per GetSecretValue, client and in-process endpoint together. */
  readonly sdkCpuMs: number;
  readonly signedCpuMs: number;
}

const WARM_UP = 100;
const PER_ROUND = 200;

export async function runSecretsApi(runs: number, log: (line: string) => void): Promise<SecretsApiResult> {
  const local = await startLocalSecretsManager({ port: 0 });
  const credentials = { accessKeyId: 'bench', secretAccessKey: 'bench' };
  const sdk = new SecretsManagerClient({ endpoint: local.endpoint, region: 'us-east-1', credentials });
  const signed = createSignedSecretsApi({ endpoint: local.endpoint, region: 'us-east-1', credentials });
  try {
    const arn = (await sdk.send(new CreateSecretCommand({ Name: `bench-secrets-api-${Date.now()}`, SecretString: '{"k":"v"}' }))).ARN!;
    const viaSdk = () => sdk.send(new GetSecretValueCommand({ SecretId: arn }));
    const viaSigned = () => signed.getSecretValue({ SecretId: arn });
    const cpuPerRequest = async (call: () => Promise<unknown>): Promise<number> => {
      const before = process.cpuUsage();
      for (let i = 0; i < PER_ROUND; i++) await call();
      const used = process.cpuUsage(before);
      return (used.user + used.system) / 1000 / PER_ROUND;
    };
    for (let i = 0; i < WARM_UP; i++) await Promise.all([viaSdk(), viaSigned()]);
    const sdkMs: number[] = [];
    const signedMs: number[] = [];
    for (let round = 0; round < runs; round++) {
      sdkMs.push(await cpuPerRequest(viaSdk));
      signedMs.push(await cpuPerRequest(viaSigned));
      log(`secrets-api: round ${round + 1}/${runs}`);
    }
    return { requestsPerRound: PER_ROUND, rounds: runs, sdkCpuMs: median(sdkMs), signedCpuMs: median(signedMs) };
  } finally {
    sdk.destroy();
    await local.close();
  }
}

export function renderSecretsApi(r: SecretsApiResult): string {
  return [
    '## Secrets Manager client: CPU per request',
    '',
    `GetSecretValue against the embedded endpoint in the same process, ${r.rounds} interleaved rounds of ${r.requestsPerRound} requests per client; medians of CPU per request (the endpoint's own work is in both).`,
    '',
    '| client | CPU per request | ratio |',
    '| --- | --- | --- |',
    `| SDK v3 \`SecretsManagerClient\` | ${r.sdkCpuMs.toFixed(3)} ms | 1.00× |`,
    `| signed client (rotation Lambdas) | ${r.signedCpuMs.toFixed(3)} ms | ${(r.signedCpuMs / r.sdkCpuMs).toFixed(2)}× |`,
    '',
  ].join('\n');
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
