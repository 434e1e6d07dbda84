/**
 * One master session per step, opened on first use and closed by the step: diagnosis, healing and the
 * engine's own fallbacks (MySQL's other host parts, RDS's restricted password commands) share it.
 */
import type { DatabaseSecret } from '../database-secret';
import type { ServerInfo, SqlSession } from './database-engine';
import { SecretValidationError } from '../errors';
import { loginAsMaster, resolveMasterSecret } from './master-secret';
import type { StepContext } from './step-context';

/** A master session opened lazily, with the server it runs on. */
export interface MasterSession {
  /** Logs in as the master on first call; later calls return the same session. */
  open(): Promise<SqlSession>;
  /** The master secret, read and validated once (no login). */
  secret(): Promise<DatabaseSecret>;
  /** The server behind the master session (asked once). */
  server(): Promise<ServerInfo>;
  /** Closes the session when one was opened; never throws. */
  close(): Promise<void>;
}

/** The master named by `child.masterarn`, or undefined when the secret names none. */
export function masterSessionFor(ctx: StepContext, child: DatabaseSecret): MasterSession | undefined {
  const masterArn = child.masterarn;
  if (masterArn === undefined) return undefined;
  let secret: Promise<DatabaseSecret> | undefined;
  let session: Promise<SqlSession> | undefined;
  let server: Promise<ServerInfo> | undefined;
  const read = (): Promise<DatabaseSecret> =>
    (secret ??= resolveMasterSecret(
      { client: ctx.client, family: ctx.engine.family, step: ctx.step, rdsLookup: ctx.rdsLookup },
      masterArn,
      child,
    ));
  const open = (): Promise<SqlSession> => (session ??= loginAsMaster(ctx, child, masterArn, read()));
  return {
    open,
    secret: read,
    server: async () => (server ??= open().then((s) => ctx.engine.serverInfo(s))),
    async close() {
      if (session === undefined) return;
      const opened = await session.catch(() => undefined);
      await opened?.close();
    },
  };
}

/**
 * Single-user: the secret's user must not be the master's own user. A user's rotation changes every
 * account of its name, so it would change the master's password behind the master secret's back and
 * lock out everything that uses it (this rotation's own diagnosis and healing among them). A master
 * secret that cannot be read is left to fail where the master is needed.
 * @throws SecretValidationError before any change
 */
export async function assertNotMastersOwnUser(ctx: StepContext, master: MasterSession | undefined, child: DatabaseSecret): Promise<void> {
  // A secret naming itself as its master is the master's own rotation: its secret is the one updated.
  if (master === undefined || child.masterarn === ctx.secretArn) return;
  const secret = await master.secret().catch(() => undefined);
  if (secret === undefined || secret.username !== child.username) return;
  throw new SecretValidationError(
    "The secret's user is the master's own user",
    [
      {
        path: 'username',
        problem: `is the user of its masterarn; a user's rotation would change the master's password behind the master secret`,
      },
    ],
    { secretId: ctx.secretArn, step: ctx.step },
  );
}
