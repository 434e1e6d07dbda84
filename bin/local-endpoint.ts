/**
 * `npm run local:endpoint [-- --port <n>] [--surface-rotation-errors]`: the embedded Secrets Manager
 * endpoint, standalone, on 127.0.0.1 (default port 4566, LocalStack's), with the repo's rotation
 * handlers registered, so `aws --endpoint-url …` and `rotate:local --endpoint` can rotate through it.
 */
import { ConfigError } from '../shared/errors';
import { parseCommandLine } from '../operator/cli-args';
import { runMain } from '../operator/cli-main';
import { registerRepoRotationHandlers } from '../local/repo-handlers';
import { startLocalSecretsManager } from '../emulator';

const DEFAULT_PORT = 4566;

/** The command line: a port (0 for any free one) and whether rotation errors reach RotateSecret's caller. */
export interface CliOptions {
  readonly port: number;
  readonly surfaceRotationErrors: boolean;
  /** `--help` was given: print usage, start nothing. */
  readonly help: boolean;
}

const USAGE = 'usage: local-endpoint [--port <0-65535>] [--surface-rotation-errors] [--help]';
const FLAGS = { port: { type: 'string' }, 'surface-rotation-errors': { type: 'boolean' } } as const;

/**
 * Reads the command line through `parseCommandLine` (node's parseArgs).
 * @throws ConfigError naming the problem and the usage
 */
export function parseArgs(argv: readonly string[]): CliOptions {
  let line;
  try {
    line = parseCommandLine(argv, FLAGS);
  } catch (err) {
    throw new ConfigError(`${err instanceof Error ? err.message : String(err)}; ${USAGE}`);
  }
  if (line.help) return { port: DEFAULT_PORT, surfaceRotationErrors: false, help: true };
  const raw = line.flags.port;
  const port = raw === undefined ? DEFAULT_PORT : Number(raw);
  if (!/^\d+$/.test(raw ?? '0') || port > 65535) throw new ConfigError(`--port needs a port number (0-65535); ${USAGE}`);
  return { port, surfaceRotationErrors: line.flags['surface-rotation-errors'] === true, help: false };
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  if (options.help) {
    console.log(`Starts the embedded Secrets Manager endpoint on 127.0.0.1.\n${USAGE}`);
    return 0;
  }
  const endpoint = await startLocalSecretsManager(options);
  const registered = registerRepoRotationHandlers(endpoint);

  console.log(`Secrets Manager endpoint: ${endpoint.endpoint}`);
  console.log(`  region ${endpoint.region}, account ${endpoint.accountId}; any credentials (e.g. test/test) are accepted`);
  console.log(`  SECRETS_MANAGER_ENDPOINT=${endpoint.endpoint}`);
  console.log(`  aws --endpoint-url ${endpoint.endpoint} --region ${endpoint.region} secretsmanager list-secrets`);
  console.log('Rotation functions:');
  for (const arn of registered) console.log(`  ${arn}`);

  const stop = (): void => {
    void endpoint.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return 0;
}

/** Exit codes: 2 for a bad command line, 1 when the endpoint cannot start. */
function failure(err: unknown): number {
  if (err instanceof ConfigError) {
    console.error(err.message);
    return 2;
  }
  const code = (err as { code?: unknown }).code;
  console.error(
    code === 'EADDRINUSE'
      ? 'The port is already in use (LocalStack or another endpoint?): pass --port <n>, or --port 0 for any free port.'
      : `local-endpoint failed: ${err instanceof Error ? err.name : String(err)}`,
  );
  return 1;
}

if (require.main === module) runMain(() => main().catch(failure));
