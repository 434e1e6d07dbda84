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

/**
 * The existing roles and databases among `$1` (role names) and `$2` (database names): the names a keyword
 * or `+group` token of the rules also spells (see {@link literalNamesNamed}).
 */
export const EXISTING_NAMES_SQL =
  "SELECT 'role' AS kind, rolname::text AS name FROM pg_catalog.pg_roles WHERE rolname = ANY($1::text[]) " +
  "UNION ALL SELECT 'database', datname::text FROM pg_catalog.pg_database WHERE datname = ANY($2::text[])";

/** pg_hba.conf's keywords of the database column; quoted, each names a database instead. */
const DATABASE_KEYWORDS: ReadonlySet<string> = new Set(['all', 'sameuser', 'samerole', 'samegroup', 'replication']);

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
  /**
   * Roles that exist under a name a user token spells as a keyword or `+group` (`all`, `+ops`), and
   * databases under a database keyword's name (`all`, `sameuser`, …). pg_hba_file_rules shows a quoted
   * token (`"all"`, `"+ops"`: that role, literally) exactly as the keyword: where the two readings
   * disagree for this login and such a role or database exists, the line cannot be told. Empty when
   * omitted.
   */
  readonly existingRoles?: ReadonlySet<string>;
  readonly existingDatabases?: ReadonlySet<string>;
}

/** The login facts the rules need beyond its names: its memberships and the literal names that exist. */
export type HbaLoginFacts = Pick<HbaLogin, 'memberOf' | 'existingRoles' | 'existingDatabases'>;

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

/**
 * The role and database names that keyword and `+group` tokens of the rules also spell, whose existence
 * decides whether such a token may be a quoted name (see `HbaLogin.existingRoles`).
 */
export function literalNamesNamed(rules: readonly HbaRule[]): { roles: string[]; databases: string[] } {
  const roles = new Set<string>();
  const databases = new Set<string>();
  for (const rule of rules) {
    for (const user of rule.users) if (user === 'all' || user.startsWith('+')) roles.add(user);
    for (const database of rule.databases) if (DATABASE_KEYWORDS.has(database)) databases.add(database);
  }
  return { roles: [...roles], databases: [...databases] };
}

/**
 * As the master: what `username` brings to the rules (its `+group`/samerole memberships, and which
 * keyword-spelled roles and databases exist), for `hbaVerdict`. Reads only; a query only when the rules
 * name any.
 */
export async function hbaLoginFacts(
  session: SqlSession,
  rules: readonly HbaRule[],
  username: string,
  database: string,
): Promise<HbaLoginFacts> {
  const groups = groupsNamed(rules, database);
  const memberOf = new Set(groups.length > 0 ? (await session.query(MEMBER_OF_SQL, [username, groups])).map((r) => String(r.rolname)) : []);
  const literal = literalNamesNamed(rules);
  const existing =
    literal.roles.length + literal.databases.length > 0 ? await session.query(EXISTING_NAMES_SQL, [literal.roles, literal.databases]) : [];
  const named = (kind: string): Set<string> => new Set(existing.filter((r) => r.kind === kind).map((r) => String(r.name)));
  return { memberOf, existingRoles: named('role'), existingDatabases: named('database') };
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
        why:
          `whether pg_hba.conf line ${rule.line} applies cannot be told from here (host name, samehost/samenet, a regular expression, ` +
          'or a keyword or +group that a role or database of that very name makes ambiguous: quoted, it names that one)',
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
  const keyword = databaseKeywordMatches(token, login);
  if (keyword === undefined) return token.startsWith('/') ? undefined : token === login.database;
  return keywordOrQuotedName(keyword, token === login.database, login.existingDatabases?.has(token) === true);
}

/** The keyword reading of a database token; undefined when it is no keyword. */
function databaseKeywordMatches(token: string, login: HbaLogin): boolean | undefined {
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
      return undefined;
  }
}

function userMatches(token: string, login: HbaLogin): boolean | undefined {
  const exists = login.existingRoles?.has(token) === true;
  if (token === 'all') return keywordOrQuotedName(true, login.username === token, exists);
  if (token.startsWith('+')) return keywordOrQuotedName(login.memberOf.has(token.slice(1)), login.username === token, exists);
  return token.startsWith('/') ? undefined : token === login.username;
}

/**
 * A token read as a keyword (or `+group`) and as the quoted name it also spells: the same answer either
 * way is the answer; else unknown when an object of that name exists, for the view cannot show which
 * the file holds. Without one, a quoted name would name nothing, and the keyword is meant.
 */
function keywordOrQuotedName(keyword: boolean, name: boolean, exists: boolean): boolean | undefined {
  if (keyword === name) return keyword;
  return exists ? undefined : keyword;
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
