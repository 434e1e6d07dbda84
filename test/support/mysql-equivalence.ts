/**
 * The equivalence check for MySQL/MariaDB alternating users: reads two users from the server's own
 * catalogs and fails on any difference other than their names and passwords. Written apart from the
 * product's parser on purpose (its own small lexer, the server's raw output), so that a fault in the
 * product's reading of SHOW GRANTS cannot hide itself here.
 *
 * Per host entry it compares:
 * - SHOW GRANTS, with the grantee replaced by `<grantee>`, the `IDENTIFIED …` part (it holds the hash)
 *   removed and column lists sorted;
 * - SHOW CREATE USER, with the name replaced and every password-derived string (hash, `USING` of a
 *   password method) replaced by `<password>`, and the bare `PASSWORD EXPIRE` (the password's own
 *   expired state) removed;
 * - MariaDB 10.4+: mysql.global_priv's JSON (TLS, limits, MAX_STATEMENT_TIME, lifetime, lock, chain,
 *   default role, global privileges) without the password-derived strings and password_last_changed,
 *   with absent fields read as their defaults; MySQL and older MariaDB: the mysql.user row likewise;
 * - the default roles (MySQL 8's mysql.default_roles).
 * And the two users must have the same set of host entries (a MariaDB role of the same name is none).
 */
import type { Connection } from 'mysql2/promise';

/** Methods whose stored string is derived from the password, so it differs between the two users. */
const PASSWORD_PLUGINS = new Set([
  '',
  'mysql_native_password',
  'mysql_old_password',
  'ed25519',
  'parsec',
  'caching_sha2_password',
  'sha256_password',
]);

/** The normalised catalog view of one user: host entry -> aspect -> text. */
export type MysqlAccountSnapshot = Map<string, Map<string, string>>;

/**
 * Throws an Error listing every difference between `original` and `alternate` other than name and
 * password (host entries, grants, options, authentication methods, default roles).
 */
export async function assertMysqlEquivalent(admin: Connection, original: string, alternate: string): Promise<void> {
  const differences = await mysqlDifferences(admin, original, alternate);
  if (differences.length > 0) {
    throw new Error(`MySQL users ${original} and ${alternate} differ:\n- ${differences.join('\n- ')}`);
  }
}

/** The differences `assertMysqlEquivalent` would report; empty when the users are equivalent. */
export async function mysqlDifferences(admin: Connection, original: string, alternate: string): Promise<string[]> {
  const a = await mysqlAccountSnapshot(admin, original);
  const b = await mysqlAccountSnapshot(admin, alternate);
  const out: string[] = [];
  const hostsA = [...a.keys()].sort();
  const hostsB = [...b.keys()].sort();
  if (hostsA.length === 0) out.push(`${original} has no account`);
  if (hostsA.join('\n') !== hostsB.join('\n')) out.push(`host entries: ${JSON.stringify(hostsA)} vs ${JSON.stringify(hostsB)}`);
  for (const host of hostsA.filter((h) => b.has(h))) {
    const left = a.get(host)!;
    const right = b.get(host)!;
    for (const aspect of new Set([...left.keys(), ...right.keys()])) {
      const x = left.get(aspect) ?? '';
      const y = right.get(aspect) ?? '';
      if (x !== y) out.push(`@${host} ${aspect}: ${x} vs ${y}`);
    }
  }
  return out;
}

/** Reads one user's normalised state from the catalogs (see the module comment). */
export async function mysqlAccountSnapshot(admin: Connection, user: string): Promise<MysqlAccountSnapshot> {
  const version = String(((await q(admin, 'SELECT VERSION() AS v'))[0] ?? {}).v ?? '');
  const mariadb = /mariadb/i.test(version);
  const [major = 0, minor = 0] = version.split(/[.-]/).map(Number);
  const globalPriv = mariadb && (major > 10 || (major === 10 && minor >= 4));
  const snapshot: MysqlAccountSnapshot = new Map();
  // A MariaDB role of the same name (is_role) is not a host entry of the user.
  const hosts = (await q(admin, 'SELECT * FROM mysql.user WHERE User = ? ORDER BY Host', [user]))
    .filter((r) => str(r.is_role).toUpperCase() !== 'Y')
    .map((r) => str(r.Host));
  for (const host of hosts) {
    const aspects = new Map<string, string>();
    const grants = (await q(admin, 'SHOW GRANTS FOR ?@?', [user, host])).map((r) =>
      normaliseGrantRow(str(Object.values(r)[0]), user, host),
    );
    aspects.set('grants', JSON.stringify(grants.sort()));
    const create = str(Object.values((await q(admin, 'SHOW CREATE USER ?@?', [user, host]))[0] ?? {})[0]);
    aspects.set('create user', normaliseCreateUser(create));
    if (globalPriv) {
      const row = (await q(admin, 'SELECT Priv AS p FROM mysql.global_priv WHERE User = ? AND Host = ?', [user, host]))[0];
      aspects.set('global_priv', normaliseGlobalPriv(row?.p));
    } else {
      const row = (await q(admin, 'SELECT * FROM mysql.user WHERE User = ? AND Host = ?', [user, host]))[0] ?? {};
      aspects.set('mysql.user', normaliseUserRow(row));
    }
    if (!mariadb && major >= 8) {
      const roles = await q(
        admin,
        'SELECT DEFAULT_ROLE_USER AS u, DEFAULT_ROLE_HOST AS h FROM mysql.default_roles WHERE USER = ? AND HOST = ?',
        [user, host],
      );
      aspects.set('default roles', JSON.stringify(roles.map((r) => `${str(r.u)}@${str(r.h)}`).sort()));
    }
    snapshot.set(host, aspects);
  }
  return snapshot;
}

/** One SHOW GRANTS row with the grantee replaced, `IDENTIFIED …` removed and column lists sorted. */
export function normaliseGrantRow(row: string, user: string, host: string): string {
  const tokens = lex(row);
  const out: string[] = [];
  for (let i = 0; i < tokens.length; i += 1) {
    const t = tokens[i]!;
    if (isName(t, user) && tokens[i + 1] === '@' && isName(tokens[i + 2], host)) {
      out.push('<grantee>');
      i += 2;
      continue;
    }
    if (t.toUpperCase() === 'IDENTIFIED') {
      // Up to REQUIRE / WITH / the end: the authentication part (hash included) is compared elsewhere.
      while (i + 1 < tokens.length && !['REQUIRE', 'WITH'].includes(tokens[i + 1]!.toUpperCase())) i += 1;
      continue;
    }
    if (t === '(') {
      const close = tokens.indexOf(')', i);
      const columns = tokens
        .slice(i + 1, close)
        .filter((c) => c !== ',')
        .sort();
      out.push(`(${columns.join(', ')})`);
      i = close;
      continue;
    }
    out.push(t);
  }
  return out.join(' ').replace(/ , /g, ', ');
}

/** SHOW CREATE USER with the name and every password-derived string replaced. */
export function normaliseCreateUser(statement: string): string {
  const tokens = lex(statement);
  const out: string[] = [];
  let plugin = '';
  for (let i = 0; i < tokens.length; i += 1) {
    const t = tokens[i]!;
    const upper = t.toUpperCase();
    if (i === 2 && tokens[0]?.toUpperCase() === 'CREATE') {
      out.push('<user>');
      if (tokens[i + 1] === '@') i += 2;
      continue;
    }
    if (
      (upper === 'VIA' || upper === 'WITH' || upper === 'OR') &&
      tokens[i + 1] !== undefined &&
      /^[`'"]?[a-z0-9_]+[`'"]?$/i.test(tokens[i + 1]!)
    ) {
      plugin = unquote(tokens[i + 1]!).toLowerCase();
    }
    if (upper === 'BY' && tokens[i + 1]?.toUpperCase() === 'PASSWORD' && isQuoted(tokens[i + 2])) {
      out.push('BY PASSWORD <password>');
      plugin = '';
      i += 2;
      continue;
    }
    if ((upper === 'USING' || upper === 'AS' || upper === 'BY') && PASSWORD_PLUGINS.has(plugin) && isQuoted(tokens[i + 1])) {
      out.push(`${upper} <password>`);
      i += 1;
      continue;
    }
    if (
      upper === 'PASSWORD' &&
      tokens[i + 1]?.toUpperCase() === 'EXPIRE' &&
      !['INTERVAL', 'NEVER', 'DEFAULT'].includes(tokens[i + 2]?.toUpperCase() ?? '')
    ) {
      i += 1;
      continue;
    }
    out.push(t);
  }
  return out.join(' ');
}

/** mysql.global_priv's JSON without password-derived strings, with absent fields as their defaults. */
export function normaliseGlobalPriv(value: unknown): string {
  const priv = (typeof value === 'object' && value !== null && !Buffer.isBuffer(value) ? value : JSON.parse(str(value))) as Record<
    string,
    unknown
  >;
  const defaults: Record<string, unknown> = {
    access: 0,
    ssl_type: 0,
    ssl_cipher: '',
    x509_issuer: '',
    x509_subject: '',
    max_questions: 0,
    max_updates: 0,
    max_connections: 0,
    max_user_connections: 0,
    max_statement_time: 0,
    password_lifetime: -1,
    account_locked: false,
    default_role: '',
  };
  const method = (m: Record<string, unknown>): Record<string, unknown> => {
    const plugin = str(m.plugin);
    return PASSWORD_PLUGINS.has(plugin) ? { plugin } : { plugin, authentication_string: str(m.authentication_string) };
  };
  const top = method(priv);
  const chain = Array.isArray(priv.auth_or) ? (priv.auth_or as Array<Record<string, unknown>>) : [];
  const methods = chain.length === 0 ? [top] : chain.map((m) => (m?.plugin === undefined ? top : method(m)));
  const out: Record<string, unknown> = { methods };
  for (const [key, fallback] of Object.entries(defaults)) out[key] = priv[key] ?? fallback;
  const known = new Set([...Object.keys(defaults), 'plugin', 'authentication_string', 'auth_or', 'password_last_changed', 'version_id']);
  for (const key of Object.keys(priv).sort()) if (!known.has(key)) out[key] = priv[key];
  return JSON.stringify(out);
}

/** A mysql.user row without name, password-derived and password-state columns. */
export function normaliseUserRow(row: Record<string, unknown>): string {
  const skip = new Set(['user', 'password', 'authentication_string', 'password_last_changed', 'password_expired']);
  const plugin = str(row.plugin);
  const out: Record<string, string> = {};
  for (const key of Object.keys(row).sort()) {
    if (skip.has(key.toLowerCase()) && !(key === 'authentication_string' && !PASSWORD_PLUGINS.has(plugin))) continue;
    out[key] = str(row[key]);
  }
  return JSON.stringify(out);
}

async function q(admin: Connection, sql: string, params: unknown[] = []): Promise<Array<Record<string, unknown>>> {
  const [rows] = await admin.query(sql, params);
  return rows as Array<Record<string, unknown>>;
}

/** Words, quoted strings and names (whole, with quotes) and single punctuation characters. */
function lex(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (/\s/.test(ch)) {
      i += 1;
    } else if (ch === '`' || ch === "'" || ch === '"') {
      let j = i + 1;
      while (j < text.length) {
        if (text[j] === '\\' && ch !== '`') j += 2;
        else if (text[j] === ch && text[j + 1] === ch) j += 2;
        else if (text[j] === ch) break;
        else j += 1;
      }
      out.push(text.slice(i, j + 1));
      i = j + 1;
    } else if (/[A-Za-z0-9_$*.%-]/.test(ch)) {
      let j = i + 1;
      while (j < text.length && /[A-Za-z0-9_$*.%-]/.test(text[j]!)) j += 1;
      out.push(text.slice(i, j));
      i = j;
    } else {
      out.push(ch);
      i += 1;
    }
  }
  return out;
}

function isQuoted(token: string | undefined): boolean {
  return token !== undefined && (token.startsWith("'") || token.startsWith('"'));
}

function isName(token: string | undefined, name: string): boolean {
  return token !== undefined && (token === name || ((token.startsWith('`') || token.startsWith("'")) && unquote(token) === name));
}

function unquote(token: string): string {
  const q0 = token[0];
  if (q0 !== '`' && q0 !== "'" && q0 !== '"') return token;
  const body = token.slice(1, -1);
  return q0 === '`' ? body.split('``').join('`') : body.replace(/\\(.)/g, '$1').split(`${q0}${q0}`).join(q0);
}

function str(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v as string | number | boolean | bigint);
}
