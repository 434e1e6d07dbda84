/**
 * The SQL that makes a PostgreSQL alternate role the same account as its original: session defaults
 * (pg_db_role_setting), login attributes, memberships and the ownership of a clone's objects. Pure
 * functions of names and catalog text, so every statement is unit-tested without a server. Identifiers
 * and literals are quoted by `postgres-escape.ts`; no statement here ever carries a password.
 */
import { escapePostgresIdentifier as ident, escapePostgresLiteral as literal } from './postgres-escape';
import type { ServerInfo } from '../rotation/database-engine';

/** The session default the toolkit manages itself: the role a login starts as. */
export const ROLE_SETTING = 'role';

/**
 * Settings whose stored text is a list of quoted identifiers (PostgreSQL's GUC_LIST_QUOTE; pg_dump keeps
 * the same list). Their catalog text must be split into elements and each element sent as its own
 * literal, or the server would quote the whole list as one identifier.
 */
export const LIST_QUOTED_SETTINGS: ReadonlySet<string> = new Set([
  'local_preload_libraries',
  'search_path',
  'session_preload_libraries',
  'shared_preload_libraries',
  'temp_tablespaces',
  'unix_socket_directories',
]);

/** One stored session default: `name=value` of a pg_db_role_setting row, split at the first `=`. */
export interface RoleSetting {
  readonly name: string;
  /** The catalog text after `=`, exactly as stored. */
  readonly value: string;
}

/** `name=value` → {name, value}; undefined for text without `=` (never stored by PostgreSQL). */
export function parseRoleSetting(entry: string): RoleSetting | undefined {
  const at = entry.indexOf('=');
  if (at <= 0) return undefined;
  return { name: entry.slice(0, at), value: entry.slice(at + 1) };
}

/**
 * Splits the stored text of a list-quoted setting into its elements, as PostgreSQL's SplitGUCList does:
 * commas separate, blanks around elements are dropped, a double-quoted element keeps its text with `""`
 * read as `"`.
 * @throws Error when the text is not a list PostgreSQL could have stored (an unterminated quote).
 */
export function splitSettingList(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  const skipBlanks = (): void => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  skipBlanks();
  if (i >= text.length) return out;
  for (;;) {
    let element = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        const end = text.indexOf('"', i);
        if (end < 0) throw new Error('unterminated quoted element in a setting list');
        element += text.slice(i, end);
        i = end + 1;
        if (text[i] === '"') {
          element += '"';
          i++;
          continue;
        }
        break;
      }
    } else {
      const start = i;
      while (i < text.length && text[i] !== ',') i++;
      element = text.slice(start, i).trimEnd();
    }
    out.push(element);
    skipBlanks();
    if (i >= text.length) return out;
    if (text[i] !== ',') throw new Error('unexpected text after a quoted element in a setting list');
    i++;
    skipBlanks();
  }
}

/** A setting's name as the grammar takes it: each dotted part (custom `app.key`) quoted. */
export function settingNameSql(name: string): string {
  return name.split('.').map(ident).join('.');
}

/** The right-hand side that stores exactly `value` again for `name`. */
export function settingValueSql(name: string, value: string): string {
  if (!LIST_QUOTED_SETTINGS.has(name.toLowerCase())) return literal(value);
  return splitSettingList(value).map(literal).join(', ');
}

/** `IN DATABASE "db"` for a per-database setting; empty for a role-wide one (database undefined). */
function scope(database: string | undefined): string {
  return database === undefined ? '' : ` IN DATABASE ${ident(database)}`;
}

/** `ALTER ROLE r [IN DATABASE d] SET name = value`, storing the catalog text `value` unchanged. */
export function setRoleSettingSql(role: string, database: string | undefined, setting: RoleSetting): string {
  return `ALTER ROLE ${ident(role)}${scope(database)} SET ${settingNameSql(setting.name)} = ${settingValueSql(setting.name, setting.value)}`;
}

/** `ALTER ROLE r [IN DATABASE d] RESET name`. */
export function resetRoleSettingSql(role: string, database: string | undefined, name: string): string {
  return `ALTER ROLE ${ident(role)}${scope(database)} RESET ${settingNameSql(name)}`;
}

/** The login attributes the alternate carries from its original. */
export interface LoginAttributes {
  readonly inherit: boolean;
  /** -1: no limit. */
  readonly connectionLimit: number;
  /**
   * VALID UNTIL as the server printed it in the same session (so it parses back exactly); undefined for
   * no expiry. PostgreSQL cannot store NULL again once set, so "no expiry" is written as 'infinity'.
   */
  readonly validUntil: string | undefined;
  /**
   * REPLICATION; undefined: left out of the statement. Only a superuser (16+: or a role with
   * REPLICATION) may even name the attribute, so it is named only when it must change.
   */
  readonly replication?: boolean;
}

/** One ALTER ROLE that gives `role` these attributes. */
export function loginAttributesSql(role: string, attributes: LoginAttributes): string {
  const inherit = attributes.inherit ? 'INHERIT' : 'NOINHERIT';
  const limit = Math.trunc(attributes.connectionLimit);
  const until = attributes.validUntil ?? 'infinity';
  const replication = attributes.replication === undefined ? '' : attributes.replication ? ' REPLICATION' : ' NOREPLICATION';
  return `ALTER ROLE ${ident(role)} WITH ${inherit}${replication} CONNECTION LIMIT ${limit} VALID UNTIL ${literal(until)}`;
}

/**
 * The master borrows the clone's identity (SET option) for the transaction, to reassign the clone's
 * objects as the clone: only a role with privileges of both the old and the new owner may.
 */
export function borrowRoleSql(role: string, master: string, server: ServerInfo): string {
  const base = `GRANT ${ident(role)} TO ${ident(master)}`;
  return server.major >= 16 ? `${base} WITH INHERIT FALSE, SET TRUE` : base;
}

/** Ends `borrowRoleSql`'s grant (the master's own grant only; a DBA's grant to the master stays). */
export function returnRoleSql(role: string, master: string): string {
  return `REVOKE ${ident(role)} FROM ${ident(master)}`;
}

/** For the rest of the transaction only. */
export function setLocalRoleSql(role: string): string {
  return `SET LOCAL ROLE ${ident(role)}`;
}

export const RESET_ROLE_SQL = 'RESET ROLE';

/** Every object `from` owns in the current database, and the databases and tablespaces it owns. */
export function reassignOwnedSql(from: string, to: string): string {
  return `REASSIGN OWNED BY ${ident(from)} TO ${ident(to)}`;
}

/**
 * The GRANT a DBA runs so `master` may administer `role`. On 16+ ADMIN OPTION alone suffices: without
 * INHERIT and SET the master gains no rights of the role.
 */
export function adminOptionGrantSql(role: string, master: string, server: ServerInfo): string {
  const base = `GRANT ${ident(role)} TO ${ident(master)} WITH ADMIN OPTION`;
  return server.major >= 16 ? `${base}, INHERIT FALSE, SET FALSE` : base;
}
