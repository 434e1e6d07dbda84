/**
 * Why PostgreSQL refused a login: from the SQLSTATE alone (what the connector can tell), and from the
 * catalogs as the master (pg_roles; pg_authid and pg_hba_file_rules where readable), so that only
 * proven drift is healed.
 *
 * What a login refusal's SQLSTATE can mean (PostgreSQL checks pg_hba first, then the password, then
 * the role's right to log in and its connection limit):
 * - 28P01: the password did not check out under a password method (scram-sha-256, md5, password): a
 *   wrong password, but also an expired role (VALID UNTIL), a missing role, a role without a password,
 *   or an md5 hash met by a scram-sha-256 line. A wrong password on a NOLOGIN role is 28P01 too.
 * - 28000: no pg_hba line admits this address, database and role, or the line rejects it, or a method
 *   that does not check the stored password failed (ldap, pam and RDS IAM, cert, ident…), or the
 *   password was right and the role is NOLOGIN. Never a wrong password under a password method.
 * - 53300: the password was right, but the role's or the database's CONNECTION LIMIT, or the server's
 *   max_connections, is reached.
 * - 3D000, 42501, 55000: the password was right, but the database the login names does not exist, the
 *   role lacks CONNECT on it, or it accepts no connections (ALLOW_CONNECTIONS false). PostgreSQL checks
 *   these only after authentication, so they never hide a wrong password, and the code alone tells them.
 *
 * The diagnosis, as the master, in this order (the first cause found is the reason; every cause found is
 * named in the detail, so "drifted AND expired" says both and is never healed):
 * 1. the role is missing, NOLOGIN, past its VALID UNTIL, without CONNECT on the database (or the database
 *    accepts no connections), at a connection limit, or an RDS IAM role;
 * 2. for a refusal that is not 28P01, the pg_hba line the function's address meets (when readable), placed
 *    by the refused login's own TLS (hostssl/hostnossl): none or `reject` is `host-not-allowed` (naming a
 *    line the other TLS setting would meet), a client certificate demanded (`cert`, `clientcert=`) is
 *    `client-certificate-required`, another method that does not use the stored password is
 *    `unsupported-auth-plugin`;
 * 3. the stored password (pg_authid, superuser only): none, or an md5 hash where the line asks
 *    scram-sha-256, is `unsupported-auth-plugin`; a password that does not verify against it, refused
 *    with 28P01, is PROVEN drift (`wrong-password`); one that verifies is not drift.
 * 4. Without pg_authid (an RDS-like master: CREATEROLE, not superuser), drift is concluded BY
 *    ELIMINATION, and only then: the role exists, may log in, has not expired, may open the database, is
 *    under its connection limits, is no IAM role, and the refusal was 28P01. What elimination cannot rule out is a role
 *    without a password or with an md5 hash under a scram-sha-256 line; healing sets a SCRAM verifier
 *    (or md5 under password_encryption md5), which such a role then logs in with, and the new password is
 *    proven by a login before the step returns.
 */
import type { AuthenticationError, RefusalReason } from '../errors';
import type { PasswordRestore, RefusalDiagnosis, RefusedLogin, Row, ServerInfo, SqlSession } from '../rotation/database-engine';
import { matchPostgresStoredPassword } from './password-hashes';
import {
  STORED_PASSWORD_METHODS,
  clientCertificateDemand,
  hbaLoginFacts,
  hbaVerdict,
  membershipOidsSql,
  readHbaRules,
  type HbaVerdict,
} from './postgres-hba';
import {
  INSUFFICIENT_PRIVILEGE,
  INVALID_AUTHORIZATION,
  INVALID_CATALOG_NAME,
  INVALID_PASSWORD,
  OBJECT_NOT_IN_PREREQUISITE_STATE,
  TOO_MANY_CONNECTIONS,
} from './postgres-error-codes';
import { CAN_READ_AUTHID_SQL, restorePasswordSql } from './postgres-sql';

/** Login codes that say the password checked out and the database is what refused the session. */
const DATABASE_REFUSAL_CODES: ReadonlySet<string> = new Set([
  INVALID_CATALOG_NAME,
  INSUFFICIENT_PRIVILEGE,
  OBJECT_NOT_IN_PREREQUISITE_STATE,
]);

/** What each login SQLSTATE can stand for, in words, for the connector's message. */
const CAUSES_BY_CODE: Readonly<Record<string, string>> = {
  [INVALID_PASSWORD]: 'a wrong password, an expired role (VALID UNTIL), a missing role or one without a password',
  [INVALID_AUTHORIZATION]:
    'no pg_hba.conf line admits this address, a line rejects it, the role may not log in (NOLOGIN), ' +
    'or a method that does not use the stored password (ldap, pam, RDS IAM, cert) refused it',
  [TOO_MANY_CONNECTIONS]: "the role's or the database's CONNECTION LIMIT, or the server's max_connections, is reached",
  [INVALID_CATALOG_NAME]: 'the password checked out, but the database the secret names (dbname, else postgres) does not exist',
  [INSUFFICIENT_PRIVILEGE]: 'the password checked out, but the role lacks CONNECT on the database the secret names (dbname, else postgres)',
  [OBJECT_NOT_IN_PREREQUISITE_STATE]:
    'the password checked out, but the database the secret names (dbname, else postgres) accepts no connections (ALLOW_CONNECTIONS false)',
};

/**
 * The reason a login refusal's SQLSTATE alone gives: `connection-limit` for 53300; `database-not-allowed`
 * for 3D000, 42501 and 55000; `undetermined` for 28P01 and 28000, each of which stands for several causes
 * (see the module comment), a wrong password among them only for 28P01.
 */
export function postgresRefusalReasonFromCode(code: string | undefined): RefusalReason {
  if (code === TOO_MANY_CONNECTIONS) return 'connection-limit';
  return code !== undefined && DATABASE_REFUSAL_CODES.has(code) ? 'database-not-allowed' : 'undetermined';
}

/** The causes a login SQLSTATE can stand for, in words; undefined for other codes. */
export function postgresRefusalCauses(code: string | undefined): string | undefined {
  return code === undefined ? undefined : CAUSES_BY_CODE[code];
}

/**
 * A PostgreSQL refusal over TLS that a plaintext login may not meet: 28000 is what the server answers when
 * no pg_hba.conf line admits the login as it came (a `hostnossl` line admits only plaintext). libpq's
 * sslmode=prefer retries such a login without TLS; a wrong password (28P01) is not retried, so `prefer`
 * costs no extra failed login in a normal refusal.
 */
export function postgresRefusedForItsTls(refusal: AuthenticationError): boolean {
  return refusal.tls === true && refusal.causeSummary?.code === INVALID_AUTHORIZATION;
}

/** Whether `code` is a PostgreSQL login refusal the toolkit raises as AuthenticationError. */
export function isPostgresLoginRefusalCode(code: string | undefined): boolean {
  return code !== undefined && code in CAUSES_BY_CODE;
}

/**
 * The role, its limits, and what this master may read: one round trip, for the database `$2` (the
 * refused login's; null: the session's). The LEFT JOINs keep a row when the role or the database is
 * missing. A master that is no superuser sees other roles' sessions without their
 * backend_type, so a session with a user and no visible type counts as a client's.
 */
const ROLE_STATE_SQL =
  'SELECT r.rolname IS NOT NULL AS role_exists, r.rolcanlogin AS can_login, r.rolsuper AS superuser, ' +
  // to_char gives null for an infinite time: '-infinity' (expired for ever) is named as such.
  "r.rolvaliduntil < now() AS expired, COALESCE(to_char(r.rolvaliduntil AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS \"UTC\"'), r.rolvaliduntil::text) AS valid_until, " +
  'r.rolconnlimit AS role_connection_limit, d.datconnlimit AS database_connection_limit, ' +
  "d.datallowconn AS database_allows_connections, pg_catalog.has_database_privilege(r.oid, d.oid, 'CONNECT') AS can_connect, " +
  "(SELECT count(*) FROM pg_catalog.pg_stat_activity a WHERE a.usename = r.rolname AND (a.backend_type = 'client backend' OR (a.backend_type IS NULL AND a.usename IS NOT NULL)))::int AS role_sessions, " +
  "(SELECT count(*) FROM pg_catalog.pg_stat_activity a WHERE a.datname = d.datname AND (a.backend_type = 'client backend' OR (a.backend_type IS NULL AND a.usename IS NOT NULL)))::int AS database_sessions, " +
  "(SELECT count(*) FROM pg_catalog.pg_stat_activity a WHERE (a.backend_type = 'client backend' OR (a.backend_type IS NULL AND a.usename IS NOT NULL)))::int AS server_sessions, " +
  "current_setting('max_connections')::int AS max_connections, " +
  // RDS admits rds_iam members by a pg_hba `+rds_iam` line: membership as pg_hba counts it, no superuser shortcut.
  `EXISTS (SELECT 1 FROM pg_catalog.pg_roles g WHERE g.rolname = 'rds_iam' AND g.oid IN ${membershipOidsSql('r.oid')}) AS iam, ` +
  'q.datname AS database, d.oid IS NOT NULL AS database_exists, host(inet_client_addr()) AS client_address, ' +
  'COALESCE((SELECT s.ssl FROM pg_catalog.pg_stat_ssl s WHERE s.pid = pg_backend_pid()), false) AS ssl, ' +
  "has_table_privilege('pg_catalog.pg_authid', 'SELECT') AS can_read_authid, " +
  "CASE WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_proc WHERE proname = 'pg_hba_file_rules') " +
  "THEN has_function_privilege('pg_catalog.pg_hba_file_rules()', 'EXECUTE') ELSE false END AS can_read_hba " +
  'FROM (SELECT COALESCE($2::name, current_database()) AS datname) q ' +
  'LEFT JOIN pg_catalog.pg_database d ON d.datname = q.datname LEFT JOIN pg_catalog.pg_roles r ON r.rolname = $1';

const STORED_PASSWORD_SQL = 'SELECT rolpassword FROM pg_catalog.pg_authid WHERE rolname = $1';

interface Finding {
  readonly reason: RefusalReason;
  readonly detail: string;
}

/**
 * As the master: explains a refused login from the catalogs and the refusal's SQLSTATE. Reads only.
 * Returns `wrong-password` only for proven drift (or drift by elimination, see the module comment).
 */
export async function diagnosePostgresRefusal(session: SqlSession, _server: ServerInfo, refused: RefusedLogin): Promise<RefusalDiagnosis> {
  const code = refused.error.causeSummary?.code;
  // The refused login's database, which the master's session may not be on (see loginAsMaster).
  const role = (await session.query(ROLE_STATE_SQL, [refused.username, refused.database ?? null]))[0] ?? {};
  const name = `role ${refused.username}`;
  if (role.role_exists !== true) return { reason: 'role-missing', detail: `${name} does not exist` };

  const findings: Finding[] = accountFindings(role, name, code);
  const hba = role.can_read_hba === true ? await hbaFor(session, role, refused) : undefined;
  if (code !== INVALID_PASSWORD && hba !== undefined) {
    const finding = hbaFinding(hba, role);
    if (finding !== undefined) findings.push(finding);
  }

  const password = role.can_read_authid === true ? await passwordFinding(session, refused, hba?.verdict, code) : eliminationFinding(code);
  // A matching password is not drift whatever else was found; a mismatch only adds to what blocks.
  const all = [...findings, ...(password.finding !== undefined ? [password.finding] : [])];
  const first = all[0];
  const notes = [...all.map((f) => f.detail), ...(password.note !== undefined ? [password.note] : [])];
  if (first === undefined) {
    return { reason: 'undetermined', detail: notes.length > 0 ? notes.join('; ') : 'the catalogs show nothing that refuses this login' };
  }
  return { reason: first.reason, detail: notes.join('; ') };
}

/** The role's own state: login right, expiry, the database's door, connection limits, IAM. */
function accountFindings(role: Row, name: string, code: string | undefined): Finding[] {
  const found: Finding[] = [];
  if (role.can_login !== true) found.push({ reason: 'login-disabled', detail: `${name} is NOLOGIN` });
  if (role.expired === true)
    found.push({ reason: 'expired', detail: `${name} expired: VALID UNTIL ${String(role.valid_until)} has passed` });
  // Checked by the server after the password, so a heal could never be proven.
  if (role.database_exists === false) {
    found.push({ reason: 'database-not-allowed', detail: `database ${String(role.database)}, which the secret names, does not exist` });
  }
  if (role.can_connect === false) {
    found.push({ reason: 'database-not-allowed', detail: `${name} lacks CONNECT on database ${String(role.database)}` });
  }
  if (role.database_allows_connections === false) {
    found.push({
      reason: 'database-not-allowed',
      detail: `database ${String(role.database)} accepts no connections (ALLOW_CONNECTIONS false)`,
    });
  }
  const limit = Number(role.role_connection_limit);
  const sessions = Number(role.role_sessions);
  const dbLimit =
    role.database_connection_limit === null || role.database_connection_limit === undefined ? -1 : Number(role.database_connection_limit);
  const dbSessions = Number(role.database_sessions);
  if (role.superuser !== true && limit >= 0 && sessions >= limit) {
    found.push({ reason: 'connection-limit', detail: `${name} is at its CONNECTION LIMIT ${limit} (${sessions} sessions open)` });
  } else if (role.superuser !== true && dbLimit >= 0 && dbSessions >= dbLimit) {
    found.push({
      reason: 'connection-limit',
      detail: `database ${String(role.database)} is at its CONNECTION LIMIT ${dbLimit} (${dbSessions} sessions open)`,
    });
  } else if (code === TOO_MANY_CONNECTIONS) {
    found.push({
      reason: 'connection-limit',
      detail: `the server refused another connection (${code}): ${String(role.server_sessions)} of max_connections ${String(role.max_connections)} in use`,
    });
  }
  if (role.iam === true) {
    found.push({ reason: 'unsupported-auth-plugin', detail: `${name} is a member of rds_iam: it logs in with IAM tokens, not a password` });
  }
  return found;
}

/** The line the refused login met, and the one it would have met with TLS the other way. */
interface HbaPlacement {
  readonly verdict: HbaVerdict;
  /** Whether the refused login ran over TLS (its own, else the master's session's). */
  readonly ssl: boolean;
  readonly otherTls: HbaVerdict;
}

async function hbaFor(session: SqlSession, role: Row, refused: RefusedLogin): Promise<HbaPlacement> {
  const { username } = refused;
  const rules = await readHbaRules(session);
  const database = String(role.database);
  const facts = await hbaLoginFacts(session, rules, username, database);
  // The master's session may use TLS when the refused login did not (or the reverse): hostssl and
  // hostnossl lines are placed by the refused login's own TLS, which its connector reports.
  const ssl = refused.error.tls ?? role.ssl === true;
  return {
    verdict: hbaVerdict(rules, { username, database, ssl, ...facts }),
    ssl,
    otherTls: hbaVerdict(rules, { username, database, ssl: !ssl, ...facts }),
  };
}

function hbaFinding(hba: HbaPlacement, role: Row): Finding | undefined {
  const tls = hba.ssl ? 'over TLS' : 'without TLS';
  const from = `from ${role.client_address === null || role.client_address === undefined ? 'this address' : String(role.client_address)} to database ${String(role.database)} ${tls}`;
  const verdict = hba.verdict;
  if (verdict.kind === 'no-entry' || (verdict.kind === 'line' && verdict.rule.method === 'reject')) {
    const what =
      verdict.kind === 'no-entry'
        ? `no pg_hba.conf line admits this role ${from}`
        : `pg_hba.conf line ${verdict.rule.line} rejects this role ${from}`;
    const other = hba.otherTls;
    const hint =
      other.kind === 'line' && other.rule.method !== 'reject'
        ? ` (line ${other.rule.line} admits it ${hba.ssl ? 'without TLS: set "ssl": false in the secret' : 'over TLS only: set "ssl": true in the secret'})`
        : '';
    return { reason: 'host-not-allowed', detail: `${what}${hint}` };
  }
  if (verdict.kind === 'unknown') return { reason: 'undetermined', detail: verdict.why };
  const { rule } = verdict;
  const certificate = clientCertificateDemand(rule);
  if (certificate !== undefined) {
    return {
      reason: 'client-certificate-required',
      detail: `pg_hba.conf line ${rule.line} demands a client certificate (${certificate}) of this role ${from}, which the function does not present`,
    };
  }
  if (!STORED_PASSWORD_METHODS.has(rule.method)) {
    return {
      reason: 'unsupported-auth-plugin',
      detail: `pg_hba.conf line ${rule.line} authenticates this role ${from} with ${rule.method}, which does not use the stored password`,
    };
  }
  return undefined;
}

/** `finding` blocks a heal; `note` is said but explains nothing by itself (a password that verifies). */
interface PasswordFinding {
  readonly finding?: Finding;
  readonly note?: string;
}

async function passwordFinding(
  session: SqlSession,
  refused: RefusedLogin,
  hba: HbaVerdict | undefined,
  code: string | undefined,
): Promise<PasswordFinding> {
  const stored = (await session.query(STORED_PASSWORD_SQL, [refused.username]))[0]?.rolpassword;
  if (stored === null || stored === undefined) {
    return {
      finding: {
        reason: 'unsupported-auth-plugin',
        detail: 'the role has no password (PASSWORD NULL): it logs in by another method or not at all',
      },
    };
  }
  const text = String(stored);
  const line = hba?.kind === 'line' ? hba.rule : undefined;
  if (text.startsWith('md5') && line?.method === 'scram-sha-256') {
    return {
      finding: {
        reason: 'unsupported-auth-plugin',
        detail: `the stored password is an md5 hash, which pg_hba.conf line ${line.line} (scram-sha-256) cannot use; password_encryption md5 makes such hashes`,
      },
    };
  }
  const match = await matchPostgresStoredPassword(text, refused.username, refused.password);
  if (match === 'match') return { note: 'the password matches the stored verifier: it has not drifted' };
  if (match === 'unverifiable') return { note: 'the stored password is in a form this toolkit cannot verify' };
  if (code !== INVALID_PASSWORD)
    return { note: `the password does not match the stored verifier, but the refusal (${code ?? 'no code'}) is not a password check's` };
  return { finding: { reason: 'wrong-password', detail: 'the password does not match the stored verifier (proven drift)' } };
}

function eliminationFinding(code: string | undefined): PasswordFinding {
  if (code !== INVALID_PASSWORD) {
    return {
      note: `the master cannot read pg_authid or pg_hba.conf, and ${code ?? 'this refusal'} stands for ${postgresRefusalCauses(code) ?? 'causes it cannot tell apart'}`,
    };
  }
  return {
    finding: {
      reason: 'wrong-password',
      detail:
        'by elimination: the master cannot read pg_authid, and the role exists, may log in, has not expired, ' +
        'is under its connection limits and the refusal was a password check (28P01)',
    },
  };
}

/**
 * As the master: the role's stored password (pg_authid.rolpassword, superuser only), to put back exactly
 * when a heal cannot be proven; undefined when the master may not read it (RDS's master cannot).
 */
export async function savePostgresPassword(
  session: SqlSession,
  _server: ServerInfo,
  username: string,
): Promise<PasswordRestore | undefined> {
  const readable = (await session.query(CAN_READ_AUTHID_SQL))[0]?.readable === true;
  if (!readable) return undefined;
  const rows = await session.query(STORED_PASSWORD_SQL, [username]);
  if (rows.length === 0) return undefined;
  const stored = rows[0]?.rolpassword;
  const saved = stored === null || stored === undefined ? null : String(stored);
  return async (master: SqlSession) => {
    await master.query('BEGIN READ WRITE');
    try {
      await master.query(restorePasswordSql(username, saved));
      await master.query('COMMIT');
    } catch (err) {
      await master.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  };
}
