/**
 * `rotation:status` and `rotation:repair`: any Secrets Manager endpoint, AWS included, chosen by the
 * usual AWS environment (`getSecretsClient`), or by `--endpoint` / `--region` for a one-off.
 */
import { ConfigError } from '../../shared/errors';
import { getSecretsClient, isLoopback, type Env } from '../../shared/secrets-client';
import { applyRepair, type RedrivePath } from './apply-repair';
import { describeError, EXIT_FAILED, EXIT_OK, EXIT_USAGE, type CliIo } from './cli-io';
import { parseFlags } from './cli-flags';
import { isRepairAction, planRepair, renderRepairPlan, REPAIR_ACTIONS, type RepairAction } from './repair-plan';
import { readRotationStatus } from './rotation-status';
import { renderRotationStatus } from './status-report';

const COMMON_FLAGS = { 'secret-id': 'string', endpoint: 'string', region: 'string', json: 'boolean', help: 'boolean' } as const;
const REPAIR_FLAGS = { ...COMMON_FLAGS, yes: 'boolean', action: 'string', 'wait-seconds': 'string' } as const;

export const STATUS_USAGE = `Usage: npm run rotation:status -- --secret-id ID [--json] [--endpoint URL] [--region REGION]

Versions and labels, rotation configuration, last and next rotation, and whether a rotation is stuck
(AWSPENDING on a version that is not AWSCURRENT). The endpoint comes from the usual AWS environment
(AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL, SECRETS_MANAGER_ENDPOINT, ENVIRONMENT=local) unless given.`;

export const REPAIR_USAGE = `Usage: npm run rotation:repair -- --secret-id ID [--yes] [--action ${REPAIR_ACTIONS.join('|')}] [--json]
                                [--wait-seconds N] [--endpoint URL] [--region REGION]

For a stuck rotation, shows what it would do; with --yes, does it. remove-pending removes the stray
AWSPENDING label (AWSCURRENT untouched). redrive resumes the stuck rotation with its own token (RotateSecret,
which Secrets Manager answers "A previous rotation isn't complete. That rotation will be reattempted.") and
waits --wait-seconds until AWSCURRENT moves to the stuck version; only if it does not, it removes the label
and starts a new rotation (a single-user secret whose setSecret already ran may then need its masterarn).
Default: redrive when rotation is on with a function, else remove-pending.`;

export async function runRotationStatusCli(argv: readonly string[], io: CliIo): Promise<number> {
  let flags;
  try {
    flags = parseFlags(argv, COMMON_FLAGS);
    if (flags.help) {
      io.stdout(STATUS_USAGE);
      return EXIT_OK;
    }
    requireSecretId(flags['secret-id']);
  } catch (err) {
    io.stderr(`rotation:status: ${describeError(err)}\n\n${STATUS_USAGE}`);
    return EXIT_USAGE;
  }
  const secretId = flags['secret-id'] as string;
  try {
    const client = getSecretsClient(clientEnv(io.env, flags.endpoint, flags.region));
    const status = await readRotationStatus(client, secretId);
    io.stdout(flags.json ? JSON.stringify(status, null, 2) : renderRotationStatus(status));
    return EXIT_OK;
  } catch (err) {
    io.stderr(`rotation:status: ${describeError(err)}`);
    return EXIT_FAILED;
  }
}

export async function runRotationRepairCli(argv: readonly string[], io: CliIo): Promise<number> {
  let flags;
  let action: RepairAction | undefined;
  let waitMs: number | undefined;
  try {
    flags = parseFlags(argv, REPAIR_FLAGS);
    if (flags.help) {
      io.stdout(REPAIR_USAGE);
      return EXIT_OK;
    }
    requireSecretId(flags['secret-id']);
    if (flags.action !== undefined) {
      if (!isRepairAction(flags.action)) throw new ConfigError(`--action must be one of ${REPAIR_ACTIONS.join(', ')}`);
      action = flags.action;
    }
    if (flags['wait-seconds'] !== undefined) {
      const seconds = Number(flags['wait-seconds']);
      if (!Number.isFinite(seconds) || seconds < 0 || seconds > 3600) throw new ConfigError('--wait-seconds must be 0 to 3600');
      waitMs = seconds * 1000;
    }
  } catch (err) {
    io.stderr(`rotation:repair: ${describeError(err)}\n\n${REPAIR_USAGE}`);
    return EXIT_USAGE;
  }
  const secretId = flags['secret-id'] as string;
  try {
    const env = clientEnv(io.env, flags.endpoint, flags.region);
    const client = getSecretsClient(env);
    const before = await readRotationStatus(client, secretId);
    const plan = planRepair(before, action);
    const apply = flags.yes === true && plan.action !== 'none';
    if (!apply) {
      io.stdout(
        flags.json
          ? JSON.stringify({ plan, applied: false, resolved: before.stuck === undefined, after: before }, null, 2)
          : renderRepairPlan(plan, false),
      );
      // A stuck secret that cannot be repaired as asked is a failure; a dry run or a healthy secret is not.
      return plan.action === 'none' && before.stuck !== undefined ? EXIT_FAILED : EXIT_OK;
    }
    // The plan, AWSCURRENT's fate included, is said before anything is changed.
    if (!flags.json) io.stdout(renderRepairPlan(plan, true));
    const outcome = await applyRepair(client, secretId, plan, { waitMs: waitMs ?? defaultWaitMs(env) });
    if (flags.json) {
      io.stdout(JSON.stringify(outcome, null, 2));
    } else {
      const current = outcome.after.versions.find((v) => v.stages.includes('AWSCURRENT'))?.versionId ?? '(none)';
      io.stdout(
        outcome.resolved
          ? `repaired: no stray AWSPENDING is left; AWSCURRENT is on ${current}${pathNote(outcome.path)}`
          : `not repaired: ${outcome.error ?? 'a stray AWSPENDING is still there'}`,
      );
    }
    return outcome.resolved ? EXIT_OK : EXIT_FAILED;
  } catch (err) {
    io.stderr(`rotation:repair: ${describeError(err)}`);
    return EXIT_FAILED;
  }
}

function pathNote(path: RedrivePath | undefined): string {
  if (path === 'resumed') return ' (the stuck rotation was resumed with its own token)';
  if (path === 'fresh-rotation') return ' (the stuck rotation did not complete in time: a new rotation replaced it)';
  return '';
}

function requireSecretId(value: string | undefined): void {
  if (value === undefined) throw new ConfigError('--secret-id is required');
}

/** The environment for `getSecretsClient`, with the flags layered over the usual variables. */
export function clientEnv(env: Env, endpoint?: string, region?: string): Env {
  return {
    ...env,
    ...(endpoint !== undefined ? { SECRETS_MANAGER_ENDPOINT: endpoint } : {}),
    ...(region !== undefined ? { AWS_REGION: region } : {}),
  };
}

/**
 * The embedded endpoint and LocalStack run the steps before RotateSecret answers, so their outcome is
 * final at once; AWS runs them afterwards and needs the wait.
 */
function defaultWaitMs(env: Env): number {
  const endpoint = env.SECRETS_MANAGER_ENDPOINT ?? env.AWS_ENDPOINT_URL_SECRETS_MANAGER ?? env.AWS_ENDPOINT_URL;
  const local = (endpoint !== undefined && isLoopback(endpoint)) || env.ENVIRONMENT === 'local';
  return local ? 0 : 120_000;
}
