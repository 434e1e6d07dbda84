/**
 * One master session per step, opened on first use and closed by the step: diagnosis, healing and the
 * engine's own fallbacks (MySQL's other host parts, RDS's restricted password commands) share it.
 */
import type { DatabaseSecret } from '../database-secret';
import type { ServerInfo, SqlSession } from './database-engine';
import { loginAsMaster, resolveMasterFor } from './master-secret';
import { pendingMaster, refusedAsMidRotation } from './master-pending';
import type { StepContext } from './step-context';

/** A master session opened lazily, with the server it runs on. */
export interface MasterSession {
  /** The master secret, read (and resolved through RDS for an RDS-managed one) once; `open` reuses it. */
  secret(): Promise<DatabaseSecret>;
  /** Logs in as the master on first call; later calls return the same session. */
  open(): Promise<SqlSession>;
  /** The server behind the master session (asked once). */
  server(): Promise<ServerInfo>;
  /** Closes the session when one was opened; never throws. */
  close(): Promise<void>;
}

/** How the master's session may be opened. */
export interface MasterSessionOptions {
  /**
   * When the child's database refuses the master (it lacks CONNECT there, or the database is missing),
   * open the master's own database (its `dbname`, else the engine's default) instead: for work on roles,
   * which are server-wide (single-user diagnosis and healing), not for work inside the child's database.
   * @default false
   */
  readonly anyDatabase?: boolean;
}

/** The master named by `child.masterarn`, or undefined when the secret names none. */
export function masterSessionFor(ctx: StepContext, child: DatabaseSecret, options: MasterSessionOptions = {}): MasterSession | undefined {
  const masterArn = child.masterarn;
  if (masterArn === undefined) return undefined;
  let resolved: Promise<DatabaseSecret> | undefined;
  let session: Promise<SqlSession> | undefined;
  let server: Promise<ServerInfo> | undefined;
  const secret = (): Promise<DatabaseSecret> => (resolved ??= resolveMasterFor(ctx, child, masterArn));
  const open = (): Promise<SqlSession> =>
    (session ??= secret().then((master) => openAsMaster(ctx, child, master, masterArn, { anyDatabase: options.anyDatabase === true })));
  return {
    secret,
    open,
    server: async () => (server ??= open().then((s) => ctx.engine.serverInfo(s))),
    async close() {
      if (session === undefined) return;
      const opened = await session.catch(() => undefined);
      await opened?.close();
    },
  };
}

/**
 * The master's session: with its AWSCURRENT, or, when that is refused and the master secret is in the
 * middle of its own rotation, with its AWSPENDING (see master-pending.ts), saying so in a warning.
 * @throws the refusal of AWSCURRENT when AWSPENDING is absent or refused too
 */
async function openAsMaster(
  ctx: StepContext,
  child: DatabaseSecret,
  master: DatabaseSecret,
  masterArn: string,
  options: { readonly anyDatabase: boolean },
): Promise<SqlSession> {
  try {
    return await loginAsMaster(ctx, child, master, options);
  } catch (err) {
    if (!refusedAsMidRotation(err)) throw err;
    const pending = await pendingMaster(ctx, masterArn, master);
    if (pending === undefined) throw err;
    const session = await loginAsMaster(ctx, child, pending, options).catch(() => undefined);
    if (session === undefined) throw err;
    ctx.logger.log({
      level: 'warn',
      message:
        "The master secret's AWSCURRENT was refused and its AWSPENDING logs in: the master secret is in the middle of its own rotation, so this step acts with its pending password and changes nothing of the master",
      secretArn: ctx.secretArn,
      step: ctx.step,
      engine: ctx.engine.family,
      username: master.username,
      host: master.host,
    });
    return session;
  }
}
