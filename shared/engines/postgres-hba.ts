/**
 * Which pg_hba.conf line a login of the rotation function meets, as the master reads the rules
 * (pg_hba_file_rules, superuser by default): used to explain a 28000 refusal, which PostgreSQL gives
 * both for "no line admits this address" and for a rejecting line or a method that does not check the
 * stored password. The address is the function's as the server sees it: inet_client_addr() of the
 * master's session, opened from the same function. The view shows the file as it is on disk: a file
 * edited but not reloaded, or one holding errors (the server then keeps its previous rules), is not
 * trusted.
 */
import type { Row, SqlSession } from '../rotation/database-engine';

/**
 * The rules in file order, with whether each line's address admits the master's address (null when it
 * cannot be told: host names, samehost/samenet, no client address over a Unix socket). An IPv4 client
 * is compared with IPv4 lines only.
 */
export const HBA_RULES_SQL =
  'SELECT line_number, type, database, user_name, address, auth_method, options, error, ' +
  "CASE WHEN type = 'local' THEN false WHEN address = 'all' THEN true " +
  'WHEN netmask IS NULL OR inet_client_addr() IS NULL THEN NULL ' +
  'WHEN family(address::inet) <> family(inet_client_addr()) THEN false ' +
  'ELSE (inet_client_addr() & netmask::inet) = (address::inet & netmask::inet) END AS address_matches ' +
  'FROM pg_catalog.pg_hba_file_rules';

/**
 * A subquery of the oids of the roles `role` (an SQL expression of type oid) is a member of as pg_hba.conf
 * counts it: the role itself and every role reached through pg_auth_members, whatever INHERIT says
 * (PostgreSQL's is_member_of_role_nosuper). pg_has_role(…, 'MEMBER') is no substitute: it is true of
 * every role for a superuser, which pg_hba's `+group` and samerole do not match by that alone.
 */
export function membershipOidsSql(role: string): string {
  return (
    `(WITH RECURSIVE chain(oid) AS (SELECT ${role} UNION ` +
    'SELECT m.roleid FROM pg_catalog.pg_auth_members m JOIN chain ON m.member = chain.oid) SELECT oid FROM chain)'
  );
}

/**
 * Which of the groups named by `+group` or samerole tokens (`$2`) the role `$1` is a member of, directly
 * or through other groups, as pg_hba.conf matches them (see {@link membershipOidsSql}). A named group
 * that does not exist matches nothing, as on the server.
 */
export const MEMBER_OF_SQL =
  'SELECT g.rolname FROM pg_catalog.pg_roles g WHERE g.rolname = ANY($2::text[]) AND g.oid IN ' +
  membershipOidsSql('(SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = $1::name)');

/** One line of pg_hba.conf. */
export interface HbaRule {
  readonly line: number;
  readonly type: string;
  readonly databases: readonly string[];
  readonly users: readonly string[];
  /** trust, reject, scram-sha-256, md5, password, ldap, pam, cert, … */
  readonly method: string;
  /** The line's options as `name=value` (`clientcert=verify-full`, `ldapserver=…`). */
  readonly options: readonly string[];
  readonly error: string | null;
  readonly addressMatches: boolean | null;
}

/** The login to place among the rules. */
export interface HbaLogin {
  readonly username: string;
  readonly database: string;
  /** Whether the login uses TLS (hostssl / hostnossl lines). */
  readonly ssl: boolean;
  /** The `+group` / samerole names the role is a member of. */
  readonly memberOf: ReadonlySet<string>;
}

/** The line a login meets: none, one, or unknown (named why). */
export type HbaVerdict =
  { readonly kind: 'no-entry' } | { readonly kind: 'line'; readonly rule: HbaRule } | { readonly kind: 'unknown'; readonly why: string };

/** Methods that check the password against pg_authid's stored verifier (md5 and password take a SCRAM verifier too). */
export const STORED_PASSWORD_METHODS: ReadonlySet<string> = new Set(['scram-sha-256', 'md5', 'password']);

/**
 * The client certificate a line demands before any password is checked: the `cert` method, or a
 * `clientcert=` option (verify-ca, verify-full; `1` before PostgreSQL 12). Undefined when none.
 */
export function clientCertificateDemand(rule: HbaRule): string | undefined {
  if (rule.method === 'cert') return 'the cert method';
  const option = rule.options.find((o) => o.startsWith('clientcert='));
  return option !== undefined && !['clientcert=0', 'clientcert=no-verify'].includes(option) ? option : undefined;
}

/** Reads the rules as the master; the caller has checked it may. */
export async function readHbaRules(session: SqlSession): Promise<HbaRule[]> {
  return (await session.query(HBA_RULES_SQL)).map(ruleOf);
}

/** The group names the rules test membership of (`+group` users, samerole/samegroup databases). */
export function groupsNamed(rules: readonly HbaRule[], database: string): string[] {
  const names = new Set<string>();
  for (const rule of rules) {
    for (const user of rule.users) if (user.startsWith('+')) names.add(user.slice(1));
    if (rule.databases.some((d) => d === 'samerole' || d === 'samegroup')) names.add(database);
  }
  return [...names];
}

/** The first line that admits the login, as PostgreSQL picks it; unknown when a line before it cannot be told. */
export function hbaVerdict(rules: readonly HbaRule[], login: HbaLogin): HbaVerdict {
  const broken = rules.find((r) => r.error !== null);
  if (broken !== undefined) {
    return { kind: 'unknown', why: `pg_hba.conf line ${broken.line} has an error, so the server runs on rules the file no longer shows` };
  }
  for (const rule of rules) {
    const match = all([
      typeMatches(rule.type, login.ssl),
      any(rule.databases.map((d) => databaseMatches(d, login))),
      any(rule.users.map((u) => userMatches(u, login))),
      rule.addressMatches ?? undefined,
    ]);
    if (match === true) return { kind: 'line', rule };
    if (match === undefined)
      return {
        kind: 'unknown',
        why: `whether pg_hba.conf line ${rule.line} applies cannot be told from here (host name, samehost/samenet or a regular expression)`,
      };
  }
  return { kind: 'no-entry' };
}

function typeMatches(type: string, ssl: boolean): boolean | undefined {
  switch (type) {
    case 'local':
    case 'hostgssenc':
      return false;
    case 'host':
    case 'hostnogssenc':
      return true;
    case 'hostssl':
      return ssl;
    case 'hostnossl':
      return !ssl;
    default:
      return undefined;
  }
}

function databaseMatches(token: string, login: HbaLogin): boolean | undefined {
  switch (token) {
    case 'all':
      return true;
    case 'sameuser':
      return login.database === login.username;
    case 'samerole':
    case 'samegroup':
      return login.memberOf.has(login.database);
    case 'replication':
      return false;
    default:
      return token.startsWith('/') ? undefined : token === login.database;
  }
}

function userMatches(token: string, login: HbaLogin): boolean | undefined {
  if (token === 'all') return true;
  if (token.startsWith('+')) return login.memberOf.has(token.slice(1));
  return token.startsWith('/') ? undefined : token === login.username;
}

/** Three-valued AND: false wins, then unknown. */
function all(values: ReadonlyArray<boolean | undefined>): boolean | undefined {
  if (values.includes(false)) return false;
  return values.includes(undefined) ? undefined : true;
}

/** Three-valued OR: true wins, then unknown. */
function any(values: ReadonlyArray<boolean | undefined>): boolean | undefined {
  if (values.includes(true)) return true;
  return values.includes(undefined) ? undefined : false;
}

function ruleOf(row: Row): HbaRule {
  const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);
  return {
    line: Number(row.line_number),
    type: String(row.type ?? ''),
    databases: list(row.database),
    users: list(row.user_name),
    method: String(row.auth_method ?? ''),
    options: list(row.options),
    error: row.error === null || row.error === undefined ? null : String(row.error),
    addressMatches: typeof row.address_matches === 'boolean' ? row.address_matches : null,
  };
}
