/**
 * The equivalence check for PostgreSQL alternating users: reads the original and the alternate role
 * from the server's catalogs and lists every difference an application could observe other than the
 * name and the password itself. Written independently of the product's sync (its own SQL and its own
 * reading of PostgreSQL's rules), so a fault in the sync cannot hide in a shared helper.
 *
 * What is compared, and how:
 * - login attributes: INHERIT, CONNECTION LIMIT, VALID UNTIL (none ≡ 'infinity'), LOGIN, REPLICATION.
 *   INHERIT from 16 is the default for new memberships and compared as is; before 16 it decides whether
 *   the alternate holds anything of its original before its session switches role, so there the
 *   alternate must inherit (compared against true);
 * - CONNECT on each database as checked at login: for the login role itself, with inherited rights
 *   only (no SET ROLE yet), so a NOINHERIT alternate of a role granted CONNECT cannot open it;
 * - the role each login starts as, in every database (`role` from pg_db_role_setting by PostgreSQL's
 *   priority: (database, role), role-wide, database-wide, ALTER ROLE ALL; `none` = the login role);
 * - every other session default per database: the role's per-database row over its role-wide row;
 * - attributes checked against the current role (SUPERUSER, CREATEDB, CREATEROLE, BYPASSRLS), as
 *   reachable: held by a role the login may become (SET ROLE; the `role` default does the same);
 * - memberships in every other role: MEMBER, USAGE (inherited), SET (16+), ADMIN OPTION;
 * - privileges on the objects either role (or the role it starts as) owns or is granted, in the
 *   admin's database: tables and views, sequences, schemas, functions, and the database itself, plus
 *   owner rights, each as reachable by the login (directly or by SET ROLE). An object only the
 *   alternate owns shows here, as does a right granted to one login only;
 * - objects either role owns in other databases (counted, per database);
 * - default privileges the alternate defined for itself that grant anything (in the admin's database):
 *   its sessions create objects as its start role, so those grants reach nothing either login makes;
 * - the password's hashing (md5 or SCRAM), when the admin may read pg_authid.
 */

/** The part of pg's Client (or Pool) this needs: text queries with parameters. */
export interface PgQueryable {
  query(text: string, values?: unknown[]): Promise<{ rows: any[] }>;
}

/** One difference: what differs, and both sides' values (never a password or verifier). */
export interface RoleDifference {
  readonly what: string;
  readonly original: unknown;
  readonly alternate: unknown;
}

async function rows(admin: PgQueryable, sql: string, values: unknown[] = []): Promise<any[]> {
  return (await admin.query(sql, values)).rows;
}

async function majorOf(admin: PgQueryable): Promise<number> {
  const [row] = await rows(admin, "SELECT current_setting('server_version_num')::int / 10000 AS major");
  return Number(row.major);
}

/** What to compare. */
export interface EquivalenceOptions {
  /**
   * Only these databases for the per-database comparisons: suites sharing a server create and drop
   * databases with database-wide settings while another compares. @default every database either may open
   */
  readonly databases?: readonly string[];
}

/** Session defaults of one role per database name ('' = role-wide), plus the role-independent rows. */
/**
 * `databases` are those either login may connect to: a database neither can open gives neither a
 * session to start in, so its settings cannot make them differ.
 */
async function settingRows(
  admin: PgQueryable,
  pair: readonly [string, string],
): Promise<{ byRole: Map<string, Map<string, Map<string, string>>>; databases: string[] }> {
  const byRole = new Map<string, Map<string, Map<string, string>>>();
  const all = await rows(
    admin,
    "SELECT coalesce(d.datname, '') AS db, coalesce(r.rolname, '') AS role, s.setconfig FROM pg_db_role_setting s " +
      'LEFT JOIN pg_database d ON d.oid = s.setdatabase LEFT JOIN pg_roles r ON r.oid = s.setrole',
  );
  for (const row of all) {
    const perDb = byRole.get(row.role) ?? new Map<string, Map<string, string>>();
    const settings = new Map<string, string>();
    for (const entry of row.setconfig as string[]) {
      const at = entry.indexOf('=');
      settings.set(entry.slice(0, at), entry.slice(at + 1));
    }
    perDb.set(row.db, settings);
    byRole.set(row.role, perDb);
  }
  const databases = (
    await rows(
      admin,
      // By oid: a database another suite drops meanwhile gives NULL, where its name would raise 3D000.
      "SELECT datname FROM pg_database WHERE datallowconn AND (has_database_privilege($1, oid, 'CONNECT') OR has_database_privilege($2, oid, 'CONNECT')) ORDER BY 1",
      [...pair],
    )
  ).map((r) => String(r.datname));
  return { byRole, databases };
}

/**
 * The role `login` starts as in `db`. A default naming a role the login may not become (`reach`: the
 * names it may SET ROLE to), or one dropped since (pg_db_role_setting keeps the text), is passed over
 * at login with a warning, and the next default by priority applies.
 */
function startRole(settings: Map<string, Map<string, Map<string, string>>>, login: string, db: string, reach: ReadonlySet<string>): string {
  const pick = (role: string, database: string): string | undefined => {
    const value = settings.get(role)?.get(database)?.get('role');
    if (value === undefined) return undefined;
    if (value.toLowerCase() === 'none') return login;
    return reach.has(value) ? value : undefined;
  };
  return pick(login, db) ?? pick(login, '') ?? pick('', db) ?? pick('', '') ?? login;
}

function sessionDefaults(settings: Map<string, Map<string, Map<string, string>>>, login: string, db: string): Record<string, string> {
  const merged = { ...Object.fromEntries(settings.get(login)?.get('') ?? []), ...Object.fromEntries(settings.get(login)?.get(db) ?? []) };
  delete merged.role;
  return Object.fromEntries(Object.entries(merged).sort(([a], [b]) => a.localeCompare(b)));
}

/** The roles a login may become (itself included): SET ROLE's rule, which the `role` default follows. */
function reachSql(major: number): string {
  return `SELECT oid FROM pg_roles WHERE pg_has_role($1, oid, '${major >= 16 ? 'SET' : 'MEMBER'}')`;
}

/**
 * Privileges reachable by login $1 on every object owned by, or granted to, any role in $2 (names),
 * in the current database: one row per object and privilege.
 */
function privilegesSql(major: number): string {
  const reach = `(${reachSql(major)})`;
  const related = '(SELECT oid FROM pg_roles WHERE rolname = ANY($2::text[]))';
  const mentions = (acl: string): string => `EXISTS (SELECT 1 FROM aclexplode(${acl}) x WHERE x.grantee IN ${related})`;
  const any = (test: string): string => `EXISTS (SELECT 1 FROM ${reach} g WHERE ${test})`;
  const owner = (col: string): string => any(`pg_has_role(g.oid, ${col}, 'USAGE')`);
  return `
    WITH rel AS (SELECT c.oid, c.relkind, c.relowner FROM pg_class c WHERE c.relkind IN ('r','v','m','f','p','S')
                 AND (c.relowner IN ${related} OR ${mentions('c.relacl')})),
         nsp AS (SELECT n.oid, n.nspowner FROM pg_namespace n WHERE n.nspowner IN ${related} OR ${mentions('n.nspacl')}),
         fn  AS (SELECT p.oid, p.proowner FROM pg_proc p WHERE p.proowner IN ${related} OR ${mentions('p.proacl')})
    SELECT 'table ' || rel.oid::regclass::text AS object, p.priv,
           ${any('has_table_privilege(g.oid, rel.oid, p.priv)')} AS allowed
      FROM rel, unnest(ARRAY['SELECT','INSERT','UPDATE','DELETE','TRUNCATE','REFERENCES','TRIGGER']) p(priv) WHERE rel.relkind <> 'S'
    UNION ALL
    SELECT 'sequence ' || rel.oid::regclass::text, p.priv, ${any('has_sequence_privilege(g.oid, rel.oid, p.priv)')}
      FROM rel, unnest(ARRAY['USAGE','SELECT','UPDATE']) p(priv) WHERE rel.relkind = 'S'
    UNION ALL
    SELECT 'table ' || rel.oid::regclass::text, 'OWNER', ${owner('rel.relowner')} FROM rel
    UNION ALL
    SELECT 'schema ' || nsp.oid::regnamespace::text, p.priv, ${any('has_schema_privilege(g.oid, nsp.oid, p.priv)')}
      FROM nsp, unnest(ARRAY['USAGE','CREATE']) p(priv)
    UNION ALL
    SELECT 'schema ' || nsp.oid::regnamespace::text, 'OWNER', ${owner('nsp.nspowner')} FROM nsp
    UNION ALL
    SELECT 'function ' || fn.oid::regprocedure::text, 'EXECUTE', ${any("has_function_privilege(g.oid, fn.oid, 'EXECUTE')")} FROM fn
    UNION ALL
    SELECT 'function ' || fn.oid::regprocedure::text, 'OWNER', ${owner('fn.proowner')} FROM fn
    UNION ALL
    SELECT 'database ' || quote_ident(current_database()), p.priv, ${any('has_database_privilege(g.oid, current_database(), p.priv)')}
      FROM unnest(ARRAY['CONNECT','CREATE','TEMPORARY']) p(priv)`;
}

/**
 * Every role membership of both logins ($1, $3), by role name: MEMBER / USAGE / SET (16+) / ADMIN, in
 * one statement: suites sharing the server create and drop roles between two reads.
 */
function membershipsSql(major: number): string {
  const of = (login: string, p: string): string =>
    `'member=' || pg_has_role(${login}, r.oid, 'MEMBER') || ' usage=' || pg_has_role(${login}, r.oid, 'USAGE') || ` +
    `' set=' || ${major >= 16 ? `pg_has_role(${login}, r.oid, 'SET')::text` : "'null'"} || ` +
    `' admin=' || pg_has_role(${login}, r.oid, 'MEMBER WITH ADMIN OPTION') AS ${p}`;
  return (
    `SELECT r.rolname, ${of('$1', 'a')}, ${of('$3', 'b')} FROM pg_roles r WHERE r.rolname <> ALL($2::text[]) ` +
    "AND (pg_has_role($1, r.oid, 'MEMBER') OR pg_has_role($3, r.oid, 'MEMBER'))"
  );
}

const OWNED_ELSEWHERE_SQL =
  'SELECT d.datname, count(*)::int AS n FROM pg_shdepend s JOIN pg_database d ON d.oid = s.dbid ' +
  "WHERE s.refclassid = 'pg_authid'::regclass AND s.deptype = 'o' AND s.classid <> 'pg_default_acl'::regclass " +
  'AND s.refobjid = (SELECT oid FROM pg_roles WHERE rolname = $1) AND d.datname <> current_database() GROUP BY 1 ORDER BY 1';

/**
 * Grants in the default privileges a login defined for itself (ALTER DEFAULT PRIVILEGES FOR ROLE it), other
 * than its own owner entry and PUBLIC's built-in EXECUTE on functions and USAGE on types: on the alternate
 * they apply to nothing (its sessions create objects as its start role), so a grant there is one the
 * objects either login makes lack.
 */
const OWN_DEFAULT_GRANTS_SQL =
  "SELECT coalesce(n.nspname, '*') AS schema, d.defaclobjtype::text AS kind, " +
  "CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE (SELECT rolname FROM pg_roles WHERE oid = a.grantee) END AS grantee, " +
  'a.privilege_type AS priv, a.is_grantable AS grantable ' +
  'FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace AND d.defaclnamespace <> 0 CROSS JOIN LATERAL aclexplode(d.defaclacl) a ' +
  'WHERE d.defaclrole = (SELECT oid FROM pg_roles WHERE rolname = $1) AND a.grantee <> d.defaclrole ' +
  "AND NOT (d.defaclnamespace = 0 AND a.grantee = 0 AND NOT a.is_grantable AND ((d.defaclobjtype = 'f' AND a.privilege_type = 'EXECUTE') " +
  "OR (d.defaclobjtype = 'T' AND a.privilege_type = 'USAGE'))) ORDER BY 1, 2, 3, 4";

/**
 * Every observable difference between `original` and `alternate` other than name and password.
 * @param admin a superuser connection (pg_authid is read when readable; the rest needs no superuser)
 */
export async function postgresDifferences(
  admin: PgQueryable,
  original: string,
  alternate: string,
  options: EquivalenceOptions = {},
): Promise<RoleDifference[]> {
  const out: RoleDifference[] = [];
  const differ = (what: string, a: unknown, b: unknown): void => {
    if (JSON.stringify(a) !== JSON.stringify(b)) out.push({ what, original: a, alternate: b });
  };
  const major = await majorOf(admin);
  const pair = [original, alternate];

  const attrs = new Map(
    (
      await rows(
        admin,
        "SELECT rolname, rolinherit, rolconnlimit, rolcanlogin, rolreplication, CASE WHEN rolvaliduntil IS NULL OR rolvaliduntil = 'infinity' THEN NULL ELSE rolvaliduntil::text END AS valid_until " +
          'FROM pg_roles WHERE rolname = ANY($1::text[])',
        [pair],
      )
    ).map((r) => [r.rolname, r]),
  );
  const [a, b] = [attrs.get(original), attrs.get(alternate)];
  if (a === undefined || b === undefined) {
    differ('exists', a !== undefined, b !== undefined);
    return out;
  }
  differ('INHERIT', major >= 16 ? a.rolinherit : true, b.rolinherit);
  for (const [what, column] of [
    ['CONNECTION LIMIT', 'rolconnlimit'],
    ['VALID UNTIL', 'valid_until'],
    ['LOGIN', 'rolcanlogin'],
    ['REPLICATION', 'rolreplication'],
  ] as const) {
    differ(what, a[column], b[column]);
  }

  const settings = await settingRows(admin, [original, alternate]);
  const { byRole } = settings;
  const databases = options.databases === undefined ? settings.databases : settings.databases.filter((d) => options.databases!.includes(d));
  // Both logins in one statement (one snapshot): suites sharing the server drop databases meanwhile.
  const connect = await rows(
    admin,
    "SELECT datname, has_database_privilege($1, oid, 'CONNECT') AS a, has_database_privilege($2, oid, 'CONNECT') AS b " +
      'FROM pg_database WHERE datname = ANY($3::text[])',
    [original, alternate, databases],
  );
  for (const r of connect) differ(`CONNECT at login (database ${r.datname})`, r.a === true, r.b === true);
  const reachOf = async (login: string): Promise<Set<string>> =>
    new Set((await rows(admin, `SELECT rolname FROM pg_roles WHERE oid IN (${reachSql(major)})`, [login])).map((r) => String(r.rolname)));
  const reach = new Map([
    [original, await reachOf(original)],
    [alternate, await reachOf(alternate)],
  ]);
  for (const db of databases) {
    differ(
      `starts as (database ${db})`,
      startRole(byRole, original, db, reach.get(original)!),
      startRole(byRole, alternate, db, reach.get(alternate)!),
    );
    differ(`session defaults (database ${db})`, sessionDefaults(byRole, original, db), sessionDefaults(byRole, alternate, db));
  }

  const reachable = async (login: string): Promise<Record<string, boolean>> => {
    const [row] = await rows(
      admin,
      `SELECT bool_or(r.rolsuper) AS superuser, bool_or(r.rolcreatedb) AS createdb, bool_or(r.rolcreaterole) AS createrole, bool_or(r.rolbypassrls) AS bypassrls ` +
        `FROM pg_roles r WHERE r.oid IN (${reachSql(major)})`,
      [login],
    );
    return row;
  };
  differ('reachable attributes (SUPERUSER, CREATEDB, CREATEROLE, BYPASSRLS)', await reachable(original), await reachable(alternate));

  for (const r of await rows(admin, membershipsSql(major), [original, pair, alternate])) differ(`membership in ${r.rolname}`, r.a, r.b);

  const starts = new Set<string>(pair);
  for (const db of databases) for (const login of pair) starts.add(startRole(byRole, login, db, reach.get(login)!));
  const related = [...starts];
  const privileges = async (login: string): Promise<Map<string, boolean>> =>
    new Map((await rows(admin, privilegesSql(major), [login, related])).map((r) => [`${r.priv} on ${r.object}`, r.allowed === true]));
  const [pa, pb] = [await privileges(original), await privileges(alternate)];
  for (const key of new Set([...pa.keys(), ...pb.keys()])) differ(key, pa.get(key) ?? false, pb.get(key) ?? false);

  const elsewhere = async (login: string): Promise<Record<string, number>> =>
    Object.fromEntries((await rows(admin, OWNED_ELSEWHERE_SQL, [login])).map((r) => [r.datname, r.n]));
  const [eb] = [await elsewhere(alternate)];
  differ('objects owned in other databases by the alternate', {}, eb);
  differ(
    'default privileges defined by the alternate (they apply to nothing it creates)',
    [],
    await rows(admin, OWN_DEFAULT_GRANTS_SQL, [alternate]),
  );

  const [readable] = await rows(admin, "SELECT has_table_privilege('pg_authid', 'SELECT') AS ok");
  if (readable.ok === true) {
    const kinds = new Map(
      (
        await rows(
          admin,
          "SELECT rolname, CASE WHEN rolpassword LIKE 'md5%' THEN 'md5' WHEN rolpassword LIKE 'SCRAM-SHA-256$%' THEN 'scram-sha-256' ELSE 'none' END AS kind " +
            'FROM pg_authid WHERE rolname = ANY($1::text[])',
          [pair],
        )
      ).map((r) => [r.rolname, r.kind]),
    );
    differ('password hashing', kinds.get(original), kinds.get(alternate));
  }
  return out;
}

/**
 * Fails unless `alternate` is the same account as `original` in everything but name and password.
 * @throws Error listing each difference (names, settings and flags; never a password or verifier)
 */
export async function assertPostgresEquivalent(
  admin: PgQueryable,
  original: string,
  alternate: string,
  options: EquivalenceOptions = {},
): Promise<void> {
  const differences = await postgresDifferences(admin, original, alternate, options);
  if (differences.length === 0) return;
  const lines = differences.map((d) => `  ${d.what}: original ${JSON.stringify(d.original)}, alternate ${JSON.stringify(d.alternate)}`);
  throw new Error(`PostgreSQL role "${alternate}" differs from "${original}":\n${lines.join('\n')}`);
}
