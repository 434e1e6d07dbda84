/**
 * What a DBA set on the clone while it was the login in use. With AWSCURRENT on the clone, the DBA sees
 * `app_clone` in pg_stat_activity and tunes that role (ALTER ROLE app_clone SET statement_timeout, a
 * higher CONNECTION LIMIT). The sync makes the clone the original's copy again, and this rotation
 * switches the application to the original, which never had them: the DBA's change would be gone
 * without a word. It is still undone (the original is the account; carrying the clone's values the
 * other way would overwrite what the DBA set on the original), but named, with where to set it.
 * Names only: a session default's value can be a secret (pgrst.jwt_secret), so values are never told.
 */
import type { LoginAttributes } from './postgres-role-sql';
import { ROLE_SETTING } from './postgres-role-sql';
import type { SettingChange, SettingsByDatabase } from './postgres-role-settings';
import { escapePostgresIdentifier as ident } from './postgres-escape';

/**
 * The names of what the sync changes on the clone that a DBA may have set on it: session defaults the
 * clone holds (`had`) with another value than the original's or that the original lacks, other than the
 * toolkit's own `role` (with their database), and CONNECTION LIMIT, VALID UNTIL and INHERIT where they
 * differ. A default only the original has is its own change, carried without a word. CONNECTION LIMIT 0
 * is left out (a lifted lock is told on its own).
 */
export function cloneOverrides(
  settings: readonly SettingChange[],
  had: SettingsByDatabase,
  clone: LoginAttributes | undefined,
  wanted: LoginAttributes | undefined,
): string[] {
  const out = settings
    .filter((setting) => setting.name.toLowerCase() !== ROLE_SETTING && had.get(setting.database)?.has(setting.name) === true)
    .map((setting) => `${setting.name}${setting.database === undefined ? '' : ` in database "${setting.database}"`}`);
  if (clone !== undefined && wanted !== undefined) {
    if (clone.connectionLimit !== wanted.connectionLimit && clone.connectionLimit !== 0) out.push('CONNECTION LIMIT');
    if (clone.validUntil !== wanted.validUntil) out.push('VALID UNTIL');
    if (clone.inherit !== wanted.inherit) out.push('INHERIT');
  }
  return [...new Set(out)];
}

/** The warning for `cloneOverrides` of the clone in use (the application switches to `original` now). */
export function cloneOverridesWarning(clone: string, original: string, names: readonly string[]): string {
  return (
    `"${clone}" is in use (AWSCURRENT) and had ${names.join(', ')} set otherwise than "${original}": made the same as ` +
    `"${original}", to which the application switches at this rotation. If that was a change made on "${clone}", make it on ` +
    `${ident(original)} (ALTER ROLE ${ident(original)} …) to keep it: the alternate user copies the original at every rotation`
  );
}
