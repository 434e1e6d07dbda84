/**
 * What `rotation:repair` checks before it says "repaired": AWSCURRENT on exactly one version, and,
 * when the database is reachable from here, that this version's credentials log in. A login it cannot
 * attempt (no route, TLS it cannot satisfy, a secret that is not a database secret) is said as such:
 * "labels only", never silently passed off as a verified login.
 *
 * The value is read to log in and goes nowhere else: no password, host list or value is printed.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { parseTlsMode, resolveTlsMode } from '../shared/connection-options';
import { parseDatabaseSecret, type DatabaseSecret } from '../shared/database-secret';
import { fromSecretsManagerError, isToolkitError } from '../shared/errors';
import type { Connector } from '../shared/rotation/database-engine';
import type { Env } from '../shared/secrets-client';
import { AWSCURRENT, type RotationStatus } from './rotation-status';

/**
 * - `logs-in`: AWSCURRENT's credentials opened a session and ran `SELECT 1`.
 * - `refused`: the server answered and refused them: the secret does not match the database.
 * - `labels-only`: no login was attempted or possible; `note` says why.
 */
export type LoginVerdict = 'logs-in' | 'refused' | 'labels-only';

export interface CurrentVerification {
  /** The version AWSCURRENT is on, when it is on exactly one. */
  readonly versionId?: string;
  /** AWSCURRENT on exactly one version. */
  readonly labelsOk: boolean;
  readonly login: LoginVerdict;
  /** Why the login was not checked, or what refused it: never a value. */
  readonly note?: string;
  /** `host:port` of the database tried, when one was. */
  readonly database?: string;
}

export interface VerifyCurrentOptions {
  /** Skip the login: `--labels-only`. */
  readonly labelsOnly?: boolean;
  /** DB_TLS_MODE for secrets without `ssl`. @default verify-full */
  readonly env?: Env;
  /** The engine's connector, by family; tests inject their own. @default pg / mysql2 through the engines */
  readonly connectorFor?: (family: DatabaseSecret['family']) => Promise<Connector>;
  /** @default 5000 */
  readonly connectTimeoutMs?: number;
}

/** Checks the labels of `status`, then (unless told not to) a login as AWSCURRENT. */
export async function verifyCurrent(
  client: SecretsManagerClient,
  secretId: string,
  status: RotationStatus,
  options: VerifyCurrentOptions = {},
): Promise<CurrentVerification> {
  const holders = status.versions.filter((v) => v.stages.includes(AWSCURRENT));
  if (holders.length !== 1) {
    return { labelsOk: false, login: 'labels-only', note: `AWSCURRENT is on ${holders.length} versions: no login tried` };
  }
  const versionId = holders[0]!.versionId;
  if (options.labelsOnly) return { versionId, labelsOk: true, login: 'labels-only', note: '--labels-only' };
  let secret: DatabaseSecret;
  try {
    const out = await client.send(new GetSecretValueCommand({ SecretId: secretId, VersionId: versionId }));
    secret = parseDatabaseSecret(out.SecretString ?? null, { secretId });
  } catch (err) {
    const why =
      isToolkitError(err) && err.code === 'SECRET_INVALID'
        ? 'the value is not an RDS-format database secret'
        : `its value could not be read (${fromSecretsManagerError(err, 'GetSecretValue', { secretId }).code})`;
    return { versionId, labelsOk: true, login: 'labels-only', note: why };
  }
  const database = `${secret.host}:${secret.port}`;
  let tlsMode;
  try {
    tlsMode = resolveTlsMode(secret.ssl, parseTlsMode(options.env?.DB_TLS_MODE));
  } catch {
    return { versionId, labelsOk: true, login: 'labels-only', database, note: 'DB_TLS_MODE is not a TLS mode' };
  }
  const connect = await (options.connectorFor ?? defaultConnector)(secret.family);
  try {
    const session = await connect({
      family: secret.family,
      secret,
      role: 'current',
      tlsMode,
      connectTimeoutMs: options.connectTimeoutMs ?? 5000,
      secretId,
      step: 'verify',
    });
    try {
      await session.query('SELECT 1');
    } finally {
      await session.close();
    }
    return { versionId, labelsOk: true, login: 'logs-in', database };
  } catch (err) {
    const code = isToolkitError(err) ? err.code : 'UNKNOWN';
    if (code === 'AUTH_FAILED')
      return { versionId, labelsOk: true, login: 'refused', database, note: `the server refused the login (${code})` };
    const why =
      code === 'NETWORK' || code === 'TIMEOUT'
        ? 'the database is not reachable from here'
        : code === 'TLS'
          ? 'TLS could not be set up from here'
          : 'the login could not be completed';
    return { versionId, labelsOk: true, login: 'labels-only', database, note: `${why} (${code})` };
  }
}

/** The engines' own connectors, loaded only when a login is tried (each pulls its driver). */
async function defaultConnector(family: DatabaseSecret['family']): Promise<Connector> {
  if (family === 'postgres') return (await import('../shared/engines/postgres')).postgresEngine.defaultConnector;
  return (await import('../shared/engines/mysql')).mysqlEngine.defaultConnector;
}

/** One line for the operator, naming the version checked. */
export function describeVerification(v: CurrentVerification): string {
  if (!v.labelsOk) return `labels: ${v.note ?? 'AWSCURRENT is not on exactly one version'}`;
  const where = v.database ? ` at ${v.database}` : '';
  switch (v.login) {
    case 'logs-in':
      return `verified: AWSCURRENT is on exactly one version, ${v.versionId}, and its credentials log in${where}`;
    case 'refused':
      return `AWSCURRENT is on exactly one version, ${v.versionId}, but its credentials do NOT log in${where}: ${v.note ?? 'refused'}`;
    default:
      return `checked labels only: AWSCURRENT is on exactly one version, ${v.versionId}; no login tried${where} (${v.note ?? 'no database access'})`;
  }
}
