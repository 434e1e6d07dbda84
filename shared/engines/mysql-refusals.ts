/**
 * Why MySQL or MariaDB refused a login: from the error number alone (what the connector can tell), and from the
 * catalogs as the master (mysql.user, mysql.global_priv), so that only proven drift is healed.
 *
 * A 1045 says nothing: a wrong password, no account for this address, a missing user and an unmet
 * REQUIRE SSL all look alike. The master reads the accounts of the user (and the anonymous ones), finds
 * the one the server picks for the function's address (USER() of the master session, which logs in from
 * the same place), and explains in this order: no such user; no account for this address (or an
 * anonymous one taking precedence); blocked after failed logins; locked; a client certificate required;
 * a method the driver cannot answer; expired; and only then the password. A wrong password is proven by
 * comparing the stored mysql_native_password hash with the refused password's; where the stored form
 * cannot be computed here (caching_sha2_password's salted hash), it is concluded by elimination, and only
 * when the code was a plain access denial and the account needs no TLS. Anything else is `undetermined`.
 *
 * Some codes prove the password right before any catalog is read: 1044 at login (the server checks
 * the password before the database) and the connection limits (1226, 1203, 1040): never drift. With
 * name resolution on, USER() shows a host name while the server also matches host parts against the
 * address: an account on an address pattern more specific than the one found keeps the answer
 * `undetermined`, so nothing is healed on a guess.
 */
import { isIP } from 'node:net';
import type { RefusalReason } from '../errors';
import { ToolkitError } from '../errors';
import type { PasswordRestore, RefusalDiagnosis, RefusedLogin, ServerInfo, SqlSession } from '../rotation/database-engine';
import {
  accountStatesOf,
  describeAccount,
  ensureSafeSqlMode,
  quoteName,
  restoreStoredPasswords,
  run,
  type AccountState,
} from './mysql-accounts';
import {
  describeChain,
  driverSupports,
  firstInteractiveMethod,
  methodTakesPassword,
  passwordEmpty,
  passwordShut,
  pluginKind,
  takesPassword,
  type AuthMethod,
} from './mysql-auth-chain';
import { columnText as text } from './mysql-connector';
import { accountForClient, hostMatches, hostOfUserFunction, serverOrder, type HostOrderFlavor } from './mysql-host-match';
import { mysqlNativePasswordHash } from './password-hashes';

export { mysqlRefusalReasonFromCode } from './mysql-error-codes';

/** As the master: explains a refused login. Reads only. */
export async function diagnoseMysqlRefusal(session: SqlSession, server: ServerInfo, refused: RefusedLogin): Promise<RefusalDiagnosis> {
  const { username } = refused;
  const byCode = refused.error.reason;
  const told = toldByCode(refused);
  if (told !== undefined) return told;
  await ensureSafeSqlMode(session, 'master');
  let states: AccountState[];
  try {
    states = (await accountStatesOf(session, server, username === '' ? [''] : [username, ''])).filter((a) => !a.isRole);
  } catch (err) {
    if (!(err instanceof ToolkitError) || err.code !== 'DATABASE') throw err;
    // An RDS-like master without SELECT on mysql.*: no catalog, so no proof of drift either.
    return {
      reason: 'undetermined',
      detail: `the master cannot read the accounts in mysql.global_priv / mysql.user (grant it SELECT on them), so the cause of the refusal (${byCode}) cannot be told`,
    };
  }
  const mine = states.filter((a) => a.user === username);
  if (mine.length === 0) return { reason: 'role-missing', detail: `no account of user ${quoteName(username)} exists (any host)` };
  const who = await run(session, 'SELECT USER() AS client', 'reading the client address');
  const client = hostOfUserFunction(text(who[0]?.client));
  const matched = accountForClient(states, username, client, server.flavor === 'mariadb' ? 'mariadb' : 'mysql');
  const hosts = mine.map((a) => quoteName(a.host)).join(', ');
  if (matched === undefined || byCode === 'host-not-allowed') {
    return {
      reason: 'host-not-allowed',
      detail: `no account of user ${quoteName(username)} matches the address ${client} as the server sees it; the user exists for host ${hosts}`,
    };
  }
  if (matched.user !== username) {
    return {
      reason: 'host-not-allowed',
      detail: `the anonymous ${describeAccount('', matched.host)} matches the address ${client} before any account of user ${quoteName(username)} (host ${hosts})`,
    };
  }
  const explained = explainAccount(matched, refused, byCode);
  const shadows = unprovenShadows(states, matched, client, server.flavor === 'mariadb' ? 'mariadb' : 'mysql');
  if (shadows.length === 0) return explained;
  // The server saw a host name, and matches account hosts against the address too: an account on an
  // address pattern more specific than the one found by name may be the one it picked.
  const note = `the server sees the function as ${client}, so it cannot be told whether ${shadows
    .map((a) => `${a.user === '' ? 'the anonymous ' : ''}${describeAccount(a.user, a.host)}`)
    .join(', ')} (tried before ${describeAccount(matched.user, matched.host)}) matches its address instead`;
  return explained.reason === 'wrong-password'
    ? { reason: 'undetermined', detail: `${explained.detail}, but ${note}` }
    : { ...explained, detail: `${explained.detail}; ${note}` };
}

/**
 * Accounts (the user's or anonymous) whose host part is an address pattern the server tries before
 * `matched`'s, when the client is known only by a host name (name resolution on): the server compares
 * host parts with the client's name AND its address, and the address is not visible from here.
 */
function unprovenShadows(states: readonly AccountState[], matched: AccountState, client: string, flavor: HostOrderFlavor): AccountState[] {
  if (isIP(client) !== 0) return [];
  return states.filter(
    (a) =>
      (a.user === '' || a.user === matched.user) &&
      serverOrder(a, matched, flavor) < 0 &&
      /^[0-9.:%_/]+$/.test(a.host) &&
      !hostMatches(a.host, client),
  );
}

/**
 * Refusals whose number alone proves the password is not the problem: the server checks the password
 * before the database (1044, 1049 at login) and before the connection limits (1226, 1203, 1040).
 */
function toldByCode(refused: RefusedLogin): RefusalDiagnosis | undefined {
  if (refused.error.reason === 'database-not-allowed') {
    return {
      reason: 'database-not-allowed',
      detail: `the password of user ${quoteName(refused.username)} was accepted, but the user may not open the secret's dbname (or it does not exist): not a password problem`,
    };
  }
  if (refused.error.reason === 'connection-limit') {
    return {
      reason: 'connection-limit',
      detail: refused.error.detail ?? `user ${quoteName(refused.username)} has no connection left, not a password problem`,
    };
  }
  return undefined;
}

function explainAccount(account: AccountState, refused: RefusedLogin, byCode: RefusalReason): RefusalDiagnosis {
  const name = describeAccount(account.user, account.host);
  if (byCode === 'blocked-after-failed-logins') {
    return {
      reason: byCode,
      detail: `${name} is blocked after too many failed logins (MariaDB max_password_errors, MySQL FAILED_LOGIN_ATTEMPTS); FLUSH PRIVILEGES or ALTER USER unblocks it`,
    };
  }
  if (account.locked || byCode === 'login-disabled') return { reason: 'login-disabled', detail: `${name} is locked (ACCOUNT LOCK)` };
  const certificate = certificateRequirement(account);
  if (certificate !== undefined) return { reason: 'client-certificate-required', detail: `${name} has ${certificate}` };
  if (account.sslType.trim() !== '' && refused.error.tls === false) {
    return {
      reason: 'undetermined',
      detail: `${name} requires TLS (${account.sslType}) and the refused login came without it, so no password logs in that way (the secret's ssl, DB_TLS_MODE)`,
      noOtherPasswordLogsIn: true,
    };
  }
  const open = account.chain.filter((m) => !passwordShut(m));
  if (open.length < account.chain.length && !open.some((m) => takesPassword(m.plugin))) {
    return {
      reason: 'login-disabled',
      detail: `${name} stores no hash for mysql_native_password (a string such as 'invalid'), so no password can match it: the DBA's way to shut password logins`,
    };
  }
  const method = firstInteractiveMethod(open);
  if (method === undefined || !takesPassword(method.plugin)) {
    const which = method?.plugin ?? describeChain(account.chain);
    return { reason: 'unsupported-auth-plugin', detail: `${name} authenticates with ${which}, which takes no password over TCP` };
  }
  if (!driverSupports(method.plugin)) {
    return {
      reason: 'unsupported-auth-plugin',
      detail: `${name} authenticates with ${describeChain(account.chain)}; the server asks a TCP client for ${method.plugin}, which the mysql2 driver cannot answer`,
    };
  }
  if (byCode === 'expired') return { reason: 'expired', detail: `the password of ${name} has expired` };
  if (passwordEmpty(method)) {
    // Not drift: no secret's password was ever stored here (see passwordEmpty), and a heal would lock out
    // the clients that log in without one.
    return {
      reason: 'undetermined',
      detail: `${name} has no password (it admits only the empty one, for clients that log in without a password), so the secret's password never was its own; nothing is healed`,
    };
  }
  const comparison = comparePassword(method, refused.password);
  if (account.expired && comparison !== 'differs') {
    return { reason: 'expired', detail: `the password of ${name} has expired (PASSWORD EXPIRE or its lifetime)` };
  }
  if (comparison === 'differs') {
    return { reason: 'wrong-password', detail: `the stored ${method.plugin} hash of ${name} does not match the secret's password` };
  }
  if (comparison === 'matches') {
    const tls = account.sslType.trim() !== '' ? `; the account requires TLS (${account.sslType})` : '';
    return {
      reason: 'undetermined',
      detail: `the secret's password matches the stored hash of ${name}${tls}; the refusal has another cause`,
      // The stored password is the refused one: any other password would be wrong here.
      noOtherPasswordLogsIn: true,
    };
  }
  if ((byCode === 'undetermined' || byCode === 'wrong-password') && account.sslType.trim() === '' && !account.expired) {
    return {
      reason: 'wrong-password',
      detail:
        `by elimination: ${name} matches this address, is not locked, blocked or expired, needs no TLS, and authenticates with ` +
        `${method.plugin}, whose stored form cannot be compared here`,
    };
  }
  return {
    reason: 'undetermined',
    detail: `${name} shows no cause in the catalogs (${method.plugin}${account.sslType ? `, REQUIRE ${account.sslType}` : ''})`,
  };
}

/** REQUIRE X509 / SUBJECT / ISSUER in words, or undefined when no client certificate is required. */
function certificateRequirement(account: AccountState): string | undefined {
  const type = account.sslType.trim().toUpperCase();
  if (type === 'X509') return 'REQUIRE X509';
  if (type === 'SPECIFIED' && (account.subject !== '' || account.issuer !== '')) {
    return `REQUIRE ${[account.subject !== '' ? 'SUBJECT' : '', account.issuer !== '' ? 'ISSUER' : ''].filter(Boolean).join(' AND ')}`;
  }
  return undefined;
}

/** The refused password against a method's stored form, where the toolkit can compute it. */
function comparePassword(method: AuthMethod, password: string): 'matches' | 'differs' | 'unknown' {
  if (pluginKind(method.plugin) !== 'client-hashed' || !/^\*[0-9A-F]{40}$/i.test(method.authString)) return 'unknown';
  return mysqlNativePasswordHash(password).toUpperCase() === method.authString.toUpperCase() ? 'matches' : 'differs';
}

/**
 * As the master: the stored authentication of every password account of the user (every method of a
 * chain, every stored string), to put back exactly; undefined when the master may not read it.
 */
export async function saveMysqlPassword(session: SqlSession, server: ServerInfo, username: string): Promise<PasswordRestore | undefined> {
  let accounts: AccountState[];
  try {
    await ensureSafeSqlMode(session, 'master');
    accounts = (await accountStatesOf(session, server, [username])).filter((a) => !a.isRole && a.chain.some(methodTakesPassword));
  } catch (err) {
    if (err instanceof ToolkitError && err.code === 'DATABASE') return undefined;
    throw err;
  }
  return (master: SqlSession): Promise<void> => restoreStoredPasswords(master, server, accounts);
}
