/**
 * setSecret, single user: the user changes its own password. AWSPENDING is tried first (a retry after the
 * change is a no-op); then AWSCURRENT, then AWSPREVIOUS (with current's `ssl`), as in the templates.
 * AWSPREVIOUS is read only once AWSCURRENT has been refused: in a normal rotation current logs in, and
 * the read would be a wasted request.
 * Deliberate fix: when none of them logs in and the secret names a `masterarn`, the master sets the
 * password, so a drifted password heals itself instead of failing every rotation.
 */
import type { DatabaseSecret } from '../database-secret';
import { AuthenticationError, StageMismatchError } from '../errors';
import type { SqlSession } from './engine-strategy';
import { tryLogin, withSession } from './login';
import { loginAsMaster } from './master-secret';
import { AWSCURRENT, AWSPENDING, readDatabaseSecret, readPreviousSecret } from './secret-versions';
import type { StepContext, StepResult } from './step-context';

export async function setSecretSingleUser(ctx: StepContext): Promise<StepResult> {
  const readCtx = { client: ctx.client, step: ctx.step };
  const family = ctx.strategy.family;
  const current = await readDatabaseSecret(readCtx, ctx.secretArn, { stage: AWSCURRENT }, family);
  const pending = await readDatabaseSecret(readCtx, ctx.secretArn, { stage: AWSPENDING, versionId: ctx.event.token }, family);

  const already = await tryLogin(ctx, pending, 'pending');
  if (already !== undefined) {
    await already.close();
    return 'skipped';
  }
  assertSameAccount(ctx, pending, current, 'current');

  let session: SqlSession | undefined = await tryLogin(ctx, current, 'current');
  if (session === undefined) {
    const previous = await readPreviousSecret(readCtx, ctx.secretArn, family);
    if (previous !== undefined) {
      assertSameAccount(ctx, pending, previous, 'previous');
      session = await tryLogin(ctx, previous, 'previous', { sslFrom: current });
    }
  }
  if (session !== undefined) {
    await withSession(session, async (s) => {
      const server = await ctx.strategy.serverInfo(s);
      await ctx.strategy.setOwnPassword(s, server, pending.username, pending.password);
    });
    return 'success';
  }

  if (current.masterarn === undefined) {
    throw new AuthenticationError('Unable to log into the database with the previous, current or pending secret', {
      secretId: ctx.secretArn,
      step: ctx.step,
    });
  }
  await setAsMaster(ctx, current, current.masterarn, pending);
  return 'success';
}

async function setAsMaster(ctx: StepContext, current: DatabaseSecret, masterArn: string, pending: DatabaseSecret): Promise<void> {
  ctx.logger.log({
    level: 'warn',
    message: 'Neither the current nor the previous password logs in: the master secret resets the password',
    secretArn: ctx.secretArn,
    step: ctx.step,
    engine: ctx.strategy.family,
    username: pending.username,
    host: pending.host,
  });
  const session = await loginAsMaster(ctx, current, masterArn);
  await withSession(session, async (s) => {
    const server = await ctx.strategy.serverInfo(s);
    await ctx.strategy.setPasswordAsMaster(s, server, pending.username, pending.password);
  });
}

function assertSameAccount(ctx: StepContext, pending: DatabaseSecret, other: DatabaseSecret, label: 'current' | 'previous'): void {
  const context = { secretId: ctx.secretArn, step: ctx.step };
  if (pending.username !== other.username) {
    throw new StageMismatchError(`Attempting to modify user ${pending.username} other than the ${label} user ${other.username}`, context);
  }
  if (pending.host !== other.host) {
    throw new StageMismatchError(`Attempting to modify the user on host ${pending.host} other than the ${label} host ${other.host}`, context);
  }
}
