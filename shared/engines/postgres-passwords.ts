/**
 * PostgreSQL password changes: the stored form the server expects (SCRAM-SHA-256 verifier, or md5 when
 * password_encryption says so), computed here so no plaintext reaches the server's statement logs, and
 * the single-user statements that set it.
 */
import type { OwnPasswordChange, Row, ServerInfo, SqlSession } from '../rotation/engine-strategy';
import { PASSWORD_ENCRYPTION_SQL, SERVER_INFO_SQL, passwordHashAsync, postgresServerInfo, setPasswordAsMasterSql, setPasswordSql } from './postgres-sql';

/** password_encryption as read by `readPostgresServerInfo` on a session, so the password change need not ask again. */
const passwordEncryptionBySession = new WeakMap<SqlSession, string>();

/** The server's version and flavour; remembers its password_encryption for this session. */
export async function readPostgresServerInfo(session: SqlSession): Promise<ServerInfo> {
  const row = (await session.query(SERVER_INFO_SQL))[0] ?? {};
  passwordEncryptionBySession.set(session, passwordEncryptionOf(row));
  return postgresServerInfo(String(row.version_num ?? ''), String(row.version ?? ''), row.aurora === true);
}

/** The stored form of `password` (SCRAM verifier or md5) the server's password_encryption asks for. */
export async function storedPassword(session: SqlSession, username: string, password: string): Promise<string> {
  return passwordHashAsync(password, username, await readPasswordEncryption(session));
}

/** Single-user: the logged-in role sets its own password. */
export async function setOwnPostgresPassword(session: SqlSession, _server: ServerInfo, change: OwnPasswordChange): Promise<void> {
  const hash = await storedPassword(session, change.username, change.password);
  await session.query(setPasswordSql(change.username, hash));
}

/** Single-user self-healing: the master sets the role's password. */
export async function setPostgresPasswordAsMaster(session: SqlSession, _server: ServerInfo, username: string, password: string): Promise<void> {
  const hash = await storedPassword(session, username, password);
  await session.query(setPasswordAsMasterSql(username, hash));
}

async function readPasswordEncryption(session: SqlSession): Promise<string> {
  const known = passwordEncryptionBySession.get(session);
  if (known !== undefined) return known;
  const rows = await session.query(PASSWORD_ENCRYPTION_SQL);
  return passwordEncryptionOf(rows[0]);
}

function passwordEncryptionOf(row: Row | undefined): string {
  return String(row?.password_encryption ?? 'scram-sha-256');
}
