/**
 * `rotation:status` and `rotation:repair`: any Secrets Manager endpoint, AWS included, chosen by the
 * usual AWS environment (`getSecretsClient`), or by `--endpoint` / `--region` for a one-off.
 */
import { ConfigError } from '../shared/errors';
import { getSecretsClient, isLoopback, resolveSecretsClientSettings, type Env } from '../shared/secrets-client';
import { withCallTimeouts } from './bounded-client';
import { applyRepair, type RedrivePath, type RepairOutcome } from './apply-repair';
import { checkEndpointUrl, parseCommandLine } from './cli-args';
import { asksForJson, describeError, EXIT_FAILED, EXIT_OK, EXIT_USAGE, failureDocument, progressFor, type CliIo } from './cli-io';
import { isRepairAction, planRepair, renderRepairPlan, REPAIR_ACTIONS, type RepairAction } from './repair-plan';
import { isRotationComplete, readRotationStatus, toStatusDocument } from './rotation-status';
import { renderRotationStatus } from './status-report';
import { describeVerification, verifyCurrent, type CurrentVerification } from './verify-current';

const COMMON_FLAGS = {
  'secret-id': { type: 'string' },
  endpoint: { type: 'string' },
  region: { type: 'string' },
  json: { type: 'boolean' },
} as const;
const REPAIR_FLAGS = {
  ...COMMON_FLAGS,
  yes: { type: 'boolean' },
  action: { type: 'string' },
  'wait-seconds': { type: 'string' },
  'labels-only': { type: 'boolean' },
} as const;

export const STATUS_USAGE = `Usage: npm run rotation:status -- --secret-id ID [--json] [--endpoint URL] [--region REGION]

Versions and labels, rotation configuration, last and next rotation, and whether a rotation is stuck
(AWSPENDING on a version that is not AWSCURRENT). --json prints one document with every field present:
"stuck" (null, or the stray AWSPENDING) and "complete" (true when AWSCURRENT is on exactly one version
and no rotation is unfinished). The endpoint comes from the usual AWS environment
(AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL, SECRETS_MANAGER_ENDPOINT, ENVIRONMENT=local) unless given.`;

export const REPAIR_USAGE = `Usage: npm run rotation:repair -- --secret-id ID [--yes] [--action ${REPAIR_ACTIONS.join('|')}] [--json]
                                [--wait-seconds N] [--labels-only] [--endpoint URL] [--region REGION]

For a stuck rotation, shows what it would do; with --yes, does it. remove-pending removes the stray
AWSPENDING label (AWSCURRENT untouched). redrive resumes the stuck rotation with its own token (RotateSecret,
which Secrets Manager answers "A previous rotation isn't complete. That rotation will be reattempted.") and
waits --wait-seconds until AWSCURRENT moves to the stuck version; only if it does not, it removes the label
and starts a new rotation (a single-user secret whose setSecret already ran may then need its masterarn);
that fallback happens once per stuck rotation: a later run resumes it rather than make another version.
Default: redrive when rotation is on with a function, else remove-pending.

Before it exits 0 it verifies: AWSCURRENT on exactly one version (named), no stray AWSPENDING, and, when
the database is reachable from here, that this version's credentials log in (SELECT 1). When it cannot
log in from here, or with --labels-only, it says it checked labels only. Waits show progress on stderr.`;

/** The yes/no fields of each command's JSON document, as a failed run leaves them. */
const STATUS_FAILED = { complete: false } as const;
const REPAIR_FAILED = { applied: false, resolved: false, verified: false } as const;

/** `rotation:status`, in-process: the exit code; the table or JSON on `io.stdout`, errors on `io.stderr`. */
export async function runRotationStatusCli(argv: readonly string[], io: CliIo): Promise<number> {
  let flags;
  try {
    const line = parseCommandLine(argv, COMMON_FLAGS);
    if (line.help) {
      io.stdout(STATUS_USAGE);
      return EXIT_OK;
    }
    flags = line.flags;
    requireSecretId(flags['secret-id']);
    if (flags.endpoint !== undefined) checkEndpointUrl(flags.endpoint);
  } catch (err) {
    io.stderr(`rotation:status: ${describeError(err)}\n\n${STATUS_USAGE}`);
    if (asksForJson(argv)) io.stdout(failureDocument(describeError(err), STATUS_FAILED));
    return EXIT_USAGE;
  }
  const secretId = flags['secret-id'] as string;
  try {
    const client = withCallTimeouts(getSecretsClient(clientEnv(io.env, flags.endpoint, flags.region)), io.callTimeouts);
    const status = await readRotationStatus(client, secretId);
    io.stdout(flags.json ? JSON.stringify(toStatusDocument(status), null, 2) : renderRotationStatus(status));
    return EXIT_OK;
  } catch (err) {
    const line = `${describeError(err)}${whereIfUnreachable(err, clientEnv(io.env, flags.endpoint, flags.region))}`;
    io.stderr(`rotation:status: ${line}`);
    if (flags.json) io.stdout(failureDocument(line, STATUS_FAILED));
    return EXIT_FAILED;
  }
}

/**
 * `rotation:repair`, in-process: the plan, then (with --yes) the repair and its verification. Exit 0
 * only for a dry run, a healthy secret, or a repair whose result was verified.
 */
export async function runRotationRepairCli(argv: readonly string[], io: CliIo): Promise<number> {
  let flags;
  let action: RepairAction | undefined;
  let waitMs: number | undefined;
  try {
    const line = parseCommandLine(argv, REPAIR_FLAGS);
    if (line.help) {
      io.stdout(REPAIR_USAGE);
      return EXIT_OK;
    }
    flags = line.flags;
    requireSecretId(flags['secret-id']);
    if (flags.endpoint !== undefined) checkEndpointUrl(flags.endpoint);
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
    if (asksForJson(argv)) io.stdout(failureDocument(describeError(err), REPAIR_FAILED));
    return EXIT_USAGE;
  }
  const secretId = flags['secret-id'] as string;
  try {
    const env = clientEnv(io.env, flags.endpoint, flags.region);
    const client = withCallTimeouts(getSecretsClient(env), io.callTimeouts);
    const before = await readRotationStatus(client, secretId);
    const plan = planRepair(before, action);
    const apply = flags.yes === true && plan.action !== 'none';
    if (!apply) {
      const healthy = plan.action === 'none' && isRotationComplete(before);
      const document = { plan, applied: false, resolved: healthy, after: toStatusDocument(before) };
      const problems = plan.action === 'none' ? before.problems.map((p) => `problem (not something rotation:repair changes): ${p}`) : [];
      io.stdout(flags.json ? JSON.stringify(document, null, 2) : [renderRepairPlan(plan, false), ...problems].join('\n'));
      // Nothing it can repair on a secret that is not healthy is a failure; a dry run or a healthy secret is not.
      return plan.action === 'none' && !healthy ? EXIT_FAILED : EXIT_OK;
    }
    // The plan, AWSCURRENT's fate included, is said before anything is changed.
    if (!flags.json) io.stdout(renderRepairPlan(plan, true));
    const progress = progressFor(io, 'rotation:repair');
    const outcome = await applyRepair(client, secretId, plan, { waitMs: waitMs ?? defaultWaitMs(env), progress });
    const verification = outcome.resolved
      ? await verifyCurrent(client, secretId, outcome.after, { labelsOnly: flags['labels-only'] === true, env: io.env })
      : undefined;
    const verified = verification !== undefined && verification.labelsOk && verification.login !== 'refused';
    if (flags.json) {
      io.stdout(
        JSON.stringify(
          { ...outcome, after: toStatusDocument(outcome.after), verified, ...(verification ? { verification } : {}) },
          null,
          2,
        ),
      );
    } else {
      io.stdout(repairVerdict(outcome, verification, verified));
    }
    return verified ? EXIT_OK : EXIT_FAILED;
  } catch (err) {
    const line = `${describeError(err)}${whereIfUnreachable(err, clientEnv(io.env, flags.endpoint, flags.region))}`;
    io.stderr(`rotation:repair: ${line}`);
    if (flags.json) io.stdout(failureDocument(line, REPAIR_FAILED));
    return EXIT_FAILED;
  }
}

/** The last lines: "repaired" only with a verification behind it, and what was verified. */
function repairVerdict(outcome: RepairOutcome, verification: CurrentVerification | undefined, verified: boolean): string {
  if (!outcome.resolved || verification === undefined) {
    return `not repaired: ${outcome.error ?? 'a stray AWSPENDING is still there'}`;
  }
  if (!verified) return `not repaired: ${describeVerification(verification)}`;
  return [
    `repaired: no stray AWSPENDING is left; AWSCURRENT is on ${verification.versionId}${pathNote(outcome.path)}`,
    describeVerification(verification),
  ].join('\n');
}

function pathNote(path: RedrivePath | undefined): string {
  if (path === 'resumed') return ' (the stuck rotation was resumed with its own token)';
  if (path === 'fresh-rotation') return ' (the stuck rotation did not complete in time: a new rotation replaced it)';
  return '';
}

/** What to do when nothing listens at a Secrets Manager endpoint on this machine. */
const LOOPBACK_HINT =
  'nothing listens there on this machine: start the endpoint (`npm run local:endpoint`, or LocalStack with `docker compose up -d --wait`), or point --endpoint (or SECRETS_MANAGER_ENDPOINT) at one that runs';

/**
 * For an endpoint that did not answer: which one, as host:port (a URL could carry credentials in its
 * user part, so only host and port are shown), or the AWS region.
 */
function whereIfUnreachable(err: unknown, env: Env): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (code !== 'NETWORK' && code !== 'TIMEOUT') return '';
  try {
    const settings = resolveSecretsClientSettings(env);
    if (settings.endpoint === undefined) return ` (AWS Secrets Manager in ${settings.region})`;
    const url = new URL(settings.endpoint);
    const where = ` (endpoint ${url.protocol}//${url.hostname}:${url.port || (url.protocol === 'https:' ? '443' : '80')})`;
    // On this machine no VPC is in the way: nothing runs there yet (ENVIRONMENT=local points at 4566).
    return code === 'NETWORK' && isLoopback(settings.endpoint) ? `${where}: ${LOOPBACK_HINT}` : where;
  } catch {
    return '';
  }
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
