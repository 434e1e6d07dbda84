/**
 * The alternate role's session defaults (pg_db_role_setting), made equal to its original's on every
 * rotation: role-wide and per-database settings are copied, settings the original no longer has are
 * reset, and the session default `role` is set so the alternate starts every session as the same role
 * the original starts as, in every database.
 *
 * PostgreSQL applies defaults at login by priority: the (database, role) row, then the role-wide row,
 * then the database-wide row (ALTER DATABASE … SET), then ALTER ROLE ALL. Other settings are copied row
 * for row, so the same fall-backs apply to both roles. `role` is the exception: the alternate's
 * role-wide `role` must name the original when the original has none (that is what keeps both on one
 * owner), and that hides a database-wide `role`; so where the original's effective start role in a
 * database differs, the alternate gets a per-database `role` of its own.
 *
 * A `role` default is checked at login against the login role, and one it may not take (a role dropped
 * since, as pg_db_role_setting keeps the text, or one the original was taken out of) is passed over with
 * a warning, the next default by priority applying instead. The start role is worked out the same way,
 * so the alternate never starts as itself where the original starts as the original.
 */
import type { Row, ServerInfo, SqlSession } from '../rotation/database-engine';
import { ROLE_SETTING, parseRoleSetting, resetRoleSettingSql, setRoleSettingSql, type RoleSetting } from './postgres-role-sql';

/** The settings of one role, by database name (`undefined` key: role-wide), each by setting name. */
export type SettingsByDatabase = Map<string | undefined, Map<string, string>>;

/** What the catalogs hold that decides a login's session defaults. */
export interface SettingsCatalog {
  readonly original: SettingsByDatabase;
  readonly alternate: SettingsByDatabase;
  /** `role` set database-wide (ALTER DATABASE d SET role), by database name. */
  readonly databaseRole: ReadonlyMap<string, string>;
  /** `role` set for all roles (ALTER ROLE ALL SET role), if any. */
  readonly allRolesRole: string | undefined;
  /**
   * Of the roles the original's `role` defaults name, those it may become at login (SET ROLE's rule);
   * a default naming any other is passed over. Undefined: not read, every named role taken as valid.
   */
  readonly startable?: ReadonlySet<string>;
}

/** Which of the roles $2 (text[]) the login role $1 may become (16+: the SET option along the chain). */
function startableSql(server: ServerInfo): string {
  return `SELECT rolname FROM pg_catalog.pg_roles WHERE rolname = ANY($2::text[]) AND pg_catalog.pg_has_role($1, oid, '${server.major >= 16 ? 'SET' : 'MEMBER'}')`;
}

/**
 * Every row that can decide either role's session defaults. `setrole = 0` rows are ALTER DATABASE /
 * ALTER ROLE ALL; `setdatabase = 0` rows are role-wide. pg_db_role_setting is readable by every role.
 */
export const ROLE_SETTINGS_SQL =
  'SELECT d.datname, r.rolname, s.setconfig FROM pg_db_role_setting s ' +
  'LEFT JOIN pg_database d ON d.oid = s.setdatabase LEFT JOIN pg_roles r ON r.oid = s.setrole ' +
  'WHERE s.setrole = 0 OR r.rolname = $1 OR r.rolname = $2';

/**
 * Reads both roles' settings, the database-wide and all-roles `role` defaults, and which of the roles
 * those defaults name the original may become (one more read, only when some default names a role).
 */
export async function readSettingsCatalog(
  session: SqlSession,
  server: ServerInfo,
  original: string,
  alternate: string,
): Promise<SettingsCatalog> {
  const catalog = settingsCatalogOf(await session.query(ROLE_SETTINGS_SQL, [original, alternate]), original, alternate);
  const named = new Set<string>(catalog.databaseRole.values());
  if (catalog.allRolesRole !== undefined) named.add(catalog.allRolesRole);
  for (const settings of catalog.original.values()) {
    const role = settings.get(ROLE_SETTING);
    if (role !== undefined) named.add(role);
  }
  const candidates = [...named].filter((role) => role.toLowerCase() !== 'none');
  if (candidates.length === 0) return { ...catalog, startable: new Set() };
  const rows = await session.query(startableSql(server), [original, candidates]);
  return { ...catalog, startable: new Set(rows.map((row) => String(row.rolname))) };
}

/** The catalog rows of `ROLE_SETTINGS_SQL` as a `SettingsCatalog`. */
export function settingsCatalogOf(rows: readonly Row[], original: string, alternate: string): SettingsCatalog {
  const catalog = {
    original: new Map(),
    alternate: new Map(),
    databaseRole: new Map<string, string>(),
    allRolesRole: undefined as string | undefined,
  };
  for (const row of rows) {
    const database = typeof row.datname === 'string' ? row.datname : undefined;
    const settings = settingsOf(row.setconfig);
    if (row.rolname === null || row.rolname === undefined) {
      const role = settings.get(ROLE_SETTING);
      if (role === undefined) continue;
      if (database === undefined) catalog.allRolesRole = role;
      else catalog.databaseRole.set(database, role);
      continue;
    }
    const target: SettingsByDatabase =
      row.rolname === original ? catalog.original : row.rolname === alternate ? catalog.alternate : new Map();
    target.set(database, settings);
  }
  return catalog;
}

function settingsOf(config: unknown): Map<string, string> {
  const out = new Map<string, string>();
  const entries = Array.isArray(config) ? config : [];
  for (const entry of entries) {
    const setting = typeof entry === 'string' ? parseRoleSetting(entry) : undefined;
    if (setting !== undefined) out.set(setting.name, setting.value);
  }
  return out;
}

/**
 * `SET role = none` means the login role itself; a role the login may not become (not in `startable`)
 * is passed over at login, as no setting is (undefined).
 */
function resolveRole(value: string | undefined, loginRole: string, startable: ReadonlySet<string> | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value.toLowerCase() === 'none') return loginRole;
  return startable === undefined || startable.has(value) ? value : undefined;
}

/**
 * The role `original`'s sessions start as in `database` (undefined: a database with no setting of its
 * own), by PostgreSQL's priority of pg_db_role_setting rows.
 */
export function effectiveStartRole(catalog: SettingsCatalog, original: string, database: string | undefined): string {
  const resolve = (value: string | undefined): string | undefined => resolveRole(value, original, catalog.startable);
  const own = (db: string | undefined): string | undefined => resolve(catalog.original.get(db)?.get(ROLE_SETTING));
  return (
    (database !== undefined ? own(database) : undefined) ??
    own(undefined) ??
    (database !== undefined ? resolve(catalog.databaseRole.get(database)) : undefined) ??
    resolve(catalog.allRolesRole) ??
    original
  );
}

/** The settings the alternate must hold: the original's, with `role` as explained above. */
export function desiredAlternateSettings(catalog: SettingsCatalog, original: string): SettingsByDatabase {
  const desired: SettingsByDatabase = new Map();
  const copy = (db: string | undefined): Map<string, string> => {
    const settings = new Map(catalog.original.get(db) ?? []);
    settings.delete(ROLE_SETTING);
    return settings;
  };
  const everywhere = effectiveStartRole(catalog, original, undefined);
  desired.set(undefined, copy(undefined).set(ROLE_SETTING, everywhere));
  const databases = new Set<string>([...catalog.databaseRole.keys()]);
  for (const db of catalog.original.keys()) if (db !== undefined) databases.add(db);
  for (const db of databases) {
    const settings = copy(db);
    const start = effectiveStartRole(catalog, original, db);
    if (start !== everywhere) settings.set(ROLE_SETTING, start);
    if (settings.size > 0) desired.set(db, settings);
  }
  return desired;
}

/** One change to the alternate's settings, as a statement and what it is about (for error messages). */
export interface SettingChange {
  readonly sql: string;
  readonly database: string | undefined;
  readonly name: string;
}

/** The statements that turn `current` into `desired` for `role`: SET what differs, RESET what is extra. */
export function settingChanges(role: string, current: SettingsByDatabase, desired: SettingsByDatabase): SettingChange[] {
  const changes: SettingChange[] = [];
  const databases = new Set<string | undefined>([...current.keys(), ...desired.keys()]);
  for (const database of databases) {
    const have = current.get(database) ?? new Map<string, string>();
    const want = desired.get(database) ?? new Map<string, string>();
    for (const [name, value] of want) {
      if (have.get(name) !== value)
        changes.push({ sql: setRoleSettingSql(role, database, { name, value } as RoleSetting), database, name });
    }
    for (const name of have.keys()) {
      if (!want.has(name)) changes.push({ sql: resetRoleSettingSql(role, database, name), database, name });
    }
  }
  return changes;
}
