/**
 * Checks a rotation from outside the rotation code: the labels through the Secrets Manager API, the
 * passwords by logging in to the database directly, and the endpoint's own record of the steps where it
 * has one. LocalStack answers RotateSecret with success even when a step failed, so only this counts.
 */
import { DescribeSecretCommand, GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { parseDatabaseSecret, type DatabaseSecret } from '../../shared/database-secret';
import { fromSecretsManagerError } from '../../shared/errors';
import type { RotationRecord } from '../../emulator';

export interface Check {
  readonly name: string;
  readonly ok: boolean;
}

export interface SecretSnapshot {
  readonly versionId: string;
  readonly secret: DatabaseSecret;
}

/** Whether these credentials log in, as a client outside the rotation function would. */
export type LoginProbe = (secret: DatabaseSecret) => Promise<boolean>;

export async function readVersion(
  client: SecretsManagerClient,
  secretId: string,
  selector: { readonly stage: string } | { readonly versionId: string },
): Promise<SecretSnapshot> {
  try {
    const out = await client.send(
      new GetSecretValueCommand({
        SecretId: secretId,
        ...('stage' in selector ? { VersionStage: selector.stage } : { VersionId: selector.versionId }),
      }),
    );
    return { versionId: out.VersionId ?? '', secret: parseDatabaseSecret(out.SecretString, { secretId }) };
  } catch (err) {
    throw fromSecretsManagerError(err, 'GetSecretValue', { secretId });
  }
}

export interface VerifyRequest {
  readonly client: SecretsManagerClient;
  readonly secretId: string;
  readonly before: SecretSnapshot;
  /** The ClientRequestToken the rotation was started with: the id of the version it creates. */
  readonly token: string;
  readonly canLogin: LoginProbe;
  readonly history?: (secretId: string) => readonly RotationRecord[];
}

export interface Verification {
  readonly checks: readonly Check[];
  /** The strategy the result shows: the user changed (alternating) or not (single user). */
  readonly observed: 'single-user' | 'alternating-users' | 'unknown';
  /** The run the endpoint recorded for this token, when it keeps records. */
  readonly record?: RotationRecord;
  readonly after?: SecretSnapshot;
}

export async function verifyRotation(request: VerifyRequest): Promise<Verification> {
  const { client, secretId, before, token } = request;
  const checks: Check[] = [];
  const record = request
    .history?.(secretId)
    .filter((r) => r.token === token)
    .pop();
  if (request.history) {
    checks.push({ name: 'endpoint history: every step succeeded', ok: record?.outcome === 'succeeded' });
  }
  let described;
  try {
    described = await client.send(new DescribeSecretCommand({ SecretId: secretId }));
  } catch (err) {
    throw fromSecretsManagerError(err, 'DescribeSecret', { secretId });
  }
  const stages = described.VersionIdsToStages ?? {};
  const has = (versionId: string, stage: string): boolean => stages[versionId]?.includes(stage) === true;
  checks.push({ name: 'AWSCURRENT is on the new version', ok: has(token, 'AWSCURRENT') });
  checks.push({ name: 'AWSPREVIOUS is on the replaced version', ok: has(before.versionId, 'AWSPREVIOUS') });
  const stray = Object.values(stages).some((s) => s?.includes('AWSPENDING') && !s.includes('AWSCURRENT'));
  checks.push({ name: 'no stray AWSPENDING', ok: !stray });
  if (!has(token, 'AWSCURRENT')) return { checks, observed: 'unknown', ...(record ? { record } : {}) };

  const after = await readVersion(client, secretId, { versionId: token });
  checks.push({ name: 'the password changed', ok: after.secret.password !== before.secret.password });
  checks.push({ name: 'the AWSCURRENT login works', ok: await request.canLogin(after.secret) });
  const alternating = after.secret.username !== before.secret.username;
  if (alternating) {
    checks.push({ name: 'the previous user still logs in', ok: await request.canLogin(before.secret) });
  } else {
    checks.push({ name: 'the replaced password no longer logs in', ok: !(await request.canLogin(before.secret)) });
  }
  return { checks, observed: alternating ? 'alternating-users' : 'single-user', ...(record ? { record } : {}), after };
}
