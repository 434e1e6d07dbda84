/** The command line of `npm run bench`: which benchmarks, how many runs. */
import { ConfigError } from '../shared/errors';

export const BENCHMARKS = [
  'rotation-latency',
  'modeled-aws',
  'levers',
  'cold-start',
  'cache',
  'secrets-api',
  'fleet',
  'aws-scale',
  'pools',
] as const;
export type BenchmarkId = (typeof BENCHMARKS)[number];

export interface BenchArgs {
  readonly only: readonly BenchmarkId[];
  /** Measured runs per benchmark (at least 20 for the published medians and p95). */
  readonly runs: number;
  /** Secrets in the fleet benchmark. */
  readonly fleetSecrets: number;
  readonly output: string;
  /** Longest wait before each benchmark for the machine's load to drop below its CPU count. */
  readonly idleWaitSeconds: number;
  /** Injected Secrets Manager round trip of the modeled-AWS run, in ms. */
  readonly latencyMs: number;
  readonly help: boolean;
}

export const DEFAULT_RUNS = 20;
export const DEFAULT_FLEET_SECRETS = 500;
export const DEFAULT_IDLE_WAIT_SECONDS = 30;
export const DEFAULT_LATENCY_MS = 5;

export const USAGE = `Usage: npm run bench -- [--only ${BENCHMARKS.join(',')}] [--runs N] [--fleet-secrets N] [--output FILE]

Runs the benchmarks against PostgreSQL and MariaDB on loopback and an embedded Secrets Manager endpoint,
and writes their sections into BENCHMARKS.md (sections not run keep their previous text).
  --only LIST          comma-separated benchmarks (default: all)
  --runs N             measured runs per benchmark (default ${DEFAULT_RUNS}; at least 20 for published numbers);
                       pools: rotations per engine, strategy and pool
  --fleet-secrets N    secrets in the fleet benchmark, half per engine (default ${DEFAULT_FLEET_SECRETS})
  --output FILE        where to write (default BENCHMARKS.md)
  --latency-ms MS      modeled-aws: injected Secrets Manager round trip (default ${DEFAULT_LATENCY_MS})
  --idle-wait S        before each benchmark, wait up to S seconds for the load average to drop below
                       the CPU count (default ${DEFAULT_IDLE_WAIT_SECONDS}; 0 never waits)`;

export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  let only: BenchmarkId[] = [...BENCHMARKS];
  let runs = DEFAULT_RUNS;
  let fleetSecrets = DEFAULT_FLEET_SECRETS;
  let output = 'BENCHMARKS.md';
  let idleWaitSeconds = DEFAULT_IDLE_WAIT_SECONDS;
  let latencyMs = DEFAULT_LATENCY_MS;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split('=', 2) as [string, string | undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v.startsWith('--')) throw new ConfigError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--only':
        only = value()
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
          .map((s) => {
            if (!(BENCHMARKS as readonly string[]).includes(s))
              throw new ConfigError(`unknown benchmark ${JSON.stringify(s)}; known: ${BENCHMARKS.join(', ')}`);
            return s as BenchmarkId;
          });
        if (only.length === 0) throw new ConfigError('--only needs at least one benchmark');
        break;
      case '--runs':
        runs = positiveInteger(flag, value());
        break;
      case '--fleet-secrets':
        fleetSecrets = positiveInteger(flag, value());
        break;
      case '--idle-wait':
        idleWaitSeconds = Number(value());
        if (!Number.isInteger(idleWaitSeconds) || idleWaitSeconds < 0) throw new ConfigError('--idle-wait must be a whole number >= 0');
        break;
      case '--latency-ms':
        latencyMs = Number(value());
        if (!Number.isFinite(latencyMs) || latencyMs < 0) throw new ConfigError('--latency-ms must be a number >= 0');
        break;
      case '--output':
        output = value();
        break;
      case '--help':
      case '-h':
        help = true;
        break;
      default:
        throw new ConfigError(`unknown flag ${JSON.stringify(flag)}\n${USAGE}`);
    }
  }
  return { only, runs, fleetSecrets, output, idleWaitSeconds, latencyMs, help };
}

function positiveInteger(flag: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(`${flag} must be a whole number >= 1`);
  return n;
}
