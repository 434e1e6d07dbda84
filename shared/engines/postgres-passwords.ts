/**
 * PostgreSQL password changes: the stored form the server expects (SCRAM-SHA-256 verifier, or md5 when
 * password_encryption says so), computed here so no plaintext reaches the server's statement logs, and
 * the single-user statements that set it.
 *
 * A change leaves everything else about the role as the DBA set it (LOGIN, VALID UNTIL, settings), and
 * works for the accounts real servers hold:
 * - a read-only role (`default_transaction_read_only = on`) changes its password in an explicit READ
 *   WRITE transaction;
 * - a role whose sessions `SET role` to another changes its own password as itself;
 * - under RDS `rds.restrict_password_commands` (only rds_password members may change passwords) the
 *   master makes the change when the secret names one, else the step fails naming the setting;
 * - a role at its CONNECTION LIMIT (or a database at its own) is refused before the change: the login
 *   that must prove the new password would be refused, and the change could not be proven;
 * - a secret whose host is a hot standby (read replica, reader endpoint) is refused before the change,
 *   naming it: a standby changes no role, and the proof there would race the replay of the primary's;
 * - a new password whose SASLprep form differs from itself is refused before the change (clients would
 *   not agree on its SCRAM verifier, see `scramPreparationProblem`);
 * - the verifier kind follows password_encryption (md5 stays md5), except that a role that logged in
 *   with SCRAM keeps SCRAM (see `keptEncryption`), and one whose login showed no kind (a pg_hba
 *   `password` line) keeps the kind the master reads, else gets SCRAM (see `ownEncryption`).
 */
import { AuthenticationError, DatabaseError, SecretValidationError, ToolkitError } from '../errors';
import { ADMIN_OPTION_REQUIRED_FROM_MAJOR, assertMasterAdministers } from './postgres-admin-option';
import type { OwnPasswordChange, Row, ServerInfo, SqlSession } from '../rotation/database-engine';
import { scramPreparationProblem } from './password-hashes';
import {
  CAN_READ_AUTHID_SQL,
  PASSWORD_ENCRYPTION_SQL,
  ROLE_PASSWORD_ENCRYPTION_SQL,
  SERVER_INFO_SQL,
  STORED_SCRAM_SQL,
  passwordHashAsync,
  passwordTransactionSql,
  postgresServerInfo,
  scramIterationsOf,
  setPasswordAsMasterSql,
  setPasswordSql,
  storesMd5,
} from './postgres-sql';
import { postgresLoginAuthentication } from './postgres-connector';
import { INSUFFICIENT_PRIVILEGE } from './postgres-error-codes';

/** What `readPostgresServerInfo` learnt about a session, so the password change need not ask again. */
interface SessionFacts {
  readonly passwordEncryption: string;
  /** scram_iterations (PostgreSQL 16+); undefined: the default. */
  readonly scramIterations?: number;
  readonly readOnly: boolean;
  /** A hot standby (a read replica, an Aurora reader): no statement there may change a role. */
  readonly inRecovery: boolean;
  readonly roleSwitched: boolean;
  readonly restrictPasswordCommands: boolean;
  readonly superuser: boolean;
  /** The login role has REPLICATION (see `replicationRoleBeforeSixteen`). */
  readonly replication: boolean;
  readonly roleConnectionLimit?: number;
  readonly roleSessions?: number;
  readonly databaseConnectionLimit?: number;
  readonly databaseSessions?: number;
}

const factsBySession = new WeakMap<SqlSession, SessionFacts>();

/**
 * Sessions whose own password was already changed in this step. The rotation's first change on a
 * session sets the NEW password; a later one on the same session puts back the password the session
 * logged in with (single-user's proof was refused), which skips the checks meant for new passwords:
 * it just logged in, so its verifier computed as pg computes it is one that works.
 */
const changedSessions = new WeakSet<SqlSession>();

/** The server's version and flavour; remembers what a password change on this session needs. */
export async function readPostgresServerInfo(session: SqlSession): Promise<ServerInfo> {
  const row = (await session.query(SERVER_INFO_SQL))[0] ?? {};
  factsBySession.set(session, factsOf(row));
  return postgresServerInfo(String(row.version_num ?? ''), String(row.version ?? ''), row.aurora === true);
}

/**
 * The stored form of `password` (SCRAM verifier or md5) the server's password_encryption asks for.
 * @throws SecretValidationError when `password` (a new one) changes under SASLprep
 */
export async function storedPassword(session: SqlSession, username: string, password: string): Promise<string> {
  assertScramStablePassword(password);
  const hashing = await readHashing(session);
  return passwordHashAsync(password, username, hashing.passwordEncryption, hashing.scramIterations);
}

/**
 * Single-user: the logged-in role sets its own password, in a READ WRITE transaction when the session is
 * read-only. Under RDS `rds.restrict_password_commands`, and for a REPLICATION role before PostgreSQL 16,
 * the master does it when there is one.
 * @throws SecretValidationError before any change for a password that changes under SASLprep
 * @throws AuthenticationError (reason `connection-limit`) before any change when the proving login
 *   would exceed the role's or the database's CONNECTION LIMIT
 * @throws DatabaseError naming `rds.restrict_password_commands` when the role may not change its own
 *   password and no master can
 * @throws DatabaseError before any change when the session is on a hot standby
 * @throws DatabaseError before any change for a REPLICATION role before PostgreSQL 16 without a master
 *   (the server lets only a superuser alter one); with a master, RoleAdministrationError when it is no superuser
 */
export async function setOwnPostgresPassword(session: SqlSession, server: ServerInfo, change: OwnPasswordChange): Promise<void> {
  const putBack = changedSessions.has(session);
  const facts = factsBySession.get(session);
  if (!putBack) {
    assertScramStablePassword(change.password);
    assertPrimary(facts);
    assertRoomForProof(facts, change.username);
  }
  if (replicationRoleBeforeSixteen(facts, server)) {
    // The server would refuse the role's own ALTER ROLE: the master makes the change (and any put-back).
    if (change.master === undefined) {
      throw new DatabaseError(
        `PostgreSQL ${server.major}: role ${change.username} has REPLICATION, and before PostgreSQL ${ADMIN_OPTION_REQUIRED_FROM_MAJOR} ` +
          'only a superuser may alter a replication role, so it cannot change its own password; give the secret a masterarn ' +
          'whose user is a superuser; the password was not changed',
      );
    }
    const master = await change.master();
    await assertMasterAdministers(master, server, change.username, {}, 'set-password');
    await writePasswordAsMaster(master, change.username, change.password);
    changedSessions.add(session);
    return;
  }
  const hashing = await readHashing(session);
  const hash = await passwordHashAsync(
    change.password,
    change.username,
    await ownEncryption(session, change, hashing.passwordEncryption),
    hashing.scramIterations,
  );
  try {
    await inPasswordTransaction(session, facts, () => session.query(setPasswordSql(change.username, hash)));
  } catch (err) {
    if (!isInsufficientPrivilege(err) || facts?.restrictPasswordCommands !== true) throw err;
    if (change.master === undefined) {
      throw new DatabaseError(
        `PostgreSQL refused the role changing its own password (${INSUFFICIENT_PRIVILEGE}): rds.restrict_password_commands is on, ` +
          'so only members of rds_password may change passwords; give the secret a masterarn whose user is one',
        { ...(err instanceof ToolkitError ? { secretId: err.secretId, step: err.step } : {}), cause: err },
      );
    }
    await writePasswordAsMaster(await change.master(), change.username, change.password);
  }
  changedSessions.add(session);
}

/**
 * Single-user self-healing of proven drift: the master sets the role's password and nothing else (no
 * LOGIN, no VALID UNTIL), in the role's own password_encryption.
 * @throws SecretValidationError before any change for a password that changes under SASLprep
 * @throws DatabaseError before any change when the master's session is on a hot standby
 */
export async function setPostgresPasswordAsMaster(
  session: SqlSession,
  server: ServerInfo,
  username: string,
  password: string,
): Promise<void> {
  assertScramStablePassword(password);
  assertPrimary(factsBySession.get(session));
  // PostgreSQL 16+ lets only a role with ADMIN OPTION on `username` change its password: say so, with the
  // GRANT that fixes it, before anything is written.
  await assertMasterAdministers(session, server, username, {}, 'set-password');
  await writePasswordAsMaster(session, username, password);
}

async function writePasswordAsMaster(master: SqlSession, username: string, password: string): Promise<void> {
  const row = (await master.query(ROLE_PASSWORD_ENCRYPTION_SQL, [username]))[0];
  const encryption = await keptEncryptionAsMaster(master, username, passwordEncryptionOf(row), row?.can_read_authid === true);
  const hash = await passwordHashAsync(password, username, encryption, scramIterationsOf(row?.scram_iterations));
  await inPasswordTransaction(master, factsBySession.get(master), () => master.query(setPasswordAsMasterSql(username, hash)));
}

/**
 * The master's counterpart of `keptEncryption`: under password_encryption md5, a role whose stored
 * password is a SCRAM verifier keeps SCRAM (superuser: pg_authid); when the master cannot read it, SCRAM
 * too if the master's own login was SCRAM or showed no kind (a pg_hba scram-sha-256 line may then stand
 * before the role as well, and a SCRAM verifier also serves md5 lines, an md5 hash no scram-sha-256 line).
 */
async function keptEncryptionAsMaster(master: SqlSession, username: string, encryption: string, canReadAuthid: boolean): Promise<string> {
  if (!storesMd5(encryption)) return encryption;
  if (!canReadAuthid) return keptEncryption(master, encryption);
  const stored = (await master.query(STORED_SCRAM_SQL, [username]))[0];
  return stored?.scram === true ? 'scram-sha-256' : encryption;
}

async function inPasswordTransaction(session: SqlSession, facts: SessionFacts | undefined, work: () => Promise<unknown>): Promise<void> {
  // Unknown facts (a session whose server info was not read) take the safe road.
  const readOnly = facts?.readOnly ?? true;
  const roleSwitched = facts?.roleSwitched ?? true;
  if (!readOnly && !roleSwitched) {
    await work();
    return;
  }
  await session.query(passwordTransactionSql(roleSwitched));
  try {
    await work();
    await session.query('COMMIT');
  } catch (err) {
    await session.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/**
 * The kind of the role's own new verifier. A login through a pg_hba `password` line (or `trust`) shows
 * nothing of the stored kind, as a SCRAM exchange or an md5 challenge does: under password_encryption
 * md5 the stored kind is then read as the master (superuser: pg_authid) and kept, else SCRAM is chosen.
 * An md5 hash written over a SCRAM verifier would lock out every client that meets a scram-sha-256
 * line while the proof, through the same `password` line, passes; a SCRAM verifier serves md5,
 * `password` and scram-sha-256 lines alike.
 */
async function ownEncryption(session: SqlSession, change: OwnPasswordChange, passwordEncryption: string): Promise<string> {
  if (storesMd5(passwordEncryption) && loginShowsNoKind(session) && change.master !== undefined) {
    if ((await storedKindAsMaster(change.master, change.username)) === 'md5') return passwordEncryption;
  }
  return keptEncryption(session, passwordEncryption);
}

/** A login through a pg_hba `password` (or `trust`) line: the server asked no SCRAM exchange or md5 challenge. */
function loginShowsNoKind(session: SqlSession): boolean {
  const login = postgresLoginAuthentication(session);
  return login === 'password' || login === 'none';
}

/**
 * The kind of `username`'s stored password as the master reads it (pg_authid: superuser only); undefined
 * when the master may not read it, has no such role, or fails: the caller then takes the safe kind.
 */
async function storedKindAsMaster(master: () => Promise<SqlSession>, username: string): Promise<'md5' | 'scram' | undefined> {
  try {
    const session = await master();
    const readable = (await session.query(CAN_READ_AUTHID_SQL))[0]?.readable === true;
    if (!readable) return undefined;
    const scram = (await session.query(STORED_SCRAM_SQL, [username]))[0]?.scram;
    return scram === true ? 'scram' : scram === false ? 'md5' : undefined;
  } catch {
    return undefined;
  }
}

/**
 * password_encryption, except that a login the server authenticated with SCRAM keeps a SCRAM verifier:
 * such a login proves the stored password is one, and an md5 hash written over it (password_encryption
 * still md5 after pg_hba moved to scram-sha-256, e.g. RDS PostgreSQL 13 and older) would lock the role
 * out. A login that shows no kind (`loginShowsNoKind`) gets SCRAM too, which every password method
 * accepts. A login by md5 challenge keeps md5 when password_encryption says md5.
 */
function keptEncryption(session: SqlSession, passwordEncryption: string): string {
  const scramKept = postgresLoginAuthentication(session) === 'scram' || loginShowsNoKind(session);
  return storesMd5(passwordEncryption) && scramKept ? 'scram-sha-256' : passwordEncryption;
}

/**
 * Refuses, before any change, a new password whose SASLprep form differs from itself (see
 * `scramPreparationProblem`): every path that sets a new PostgreSQL password calls it.
 * @throws SecretValidationError naming `password`, never its value
 */
export function assertScramStablePassword(password: string): void {
  const problem = scramPreparationProblem(password);
  if (problem !== undefined) {
    throw new SecretValidationError('The new PostgreSQL password is refused before any change', [{ path: 'password', problem }]);
  }
}

/**
 * The proof of a new password is a second login while this session is still open: at the role's (or
 * the database's) CONNECTION LIMIT it would be refused, and the change left unproven.
 */
function assertRoomForProof(facts: SessionFacts | undefined, username: string): void {
  if (facts === undefined || facts.superuser) return;
  const full = (limit?: number, sessions?: number): boolean =>
    limit !== undefined && limit >= 0 && sessions !== undefined && sessions + 1 > limit;
  const what = full(facts.roleConnectionLimit, facts.roleSessions)
    ? `role ${username} has CONNECTION LIMIT ${facts.roleConnectionLimit} with ${facts.roleSessions} sessions open`
    : full(facts.databaseConnectionLimit, facts.databaseSessions)
      ? `the database has CONNECTION LIMIT ${facts.databaseConnectionLimit} with ${facts.databaseSessions} sessions open`
      : undefined;
  if (what === undefined) return;
  throw new AuthenticationError(
    `PostgreSQL: the login that must prove the new password would exceed a connection limit (${what}); the password was not changed`,
    { reason: 'connection-limit' },
  );
}

/**
 * Before PostgreSQL 16 only a superuser may alter a REPLICATION role (a CDC or logical-replication user),
 * its own password included: "must be superuser to alter replication roles".
 */
function replicationRoleBeforeSixteen(facts: SessionFacts | undefined, server: ServerInfo): boolean {
  return facts?.replication === true && !facts.superuser && server.major < ADMIN_OPTION_REQUIRED_FROM_MAJOR;
}

/**
 * A standby refuses every change of a role (25006), and a change made on its primary reaches it only
 * after replay, so the proving login here could be refused: the secret must name the writer.
 */
function assertPrimary(facts: SessionFacts | undefined): void {
  if (facts?.inRecovery !== true) return;
  throw new DatabaseError(
    "PostgreSQL: the secret's host is a hot standby (a read replica or a reader endpoint), where no password can be changed; " +
      "point the secret's host at the primary (the writer endpoint), which the replicas follow; the password was not changed",
  );
}

function isInsufficientPrivilege(err: unknown): boolean {
  return err instanceof ToolkitError && err.causeSummary?.code === INSUFFICIENT_PRIVILEGE;
}

/**
 * How the server would hash a password this session sets: password_encryption and scram_iterations (the
 * DBA's hashing strength, which a rotation must not lower to the default), as the session sees them
 * (the server's, the database's or the login role's own).
 */
async function readHashing(session: SqlSession): Promise<{ passwordEncryption: string; scramIterations?: number }> {
  const known = factsBySession.get(session);
  if (known !== undefined) return known;
  const row = (await session.query(PASSWORD_ENCRYPTION_SQL))[0];
  const scramIterations = scramIterationsOf(row?.scram_iterations);
  return { passwordEncryption: passwordEncryptionOf(row), ...(scramIterations !== undefined ? { scramIterations } : {}) };
}

function passwordEncryptionOf(row: Row | undefined): string {
  return String(row?.password_encryption ?? 'scram-sha-256');
}

function factsOf(row: Row): SessionFacts {
  const int = (v: unknown): number | undefined => (v === null || v === undefined || v === '' ? undefined : Number(v));
  const facts: SessionFacts = {
    passwordEncryption: passwordEncryptionOf(row),
    readOnly: row.read_only === true,
    inRecovery: row.in_recovery === true,
    roleSwitched: row.role_switched === true,
    restrictPasswordCommands: ['on', 'true', '1', 'yes'].includes(String(row.restrict_password_commands ?? '').toLowerCase()),
    superuser: row.superuser === true,
    replication: row.replication === true,
  };
  const optional: Array<[keyof SessionFacts, number | undefined]> = [
    ['scramIterations', scramIterationsOf(row.scram_iterations)],
    ['roleConnectionLimit', int(row.role_connection_limit)],
    ['roleSessions', int(row.role_sessions)],
    ['databaseConnectionLimit', int(row.database_connection_limit)],
    ['databaseSessions', int(row.database_sessions)],
  ];
  return Object.assign(facts, Object.fromEntries(optional.filter(([, v]) => v !== undefined && Number.isFinite(v))));
}
