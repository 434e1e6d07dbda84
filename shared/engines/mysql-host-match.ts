/**
 * Which `user@host` account MySQL/MariaDB picks for a client: the host parts that match the client's
 * address, most specific first, as the server sorts its account table (a literal host or address before
 * a pattern; among patterns, on MySQL the one whose first wildcard comes later, on MariaDB the one with
 * more literal characters, then the earlier wildcard (see `hostSpecificity`); `%` last; for
 * the same rank a named user before the anonymous one, then the greater host string first: a netmask
 * '127.0.0.0/255.0.0.0' ranks as a literal, and MariaDB tries '127.0.0.1' before it, which is
 * what decides whose password and state a login from 127.0.0.1 meets). This is what tells "the password is wrong"
 * from "no account of this user may log in from here" (a 1045 either way).
 *
 * The client's address is the host part of the master session's USER(): the function's own address as
 * the server sees it (the master logs in from the same place). With name resolution on, USER() holds a
 * host name; patterns are then compared with that name only, which can only make the answer "no
 * account matches" (a refusal), never a wrong heal.
 */

/** True when the account host part `pattern` admits the client `host`. */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern === '' || pattern === '%') return true;
  const slash = pattern.indexOf('/');
  if (slash > 0) return netmaskMatches(pattern.slice(0, slash), pattern.slice(slash + 1), host);
  return likeMatches(pattern.toLowerCase(), host.toLowerCase());
}

/** Whose account order applies: MySQL's, or MariaDB's (which ranks wildcard host patterns otherwise). */
export type HostOrderFlavor = 'mysql' | 'mariadb';

/**
 * A sort key: higher is more specific (tried first by the server). A host without wildcards (a name, an
 * address, a netmask) ranks above every pattern; `%` and '' last. Among patterns, MySQL tries the one
 * whose first wildcard comes later first; MariaDB (10.11, seen on the server: '127.0.%.1' before
 * '127.0.0.%', '%.0.0.1' before '127.0.%', '12_.0.0.%' before '127.0.%') the one with more literal
 * characters, and for as many the one whose first wildcard comes EARLIER.
 */
export function hostSpecificity(pattern: string, flavor: HostOrderFlavor = 'mysql'): number {
  if (pattern === '' || pattern === '%') return 0;
  const wildcard = firstWildcard(pattern);
  if (wildcard < 0) return 1_000_000;
  if (flavor === 'mysql') return 1 + wildcard;
  return 1 + literalCount(pattern) * 1000 + (999 - Math.min(wildcard, 998));
}

/** Index of the first unescaped `%` or `_`, or -1. */
function firstWildcard(pattern: string): number {
  for (let i = 0; i < pattern.length; i += 1) {
    if (pattern[i] === '\\' && i + 1 < pattern.length) i += 1;
    else if (pattern[i] === '%' || pattern[i] === '_') return i;
  }
  return -1;
}

/** The characters of a pattern that are no wildcard (an escaped one counts once). */
function literalCount(pattern: string): number {
  let n = 0;
  for (let i = 0; i < pattern.length; i += 1) {
    if (pattern[i] === '\\' && i + 1 < pattern.length) {
      i += 1;
      n += 1;
    } else if (pattern[i] !== '%' && pattern[i] !== '_') n += 1;
  }
  return n;
}

/** An account as far as matching goes: its user name ('' for the anonymous user) and host part. */
export interface CandidateAccount {
  readonly user: string;
  readonly host: string;
}

/**
 * The account the server uses for `user` logging in from `clientHost`, among the user's accounts and
 * the anonymous ones (`user` ''); undefined when none matches.
 */
export function accountForClient<T extends CandidateAccount>(
  accounts: readonly T[],
  user: string,
  clientHost: string,
  flavor: HostOrderFlavor = 'mysql',
): T | undefined {
  return accounts
    .filter((a) => (a.user === user || a.user === '') && hostMatches(a.host, clientHost))
    .sort((a, b) => serverOrder(a, b, flavor))[0];
}

/**
 * The order the server tries accounts in (negative: `a` first): rank, then a named user before the
 * anonymous one, then the greater host string first (byte order, as the server's strcmp).
 */
export function serverOrder(a: CandidateAccount, b: CandidateAccount, flavor: HostOrderFlavor = 'mysql'): number {
  return (
    hostSpecificity(b.host, flavor) - hostSpecificity(a.host, flavor) ||
    (a.user === '' ? 1 : 0) - (b.user === '' ? 1 : 0) ||
    Buffer.compare(Buffer.from(b.host, 'utf8'), Buffer.from(a.host, 'utf8'))
  );
}

/** The host part of `user@host` as USER() prints it (the user name may itself hold an '@'). */
export function hostOfUserFunction(value: string): string {
  const at = value.lastIndexOf('@');
  return at < 0 ? '' : value.slice(at + 1);
}

/** SQL LIKE with `%` and `_`, and `\` escaping either, without a regular expression built from input. */
function likeMatches(pattern: string, value: string): boolean {
  const match = (p: number, v: number): boolean => {
    while (p < pattern.length) {
      const ch = pattern[p]!;
      if (ch === '%') {
        for (let k = v; k <= value.length; k += 1) if (match(p + 1, k)) return true;
        return false;
      }
      if (v >= value.length) return false;
      if (ch === '\\' && p + 1 < pattern.length) {
        if (pattern[p + 1] !== value[v]) return false;
        p += 2;
      } else {
        if (ch !== '_' && ch !== value[v]) return false;
        p += 1;
      }
      v += 1;
    }
    return v === value.length;
  };
  return match(0, 0);
}

function netmaskMatches(address: string, mask: string, host: string): boolean {
  const a = ipv4(address);
  const m = ipv4(mask);
  const h = ipv4(host);
  if (a === undefined || m === undefined || h === undefined) return false;
  return (h & m) >>> 0 === (a & m) >>> 0;
}

function ipv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return parts.reduce((n, p) => ((n << 8) | Number(p)) >>> 0, 0);
}
