/**
 * Default privileges the clone defined for itself (ALTER DEFAULT PRIVILEGES run while logged in as the
 * clone, which means FOR ROLE the clone). AWS's multi-user function alternates the login the
 * application and its migrations use, so about half of the migrations that say "new tables are readable
 * by the reporting role" ran as the clone. Once the clone starts its sessions as the original's session
 * role, new objects are created by that role and the clone's own defaults never apply again: every
 * table made after the switch is unreadable by the roles they named (42501). REASSIGN OWNED does not
 * move default privileges (PostgreSQL's documented rule), so they are moved here.
 *
 * The move, on every rotation the clone has some (in the master's database): each grant of the clone's
 * defaults is added to the start role's defaults (same schema, object kind, grantee, privileges, grant
 * option), then revoked from the clone's, in the caller's transaction. Taking them off the clone keeps
 * one place for them: a DBA's later revoke on the original then sticks instead of being copied back by
 * the next rotation. Left on the clone, and named in a warning: what only narrows its built-in defaults
 * (EXECUTE or USAGE revoked from PUBLIC, or from the clone itself): GRANT cannot carry a revoke, and
 * adding one to the original's defaults would change what the original had. Defaults the clone defined
 * in other databases are named too (a session here cannot reach them).
 *
 * Only a role that may act as the role named in FOR ROLE may change its defaults: the statements run as
 * the clone (postgres-clone-objects.ts `actAsClone`), which is a member of the start role.
 */
import { escapePostgresIdentifier as ident } from './postgres-escape';
import type { Row, SqlSession } from '../rotation/database-engine';

/**
 * The clone's ($1) default privileges in this database, one row per grantee and privilege: the schema
 * (NULL: every schema), the object kind (pg_default_acl.defaclobjtype), the grantee (NULL with
 * `public`), and whether it is the clone's own entry (the owner's privileges, built in).
 */
export const CLONE_DEFAULT_PRIVILEGES_SQL =
  'SELECT n.nspname AS schema, d.defaclobjtype::text AS kind, a.grantee = 0 AS public, g.rolname AS grantee, ' +
  'a.grantee = d.defaclrole AS own, a.privilege_type AS privilege, a.is_grantable AS grantable ' +
  'FROM pg_catalog.pg_default_acl d LEFT JOIN pg_catalog.pg_namespace n ON n.oid = d.defaclnamespace AND d.defaclnamespace <> 0 ' +
  'CROSS JOIN LATERAL pg_catalog.aclexplode(d.defaclacl) a LEFT JOIN pg_catalog.pg_roles g ON g.oid = a.grantee ' +
  'WHERE d.defaclrole = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = $1) ORDER BY 1 NULLS FIRST, 2, 4 NULLS FIRST, 6';

/** Databases other than this one where the clone ($1) defined default privileges, with how many entries. */
export const CLONE_DEFAULT_PRIVILEGES_ELSEWHERE_SQL =
  'SELECT d.datname, count(*)::int AS n FROM pg_catalog.pg_shdepend s JOIN pg_catalog.pg_database d ON d.oid = s.dbid ' +
  "WHERE s.classid = 'pg_catalog.pg_default_acl'::regclass AND s.refclassid = 'pg_catalog.pg_authid'::regclass AND s.deptype = 'o' " +
  'AND s.refobjid = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = $1) AND d.datname <> current_database() GROUP BY 1 ORDER BY 1';

/** pg_default_acl.defaclobjtype → the object kind of ALTER DEFAULT PRIVILEGES. */
const KINDS: Readonly<Record<string, string>> = { r: 'TABLES', S: 'SEQUENCES', f: 'FUNCTIONS', T: 'TYPES', n: 'SCHEMAS' };

/** What PostgreSQL grants PUBLIC by default on new objects of a kind (so a global entry lists it). */
const PUBLIC_BUILT_IN: Readonly<Record<string, string>> = { f: 'EXECUTE', T: 'USAGE' };

/** One grant of the clone's defaults that moves to the start role. */
export interface DefaultPrivilegeGrant {
  /** Unquoted schema name; undefined: in every schema. */
  readonly schema: string | undefined;
  /** TABLES, SEQUENCES, FUNCTIONS, TYPES or SCHEMAS. */
  readonly kind: string;
  /** Unquoted role name; undefined: PUBLIC. */
  readonly grantee: string | undefined;
  readonly privileges: readonly string[];
  readonly grantable: boolean;
}

/**
 * The grants of the clone's default privileges (rows of `CLONE_DEFAULT_PRIVILEGES_SQL`) that the start
 * role `owner` must get: grants to roles other than the clone and `owner` (which owns what it creates),
 * and PUBLIC's other than the built-in ones. Grouped per schema, kind, grantee and grant option.
 */
export function movableDefaultPrivileges(rows: readonly Row[], owner: string): DefaultPrivilegeGrant[] {
  const groups = new Map<string, { grant: Omit<DefaultPrivilegeGrant, 'privileges'>; privileges: string[] }>();
  for (const row of rows) {
    const kind = KINDS[String(row.kind)];
    if (kind === undefined || row.own === true) continue;
    const schema = typeof row.schema === 'string' ? row.schema : undefined;
    const grantee = row.public === true ? undefined : typeof row.grantee === 'string' ? row.grantee : undefined;
    if (row.public !== true && (grantee === undefined || grantee === owner)) continue;
    const privilege = String(row.privilege);
    const grantable = row.grantable === true;
    if (grantee === undefined && schema === undefined && !grantable && PUBLIC_BUILT_IN[String(row.kind)] === privilege) continue;
    const key = JSON.stringify([schema ?? null, kind, grantee ?? null, grantable]);
    const group = groups.get(key) ?? { grant: { schema, kind, grantee, grantable }, privileges: [] };
    group.privileges.push(privilege);
    groups.set(key, group);
  }
  return [...groups.values()].map(({ grant, privileges }) => ({ ...grant, privileges }));
}

function target(role: string, grant: DefaultPrivilegeGrant): string {
  const schema = grant.schema === undefined ? '' : ` IN SCHEMA ${ident(grant.schema)}`;
  return `ALTER DEFAULT PRIVILEGES FOR ROLE ${ident(role)}${schema}`;
}

function granteeSql(grant: DefaultPrivilegeGrant): string {
  return grant.grantee === undefined ? 'PUBLIC' : ident(grant.grantee);
}

/** The statement that adds `grant` to `role`'s default privileges. */
export function grantDefaultPrivilegeSql(role: string, grant: DefaultPrivilegeGrant): string {
  const option = grant.grantable ? ' WITH GRANT OPTION' : '';
  return `${target(role, grant)} GRANT ${grant.privileges.join(', ')} ON ${grant.kind} TO ${granteeSql(grant)}${option}`;
}

/** The statement that takes `grant` off `role`'s default privileges (with its grant option). */
export function revokeDefaultPrivilegeSql(role: string, grant: DefaultPrivilegeGrant): string {
  return `${target(role, grant)} REVOKE ${grant.privileges.join(', ')} ON ${grant.kind} FROM ${granteeSql(grant)}`;
}

/**
 * Inside the caller's transaction, run as a role that may act as both `clone` and `owner`: moves the
 * clone's movable default privileges (`grants`) to `owner`. Idempotent: a grant already moved is
 * gone from the clone's and not read again.
 */
export async function moveCloneDefaultPrivileges(
  session: SqlSession,
  clone: string,
  owner: string,
  grants: readonly DefaultPrivilegeGrant[],
): Promise<void> {
  for (const grant of grants) {
    await session.query(grantDefaultPrivilegeSql(owner, grant));
    await session.query(revokeDefaultPrivilegeSql(clone, grant));
  }
}

/**
 * After the move: warnings naming what the clone keeps (entries that only narrow its built-in defaults)
 * and the databases where it defined default privileges a session here cannot reach.
 * @param left the clone's `CLONE_DEFAULT_PRIVILEGES_SQL` rows when nothing moved (else read again)
 */
export async function reportClonesDefaultPrivilegesLeft(
  session: SqlSession,
  clone: string,
  owner: string,
  warn: (message: string) => void,
  left?: readonly Row[],
): Promise<void> {
  const [here, elsewhere] = await Promise.all([
    left ?? session.query(CLONE_DEFAULT_PRIVILEGES_SQL, [clone]),
    session.query(CLONE_DEFAULT_PRIVILEGES_ELSEWHERE_SQL, [clone]),
  ]);
  const kinds = [
    ...new Set(
      here.map(
        (row) => `${KINDS[String(row.kind)] ?? String(row.kind)}${typeof row.schema === 'string' ? ` in schema ${ident(row.schema)}` : ''}`,
      ),
    ),
  ];
  if (kinds.length > 0) {
    warn(
      `"${clone}" keeps default privileges that narrow its built-in ones (on ${kinds.join(', ')}: a revoke from PUBLIC or from itself), ` +
        `which no longer apply (its sessions create objects as "${owner}") and cannot be carried by a GRANT; ` +
        `run the same ALTER DEFAULT PRIVILEGES FOR ROLE ${ident(owner)} … REVOKE if "${owner}" should narrow its own`,
    );
  }
  for (const row of elsewhere) {
    warn(
      `"${clone}" defined ${Number(row.n)} default-privilege entr${Number(row.n) === 1 ? 'y' : 'ies'} in database "${String(row.datname)}", ` +
        `which no longer apply (its sessions create objects as "${owner}"); run the same ALTER DEFAULT PRIVILEGES FOR ROLE ${ident(owner)} there`,
    );
  }
}
