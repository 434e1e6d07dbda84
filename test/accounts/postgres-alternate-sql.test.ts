/**
 * The alternate role's SQL as pure functions: settings stored back exactly (list-quoted ones element by
 * element), the start role chosen by PostgreSQL's priority of pg_db_role_setting rows, and the GRANT
 * the 16+ refusal names.
 */
import { alternateInherits } from '../../shared/engines/postgres-role-attributes';
import { ownPrivilegesSql, revokeMembershipSql } from '../../shared/engines/postgres-clone-rights';
import { adminOptionGrantSql, loginAttributesSql, setRoleSettingSql, splitSettingList } from '../../shared/engines/postgres-role-sql';
import {
  desiredAlternateSettings,
  effectiveStartRole,
  settingChanges,
  settingsCatalogOf,
} from '../../shared/engines/postgres-role-settings';
import type { ServerInfo } from '../../shared/rotation/database-engine';

const pg = (major: number): ServerInfo => ({ flavor: 'postgres', aurora: false, major, minor: 0, patch: 0, version: `${major}.0` });

describe('setting text', () => {
  it('splits list-quoted settings as PostgreSQL stores them', () => {
    expect(splitSettingList('"S x", "$user", public')).toEqual(['S x', '$user', 'public']);
    expect(splitSettingList('"a""b",c')).toEqual(['a"b', 'c']);
    expect(splitSettingList('""')).toEqual(['']);
    expect(splitSettingList('')).toEqual([]);
    expect(() => splitSettingList('"open')).toThrow();
  });

  it('sends list elements one literal each, and other values as one literal', () => {
    expect(setRoleSettingSql('app_clone', undefined, { name: 'search_path', value: '"S x", "$user", public' })).toBe(
      `ALTER ROLE "app_clone" SET "search_path" = 'S x', '$user', 'public'`,
    );
    expect(setRoleSettingSql('a', 'my db', { name: 'DateStyle', value: 'ISO, MDY' })).toBe(
      `ALTER ROLE "a" IN DATABASE "my db" SET "DateStyle" = 'ISO, MDY'`,
    );
    expect(setRoleSettingSql('a', undefined, { name: 'app.tenant', value: "o'k" })).toBe(`ALTER ROLE "a" SET "app"."tenant" = 'o''k'`);
  });

  it('writes attributes in one statement; no expiry as infinity', () => {
    expect(loginAttributesSql('c', { inherit: false, connectionLimit: 5, validUntil: undefined })).toBe(
      `ALTER ROLE "c" WITH NOINHERIT CONNECTION LIMIT 5 VALID UNTIL 'infinity'`,
    );
    // REPLICATION is named only when it must change: only a superuser (16+: a REPLICATION role) may name it.
    expect(loginAttributesSql('c', { inherit: true, connectionLimit: -1, validUntil: undefined, replication: false })).toBe(
      `ALTER ROLE "c" WITH INHERIT NOREPLICATION CONNECTION LIMIT -1 VALID UNTIL 'infinity'`,
    );
  });

  it('revokes a membership granted to the clone alone as granted (16+: GRANTED BY), and parameters only from 15', () => {
    expect(revokeMembershipSql('extra', 'app_clone', 'dba', pg(15))).toBe('REVOKE "extra" FROM "app_clone"');
    expect(revokeMembershipSql('extra', 'app_clone', 'dba', pg(16))).toBe('REVOKE "extra" FROM "app_clone" GRANTED BY "dba"');
    expect(ownPrivilegesSql(pg(14))).not.toContain('pg_parameter_acl');
    expect(ownPrivilegesSql(pg(15))).toContain("'ALL ON PARAMETER '");
  });

  it('makes the alternate inherit before 16 (CONNECT is checked at login, before the session switches role)', () => {
    const noinherit = { inherit: false, connectionLimit: -1, validUntil: undefined };
    expect(alternateInherits(pg(15), noinherit)).toBe(true);
    expect(alternateInherits(pg(16), noinherit)).toBe(false);
  });

  it('names the GRANT that lifts the 16+ refusal (INHERIT FALSE, SET FALSE from 16)', () => {
    expect(adminOptionGrantSql('app', 'master', pg(16))).toBe('GRANT "app" TO "master" WITH ADMIN OPTION, INHERIT FALSE, SET FALSE');
    expect(adminOptionGrantSql('app', 'master', pg(15))).toBe('GRANT "app" TO "master" WITH ADMIN OPTION');
  });
});

describe('start role and desired settings', () => {
  const rows = (extra: Array<{ datname: string | null; rolname: string | null; setconfig: string[] }>) =>
    settingsCatalogOf(extra, 'app', 'app_clone');

  it('the alternate starts as the original where the original has no role default', () => {
    const catalog = rows([{ datname: null, rolname: 'app', setconfig: ['search_path=s1'] }]);
    expect(desiredAlternateSettings(catalog, 'app')).toEqual(
      new Map([
        [
          undefined,
          new Map([
            ['search_path', 's1'],
            ['role', 'app'],
          ]),
        ],
      ]),
    );
  });

  it('passes over a default naming a role the original may not become, as the login does, down to the next by priority', () => {
    const catalog = {
      ...rows([
        { datname: null, rolname: null, setconfig: ['role=everyone'] },
        { datname: 'd1', rolname: null, setconfig: ['role=d1_owner'] },
        { datname: 'd1', rolname: 'app', setconfig: ['role=dropped'] },
        { datname: null, rolname: 'app', setconfig: ['role=left_out'] },
      ]),
      startable: new Set(['d1_owner']),
    };
    expect(effectiveStartRole(catalog, 'app', 'd1')).toBe('d1_owner');
    expect(effectiveStartRole(catalog, 'app', 'd2')).toBe('app');
    expect(effectiveStartRole(catalog, 'app', undefined)).toBe('app');
    const desired = desiredAlternateSettings(catalog, 'app');
    expect(desired.get(undefined)).toEqual(new Map([['role', 'app']]));
    expect(desired.get('d1')).toEqual(new Map([['role', 'd1_owner']]));
  });

  it('follows the original’s own, per-database, database-wide and all-roles defaults by priority', () => {
    const catalog = rows([
      { datname: null, rolname: null, setconfig: ['role=everyone'] },
      { datname: 'd1', rolname: null, setconfig: ['role=d1_owner'] },
      { datname: 'd2', rolname: 'app', setconfig: ['role=d2_owner', 'work_mem=8MB'] },
      { datname: 'd3', rolname: 'app', setconfig: ['role=none'] },
    ]);
    expect(effectiveStartRole(catalog, 'app', undefined)).toBe('everyone');
    expect(effectiveStartRole(catalog, 'app', 'd1')).toBe('d1_owner');
    expect(effectiveStartRole(catalog, 'app', 'd2')).toBe('d2_owner');
    expect(effectiveStartRole(catalog, 'app', 'd3')).toBe('app');
    const desired = desiredAlternateSettings(catalog, 'app');
    expect(desired.get(undefined)).toEqual(new Map([['role', 'everyone']]));
    expect(desired.get('d1')).toEqual(new Map([['role', 'd1_owner']]));
    expect(desired.get('d2')).toEqual(
      new Map([
        ['work_mem', '8MB'],
        ['role', 'd2_owner'],
      ]),
    );
    expect(desired.get('d3')).toEqual(new Map([['role', 'app']]));
  });

  it('sets what differs and resets what the original no longer has', () => {
    const catalog = rows([
      { datname: null, rolname: 'app', setconfig: ['statement_timeout=30s'] },
      { datname: null, rolname: 'app_clone', setconfig: ['statement_timeout=10s', 'role=app', 'lock_timeout=1s'] },
      { datname: 'd', rolname: 'app_clone', setconfig: ['work_mem=1MB'] },
    ]);
    expect(settingChanges('app_clone', catalog.alternate, desiredAlternateSettings(catalog, 'app')).map((c) => c.sql)).toEqual([
      `ALTER ROLE "app_clone" SET "statement_timeout" = '30s'`,
      'ALTER ROLE "app_clone" RESET "lock_timeout"',
      'ALTER ROLE "app_clone" IN DATABASE "d" RESET "work_mem"',
    ]);
  });
});
