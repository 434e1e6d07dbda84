/**
 * Rights granted to the alternate role itself. The clone holds the original's rights through its
 * membership in the original; a right granted to the clone alone (by hand, or left by an earlier
 * tool) makes the application's rights change at every switch, and would come back after the DBA
 * revoked it from the original. So on every rotation the clone is left with its membership in the
 * original only:
 * - its other direct memberships are revoked (16+: as granted, GRANTED BY their grantor);
 * - privileges granted to it on objects of the master's database, and on databases, tablespaces and
 *   (15+) parameters, are revoked, one object at a time;
 * - SUPERUSER, CREATEDB, CREATEROLE and BYPASSRLS it has and the original has not are taken away (the
 *   original's own are not copied: the server checks them against the current role, the original's).
 * While the clone is the login in use (AWSCURRENT), nothing is revoked: the application may rely on
 * them until the switch; they are named in a warning (they are lost at the switch to the original, and
 * revoked at the next rotation, which changes the clone's password).
 * Each revoke runs under a savepoint: one the master may not make (an RDS-like master without rights on
 * the object, a grant the clone passed on to others, which only CASCADE would remove) is left in place
 * and named in a warning, never failing the rotation. A privilege a plain REVOKE does not remove (granted
 * by a role other than the owner) shows on the re-read and is named too, as are grants in other
 * databases, which a session here cannot reach, and default privileges naming the clone.
 * Nothing here is silent: every revoke and every leftover is reported through the change's `warn`.
 */
import { failureCode } from './driver-errors';
import type { ServerInfo, SqlSession } from '../rotation/database-engine';
import { escapePostgresIdentifier as ident } from './postgres-escape';

/** The clone's direct memberships other than in the original ($2), with who granted each. */
export const OWN_MEMBERSHIPS_SQL =
  'SELECT r.rolname, g.rolname AS grantor FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid ' +
  'LEFT JOIN pg_roles g ON g.oid = a.grantor ' +
  'WHERE a.member = (SELECT oid FROM pg_roles WHERE rolname = $1) AND r.rolname <> $2 ORDER BY 1, 2';

/**
 * The objects the clone ($1) holds privileges on (pg_shdepend ACL entries), as the target of a REVOKE
 * quoted by the server: `ALL ON TABLE s.t`, `ALL (c) ON TABLE s.t`, … NULL target: a kind this does not
 * revoke (named from pg_describe_object). `here` false: an object of another database.
 */
export function ownPrivilegesSql(server: ServerInfo): string {
  const parameter =
    server.major >= 15
      ? "WHEN 'pg_parameter_acl'::regclass THEN 'ALL ON PARAMETER ' || (SELECT quote_ident(parname) FROM pg_parameter_acl WHERE oid = s.objid) "
      : '';
  return (
    'SELECT here, datname, target, CASE WHEN here THEN pg_describe_object(classid, objid, objsubid) END AS object FROM (' +
    'SELECT s.classid, s.objid, s.objsubid, s.dbid = 0 OR d.datname = current_database() AS here, d.datname, ' +
    'CASE WHEN s.dbid = 0 OR d.datname = current_database() THEN CASE s.classid ' +
    "WHEN 'pg_class'::regclass THEN CASE WHEN s.objsubid > 0 " +
    "THEN 'ALL (' || (SELECT quote_ident(attname) FROM pg_attribute WHERE attrelid = s.objid AND attnum = s.objsubid) || ') ON TABLE ' || s.objid::regclass::text " +
    "WHEN (SELECT relkind FROM pg_class WHERE oid = s.objid) = 'S' THEN 'ALL ON SEQUENCE ' || s.objid::regclass::text " +
    "ELSE 'ALL ON TABLE ' || s.objid::regclass::text END " +
    "WHEN 'pg_namespace'::regclass THEN 'ALL ON SCHEMA ' || s.objid::regnamespace::text " +
    "WHEN 'pg_proc'::regclass THEN 'ALL ON ROUTINE ' || s.objid::regprocedure::text " +
    "WHEN 'pg_type'::regclass THEN 'ALL ON TYPE ' || s.objid::regtype::text " +
    "WHEN 'pg_database'::regclass THEN 'ALL ON DATABASE ' || (SELECT quote_ident(datname) FROM pg_database WHERE oid = s.objid) " +
    "WHEN 'pg_tablespace'::regclass THEN 'ALL ON TABLESPACE ' || (SELECT quote_ident(spcname) FROM pg_tablespace WHERE oid = s.objid) " +
    "WHEN 'pg_foreign_server'::regclass THEN 'ALL ON FOREIGN SERVER ' || (SELECT quote_ident(srvname) FROM pg_foreign_server WHERE oid = s.objid) " +
    "WHEN 'pg_foreign_data_wrapper'::regclass THEN 'ALL ON FOREIGN DATA WRAPPER ' || (SELECT quote_ident(fdwname) FROM pg_foreign_data_wrapper WHERE oid = s.objid) " +
    "WHEN 'pg_language'::regclass THEN 'ALL ON LANGUAGE ' || (SELECT quote_ident(lanname) FROM pg_language WHERE oid = s.objid) " +
    "WHEN 'pg_largeobject'::regclass THEN 'ALL ON LARGE OBJECT ' || s.objid::text " +
    parameter +
    'END END AS target FROM pg_shdepend s LEFT JOIN pg_database d ON d.oid = s.dbid ' +
    "WHERE s.refclassid = 'pg_authid'::regclass AND s.deptype = 'a' AND s.refobjid = (SELECT oid FROM pg_roles WHERE rolname = $1)" +
    ') o ORDER BY datname NULLS FIRST, target, object'
  );
}

/** The attributes the clone may hold only where the original does, for both roles. */
export const CURRENT_ROLE_ATTRIBUTES_SQL =
  'SELECT rolname, rolsuper, rolcreatedb, rolcreaterole, rolbypassrls FROM pg_roles WHERE rolname = $1 OR rolname = $2';

/** Attribute column → the keyword that takes it away. */
const TAKEN_AWAY: ReadonlyArray<readonly [column: string, keyword: string]> = [
  ['rolsuper', 'NOSUPERUSER'],
  ['rolcreatedb', 'NOCREATEDB'],
  ['rolcreaterole', 'NOCREATEROLE'],
  ['rolbypassrls', 'NOBYPASSRLS'],
];

/** `REVOKE role FROM member` (16+: only the grant `grantor` made, as PostgreSQL keeps one per grantor). */
export function revokeMembershipSql(role: string, member: string, grantor: string | undefined, server: ServerInfo): string {
  const by = server.major >= 16 && grantor !== undefined ? ` GRANTED BY ${ident(grantor)}` : '';
  return `REVOKE ${ident(role)} FROM ${ident(member)}${by}`;
}

const SAVEPOINT = 'SAVEPOINT toolkit_clone_right';
const RELEASE = 'RELEASE SAVEPOINT toolkit_clone_right';
const ROLLBACK_TO = 'ROLLBACK TO SAVEPOINT toolkit_clone_right';

/** Runs `sql` under a savepoint; the SQLSTATE when refused (the transaction goes on either way). */
async function attempt(session: SqlSession, sql: string): Promise<string | undefined> {
  await session.query(SAVEPOINT);
  try {
    await session.query(sql);
    await session.query(RELEASE);
    return undefined;
  } catch (err) {
    await session.query(ROLLBACK_TO);
    return failureCode(err) ?? 'refused';
  }
}

/**
 * Inside the caller's transaction, after the clone's membership in `original` is in place: revokes
 * what the clone holds on its own (see the module comment) and reports each revoke and leftover
 * through `warn`; with `inUse` (the clone is the AWSCURRENT login) only reports them. Idempotent: with
 * nothing of its own, only the three reads run (in one round trip).
 * @throws DatabaseError when one of the reads is refused (a revoke refused is named in a warning instead).
 */
export async function revokeCloneOwnRights(
  session: SqlSession,
  server: ServerInfo,
  clone: string,
  original: string,
  warn: (message: string) => void,
  inUse = false,
): Promise<void> {
  const [memberships, privileges, attributeRows] = await Promise.all([
    session.query(OWN_MEMBERSHIPS_SQL, [clone, original]),
    session.query(ownPrivilegesSql(server), [clone]),
    session.query(CURRENT_ROLE_ATTRIBUTES_SQL, [clone, original]),
  ]);
  const cloneRow = attributeRows.find((row) => row.rolname === clone) ?? {};
  const originalRow = attributeRows.find((row) => row.rolname === original) ?? {};
  const extraAttributes = TAKEN_AWAY.filter(([column]) => cloneRow[column] === true && originalRow[column] !== true);
  if (memberships.length === 0 && privileges.length === 0 && extraAttributes.length === 0) return;
  if (inUse) {
    const named = [
      ...extraAttributes.map(([, keyword]) => keyword.slice(2)),
      ...memberships.map((row) => `membership in ${ident(String(row.rolname))}`),
      ...privileges.map((row) =>
        String(row.target ?? row.object ?? `a grant in database "${String(row.datname)}"`).replace(/^ALL /, 'privileges '),
      ),
    ];
    warn(
      `"${clone}" is in use (AWSCURRENT) and holds rights of its own that "${original}" lacks: ${named.join('; ')}. The application ` +
        `loses them when it switches to "${original}"; grant them to "${original}" to keep them. They are revoked from "${clone}" ` +
        'at the rotation that changes its password',
    );
    return;
  }
  const revoked: string[] = [];
  const kept: string[] = [];
  for (const [, keyword] of extraAttributes) {
    const refused = await attempt(session, `ALTER ROLE ${ident(clone)} ${keyword}`);
    (refused === undefined ? revoked : kept).push(`${keyword.slice(2)}${refused === undefined ? '' : ` (error ${refused})`}`);
  }
  for (const row of memberships) {
    const role = String(row.rolname);
    const grantor = typeof row.grantor === 'string' ? row.grantor : undefined;
    const refused = await attempt(session, revokeMembershipSql(role, clone, grantor, server));
    (refused === undefined ? revoked : kept).push(`membership in ${ident(role)}${refused === undefined ? '' : ` (error ${refused})`}`);
  }
  const targets = privileges.filter((row) => row.here === true && typeof row.target === 'string').map((row) => String(row.target));
  const failed = new Map<string, string>();
  for (const target of targets) {
    const refused = await attempt(session, `REVOKE ${target} FROM ${ident(clone)}`);
    if (refused !== undefined) failed.set(target, refused);
  }
  const left = await session.query(ownPrivilegesSql(server), [clone]);
  const leftHere = new Set(left.filter((row) => row.here === true).map((row) => String(row.target ?? row.object)));
  for (const target of targets) if (!leftHere.has(target)) revoked.push(target.replace(/^ALL /, 'privileges '));
  for (const row of left) {
    if (row.here !== true) continue;
    const what = String(row.target ?? row.object);
    const code = failed.get(what);
    kept.push(
      row.target === null
        ? `a grant on ${what} (revoke it by hand)`
        : `${what.replace(/^ALL /, 'privileges ')} (${code !== undefined ? `error ${code}` : 'granted by a role other than the owner'})`,
    );
  }
  const elsewhere = new Map<string, number>();
  for (const row of left) if (row.here !== true) elsewhere.set(String(row.datname), (elsewhere.get(String(row.datname)) ?? 0) + 1);
  if (revoked.length > 0) {
    warn(
      `Revoked from "${clone}" what was granted to it alone (it holds the rights of "${original}" through membership): ${revoked.join('; ')}`,
    );
  }
  if (kept.length > 0) {
    warn(`"${clone}" keeps rights granted to it alone that the master could not revoke here: ${kept.join('; ')}`);
  }
  for (const [database, n] of elsewhere) {
    warn(`"${clone}" holds ${n} grant(s) of its own in database "${database}"; revoke them there (it has those of "${original}")`);
  }
}
