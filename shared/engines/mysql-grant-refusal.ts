/**
 * A master that may not give a right the original holds. MySQL and MariaDB let an account grant only
 * what it holds itself WITH GRANT OPTION (a role: WITH ADMIN OPTION; PROXY: WITH GRANT OPTION on the
 * proxied account), and setting another user's default role takes write access to the `mysql` schema.
 * RDS's and Aurora's masters lack SUPER, FILE, SHUTDOWN…, and a master scoped to the application's
 * databases lacks everything else: a right a DBA gave the original as root then cannot reach the
 * alternate user. The refusal is an access-denied error without a word about which grant; this names
 * the grant, the master, and the statement that lifts it.
 */
import { DatabaseError, type ErrorContext } from '../errors';
import { MYSQL_PRIVILEGE_DENIED_CODES } from './mysql-error-codes';
import { findKeyword, tokenize } from './mysql-statement-tokens';

/**
 * The errors a GRANT, REVOKE or SET DEFAULT ROLE is refused with when the master lacks the right: every
 * privilege denial (MYSQL_PRIVILEGE_DENIED_CODES), and 1370 routine, 1410 MySQL's "not allowed to create
 * a user with GRANT", 1698 role or proxy (MariaDB).
 */
export const MASTER_CANNOT_GRANT_CODES: ReadonlySet<string> = new Set([
  ...MYSQL_PRIVILEGE_DENIED_CODES,
  'ER_PROCACCESS_DENIED_ERROR',
  '1370',
  'ER_CANT_CREATE_USER_WITH_GRANT',
  '1410',
  'ER_ACCESS_DENIED_NO_PASSWORD_ERROR',
  '1698',
]);

/**
 * The master was refused a grant (or revoke, or default role) the alternate user needs to equal the
 * original. `reason` is stable; the message names the grant, the master and the remedy, and says what
 * was left behind. Carries no value (grants hold names only).
 */
export class MysqlGrantRefusedError extends DatabaseError {
  override readonly name: string = 'MysqlGrantRefusedError';
  /** Stable, for branching and alarms. */
  readonly reason = 'master-cannot-grant' as const;
  /** What was refused, as a summary (`GRANT RELOAD ON *.*`), names only. */
  readonly grant: string;
  /** The master's account as the server saw it (`'admin'@'%'`). */
  readonly master: string;
  /** The statement a DBA runs (as an account that holds the right) so the master may give it, or the alternative. */
  readonly remedy: string;

  /**
   * @param grant the refused statement's summary
   * @param master the master's account name, quoted
   * @param remedy what lifts the refusal
   * @param code the server's error code (symbolic or number)
   * @param outcome what the failed sync left behind, in words
   */
  constructor(grant: string, master: string, remedy: string, code: string, outcome: string, context: ErrorContext = {}) {
    super(
      `MySQL: the master ${master} may not make the alternate user's rights equal the original's: ${grant} was refused (${code}), ` +
        `as the master does not hold that right with the right to pass it on. Remedy: ${remedy}, or make the two users' rights ` +
        `equal by hand; ${outcome}`,
      context,
    );
    this.grant = grant;
    this.master = master;
    this.remedy = remedy;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), reason: this.reason, grant: this.grant, master: this.master, remedy: this.remedy };
  }
}

/**
 * The statement that lets `master` give what `sql` (a GRANT or SET DEFAULT ROLE aimed at `grantee`)
 * gives: the same grant to the master WITH GRANT OPTION, a role WITH ADMIN OPTION, or write access to
 * the `mysql` schema for a default role. For a revoke, the master needs the same right with GRANT OPTION.
 * A grant on a MariaDB package is preceded by the `SET SESSION sql_mode = 'ORACLE'` it needs.
 */
export function grantRemedy(sql: string, grantee: string, master: string): string {
  if (/^SET DEFAULT ROLE\b/i.test(sql)) return `GRANT UPDATE ON mysql.* TO ${master} (setting another user's default role writes there)`;
  const revoke = /^REVOKE\b/i.test(sql);
  const at = sql.lastIndexOf(revoke ? ` FROM ${grantee}` : ` TO ${grantee}`);
  const head = (at < 0 ? sql : sql.slice(0, at)).replace(/^REVOKE\b/i, 'GRANT');
  const tokens = tokenize(head);
  const role = findKeyword(tokens, 'ON', 1) < 0;
  if (role && /^GRANT ADMIN OPTION FOR /i.test(head))
    return `GRANT ${head.slice('GRANT ADMIN OPTION FOR '.length)} TO ${master} WITH ADMIN OPTION`;
  // MariaDB parses a grant on a PACKAGE (or PACKAGE BODY) only under sql_mode=ORACLE.
  const on = findKeyword(tokens, 'ON', 1);
  const oracle = on >= 0 && tokens[on + 1]?.kind === 'word' && tokens[on + 1]!.text.toUpperCase() === 'PACKAGE';
  return `${oracle ? "SET SESSION sql_mode = 'ORACLE'; " : ''}${head} TO ${master} WITH ${role ? 'ADMIN' : 'GRANT'} OPTION`;
}
