/**
 * An account's rights as SHOW GRANTS prints them, parsed into comparable sets, and the statements that
 * make one account's rights EQUAL another's: what is missing is granted and what is extra is revoked.
 * AWS's template only replays the rows (GRANT is additive), so a right revoked from the user the secret
 * names came back on the other user at the next switch.
 *
 * Parsing rests on the lexer, not on splitting at " TO " (a quoted name may hold it). What is compared:
 * - privileges per object (`*.*`, `` `db`.* ``, `` `db`.`t` ``, `` PROCEDURE `db`.`p` `` …) exactly as the
 *   server printed the object, column privileges one per column, and WITH GRANT OPTION per object;
 * - role grants and their WITH ADMIN OPTION, proxy grants and their WITH GRANT OPTION;
 * - MySQL 8 partial revokes (`REVOKE … ON db.* FROM`) and the default roles.
 * Whatever follows the grantee apart from those options (`IDENTIFIED …` with the password hash on
 * MariaDB, `REQUIRE …`, resource limits) is account options, carried by mysql-account-options.ts; it is
 * never read here, so no hash can reach a summary.
 */
import { DatabaseError } from '../errors';
import type { ServerInfo } from '../rotation/database-engine';
import { columnText } from './mysql-connector';
import { accountEnd, findKeyword, tokenize, unquote, type Token } from './mysql-statement-tokens';

/** What kind of object a privilege row is on, from the way the server printed it. */
export type GrantObjectKind = 'global' | 'database' | 'table' | 'routine';

/** The privileges an account holds on one object. */
export interface ObjectPrivileges {
  /** The object exactly as the server printed it after ON (used verbatim in statements). */
  readonly object: string;
  readonly kind: GrantObjectKind;
  /** `SELECT`, `ALL PRIVILEGES`, `CREATE TEMPORARY TABLES`…; a column privilege as `UPDATE (`a`)`, one per column. */
  readonly privileges: ReadonlySet<string>;
  /** WITH GRANT OPTION on the object (on MySQL 8's `*.*`: of its static privileges, the row that holds them or USAGE). */
  readonly grantOption: boolean;
  /**
   * MySQL 8's dynamic privileges (BACKUP_ADMIN…: upper case with `_`, never a space) each carry their
   * own GRANT OPTION, and SHOW GRANTS prints them in rows of their own, split by it: those held WITH
   * GRANT OPTION. Absent when the object has no dynamic privilege (always on MariaDB).
   */
  readonly grantableDynamic?: ReadonlySet<string>;
}

/** Everything SHOW GRANTS (and, on MySQL 8, mysql.default_roles) says about one account's rights. */
export interface AccountGrants {
  /** Keyed by the printed object. */
  readonly objects: ReadonlyMap<string, ObjectPrivileges>;
  /** MySQL 8 partial revokes: printed object to the privileges revoked there. */
  readonly partialRevokes: ReadonlyMap<string, ReadonlySet<string>>;
  /** Granted roles as printed (`` `r` `` or `` `r`@`%` ``) to WITH ADMIN OPTION. */
  readonly roles: ReadonlyMap<string, boolean>;
  /** Proxied accounts as printed to WITH GRANT OPTION. */
  readonly proxies: ReadonlyMap<string, boolean>;
  /** The default roles, sorted; empty for none. */
  readonly defaultRoles: readonly string[];
}

/** One statement of a plan that makes an account's rights equal another's. */
export interface GrantStatement {
  readonly action: 'grant' | 'revoke' | 'default-role';
  readonly sql: string;
  /** What it changes (privileges and object), for warnings and errors: names only, never a hash. */
  readonly summary: string;
  /**
   * The rights a grant adds, as `object\0privilege` keys (`object\0GRANT OPTION` for the option). A grant
   * refused because its object no longer exists is skipped by these keys, and a later pass that would
   * only add skipped keys is not an error.
   */
  readonly adds: readonly string[];
  /** For a grant of several column or object privileges: the same grant one privilege at a time. */
  readonly parts: readonly GrantStatement[];
  /**
   * For a revoke of privileges on a table or routine: the object, its kind and the privileges revoked
   * (`ALL PRIVILEGES`, `GRANT OPTION` included), so the caller can leave in place what is on an object
   * that no longer exists.
   */
  readonly revokes?: { readonly object: string; readonly kind: GrantObjectKind; readonly privileges: readonly string[] };
  /**
   * For a PROXY grant or revoke: the proxied account as printed. A PROXY grant outlives the account it
   * names (DROP USER leaves it), and then no one but that account could give or take it back, so the
   * caller may skip it once it knows the account is gone.
   */
  readonly proxied?: string;
  /**
   * A grant or revoke on a MariaDB PACKAGE or PACKAGE BODY: MariaDB parses those only under
   * sql_mode=ORACLE (SHOW GRANTS prints them in any mode), so the caller runs it in that mode.
   */
  readonly oracleSyntax?: true;
  /**
   * For a grant of table privileges (not column ones) on a table: the same grant for when the table no
   * longer exists. MySQL and MariaDB keep a grant on a dropped table and let one be made only together
   * with CREATE on it (to prepare an account for a table made later), so the copy includes CREATE and
   * takes it back after, unless the source holds CREATE there too. The grant then stays exact: it
   * applies to both users alike if the table comes back, instead of to the one that had it only.
   */
  readonly absentTable?: {
    readonly sql: string;
    /** `REVOKE CREATE …`, when CREATE was added only to make the grant possible. */
    readonly revokeCreate?: string;
    /** The rights it adds (the table privileges; column ones cannot be made on a missing table). */
    readonly adds: readonly string[];
  };
}

const ALL = 'ALL PRIVILEGES';
const CREATE = 'CREATE';
const USAGE = 'USAGE';
const GRANT_OPTION = 'GRANT OPTION';
const SUMMARY_LENGTH = 160;

interface MutableAccountGrants {
  objects: Map<
    string,
    { object: string; kind: GrantObjectKind; privileges: Set<string>; grantOption: boolean; grantableDynamic?: Set<string> }
  >;
  partialRevokes: Map<string, Set<string>>;
  roles: Map<string, boolean>;
  proxies: Map<string, boolean>;
  defaultRoles: string[];
}

/** The rows of SHOW GRANTS, whatever the column is called (it holds the account name). */
export function grantRowsOf(rows: ReadonlyArray<Readonly<Record<string, unknown>>>): string[] {
  return rows.map((row) => columnText(Object.values(row)[0]));
}

/**
 * Parses the rows of one SHOW GRANTS. `defaultRoles` adds default roles the server keeps outside SHOW
 * GRANTS (MySQL 8's mysql.default_roles), already written as account names.
 * @throws DatabaseError for a row of a form this toolkit does not know: copying part of an account's
 *   rights silently would be worse than stopping.
 */
export function parseGrantRows(rows: readonly string[], defaultRoles: readonly string[] = []): AccountGrants {
  const grants: MutableAccountGrants = {
    objects: new Map(),
    partialRevokes: new Map(),
    roles: new Map(),
    proxies: new Map(),
    defaultRoles: [...defaultRoles],
  };
  for (const row of rows) parseRow(row, grants);
  return { ...grants, defaultRoles: [...new Set(grants.defaultRoles)].sort() };
}

function parseRow(row: string, grants: MutableAccountGrants): void {
  const tokens = tokenize(row);
  const first = tokens[0]?.text.toUpperCase();
  if (first === 'GRANT') return parseGrant(row, tokens, grants);
  if (first === 'REVOKE') return parsePartialRevoke(row, tokens, grants);
  if (first === 'SET' && tokens[1]?.text.toUpperCase() === 'DEFAULT' && tokens[2]?.text.toUpperCase() === 'ROLE') {
    const at = findKeyword(tokens, 'FOR', 3);
    if (at < 0 || accountEnd(tokens, at + 1) < 0) throw unsupported(first);
    for (const role of listItems(row, tokens.slice(3, at))) if (role.toUpperCase() !== 'NONE') grants.defaultRoles.push(role);
    return;
  }
  throw unsupported(first);
}

function parseGrant(row: string, tokens: readonly Token[], grants: MutableAccountGrants): void {
  const to = findKeyword(tokens, 'TO', 1);
  const end = to < 0 ? -1 : accountEnd(tokens, to + 1);
  if (end < 0) throw unsupported('GRANT');
  const on = findKeyword(tokens.slice(0, to), 'ON', 1);
  if (on < 0) {
    const admin = hasOption(tokens, end, 'ADMIN');
    for (const role of listItems(row, tokens.slice(1, to))) grants.roles.set(role, admin || grants.roles.get(role) === true);
    return;
  }
  if (on + 1 >= to) throw unsupported('GRANT');
  const object = row.slice(tokens[on + 1]!.start, tokens[to - 1]!.end);
  const grantOption = hasOption(tokens, end, 'GRANT');
  const items = privilegeItems(row, tokens.slice(1, on));
  if (items.length === 1 && items[0] === 'PROXY') {
    grants.proxies.set(object, grantOption || grants.proxies.get(object) === true);
    return;
  }
  const entry = grants.objects.get(object) ?? { object, kind: objectKind(object), privileges: new Set<string>(), grantOption: false };
  const privileges = items.filter((item) => item !== USAGE);
  for (const item of privileges) entry.privileges.add(item);
  if (privileges.length > 0 && privileges.every(isDynamicPrivilege)) {
    // A row of dynamic privileges: its option is theirs alone, not the object's.
    entry.grantableDynamic ??= new Set<string>();
    if (grantOption) for (const item of privileges) entry.grantableDynamic.add(item);
  } else {
    entry.grantOption ||= grantOption;
  }
  grants.objects.set(object, entry);
}

function parsePartialRevoke(row: string, tokens: readonly Token[], grants: MutableAccountGrants): void {
  const from = findKeyword(tokens, 'FROM', 1);
  const on = from < 0 ? -1 : findKeyword(tokens.slice(0, from), 'ON', 1);
  if (on < 0 || on + 1 >= from || accountEnd(tokens, from + 1) < 0) throw unsupported('REVOKE');
  const object = row.slice(tokens[on + 1]!.start, tokens[from - 1]!.end);
  const set = grants.partialRevokes.get(object) ?? new Set<string>();
  for (const item of privilegeItems(row, tokens.slice(1, on))) set.add(item);
  grants.partialRevokes.set(object, set);
}

/** `WITH GRANT OPTION` / `WITH ADMIN OPTION` after the grantee (possibly among resource limits). */
function hasOption(tokens: readonly Token[], from: number, word: 'GRANT' | 'ADMIN'): boolean {
  for (let i = from; i + 1 < tokens.length; i += 1) {
    const t = tokens[i]!;
    if (t.kind === 'word' && t.depth === 0 && t.text.toUpperCase() === word && tokens[i + 1]!.text.toUpperCase() === 'OPTION') return true;
  }
  return false;
}

/** Splits a top-level comma list (roles, account names) into the items' printed text. */
function listItems(row: string, tokens: readonly Token[]): string[] {
  return splitTopLevel(tokens).map((item) => row.slice(item[0]!.start, item.at(-1)!.end));
}

function splitTopLevel(tokens: readonly Token[]): Token[][] {
  const items: Token[][] = [];
  let current: Token[] = [];
  for (const t of tokens) {
    if (t.kind === 'punct' && t.text === ',' && t.depth === 0) {
      if (current.length > 0) items.push(current);
      current = [];
    } else {
      current.push(t);
    }
  }
  if (current.length > 0) items.push(current);
  return items;
}

/** Privilege names, upper case, one key per column for column privileges: `UPDATE (`a`)`. */
function privilegeItems(row: string, tokens: readonly Token[]): string[] {
  const out: string[] = [];
  if (tokens.length === 0) throw unsupported('GRANT');
  for (const item of splitTopLevel(tokens)) {
    const open = item.findIndex((t) => t.kind === 'punct' && t.text === '(');
    const words = (open < 0 ? item : item.slice(0, open)).map((t) => t.text.toUpperCase()).join(' ');
    if (words === '') throw unsupported('GRANT');
    if (open < 0) {
      out.push(words);
      continue;
    }
    const columns = item.slice(open + 1).filter((t) => t.kind !== 'punct' && t.depth === 1);
    if (columns.length === 0) throw unsupported('GRANT');
    for (const column of columns) out.push(`${words} (${row.slice(column.start, column.end)})`);
  }
  return out;
}

/** MySQL 8's dynamic privileges are single words with `_` (BACKUP_ADMIN); static ones, and MariaDB's, are not. */
function isDynamicPrivilege(privilege: string): boolean {
  return /^[A-Z0-9]+(_[A-Z0-9]+)+$/.test(privilege);
}

function objectKind(object: string): GrantObjectKind {
  const first = tokenize(object)[0]?.text.toUpperCase();
  if (first === 'PROCEDURE' || first === 'FUNCTION' || first === 'PACKAGE') return 'routine';
  if (object === '*.*' || object === '*') return 'global';
  return /\.\*$/.test(object) ? 'database' : 'table';
}

/**
 * The statements that make `target`'s rights equal `source`'s, applied to `grantee` (an escaped
 * account name). Revokes come first (so a revoked ALL PRIVILEGES cannot take back what is granted
 * after it), then grants, MySQL 8 partial revokes (they need the global privilege in place), role and
 * proxy grants, and the default roles last (a default role must already be granted). Empty when the
 * rights are already equal.
 */
export function planGrantSync(source: AccountGrants, target: AccountGrants, grantee: string, server: ServerInfo): GrantStatement[] {
  const revokes: GrantStatement[] = [];
  const grants: GrantStatement[] = [];
  for (const object of union(source.objects.keys(), target.objects.keys())) {
    planObjectPrivileges(object, source.objects.get(object), target.objects.get(object), grantee, revokes, grants);
  }

  const partial: GrantStatement[] = [];
  for (const object of union(source.partialRevokes.keys(), target.partialRevokes.keys())) {
    const want = source.partialRevokes.get(object) ?? new Set<string>();
    const have = target.partialRevokes.get(object) ?? new Set<string>();
    const lift = [...have].filter((p) => !want.has(p));
    const add = [...want].filter((p) => !have.has(p));
    // A partial revoke is lifted by granting the privilege at the level it was revoked at.
    if (lift.length > 0)
      partial.push(
        plain(
          'grant',
          `GRANT ${privilegeList(lift)} ON ${object} TO ${grantee}`,
          `lifting the partial revoke of ${privilegeList(lift)} ON ${object}`,
        ),
      );
    if (add.length > 0)
      partial.push(
        plain('revoke', `REVOKE ${privilegeList(add)} ON ${object} FROM ${grantee}`, `REVOKE ${privilegeList(add)} ON ${object}`),
      );
  }

  const roles: GrantStatement[] = [];
  for (const role of union(source.roles.keys(), target.roles.keys())) {
    const want = source.roles.get(role);
    const have = target.roles.get(role);
    if (want === have) continue;
    const grantRole = (admin: boolean): GrantStatement =>
      plain(
        'grant',
        `GRANT ${role} TO ${grantee}${admin ? ' WITH ADMIN OPTION' : ''}`,
        `GRANT ${role}${admin ? ' WITH ADMIN OPTION' : ''}`,
      );
    if (want === undefined) {
      revokes.push(plain('revoke', `REVOKE ${role} FROM ${grantee}`, `REVOKE ${role}`));
    } else if (have === undefined || want) {
      roles.push(grantRole(want));
    } else if (server.flavor === 'mariadb') {
      revokes.push(plain('revoke', `REVOKE ADMIN OPTION FOR ${role} FROM ${grantee}`, `REVOKE ADMIN OPTION FOR ${role}`));
    } else {
      // MySQL has no statement that takes back only the ADMIN OPTION of a role.
      revokes.push(plain('revoke', `REVOKE ${role} FROM ${grantee}`, `REVOKE ${role}`));
      roles.push(grantRole(false));
    }
  }

  const proxies: GrantStatement[] = [];
  for (const proxied of union(source.proxies.keys(), target.proxies.keys())) {
    const want = source.proxies.get(proxied);
    const have = target.proxies.get(proxied);
    if (want === have) continue;
    if (have !== undefined && (want === undefined || !want)) {
      revokes.push({ ...plain('revoke', `REVOKE PROXY ON ${proxied} FROM ${grantee}`, `REVOKE PROXY ON ${proxied}`), proxied });
    }
    if (want !== undefined) {
      const option = want ? ' WITH GRANT OPTION' : '';
      proxies.push({
        ...plain('grant', `GRANT PROXY ON ${proxied} TO ${grantee}${option}`, `GRANT PROXY ON ${proxied}${option}`),
        adds: [rightKey(proxied, 'PROXY')],
        proxied,
      });
    }
  }

  // Only default roles that take effect are compared: a stale one activates nothing and cannot be set.
  const live = (g: AccountGrants): string[] => {
    const stale = new Set(staleDefaultRoles(g, server));
    return g.defaultRoles.filter((r) => !stale.has(r));
  };
  const defaults: GrantStatement[] = [];
  if (live(source).join('\n') !== live(target).join('\n')) {
    defaults.push(defaultRoleStatement(server, live(source), grantee));
  }
  return [...revokes, ...grants, ...partial, ...roles, ...proxies, ...defaults];
}

/**
 * `planGrantSync`'s statements for one object's privileges: the revokes and grants that make `have`
 * (the target's, if any) equal `want` (the source's, if any), pushed onto `revokes` and `grants`.
 */
function planObjectPrivileges(
  object: string,
  want: ObjectPrivileges | undefined,
  have: ObjectPrivileges | undefined,
  grantee: string,
  revokes: GrantStatement[],
  grants: GrantStatement[],
): void {
  const kind = (want ?? have)!.kind;
  const wanted = new Set(want?.privileges ?? []);
  let held = new Set(have?.privileges ?? []);
  if (!wanted.has(ALL) && held.has(ALL)) {
    revokes.push(revokePrivileges([ALL], object, grantee));
    held = new Set();
  }
  const extra = wanted.has(ALL) ? [] : [...held].filter((p) => !wanted.has(p));
  if (extra.length > 0) revokes.push(revokePrivileges(extra, object, grantee));
  if (have?.grantOption === true && want?.grantOption !== true) revokes.push(revokePrivileges([GRANT_OPTION], object, grantee));
  let missing = held.has(ALL) ? [] : [...wanted].filter((p) => !held.has(p));
  const needOption = want?.grantOption === true && have?.grantOption !== true;
  if (want !== undefined && (want.grantableDynamic !== undefined || have?.grantableDynamic !== undefined)) {
    // Dynamic privileges are granted apart, each with its own option; a wrong option on one held
    // already is put right by granting it again with the option, or (none takes back one
    // privilege's option alone) revoking it and granting it again without.
    const wantOption = (p: string): boolean => want.grantableDynamic?.has(p) === true;
    const dynamic = [...wanted].filter(isDynamicPrivilege);
    const plainOnes = dynamic.filter((p) => !wantOption(p) && (!held.has(p) || have?.grantableDynamic?.has(p) === true));
    const optioned = dynamic.filter((p) => wantOption(p) && have?.grantableDynamic?.has(p) !== true);
    for (const p of plainOnes) if (held.has(p)) revokes.push(revokePrivileges([p], object, grantee));
    if (plainOnes.length > 0) grants.push(grantPrivileges(plainOnes, object, kind, want, false, grantee));
    if (optioned.length > 0) grants.push(grantPrivileges(optioned, object, kind, want, true, grantee));
    missing = missing.filter((p) => !isDynamicPrivilege(p));
  }
  if (missing.length > 0 || needOption) grants.push(grantPrivileges(missing, object, kind, want!, needOption, grantee));
}

/**
 * The default roles of an account that are not granted to it: MariaDB keeps the default role when the
 * role is revoked or dropped (SHOW GRANTS still prints `SET DEFAULT ROLE`), yet at login it activates
 * nothing (the login succeeds with no role, noting ER_INVALID_ROLE), and no other account can be given
 * it (SET DEFAULT ROLE is refused with ER_INVALID_ROLE). Empty on MySQL, which removes a default role
 * with its grant.
 */
export function staleDefaultRoles(grants: AccountGrants, server: ServerInfo): string[] {
  if (server.flavor !== 'mariadb') return [];
  return grants.defaultRoles.filter((r) => !grants.roles.has(r));
}

/** `SET DEFAULT ROLE` in each flavour's form (MariaDB: one role, `FOR`; MySQL 8: a list, `TO`). */
function defaultRoleStatement(server: ServerInfo, roles: readonly string[], grantee: string): GrantStatement {
  const list = roles.length === 0 ? 'NONE' : roles.join(', ');
  if (server.flavor === 'mariadb' && roles.length > 1) {
    throw new DatabaseError(`The account has ${roles.length} default roles; MariaDB allows one, so they cannot be copied`);
  }
  const keyword = server.flavor === 'mariadb' ? 'FOR' : 'TO';
  return {
    action: 'default-role',
    sql: `SET DEFAULT ROLE ${list} ${keyword} ${grantee}`,
    summary: `SET DEFAULT ROLE ${list}`,
    adds: [],
    parts: [],
  };
}

function grantPrivileges(
  missing: readonly string[],
  object: string,
  kind: GrantObjectKind,
  want: ObjectPrivileges,
  withOption: boolean,
  grantee: string,
): GrantStatement {
  // WITH GRANT OPTION alone needs some privilege to ride on: one already held, or USAGE where allowed.
  const held = [...want.privileges];
  const privileges = missing.length > 0 ? missing : held.length > 0 && kind !== 'global' && kind !== 'database' ? [held[0]!] : [USAGE];
  const option = withOption ? ' WITH GRANT OPTION' : '';
  const adds = [...missing.map((p) => rightKey(object, p)), ...(withOption ? [rightKey(object, GRANT_OPTION)] : [])];
  const parts =
    privileges.length > 1
      ? privileges.map((p) => ({
          action: 'grant' as const,
          sql: `GRANT ${privilegeList([p])} ON ${object} TO ${grantee}${option}`,
          summary: cut(`GRANT ${privilegeList([p])} ON ${object}${option}`),
          adds: [rightKey(object, p), ...(withOption ? [rightKey(object, GRANT_OPTION)] : [])],
          parts: [],
          ...oracleSyntaxOf(object),
        }))
      : [];
  return {
    action: 'grant',
    sql: `GRANT ${privilegeList(privileges)} ON ${object} TO ${grantee}${option}`,
    summary: cut(`GRANT ${privilegeList(privileges)} ON ${object}${option}`),
    adds,
    parts,
    ...oracleSyntaxOf(object),
    ...(kind === 'table' ? absentTableGrant(privileges, object, want, withOption, grantee) : {}),
  };
}

/** `GrantStatement.absentTable` for a grant of `privileges` on table `object`; nothing when only column privileges. */
function absentTableGrant(
  privileges: readonly string[],
  object: string,
  want: ObjectPrivileges,
  withOption: boolean,
  grantee: string,
): Pick<GrantStatement, 'absentTable'> {
  const table = privileges.filter((p) => privilegeColumn(p) === undefined && p !== USAGE);
  if (table.length === 0) return {};
  const hasCreate = table.includes(ALL) || table.includes(CREATE);
  const list = hasCreate ? table : [...table, CREATE];
  const option = withOption ? ' WITH GRANT OPTION' : '';
  const keepCreate = want.privileges.has(ALL) || want.privileges.has(CREATE);
  return {
    absentTable: {
      sql: `GRANT ${privilegeList(list)} ON ${object} TO ${grantee}${option}`,
      ...(keepCreate ? {} : { revokeCreate: `REVOKE ${CREATE} ON ${object} FROM ${grantee}` }),
      adds: [...table.map((p) => rightKey(object, p)), ...(withOption ? [rightKey(object, GRANT_OPTION)] : [])],
    },
  };
}

/** `{ oracleSyntax: true }` for a MariaDB package (see `GrantStatement.oracleSyntax`), else nothing. */
function oracleSyntaxOf(object: string): { readonly oracleSyntax?: true } {
  return objectName(object)?.routineType?.startsWith('PACKAGE') === true ? { oracleSyntax: true } : {};
}

/** `REVOKE <privileges> ON <object> FROM <grantee>`, carrying what it revokes (see `GrantStatement.revokes`). */
export function revokePrivileges(privileges: readonly string[], object: string, grantee: string): GrantStatement {
  const list = privilegeList(privileges);
  return {
    ...plain('revoke', `REVOKE ${list} ON ${object} FROM ${grantee}`, `REVOKE ${list} ON ${object}`),
    revokes: { object, kind: objectKind(object), privileges: [...privileges] },
    ...oracleSyntaxOf(object),
  };
}

/** A printed table or routine name split into its parts; undefined for anything else (`*.*`, `db`.*). */
export interface ObjectName {
  /** PROCEDURE, FUNCTION, PACKAGE or PACKAGE BODY for routines; undefined for tables. */
  readonly routineType?: string;
  readonly schema: string;
  readonly name: string;
}

/** Splits a printed object (`` `db`.`t` ``, `` PROCEDURE `db`.`p` ``) into schema and name, as the server reads them. */
export function objectName(object: string): ObjectName | undefined {
  const tokens = tokenize(object);
  let i = 0;
  const words: string[] = [];
  while (i < tokens.length && tokens[i]!.kind === 'word' && /^(PROCEDURE|FUNCTION|PACKAGE|BODY)$/i.test(tokens[i]!.text)) {
    words.push(tokens[i]!.text.toUpperCase());
    i += 1;
  }
  const rest = tokens.slice(i);
  let parts: string[];
  if (rest.length === 3 && rest[1]!.text === '.' && rest[0]!.kind === 'quoted' && rest[2]!.kind === 'quoted') {
    parts = [unquote(rest[0]!.text), unquote(rest[2]!.text)];
  } else if (rest.length === 1 && rest[0]!.kind === 'word') {
    parts = rest[0]!.text.split('.');
  } else {
    return undefined;
  }
  if (parts.length !== 2 || parts.some((p) => p === '' || p === '*')) return undefined;
  return { ...(words.length > 0 ? { routineType: words.join(' ') } : {}), schema: parts[0]!, name: parts[1]! };
}

/** A printed account name (`` `u`@`h` ``, `'u'@'h'`, `"u"@"h"`) split into user and host; undefined for anything else. */
export function accountParts(printed: string): { readonly user: string; readonly host: string } | undefined {
  const tokens = tokenize(printed);
  if (tokens.length !== 3 || tokens[1]!.text !== '@') return undefined;
  const part = (t: Token): string => (t.kind === 'quoted' ? unquote(t.text) : t.text);
  return { user: part(tokens[0]!), host: part(tokens[2]!) };
}

/** The column of a column privilege key (`UPDATE (`a`)` gives `a`), or undefined. */
export function privilegeColumn(privilege: string): string | undefined {
  const m = /^[^(]+? \((.+)\)$/.exec(privilege);
  return m === null ? undefined : unquote(m[1]!);
}

function plain(action: 'grant' | 'revoke', sql: string, summary: string): GrantStatement {
  return { action, sql, summary: cut(summary), adds: [], parts: [] };
}

/** A privilege list with the column privileges of one privilege grouped: `SELECT, UPDATE (`a`, `b`)`. */
export function privilegeList(privileges: readonly string[]): string {
  const order: string[] = [];
  const columns = new Map<string, string[]>();
  for (const p of privileges) {
    const m = /^([^(]+?) \((.+)\)$/.exec(p);
    const name = m === null ? p : m[1]!;
    const key = m === null ? p : `${name} ()`;
    if (!columns.has(key)) {
      columns.set(key, []);
      order.push(key);
    }
    if (m !== null) columns.get(key)!.push(m[2]!);
  }
  return order.map((key) => (key.endsWith(' ()') ? `${key.slice(0, -3)} (${columns.get(key)!.join(', ')})` : key)).join(', ');
}

/** The key of one right on one object, as used in `GrantStatement.adds`. */
export function rightKey(object: string, privilege: string): string {
  return `${object}\u0000${privilege}`;
}

function union(a: Iterable<string>, b: Iterable<string>): string[] {
  return [...new Set([...a, ...b])];
}

function cut(summary: string): string {
  return summary.length > SUMMARY_LENGTH ? `${summary.slice(0, SUMMARY_LENGTH)}…` : summary;
}

function unsupported(first: string | undefined): DatabaseError {
  return new DatabaseError(
    `SHOW GRANTS returned a row of a form this toolkit cannot read (starting with ${first ?? 'nothing'}); refusing to copy a partial grant set`,
  );
}
