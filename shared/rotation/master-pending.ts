/**
 * The master secret caught in the middle of its own single-user rotation: its setSecret has set the new
 * password on the server and its finishSecret has not yet moved AWSCURRENT (RDS's managed rotation of
 * the master user, or the master's own rotation function failing or waiting between the two steps). For
 * that window the master's AWSCURRENT is refused and its AWSPENDING logs in, as the pools know for
 * application secrets (pool-credentials.ts). Without this, every rotation needing the master fails
 * with the master "refused", blaming a master secret that is fine. The pending version is used only
 * for the same user on the same server, and only for the one session; nothing of the master changes.
 */
import { parseDatabaseSecret, toRecord, type DatabaseSecret } from '../database-secret';
import { AuthenticationError } from '../errors';
import { nextVersionString } from './create-secret';
import { AWSPENDING, getSecretString } from './secret-versions';
import type { StepContext } from './step-context';

/**
 * Whether a refused master login may be the master's own rotation under way: a refusal of the
 * password as far as the code tells (not a database, connection-limit or account state it names).
 */
export function refusedAsMidRotation(err: unknown): err is AuthenticationError {
  return err instanceof AuthenticationError && (err.reason === 'undetermined' || err.reason === 'wrong-password');
}

/**
 * The master as its AWSPENDING version stands: `master` (host, port, engine as resolved, for an
 * RDS-managed master through the RDS API) with the pending password. Undefined when the master has no
 * readable AWSPENDING, or it names another user or host (then it is no new password of this account),
 * or its password is the current one.
 */
export async function pendingMaster(ctx: StepContext, masterArn: string, master: DatabaseSecret): Promise<DatabaseSecret | undefined> {
  let text: string;
  try {
    text = await getSecretString({ client: ctx.client, step: ctx.step }, masterArn, { stage: AWSPENDING });
  } catch {
    // None, or not readable (an IAM condition on the version stage): the master's refusal stands.
    return undefined;
  }
  const parsed = toRecord(text);
  if ('problem' in parsed) return undefined;
  const { username, password, host } = parsed.record;
  if (username !== master.username || typeof password !== 'string' || password === '' || password === master.password) return undefined;
  if (host !== undefined && (typeof host !== 'string' || host.toLowerCase() !== master.host.toLowerCase())) return undefined;
  try {
    return parseDatabaseSecret(nextVersionString(master, master.username, password), {
      secretId: masterArn,
      step: ctx.step,
      expectedFamily: master.family,
      requireEngine: true,
    });
  } catch {
    return undefined;
  }
}
