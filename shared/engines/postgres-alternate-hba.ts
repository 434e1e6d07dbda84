/**
 * Alternating users on PostgreSQL: whether pg_hba.conf admits the alternate user where it admits the
 * current one, checked before any change. A line naming the application's role by name (`host appdb app
 * 10.0.0.0/8 scram-sha-256`) is common; the alternate user (`app_clone`) then meets no line, or a
 * rejecting one, and the login proving its new password would be refused after the alternate was made.
 * `+group` lines, `all` and samerole follow the clone's membership in the original, and pass.
 *
 * Read only where the master may read pg_hba_file_rules (superusers, by default): RDS's master cannot,
 * and the check is then left to the proof. A rule the view cannot place (host names, regular
 * expressions, a file holding errors) leaves it to the proof too. The address is the function's as the
 * server sees the master's session; TLS is unknown here, so the alternate must be admitted under a TLS
 * setting that admits the current user.
 */
import { AuthenticationError } from '../errors';
import type { SqlSession } from '../rotation/database-engine';
import {
  MEMBER_OF_SQL,
  STORED_PASSWORD_METHODS,
  groupsNamed,
  hbaLoginFacts,
  hbaVerdict,
  readHbaRules,
  type HbaVerdict,
} from './postgres-hba';

/** Whether the master may read pg_hba_file_rules (asked first: a refused read would abort the transaction). */
const MAY_READ_HBA_SQL =
  "SELECT has_table_privilege('pg_catalog.pg_hba_file_rules', 'SELECT') " +
  "AND has_function_privilege('pg_catalog.pg_hba_file_rules()', 'EXECUTE') AS ok";

/** The logins that must be admitted: the current user (which logged in), the original it follows, the alternate. */
export interface HbaLogins {
  readonly current: string;
  readonly original: string;
  readonly alternate: string;
  /** The database the proof opens (the master's session's). */
  readonly database: string;
}

/** A line that lets a password login through: one checking the stored verifier, or trust. */
function admits(verdict: HbaVerdict): boolean {
  return verdict.kind === 'line' && (STORED_PASSWORD_METHODS.has(verdict.rule.method) || verdict.rule.method === 'trust');
}

function describeVerdict(verdict: HbaVerdict): string {
  if (verdict.kind === 'no-entry') return 'no line admits it';
  if (verdict.kind === 'line') {
    return verdict.rule.method === 'reject'
      ? `line ${verdict.rule.line} rejects it`
      : `line ${verdict.rule.line} takes it by ${verdict.rule.method}, not its password`;
  }
  return verdict.why;
}

/**
 * @throws AuthenticationError (reason `host-not-allowed`) when pg_hba.conf admits the current user and
 *   not the alternate, under every TLS setting that admits the current user; nothing was changed
 */
export async function assertHbaAdmitsAlternate(session: SqlSession, logins: HbaLogins): Promise<void> {
  const may = (await session.query(MAY_READ_HBA_SQL))[0];
  if (may?.ok !== true) return;
  const rules = await readHbaRules(session);
  const groups = groupsNamed(rules, logins.database);
  const memberOf = async (role: string): Promise<Set<string>> =>
    new Set(groups.length > 0 ? (await session.query(MEMBER_OF_SQL, [role, groups])).map((r) => String(r.rolname)) : []);
  const { memberOf: current, existingRoles, existingDatabases } = await hbaLoginFacts(session, rules, logins.current, logins.database);
  const existing = { existingRoles, existingDatabases };
  // After the sync the clone is a member of the original, and holds nothing else of its own.
  const original = await memberOf(logins.original);
  const alternate =
    logins.alternate === logins.original ? original : new Set([...original, ...groups.filter((g) => g === logins.original)]);
  let refusedBy: HbaVerdict | undefined;
  for (const ssl of [false, true]) {
    const mine = hbaVerdict(rules, { username: logins.current, database: logins.database, ssl, memberOf: current, ...existing });
    const theirs = hbaVerdict(rules, { username: logins.alternate, database: logins.database, ssl, memberOf: alternate, ...existing });
    if (mine.kind === 'unknown' || theirs.kind === 'unknown') return;
    if (!admits(mine)) continue;
    if (admits(theirs)) return;
    refusedBy ??= theirs;
  }
  if (refusedBy === undefined) return;
  throw new AuthenticationError(
    `PostgreSQL: pg_hba.conf admits "${logins.current}" from this address to database "${logins.database}" but not the alternate user ` +
      `"${logins.alternate}" (${describeVerdict(refusedBy)}), so its new password could not be proven; give it a line (by name, or a +group ` +
      `both are members of) and reload; nothing was changed`,
    { reason: 'host-not-allowed' },
  );
}
