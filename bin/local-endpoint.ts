/**
 * `npm run local:endpoint [-- --port <n>] [--surface-rotation-errors]`: the embedded Secrets Manager
 * endpoint, standalone, on 127.0.0.1 (default port 4566, LocalStack's), with the repo's rotation
 * handlers registered, so `aws --endpoint-url …` and `rotate:local --endpoint` can rotate through it.
 */
import { ConfigError } from '../shared/errors';
import { registerRepoRotationHandlers } from '../local/repo-handlers';
import { startLocalSecretsManager } from '../local/secrets-manager';

const DEFAULT_PORT = 4566;

interface CliOptions {
  readonly port: number;
  readonly surfaceRotationErrors: boolean;
}

const USAGE = 'usage: local-endpoint [--port <0-65535>] [--surface-rotation-errors]';

function usage(problem: string): never {
  throw new ConfigError(`${problem}; ${USAGE}`);
}

export function parseArgs(argv: readonly string[]): CliOptions {
  let port = DEFAULT_PORT;
  let surfaceRotationErrors = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--port' || arg.startsWith('--port=')) {
      const raw = arg === '--port' ? argv[++i] : arg.slice('--port='.length);
      port = Number(raw);
      if (raw === undefined || raw === '' || !Number.isInteger(port) || port < 0 || port > 65535) usage('--port needs a port number');
    } else if (arg === '--surface-rotation-errors') {
      surfaceRotationErrors = true;
    } else {
      usage(`unknown argument ${arg}`);
    }
  }
  return { port, surfaceRotationErrors };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(`Starts the embedded Secrets Manager endpoint on 127.0.0.1.\n${USAGE}`);
    return;
  }
  const options = parseArgs(args);
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
}

if (require.main === module) {
  main().catch((err: unknown) => {
    const code = (err as { code?: unknown }).code;
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    console.error(
      code === 'EADDRINUSE'
        ? 'The port is already in use (LocalStack or another endpoint?): pass --port <n>, or --port 0 for any free port.'
        : `local-endpoint failed: ${err instanceof Error ? err.name : String(err)}`,
    );
    process.exit(1);
  });
}
