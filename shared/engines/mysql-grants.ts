/**
 * Copying an account's rights to another account by replaying its SHOW GRANTS rows with the grantee
 * replaced. Unlike AWS's template, which keeps the text before the first " TO " and drops the rest:
 * - the grantee is found by the lexer, so names holding " TO " or quotes do not break it;
 * - `WITH GRANT OPTION` / `WITH ADMIN OPTION` (and MariaDB's resource limits) are kept;
 * - `IDENTIFIED …` (MariaDB prints the current password hash there) and `REQUIRE …` are dropped: the
 *   password and TLS options are set by their own statements;
 * - MySQL 8 partial revokes (`REVOKE … FROM`) and MariaDB default roles (`SET DEFAULT ROLE … FOR`) are
 *   replayed too; any other row shape fails loudly rather than being skipped.
 */
import { DatabaseError } from '../errors';
import { columnText } from './mysql-connector';
import { accountEnd, findKeyword, tokenize } from './mysql-statement-tokens';

export type GrantRowKind = 'grant' | 'revoke' | 'default-role';

export interface CopiedGrant {
  readonly kind: GrantRowKind;
  /** The statement for the new grantee. */
  readonly sql: string;
  /** What is granted (the row before its grantee), for error messages: names, never a password hash. */
  readonly summary: string;
}

const SUMMARY_LENGTH = 120;

/** Rewrites one SHOW GRANTS row so that it applies to `grantee` (an already escaped account name). */
export function copyGrantRow(row: string, grantee: string): CopiedGrant {
  const tokens = tokenize(row);
  const first = tokens[0]?.text.toUpperCase();
  const shape =
    first === 'GRANT'
      ? { kind: 'grant' as const, keyword: 'TO' }
      : first === 'REVOKE'
        ? { kind: 'revoke' as const, keyword: 'FROM' }
        : first === 'SET' && tokens[1]?.text.toUpperCase() === 'DEFAULT'
          ? { kind: 'default-role' as const, keyword: 'FOR' }
          : undefined;
  if (shape === undefined) throw unsupported(first);
  const at = findKeyword(tokens, shape.keyword, 1);
  const end = at < 0 ? -1 : accountEnd(tokens, at + 1);
  if (end < 0) throw unsupported(first);
  const head = row.slice(0, tokens[at]!.start).trimEnd();
  const withAt = shape.kind === 'grant' ? findKeyword(tokens, 'WITH', end) : -1;
  const options = withAt < 0 ? '' : ` ${row.slice(tokens[withAt]!.start).trim()}`;
  return {
    kind: shape.kind,
    sql: `${head} ${shape.keyword} ${grantee}${options}`,
    summary: head.length > SUMMARY_LENGTH ? `${head.slice(0, SUMMARY_LENGTH)}…` : head,
  };
}

/** The rows of SHOW GRANTS, whatever the column is called (it holds the account name). */
export function grantRowsOf(rows: ReadonlyArray<Readonly<Record<string, unknown>>>): string[] {
  return rows.map((row) => columnText(Object.values(row)[0]));
}

function unsupported(first: string | undefined): DatabaseError {
  return new DatabaseError(
    `SHOW GRANTS returned a row of a form this toolkit cannot copy (starting with ${first ?? 'nothing'}); refusing to copy a partial grant set`,
  );
}
