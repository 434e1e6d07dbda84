/**
 * The hostile and malformed inputs, as data: rotation events, AWSCURRENT values read by createSecret,
 * and secrets whose problems only setSecret meets (injection attempts, master secrets). Every case
 * names the error code it must raise and a pattern the message must contain to name the problem.
 */
import type { ErrorCode } from '../../shared/errors';
import type { EngineFamily } from '../../shared/database-secret';

/** What the cases are built from: a real fixture user and the ids of the secrets around it. */
export interface HostileContext {
  readonly engine: EngineFamily;
  readonly secretId: string;
  /** AWSPENDING's version id on `secretId`. */
  readonly pendingToken: string;
  /** AWSPREVIOUS's version id on `secretId`. */
  readonly previousToken: string;
  /** A version id staged AWSPENDING on another secret. */
  readonly otherSecretToken: string;
  readonly missingSecretId: string;
  /** The fixture user's valid secret value. */
  readonly valid: Readonly<Record<string, unknown>>;
  /** A valid master secret's id on the same server, and one of another host. */
  readonly masterArn: string;
  readonly otherHostMasterArn: string;
  readonly otherEngineMasterArn: string;
  readonly notJsonMasterArn: string;
}

export interface EventCase {
  readonly name: string;
  readonly event: (ctx: HostileContext) => unknown;
  readonly code: ErrorCode;
  readonly names: RegExp;
}

export interface ValueCase {
  readonly name: string;
  /** The AWSCURRENT string createSecret reads. */
  readonly value: (ctx: HostileContext) => string;
  readonly code: ErrorCode;
  readonly names: RegExp;
}

export interface SetSecretCase {
  readonly name: string;
  readonly strategy: 'single-user' | 'alternating-users';
  /** AWSCURRENT, from the valid value. */
  readonly current: (ctx: HostileContext) => Record<string, unknown>;
  /** One code, or one per engine where the servers answer differently. */
  readonly code: ErrorCode | Readonly<Record<EngineFamily, ErrorCode>>;
  readonly names: RegExp;
}

const UUID = '8c0f9d1e-5b7a-4c3d-9e2f-1a2b3c4d5e6f';

export const EVENT_CASES: readonly EventCase[] = [
  { name: 'null event', event: () => null, code: 'EVENT_INVALID', names: /not an object/ },
  { name: 'string event', event: () => 'createSecret', code: 'EVENT_INVALID', names: /not an object/ },
  { name: 'number event', event: () => 42, code: 'EVENT_INVALID', names: /not an object/ },
  { name: 'array event', event: (c) => [c.secretId, c.pendingToken, 'createSecret'], code: 'EVENT_INVALID', names: /SecretId/ },
  { name: 'empty object', event: () => ({}), code: 'EVENT_INVALID', names: /SecretId/ },
  {
    name: 'SecretId missing',
    event: (c) => ({ ClientRequestToken: c.pendingToken, Step: 'createSecret' }),
    code: 'EVENT_INVALID',
    names: /SecretId/,
  },
  {
    name: 'SecretId empty',
    event: (c) => ({ SecretId: '', ClientRequestToken: c.pendingToken, Step: 'createSecret' }),
    code: 'EVENT_INVALID',
    names: /SecretId/,
  },
  {
    name: 'SecretId blank',
    event: (c) => ({ SecretId: '   ', ClientRequestToken: c.pendingToken, Step: 'createSecret' }),
    code: 'EVENT_INVALID',
    names: /SecretId/,
  },
  {
    name: 'SecretId a number',
    event: (c) => ({ SecretId: 12, ClientRequestToken: c.pendingToken, Step: 'createSecret' }),
    code: 'EVENT_INVALID',
    names: /SecretId/,
  },
  {
    name: 'SecretId an object',
    event: (c) => ({ SecretId: { arn: c.secretId }, ClientRequestToken: c.pendingToken, Step: 'createSecret' }),
    code: 'EVENT_INVALID',
    names: /SecretId/,
  },
  {
    name: 'token missing',
    event: (c) => ({ SecretId: c.secretId, Step: 'createSecret' }),
    code: 'EVENT_INVALID',
    names: /ClientRequestToken/,
  },
  {
    name: 'token empty',
    event: (c) => ({ SecretId: c.secretId, ClientRequestToken: '', Step: 'createSecret' }),
    code: 'EVENT_INVALID',
    names: /ClientRequestToken/,
  },
  {
    name: 'token a number',
    event: (c) => ({ SecretId: c.secretId, ClientRequestToken: 7, Step: 'createSecret' }),
    code: 'EVENT_INVALID',
    names: /ClientRequestToken/,
  },
  {
    name: 'token an array',
    event: (c) => ({ SecretId: c.secretId, ClientRequestToken: [c.pendingToken], Step: 'createSecret' }),
    code: 'EVENT_INVALID',
    names: /ClientRequestToken/,
  },
  {
    name: 'RotationToken a number (extra field of the wrong type)',
    event: (c) => ({ SecretId: c.secretId, ClientRequestToken: c.pendingToken, Step: 'createSecret', RotationToken: 5 }),
    code: 'EVENT_INVALID',
    names: /RotationToken/,
  },
  {
    name: 'Step missing',
    event: (c) => ({ SecretId: c.secretId, ClientRequestToken: c.pendingToken }),
    code: 'EVENT_INVALID',
    names: /step/,
  },
  {
    name: 'Step empty',
    event: (c) => ({ SecretId: c.secretId, ClientRequestToken: c.pendingToken, Step: '' }),
    code: 'EVENT_INVALID',
    names: /step/,
  },
  {
    name: 'Step unknown',
    event: (c) => ({ SecretId: c.secretId, ClientRequestToken: c.pendingToken, Step: 'deleteSecret' }),
    code: 'EVENT_INVALID',
    names: /deleteSecret/,
  },
  {
    name: 'Step in the wrong case',
    event: (c) => ({ SecretId: c.secretId, ClientRequestToken: c.pendingToken, Step: 'CreateSecret' }),
    code: 'EVENT_INVALID',
    names: /CreateSecret/,
  },
  {
    name: 'Step a number',
    event: (c) => ({ SecretId: c.secretId, ClientRequestToken: c.pendingToken, Step: 1 }),
    code: 'EVENT_INVALID',
    names: /step/,
  },
  {
    name: 'Step with SQL in it',
    event: (c) => ({ SecretId: c.secretId, ClientRequestToken: c.pendingToken, Step: "setSecret'; DROP TABLE x; --" }),
    code: 'EVENT_INVALID',
    names: /step/,
  },
  {
    name: 'extra unknown fields and an unknown token',
    event: (c) => ({ SecretId: c.secretId, ClientRequestToken: UUID, Step: 'createSecret', Extra: { nested: true }, Records: [] }),
    code: 'STAGE_MISMATCH',
    names: /no stage for rotation/,
  },
  {
    name: 'token of another secret',
    event: (c) => ({ SecretId: c.secretId, ClientRequestToken: c.otherSecretToken, Step: 'setSecret' }),
    code: 'STAGE_MISMATCH',
    names: /no stage for rotation/,
  },
  {
    name: 'token staged on the wrong version (AWSPREVIOUS)',
    event: (c) => ({ SecretId: c.secretId, ClientRequestToken: c.previousToken, Step: 'setSecret' }),
    code: 'STAGE_MISMATCH',
    names: /not set as AWSPENDING/,
  },
  {
    name: 'secret that does not exist',
    event: (c) => ({ SecretId: c.missingSecretId, ClientRequestToken: c.pendingToken, Step: 'createSecret' }),
    code: 'NOT_FOUND',
    names: /not found/,
  },
];

const json = (v: unknown): string => JSON.stringify(v);
const withField = (c: HostileContext, key: string, value: unknown): string => json({ ...c.valid, [key]: value });
const without = (c: HostileContext, key: string): string => {
  const copy: Record<string, unknown> = { ...c.valid };
  delete copy[key];
  return json(copy);
};

export const VALUE_CASES: readonly ValueCase[] = [
  { name: 'not JSON', value: () => 'username=app password=x', code: 'SECRET_INVALID', names: /not valid JSON/ },
  {
    // A file saved by an editor or PowerShell with a BOM and passed as --secret-string file://…
    name: 'JSON after a byte order mark',
    value: (c) => `\ufeff${json(c.valid)}`,
    code: 'SECRET_INVALID',
    names: /byte order mark/,
  },
  { name: 'truncated JSON', value: (c) => json(c.valid).slice(0, 30), code: 'SECRET_INVALID', names: /not valid JSON/ },
  { name: 'a JSON array', value: (c) => json([c.valid]), code: 'SECRET_INVALID', names: /array/ },
  { name: 'a JSON string', value: () => json('postgres://u:p@h/db'), code: 'SECRET_INVALID', names: /string/ },
  { name: 'JSON null', value: () => 'null', code: 'SECRET_INVALID', names: /null/ },
  { name: 'an empty object', value: () => '{}', code: 'SECRET_INVALID', names: /host is missing/ },
  { name: 'username missing', value: (c) => without(c, 'username'), code: 'SECRET_INVALID', names: /username is missing/ },
  { name: 'username empty', value: (c) => withField(c, 'username', ''), code: 'SECRET_INVALID', names: /username must not be empty/ },
  { name: 'username a number', value: (c) => withField(c, 'username', 42), code: 'SECRET_INVALID', names: /username must be a string/ },
  {
    name: 'username with a NUL byte',
    value: (c) => withField(c, 'username', 'app\u0000root'),
    code: 'SECRET_INVALID',
    names: /username must not contain NUL/,
  },
  { name: 'username of 64 KiB', value: (c) => withField(c, 'username', 'u'.repeat(65_000)), code: 'SECRET_INVALID', names: /username/ },
  { name: 'password missing', value: (c) => without(c, 'password'), code: 'SECRET_INVALID', names: /password is missing/ },
  { name: 'password empty', value: (c) => withField(c, 'password', ''), code: 'SECRET_INVALID', names: /password must not be empty/ },
  {
    name: 'password an object',
    value: (c) => withField(c, 'password', { value: 'x' }),
    code: 'SECRET_INVALID',
    names: /password must be a string/,
  },
  {
    name: 'password with a NUL byte',
    value: (c) => withField(c, 'password', 'abc\u0000defghij'),
    code: 'SECRET_INVALID',
    names: /password must not contain NUL/,
  },
  { name: 'host missing', value: (c) => without(c, 'host'), code: 'SECRET_INVALID', names: /host is missing/ },
  { name: 'host empty', value: (c) => withField(c, 'host', ''), code: 'SECRET_INVALID', names: /host must not be empty/ },
  {
    name: 'host with a scheme',
    value: (c) => withField(c, 'host', 'postgres://127.0.0.1'),
    code: 'SECRET_INVALID',
    names: /host .*scheme/,
  },
  { name: 'host with a path', value: (c) => withField(c, 'host', '127.0.0.1/postgres'), code: 'SECRET_INVALID', names: /host .*path/ },
  { name: 'host with credentials', value: (c) => withField(c, 'host', 'root@127.0.0.1'), code: 'SECRET_INVALID', names: /host .*@/ },
  {
    name: 'host with a NUL byte',
    value: (c) => withField(c, 'host', '127.0.0.1\u0000evil'),
    code: 'SECRET_INVALID',
    names: /host must not contain NUL/,
  },
  {
    name: 'host with SQL after whitespace',
    value: (c) => withField(c, 'host', "127.0.0.1'; DROP TABLE users; --"),
    code: 'SECRET_INVALID',
    names: /host must not contain whitespace/,
  },
  {
    name: 'host holding its port',
    value: (c) => withField(c, 'host', '127.0.0.1:5432'),
    code: 'SECRET_INVALID',
    names: /host must not contain a port/,
  },
  {
    name: 'host holding a bracketed IPv6 address and its port',
    value: (c) => withField(c, 'host', '[::1]:3306'),
    code: 'SECRET_INVALID',
    names: /host must not contain a port/,
  },
  {
    name: 'host in brackets',
    value: (c) => withField(c, 'host', '[::1]'),
    code: 'SECRET_INVALID',
    names: /host must be an IPv6 address without the brackets/,
  },
  { name: 'engine missing', value: (c) => without(c, 'engine'), code: 'SECRET_INVALID', names: /engine is missing/ },
  { name: 'engine unknown', value: (c) => withField(c, 'engine', 'oracle'), code: 'SECRET_INVALID', names: /engine is not supported/ },
  {
    name: 'engine of the other family',
    value: (c) => withField(c, 'engine', c.engine === 'postgres' ? 'mysql' : 'postgres'),
    code: 'SECRET_INVALID',
    names: /engine must be a/,
  },
  { name: 'port 0', value: (c) => withField(c, 'port', 0), code: 'SECRET_INVALID', names: /port must be between 1 and 65535/ },
  { name: 'port 65536', value: (c) => withField(c, 'port', 65_536), code: 'SECRET_INVALID', names: /port must be between 1 and 65535/ },
  { name: 'port negative', value: (c) => withField(c, 'port', -5432), code: 'SECRET_INVALID', names: /port must be between/ },
  { name: 'port fractional', value: (c) => withField(c, 'port', 5432.5), code: 'SECRET_INVALID', names: /port must be a whole number/ },
  {
    name: 'port non-numeric',
    value: (c) => withField(c, 'port', '54x2'),
    code: 'SECRET_INVALID',
    names: /port must be a number or a numeric string/,
  },
  { name: 'port a boolean', value: (c) => withField(c, 'port', true), code: 'SECRET_INVALID', names: /port must be a number/ },
  { name: 'ssl not a boolean', value: (c) => withField(c, 'ssl', 'yes'), code: 'SECRET_INVALID', names: /ssl must be true or false/ },
  { name: 'dbname a number', value: (c) => withField(c, 'dbname', 5), code: 'SECRET_INVALID', names: /dbname must be a string/ },
  {
    name: 'dbname with a NUL byte',
    value: (c) => withField(c, 'dbname', 'db\u0000x'),
    code: 'SECRET_INVALID',
    names: /dbname must not contain NUL/,
  },
  { name: 'masterarn empty', value: (c) => withField(c, 'masterarn', ''), code: 'SECRET_INVALID', names: /masterarn must not be empty/ },
  {
    name: 'every field wrong at once',
    value: () => json({ host: 1, port: 'x', username: [], password: null, engine: 7 }),
    code: 'SECRET_INVALID',
    names: /host.*username.*password.*engine.*port/,
  },
];

/** The same value with the user renamed: none of these users exists, so nothing may change. */
const renamed = (c: HostileContext, username: string): Record<string, unknown> => ({ ...c.valid, username });

export const SET_SECRET_CASES: readonly SetSecretCase[] = [
  {
    name: 'SQL injection in the username (single quote)',
    strategy: 'single-user',
    current: (c) => ({ ...renamed(c, "x' OR '1'='1"), masterarn: c.masterArn }),
    code: 'AUTH_FAILED',
    names: /no such user or role exists/,
  },
  {
    name: 'SQL injection in the username (double quote, DROP)',
    strategy: 'single-user',
    current: (c) => ({ ...renamed(c, 'x"; DROP ROLE rel_canary; --'), masterarn: c.masterArn }),
    code: 'AUTH_FAILED',
    names: /no such user or role exists/,
  },
  {
    name: 'SQL injection in the username (backtick, comment)',
    strategy: 'single-user',
    current: (c) => ({ ...renamed(c, "x`@`%` IDENTIFIED BY 'p' -- "), masterarn: c.masterArn }),
    code: 'AUTH_FAILED',
    names: /no such user or role exists/,
  },
  {
    name: 'unicode username that does not exist',
    strategy: 'single-user',
    current: (c) => renamed(c, 'ユーザー☃'),
    code: 'AUTH_FAILED',
    names: /without a masterarn the toolkit cannot tell/,
  },
  {
    name: 'quote-laden username, no master',
    strategy: 'single-user',
    current: (c) => renamed(c, `o'ne"il\\\`x`),
    code: 'AUTH_FAILED',
    names: /without a masterarn the toolkit cannot tell/,
  },
  // PostgreSQL says the database does not exist (3D000), MySQL refuses the user access to it: both a
  // refusal after the password checked out (PostgreSQL's reason: database-not-allowed).
  {
    name: 'SQL injection in dbname',
    strategy: 'single-user',
    current: (c) => ({ ...c.valid, dbname: "postgres'; DROP ROLE rel_canary; --" }),
    code: 'AUTH_FAILED',
    names: /login with the (pending|current) secret failed|is refused/,
  },
  {
    name: 'SQL injection in the host name',
    strategy: 'single-user',
    current: (c) => ({ ...c.valid, host: "h'or'1'='1" }),
    code: 'SECRET_INVALID',
    names: /host must be a host name or an IP address/,
  },
  {
    name: 'masterarn missing (alternating users)',
    strategy: 'alternating-users',
    current: (c) => ({ ...c.valid }),
    code: 'SECRET_INVALID',
    names: /masterarn is missing/,
  },
  {
    name: 'masterarn pointing at the secret itself',
    strategy: 'alternating-users',
    current: (c) => ({ ...c.valid, masterarn: c.secretId }),
    // Its own user as the master: refused before any login, as the master's own user is in single-user rotation.
    code: 'SECRET_INVALID',
    names: /master's own user/,
  },
  {
    name: 'masterarn pointing at a missing secret',
    strategy: 'alternating-users',
    current: (c) => ({ ...c.valid, masterarn: c.missingSecretId }),
    code: 'NOT_FOUND',
    names: /not found/,
  },
  {
    name: 'masterarn pointing at another host',
    strategy: 'alternating-users',
    current: (c) => ({ ...c.valid, masterarn: c.otherHostMasterArn }),
    code: 'SECRET_INVALID',
    names: /host and port are not the master/,
  },
  {
    name: 'masterarn pointing at a secret of the other engine',
    strategy: 'alternating-users',
    current: (c) => ({ ...c.valid, masterarn: c.otherEngineMasterArn }),
    code: 'SECRET_INVALID',
    names: /engine must be a/,
  },
  {
    name: 'masterarn pointing at a secret that is not JSON',
    strategy: 'alternating-users',
    current: (c) => ({ ...c.valid, masterarn: c.notJsonMasterArn }),
    code: 'SECRET_INVALID',
    names: /not valid JSON/,
  },
];
