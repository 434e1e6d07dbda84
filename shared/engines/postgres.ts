/**
 * The PostgreSQL rotation strategy on `pg`: the default connector (typed failures, an 'error' listener so
 * a server-side kill cannot crash the process, a connect timeout that is a TimeoutError) and the SQL of
 * `postgres-sql.ts`. Importing this module registers the strategy for `createRotationHandler({ engine:
 * 'postgres' })`. pg itself is required on the first login, not at import: a bundled CommonJS module
 * runs its initialisation when first required, so the Lambda's init does not pay for it.
 */
import type * as Pg from 'pg';
import { toPgClientConfig } from '../connection-options';
import { NetworkError, TimeoutError } from '../errors';
import { registerEngineStrategy } from '../rotation/engine-registry';
import type { ConnectRequest, Connector, EngineStrategy, Row, ServerInfo, SqlSession } from '../rotation/engine-strategy';
import { DEFAULT_EXCLUDE_CHARACTERS } from '../rotation/password-policy';
import { classifyConnectError, classifyStatementError, codeOf } from './driver-errors';
import {
  MEMBERSHIP_SQL,
  PASSWORD_ENCRYPTION_SQL,
  ROLE_EXISTS_SQL,
  SERVER_INFO_SQL,
  createRoleSql,
  defaultRoleSql,
  grantMembershipSql,
  passwordHashAsync,
  postgresServerInfo,
  postgresUsernameProblem,
  setPasswordAsMasterSql,
  setPasswordSql,
} from './postgres-sql';

let pg: typeof Pg | undefined;

function loadPg(): typeof Pg {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  pg ??= require('pg') as typeof Pg;
  return pg;
}

/** password_encryption as read by `serverInfo` on a session, so the password change need not ask again. */
const passwordEncryptionBySession = new WeakMap<SqlSession, string>();

const APPLICATION_NAME = 'secrets-manager-rotation';

export const connectPostgres: Connector = async (request: ConnectRequest): Promise<SqlSession> => {
  const errorContext = { family: 'postgres' as const, role: request.role, secretId: request.secretId, step: request.step };
  const config = toPgClientConfig(request.secret, {
    tlsMode: request.tlsMode,
    // The rotation already chose the mode (the previous secret logs in with the current one's `ssl`).
    tlsModeFinal: true,
    connectTimeoutMs: request.connectTimeoutMs,
    ...(request.caBundlePath !== undefined ? { caBundlePath: request.caBundlePath } : {}),
    ...(request.database !== undefined ? { database: request.database } : {}),
    secretId: request.secretId,
    step: request.step,
  });
  // pg's own timeout fires a little later as a backstop; ours reports a TimeoutError rather than a
  // codeless "timeout expired".
  const client = new (loadPg().Client)({ ...config, connectionTimeoutMillis: request.connectTimeoutMs + 1_000, application_name: APPLICATION_NAME });
  // A connection the server kills while idle fails the NEXT statement with a codeless error; remember
  // why it ended, so that statement reports a lost connection (retryable) and not a refused statement.
  let lostCode: string | undefined;
  client.on('error', (err: unknown) => (lostCode ??= codeOf(err) ?? 'ECONNRESET'));
  client.on('end', () => (lostCode ??= 'ECONNRESET'));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new TimeoutError(`PostgreSQL login with the ${request.role} secret timed out after ${request.connectTimeoutMs} ms`, errorContext)),
      request.connectTimeoutMs,
    );
  });
  try {
    await Promise.race([client.connect(), timeout]);
  } catch (err) {
    await client.end().catch(() => undefined);
    throw classifyConnectError(err, errorContext);
  } finally {
    clearTimeout(timer);
  }
  return {
    async query(sql: string, params?: readonly unknown[]): Promise<readonly Row[]> {
      try {
        const result = await client.query(sql, params === undefined ? undefined : [...params]);
        return result.rows as Row[];
      } catch (err) {
        if (lostCode !== undefined && codeOf(err) === undefined) {
          throw new NetworkError(`PostgreSQL as the ${request.role} user: the connection was lost (${lostCode})`, {
            ...errorContext,
            cause: { name: 'ConnectionLost', code: lostCode },
          });
        }
        throw classifyStatementError(err, { ...errorContext, action: 'a statement' });
      }
    },
    async close(): Promise<void> {
      await client.end().catch(() => undefined);
    },
  };
};

async function readPasswordEncryption(session: SqlSession): Promise<string> {
  const known = passwordEncryptionBySession.get(session);
  if (known !== undefined) return known;
  const rows = await session.query(PASSWORD_ENCRYPTION_SQL);
  return passwordEncryptionOf(rows[0]);
}

function passwordEncryptionOf(row: Row | undefined): string {
  return String(row?.password_encryption ?? 'scram-sha-256');
}

async function storedPassword(session: SqlSession, username: string, password: string): Promise<string> {
  return passwordHashAsync(password, username, await readPasswordEncryption(session));
}

async function inTransaction(session: SqlSession, work: () => Promise<void>): Promise<void> {
  await session.query('BEGIN');
  try {
    await work();
    await session.query('COMMIT');
  } catch (err) {
    await session.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

export const postgresStrategy: EngineStrategy = {
  family: 'postgres',
  defaultExcludeCharacters: DEFAULT_EXCLUDE_CHARACTERS.postgres,
  defaultConnector: connectPostgres,

  usernameProblem: (username) => postgresUsernameProblem(username),

  async serverInfo(session): Promise<ServerInfo> {
    const row = (await session.query(SERVER_INFO_SQL))[0] ?? {};
    passwordEncryptionBySession.set(session, passwordEncryptionOf(row));
    return postgresServerInfo(String(row.version_num ?? ''), String(row.version ?? ''), row.aurora === true);
  },

  async runTestQuery(session, sql) {
    await session.query(sql);
  },

  async setOwnPassword(session, _server, username, password) {
    const hash = await storedPassword(session, username, password);
    await session.query(setPasswordSql(username, hash));
  },

  async setPasswordAsMaster(session, _server, username, password) {
    const hash = await storedPassword(session, username, password);
    await session.query(setPasswordAsMasterSql(username, hash));
  },

  async syncAlternateUser(session, server, change) {
    const { currentUsername, alternateUsername, password } = change;
    const hash = await storedPassword(session, alternateUsername, password);
    await inTransaction(session, async () => {
      const exists = (await session.query(ROLE_EXISTS_SQL, [alternateUsername])).length > 0;
      await session.query(exists ? setPasswordAsMasterSql(alternateUsername, hash) : createRoleSql(alternateUsername, hash));
      const membership = (await session.query(MEMBERSHIP_SQL, [currentUsername, alternateUsername]))[0] ?? {};
      // The role that existed first owns everything; the other is its member and starts its sessions as
      // it. When the alternate already owns the current user (a later rotation), nothing changes.
      if (membership.role_of_member === true) return;
      if (membership.member_of_role !== true) await session.query(grantMembershipSql(currentUsername, alternateUsername, server));
      await session.query(defaultRoleSql(alternateUsername, currentUsername));
    });
  },
};

registerEngineStrategy(postgresStrategy);
