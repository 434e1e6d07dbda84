/** The command line of `npm run rotate:local`. */
import { ConfigError } from '../../shared/errors';
import { checkEndpointUrl, parseCommandLine } from '../../operator/cli-args';
import { isDemoEngine, isDemoStrategy } from './scenarios';
import type { EngineFamily } from '../../shared/database-secret';
import type { RotationStrategyName } from '../../shared/rotation/rotation-settings';

export interface RotateLocalOptions {
  readonly engine?: EngineFamily;
  readonly strategy?: RotationStrategyName;
  /** Rotate this existing secret instead of the demo scenarios. */
  readonly secretId?: string;
  /** Rotations per scenario, each verified. */
  readonly rotations: number;
  readonly json: boolean;
  /** A running Secrets Manager endpoint; otherwise LOCALSTACK_URL, otherwise the embedded endpoint. */
  readonly endpoint?: string;
  /** Skip the db:setup step (the servers are known to be set up, e.g. right after `npm run db:setup`). */
  readonly skipSetup: boolean;
  readonly help: boolean;
}

export const MAX_ROTATIONS = 50;

export const ROTATE_LOCAL_USAGE = `Usage: npm run rotate:local -- [flags]

Creates (or reuses) demo users on the local PostgreSQL and MySQL servers, stores their secrets in the
RDS format, attaches the matching rotation function, rotates, and verifies from outside.

  --engine postgres|mysql                 only this engine
  --strategy single-user|alternating-users only this strategy
  --secret-id ID                          rotate this existing secret instead of the demo ones
  --rotations N                           rotations per scenario (default 1, at most ${MAX_ROTATIONS})
  --endpoint URL                          a running Secrets Manager endpoint (e.g. npm run local:endpoint)
  --json                                  only the JSON result on stdout (progress stays on stderr)
  --skip-setup                            do not run db:setup first
  --help                                  this text, and nothing else

First it runs db:setup for the engines it needs (starts local servers, makes PostgreSQL check passwords).
Target: --endpoint, else LocalStack when LOCALSTACK_URL is set, else an embedded endpoint in-process.
An emulator other than the embedded one (LocalStack, moto…) rotates through its own RotateSecret and
needs the rotation functions deployed in it as <engine>-<strategy>-rotation (npm run localstack:deploy).
Databases: PGHOST/PGPORT/PGUSER/PGPASSWORD and MYSQL_HOST/MYSQL_PORT/MYSQL_USER/MYSQL_PASSWORD.`;

const FLAGS = {
  engine: { type: 'string' },
  strategy: { type: 'string' },
  'secret-id': { type: 'string' },
  rotations: { type: 'string' },
  endpoint: { type: 'string' },
  json: { type: 'boolean' },
  'skip-setup': { type: 'boolean' },
} as const;

const HELP_ONLY: RotateLocalOptions = { rotations: 1, json: false, skipSetup: true, help: true };

/**
 * The options, or `help: true` alone when usage was asked for (then nothing else is read or checked).
 * @throws ConfigError naming the flag at fault
 */
export function parseRotateLocalArgs(argv: readonly string[]): RotateLocalOptions {
  const line = parseCommandLine(argv, FLAGS);
  if (line.help) return HELP_ONLY;
  const flags = line.flags;
  if (flags.engine !== undefined && !isDemoEngine(flags.engine)) {
    throw new ConfigError('--engine must be postgres or mysql');
  }
  if (flags.strategy !== undefined && !isDemoStrategy(flags.strategy)) {
    throw new ConfigError('--strategy must be single-user or alternating-users');
  }
  const rotations = flags.rotations === undefined ? 1 : Number(flags.rotations);
  if (!Number.isInteger(rotations) || rotations < 1 || rotations > MAX_ROTATIONS) {
    throw new ConfigError(`--rotations must be a whole number from 1 to ${MAX_ROTATIONS}`);
  }
  if (flags.endpoint !== undefined) checkEndpointUrl(flags.endpoint);
  return {
    ...(flags.engine !== undefined ? { engine: flags.engine } : {}),
    ...(flags.strategy !== undefined ? { strategy: flags.strategy } : {}),
    ...(flags['secret-id'] !== undefined ? { secretId: flags['secret-id'] } : {}),
    ...(flags.endpoint !== undefined ? { endpoint: flags.endpoint.replace(/\/+$/, '') } : {}),
    rotations,
    json: flags.json === true,
    skipSetup: flags['skip-setup'] === true,
    help: false,
  };
}
