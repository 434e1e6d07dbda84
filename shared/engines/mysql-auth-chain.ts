/**
 * How a MySQL/MariaDB account authenticates: one plugin (MySQL, MariaDB) or a MariaDB authentication
 * chain (`IDENTIFIED VIA unix_socket OR mysql_native_password USING '…'`), tried by the server in order.
 *
 * What a plugin is decides everything the rotation may do with it:
 * - `client-hashed`: mysql_native_password, whose stored form the toolkit computes itself, so the
 *   plaintext never has to reach the server, and a refused password can be compared with it;
 * - `server-hashed`: the server salts or derives the stored form (caching_sha2_password, sha256_password,
 *   ed25519, parsec), so a statement must carry the plaintext;
 * - `socket`: unix_socket / auth_socket / named_pipe, which the server tries and skips without a word to
 *   a client on TCP, so the next method of a chain answers;
 * - `external`: a method whose secret is not a database password (PAM, GSSAPI, LDAP, IAM tokens, no
 *   login at all): the toolkit neither sets it nor logs in with it;
 * - `unknown`: anything else, never changed, since what it does cannot be explained.
 */
import { columnText as text } from './mysql-connector';
import { mysqlNativePasswordHash } from './password-hashes';

/** One method of an account's authentication, as the server stores it. */
export interface AuthMethod {
  /** Lower-case plugin name; MariaDB's legacy empty plugin is mysql_native_password. */
  readonly plugin: string;
  /** The stored string: a hash, a public key, a PAM service name; '' when none. Never logged. */
  readonly authString: string;
  /** The stored bytes in hex, where they may be binary (MySQL's caching_sha2_password). */
  readonly authHex?: string;
}

/** What a plugin means for a password rotation (see the module comment). */
export type PluginKind = 'client-hashed' | 'server-hashed' | 'socket' | 'external' | 'unknown';

/** The plugin whose stored form (SHA1(SHA1(password))) the toolkit computes itself. */
export const NATIVE_PLUGIN = 'mysql_native_password';

const KINDS: Readonly<Record<string, PluginKind>> = {
  mysql_native_password: 'client-hashed',
  caching_sha2_password: 'server-hashed',
  sha256_password: 'server-hashed',
  ed25519: 'server-hashed',
  parsec: 'server-hashed',
  unix_socket: 'socket',
  auth_socket: 'socket',
  named_pipe: 'socket',
  pam: 'external',
  gssapi: 'external',
  mysql_no_login: 'external',
  awsauthenticationplugin: 'external',
  authentication_pam: 'external',
  authentication_ldap_simple: 'external',
  authentication_ldap_sasl: 'external',
  authentication_kerberos: 'external',
  authentication_windows: 'external',
  authentication_fido: 'external',
  authentication_webauthn: 'external',
  authentication_openid_connect: 'external',
  authentication_iam: 'external',
};

/** The server-side plugins whose client side mysql2 implements (mysql_clear_password stays off). */
const DRIVER_PLUGINS: ReadonlySet<string> = new Set(['mysql_native_password', 'caching_sha2_password', 'sha256_password']);

/** What an account authenticates with, normalised: '' (MariaDB's legacy empty plugin) means native. */
export function normalizePlugin(plugin: string | undefined): string | undefined {
  if (plugin === undefined) return undefined;
  const p = plugin.trim().toLowerCase();
  return p === '' ? NATIVE_PLUGIN : p;
}

/** The kind of a plugin; `unknown` for any name not listed here. */
export function pluginKind(plugin: string): PluginKind {
  return KINDS[normalizePlugin(plugin) ?? ''] ?? 'unknown';
}

/** True for the plugins a password rotation sets (client- or server-hashed). */
export function takesPassword(plugin: string): boolean {
  const kind = pluginKind(plugin);
  return kind === 'client-hashed' || kind === 'server-hashed';
}

/**
 * True for a mysql_native_password method whose stored string is no hash at all (MariaDB's own
 * `USING 'invalid'`, MySQL's `*THISISNOTAVALIDPASSWORDTHATCANBEUSEDHERE`): no password matches it, which
 * is how a DBA shuts password logins on an account or host entry. Such a method is not the secret's: a
 * rotation never sets it, and a refusal on it is no drift. '' (no password) and a pre-4.1 hash are stored
 * passwords, not a shut door.
 */
export function passwordShut(method: AuthMethod): boolean {
  if (pluginKind(method.plugin) !== 'client-hashed') return false;
  const stored = method.authString;
  return stored !== '' && !/^\*[0-9A-F]{40}$/i.test(stored) && !/^[0-9A-F]{16}$/i.test(stored);
}

/** True for a method a password rotation sets: a plugin that takes a password, and a door not shut (`passwordShut`). */
export function methodTakesPassword(method: AuthMethod): boolean {
  return takesPassword(method.plugin) && !passwordShut(method);
}

/**
 * The hash a mysql_native_password method stores (`*HEX`, upper case), when it is one the toolkit can
 * compute and so compare with a password's (`nativeHashesOf`); undefined for other plugins, the empty
 * password and a shut door (`passwordShut`).
 */
export function storedNativeHash(method: AuthMethod): string | undefined {
  return pluginKind(method.plugin) === 'client-hashed' && /^\*[0-9A-F]{40}$/i.test(method.authString)
    ? method.authString.toUpperCase()
    : undefined;
}

/** The mysql_native_password hashes of `passwords`, upper case: what `storedNativeHash` returns for them. */
export function nativeHashesOf(passwords: readonly string[]): Set<string> {
  return new Set(passwords.map((p) => mysqlNativePasswordHash(p).toUpperCase()));
}

/**
 * Which methods of an authentication chain hold the secret's password, by position, when the chain holds
 * several passwords. MariaDB has no RETAIN CURRENT PASSWORD; its way to keep two passwords valid while
 * clients move from one to the other is a chain of two password methods
 * (`IDENTIFIED VIA mysql_native_password USING PASSWORD('a') OR mysql_native_password USING PASSWORD('b')`),
 * and re-stating every method with the new password would lock out whoever logs in with the other one.
 *
 * A method whose stored form the toolkit computes (mysql_native_password's `*HEX`, or '' for the empty
 * password, which is never the secret's) is the secret's when it holds `replacing` (the password being replaced) or `password` (set already by an attempt that did not
 * finish); a method whose stored form cannot be compared (ed25519, parsec) is counted as the secret's, as
 * nothing tells otherwise. With one password method, or `replacing` undefined (nothing known), every password
 * method is the secret's.
 * @returns one flag per method (true: set it), or undefined when the chain holds computed-form passwords
 *   and none is the secret's (drift on a chain of two passwords): which one to set cannot be told.
 */
export function secretMethods(chain: readonly AuthMethod[], password: string, replacing: string | undefined): boolean[] | undefined {
  const takes = chain.map(methodTakesPassword);
  const stored = chain.map(storedNativeHash);
  const comparable = chain.map((m, i) => takes[i] === true && (passwordEmpty(m) || stored[i] !== undefined));
  if (replacing === undefined || takes.filter(Boolean).length <= 1 || !comparable.some(Boolean)) return takes;
  const held = nativeHashesOf([replacing, password]);
  const flags = chain.map((_, i) => takes[i] === true && (!comparable[i] || (stored[i] !== undefined && held.has(stored[i]))));
  return flags.some((f, i) => f && comparable[i]) ? flags : undefined;
}

/**
 * True when the chain's one password method stores, in the form the toolkit computes
 * (mysql_native_password's `*HEX`), a password that is none of `passwords`: the host entry's clients log
 * in with a password the secret never held (another application's, or the DBA's for a batch host).
 * Setting the secret's new password there would lock them out, so a single-user change refuses it. A
 * stored form the toolkit cannot compare (caching_sha2_password, ed25519, parsec) is never counted as
 * another password; chains of several passwords are `secretMethods`' to decide.
 */
export function holdsAnotherPassword(chain: readonly AuthMethod[], passwords: readonly string[]): boolean {
  const methods = chain.filter(methodTakesPassword);
  const stored = methods.length === 1 ? storedNativeHash(methods[0]!) : undefined;
  return stored !== undefined && !nativeHashesOf(passwords).has(stored);
}

/**
 * True when every method of the chain a rotation would set (`secretMethods`) stores `password` already, in
 * the form the toolkit computes: an attempt that did not finish set it. Such an entry takes no statement on
 * the retry: stating the same password again changes nothing, and MariaDB's password_reuse_check (under
 * strict validation) refuses it as a reuse, which would stop every retry with that entry, perhaps the
 * applications', left on the new password.
 */
export function holdsPasswordAlready(chain: readonly AuthMethod[], password: string, replacing: string | undefined): boolean {
  const secrets = secretMethods(chain, password, replacing);
  if (secrets === undefined) return false;
  const [hash] = nativeHashesOf([password]);
  const set = chain.filter((_, i) => secrets[i] === true);
  return set.length > 0 && set.every((m) => storedNativeHash(m) === hash);
}

/**
 * True for a mysql_native_password method that stores no password at all (`CREATE USER` without
 * IDENTIFIED, or `IDENTIFIED BY ''`): it admits the empty password only. That is the DBA's setting for
 * clients logging in without one, never a secret's password (a secret's empty password is refused as bad
 * input), so a single-user rotation neither heals nor sets it: either would lock those clients out.
 */
export function passwordEmpty(method: AuthMethod): boolean {
  return pluginKind(method.plugin) === 'client-hashed' && method.authString === '';
}

/** True when the default connector (mysql2) can log in with the plugin. */
export function driverSupports(plugin: string): boolean {
  return DRIVER_PLUGINS.has(normalizePlugin(plugin) ?? '');
}

/**
 * The method a TCP client is actually asked to answer: socket methods in front of it fail on the server
 * without a word to the client and the chain moves on. Undefined when the chain holds only socket methods.
 */
export function firstInteractiveMethod(chain: readonly AuthMethod[]): AuthMethod | undefined {
  return chain.find((m) => pluginKind(m.plugin) !== 'socket');
}

/** The chain in words for messages: plugin names only, never the stored strings. */
export function describeChain(chain: readonly AuthMethod[]): string {
  return chain.map((m) => m.plugin).join(' OR ');
}

/**
 * The methods of a MariaDB 10.4+ `mysql.global_priv.Priv` document, in the order the server tries them.
 * The top-level `plugin`/`authentication_string` is one method; `auth_or` lists the chain with an empty
 * object where the top-level method stands.
 */
export function chainFromGlobalPriv(priv: unknown): AuthMethod[] {
  const doc = asRecord(typeof priv === 'string' || Buffer.isBuffer(priv) ? safeJson(text(priv)) : priv);
  const top: AuthMethod = { plugin: normalizePlugin(text(doc.plugin)) ?? NATIVE_PLUGIN, authString: text(doc.authentication_string) };
  const or = Array.isArray(doc.auth_or) ? doc.auth_or : undefined;
  if (or === undefined || or.length === 0) return [top];
  return or.map((entry) => {
    const e = asRecord(entry);
    if (e.plugin === undefined) return top;
    return { plugin: normalizePlugin(text(e.plugin)) ?? NATIVE_PLUGIN, authString: text(e.authentication_string) };
  });
}

function safeJson(value: string): unknown {
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return {};
  }
}

function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
