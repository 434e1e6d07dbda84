import { format, inspect } from 'node:util';
import {
  isParsedDatabaseSecret,
  parseDatabaseSecret,
  serializeSecretFields,
  type ParseDatabaseSecretOptions,
} from '../../shared/database-secret';
import { SecretValidationError, type ToolkitError } from '../../shared/errors';
import { noteSensitive } from '../../local/sensitive-values';

const PASSWORD = 'Pw-7f3Kq9-hunter2!zz';
const USERNAME = 'app_user_4d2x';
const HOST = 'db-7q.internal.example';
noteSensitive(PASSWORD);

const valid = { engine: 'postgres', host: HOST, username: USERNAME, password: PASSWORD } as const;

function thrown(fn: () => unknown): ToolkitError & SecretValidationError {
  try {
    fn();
  } catch (err) {
    return err as ToolkitError & SecretValidationError;
  }
  throw new Error('expected a throw');
}

/** Every string (of 4+ characters, so words of the message itself do not count) inside a value. */
function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return value.length >= 4 ? [value] : [];
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(stringsIn);
  return [];
}

const big = 'x'.repeat(65_537);

type Case = [name: string, input: unknown, paths: string[], options?: ParseDatabaseSecretOptions];

const hostile: Case[] = [
  ['not JSON', `{"password": "${PASSWORD}", "host": `, ['']],
  ['JSON with a trailing comma', `{"password": "${PASSWORD}",}`, ['']],
  ['a JSON array', `["${PASSWORD}"]`, ['']],
  ['JSON null', '\tnull\n', ['']],
  ['a JSON number', '4242', ['']],
  ['a JSON string', `"${PASSWORD}"`, ['']],
  ['JSON true', 'true', ['']],
  ['an empty string', '', ['']],
  ['undefined', undefined, ['']],
  ['a number', 12345, ['']],
  ['an array object', [valid], ['']],
  ['binary', new TextEncoder().encode(JSON.stringify(valid)), ['']],
  ['a string over 64 KiB', JSON.stringify({ ...valid, pad: big }), ['']],
  ['missing host', { ...valid, host: undefined }, ['host']],
  ['missing username', { ...valid, username: undefined }, ['username']],
  ['missing password', { ...valid, password: undefined }, ['password']],
  ['empty host', { ...valid, host: '' }, ['host']],
  ['empty username', { ...valid, username: '' }, ['username']],
  ['empty password', { ...valid, password: '' }, ['password']],
  ['a numeric host', { ...valid, host: 1234567 }, ['host']],
  ['a numeric username', { ...valid, username: 987654 }, ['username']],
  ['an object password', { ...valid, password: { value: PASSWORD } }, ['password']],
  ['a null password', { ...valid, password: null }, ['password']],
  ['an array password', { ...valid, password: [PASSWORD] }, ['password']],
  ['an unsupported engine', { ...valid, engine: 'oracle-ee' }, ['engine']],
  ['a numeric engine', { ...valid, engine: 5432 }, ['engine']],
  ['the wrong engine family', { ...valid, engine: 'aurora-mysql' }, ['engine'], { expectedFamily: 'postgres' }],
  ['no engine when required', { ...valid, engine: undefined }, ['engine'], { requireEngine: true, expectedFamily: 'postgres' }],
  ['no engine and no expected family', { ...valid, engine: undefined }, ['engine']],
  ['port 0', { ...valid, port: 0 }, ['port']],
  ['port 65536', { ...valid, port: 65_536 }, ['port']],
  ['a negative port', { ...valid, port: -5432 }, ['port']],
  ['a fractional port', { ...valid, port: 5432.5 }, ['port']],
  ['a non-numeric port string', { ...valid, port: '54x9z' }, ['port']],
  ['a port string out of range', { ...valid, port: '99999' }, ['port']],
  ['a boolean port', { ...valid, port: true }, ['port']],
  ['a NaN-like port', { ...valid, port: 'NaN' }, ['port']],
  ['a host with a scheme', { ...valid, host: `postgres://${USERNAME}:${PASSWORD}@${HOST}` }, ['host']],
  ['a host with a path', { ...valid, host: `${HOST}/mydb` }, ['host']],
  ['a host with inner whitespace', { ...valid, host: 'db-7q internal' }, ['host']],
  ['a host with a leading space', { ...valid, host: ' db-7q.internal' }, ['host']],
  ['a host with a trailing newline', { ...valid, host: 'db-7q.internal\n' }, ['host']],
  ['a host with a trailing newline', { ...valid, host: `${HOST}\n` }, ['host']],
  ['a host with credentials', { ...valid, host: `${USERNAME}:${PASSWORD}@${HOST}` }, ['host']],
  ['a host with a NUL byte', { ...valid, host: `${HOST}\0evil` }, ['host']],
  ['a host with a port', { ...valid, host: `${HOST}:5432` }, ['host']],
  ['an IPv4 address with a port', { ...valid, host: '127.0.0.1:5432' }, ['host']],
  ['a host with an empty port', { ...valid, host: `${HOST}:` }, ['host']],
  ['a bracketed IPv6 address with a port', { ...valid, host: '[::1]:5432' }, ['host']],
  ['a bracketed IPv6 address', { ...valid, host: '[2001:db8::5]' }, ['host']],
  ['a bracketed name', { ...valid, host: `[${HOST}]` }, ['host']],
  ['colons that are no IPv6 address', { ...valid, host: 'db:7q:internal' }, ['host']],
  ['a host with a query string', { ...valid, host: `${HOST}?sslmode=require` }, ['host']],
  ['a host list', { ...valid, host: `${HOST},db-8q.internal.example` }, ['host']],
  ['a username with a NUL byte', { ...valid, username: `${USERNAME}\0` }, ['username']],
  ['a password with a NUL byte', { ...valid, password: `${PASSWORD}\0tail` }, ['password']],
  ['a dbname with a NUL byte', { ...valid, dbname: 'appdb\0x' }, ['dbname']],
  ['a numeric dbname', { ...valid, dbname: 424242 }, ['dbname']],
  ['ssl "yes-please"', { ...valid, ssl: 'yes-please' }, ['ssl']],
  ['ssl 1', { ...valid, ssl: 1 }, ['ssl']],
  ['ssl null', { ...valid, ssl: null }, ['ssl']],
  ['a numeric masterarn', { ...valid, masterarn: 123456 }, ['masterarn']],
  ['a password over 64 KiB', { ...valid, password: `${PASSWORD}${big}` }, ['password']],
  ['a host over 64 KiB', { ...valid, host: big }, ['host']],
  [
    'everything wrong at once',
    { engine: 'sqlserver', host: `https://${HOST}`, username: '', password: 7, port: 'abcd', ssl: 'maybe', dbname: 5 },
    ['dbname', 'engine', 'host', 'password', 'port', 'ssl', 'username'],
  ],
];

describe('parseDatabaseSecret: hostile input', () => {
  it('has a broad table', () => {
    expect(hostile.length).toBeGreaterThanOrEqual(30);
  });

  // `options` has a default so the callback's length stays 3: jest would take a 4th parameter for `done`.
  it.each(hostile)('refuses %s, naming the problem and no value', (_name, input, paths, options = {}) => {
    const err = thrown(() => parseDatabaseSecret(input, { ...options, secretId: 'app/db', step: 'setSecret' }));
    expect(err).toBeInstanceOf(SecretValidationError);
    expect(err.code).toBe('SECRET_INVALID');
    expect(err.issues.map((i) => i.path).sort()).toEqual(paths);
    expect(err.message).toContain('secret app/db');
    expect(err.message).toContain('step setSecret');

    const outputs = [err.message, String(err.stack), JSON.stringify(err), JSON.stringify(err.issues), inspect(err)];
    const values = [PASSWORD, USERNAME, HOST, ...stringsIn(input).map((s) => s.slice(0, 40))];
    for (const out of outputs) {
      for (const value of values) expect(out).not.toContain(value);
    }
  });
});

describe('parseDatabaseSecret: valid secrets', () => {
  it('reads a JSON string and an object alike', () => {
    const fromJson = parseDatabaseSecret(JSON.stringify(valid));
    const fromObject = parseDatabaseSecret(valid);
    expect(fromJson).toEqual(fromObject);
    expect(fromObject).toMatchObject({ engine: 'postgres', family: 'postgres', host: HOST, username: USERNAME, port: 5432 });
    expect(fromObject.password).toBe(PASSWORD);
  });

  it.each([
    ['postgres', 'postgres', 5432],
    ['aurora-postgresql', 'postgres', 5432],
    ['mysql', 'mysql', 3306],
    ['aurora-mysql', 'mysql', 3306],
    ['mariadb', 'mysql', 3306],
    // RDS's engine name for Aurora MySQL 1 (5.6): secrets made for those clusters carry it.
    ['aurora', 'mysql', 3306],
    ['Aurora-PostgreSQL', 'postgres', 5432],
  ])('maps engine %s to family %s with default port %d', (engine, family, port) => {
    const secret = parseDatabaseSecret({ ...valid, engine });
    expect(secret.engine).toBe(engine);
    expect(secret.family).toBe(family);
    expect(secret.port).toBe(port);
  });

  it.each([
    [6432, 6432],
    ['6432', 6432],
    [' 3307 ', 3307],
    [1, 1],
    ['65535', 65_535],
  ])('reads port %p as %d', (port, expected) => {
    expect(parseDatabaseSecret({ ...valid, port }).port).toBe(expected);
  });

  it.each([
    [true, true],
    ['true', true],
    ['TRUE', true],
    ['True', true],
    [false, false],
    ['false', false],
    ['FaLsE', false],
    [undefined, undefined],
  ])('reads ssl %p as %p', (ssl, expected) => {
    expect(parseDatabaseSecret({ ...valid, ssl }).ssl).toBe(expected);
  });

  it('names whitespace around the host apart from whitespace inside it', () => {
    expect(thrown(() => parseDatabaseSecret({ ...valid, host: `${HOST} ` })).issues).toEqual([
      { path: 'host', problem: 'must not start or end with whitespace (a space or newline around the name)' },
    ]);
    expect(thrown(() => parseDatabaseSecret({ ...valid, host: 'db-7q internal' })).issues).toEqual([
      { path: 'host', problem: 'must not contain whitespace' },
    ]);
  });

  it('leaves dbname unset when absent or empty: the connection layer applies the default', () => {
    expect(parseDatabaseSecret(valid).dbname).toBeUndefined();
    expect('dbname' in parseDatabaseSecret(valid)).toBe(false);
    expect(parseDatabaseSecret({ ...valid, dbname: '' }).dbname).toBeUndefined();
    expect(parseDatabaseSecret({ ...valid, dbname: 'orders' }).dbname).toBe('orders');
  });

  it('reads "dbname": null (what Terraform writes for an instance without a database name) as absent, keeping the key', () => {
    const secret = parseDatabaseSecret(JSON.stringify({ ...valid, dbname: null }), { expectedFamily: 'postgres', requireEngine: true });
    expect(secret.dbname).toBeUndefined();
    expect(Object.getOwnPropertyNames(secret.fields)).toContain('dbname');
    expect(secret.fields.dbname).toBeNull();
  });

  it('reads "masterarn": null (Terraform for an unset optional master) as absent, keeping the key', () => {
    const secret = parseDatabaseSecret(JSON.stringify({ ...valid, masterarn: null }), { expectedFamily: 'postgres', requireEngine: true });
    expect(secret.masterarn).toBeUndefined();
    expect('masterarn' in secret).toBe(false);
    expect(secret.fields.masterarn).toBeNull();
  });

  it('keeps masterarn', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:master-AbCdEf';
    expect(parseDatabaseSecret({ ...valid, masterarn: arn }).masterarn).toBe(arn);
  });

  it('without engine, takes the expected family unless the engine is required', () => {
    const { engine: _engine, ...noEngine } = valid;
    const secret = parseDatabaseSecret(noEngine, { expectedFamily: 'mysql' });
    expect(secret.family).toBe('mysql');
    expect(secret.engine).toBe('mysql');
    expect(secret.port).toBe(3306);
    expect(thrown(() => parseDatabaseSecret(noEngine, { expectedFamily: 'mysql', requireEngine: true })).issues).toEqual([
      { path: 'engine', problem: 'is missing' },
    ]);
  });

  it('accepts the expected family', () => {
    expect(parseDatabaseSecret({ ...valid, engine: 'mariadb' }, { expectedFamily: 'mysql', requireEngine: true }).family).toBe('mysql');
  });
});

describe('parseDatabaseSecret: fields', () => {
  const original = { ...valid, port: '5433', dbname: 'orders', extra: { nested: [1, 2] }, note: 'kept' };

  it('keeps every original key, extra ones included, as written', () => {
    const secret = parseDatabaseSecret(JSON.stringify(original));
    expect(Object.getOwnPropertyNames(secret.fields)).toEqual(Object.keys(original));
    expect(secret.fields.port).toBe('5433');
    expect(secret.fields.extra).toEqual({ nested: [1, 2] });
    expect(secret.fields.password).toBe(PASSWORD);
  });

  it('is a copy: changing the input later changes nothing', () => {
    const input: Record<string, unknown> = { ...original };
    const secret = parseDatabaseSecret(input);
    input.note = 'changed';
    input.password = 'changed-password';
    expect(secret.fields.note).toBe('kept');
    expect(secret.password).toBe(PASSWORD);
  });

  it('is frozen, like the secret', () => {
    const secret = parseDatabaseSecret(original);
    expect(Object.isFrozen(secret)).toBe(true);
    expect(Object.isFrozen(secret.fields)).toBe(true);
    expect(() => {
      (secret as { password: string }).password = 'x';
    }).toThrow(TypeError);
  });

  it('keeps a __proto__ key as a plain key without polluting any prototype', () => {
    const secret = parseDatabaseSecret(`{"__proto__": {"polluted": "yes"}, ${JSON.stringify(valid).slice(1)}`);
    expect(Object.getOwnPropertyNames(secret.fields)).toContain('__proto__');
    expect(Object.getPrototypeOf(secret.fields)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(JSON.parse(serializeSecretFields(secret.fields))).toEqual(
      JSON.parse(`{"__proto__": {"polluted": "yes"}, ${JSON.stringify(valid).slice(1)}`),
    );
  });

  it('ignores inherited properties', () => {
    const input = Object.create({ password: PASSWORD }) as Record<string, unknown>;
    Object.assign(input, { engine: 'postgres', host: HOST, username: USERNAME });
    expect(thrown(() => parseDatabaseSecret(input)).issues).toEqual([{ path: 'password', problem: 'is missing' }]);
  });

  it('serializeSecretFields writes the password back, in the original key order', () => {
    const secret = parseDatabaseSecret(original);
    const written = serializeSecretFields(secret.fields);
    expect(written).toBe(JSON.stringify(original));
  });

  it('serializeSecretFields of a next version built from the fields carries the new password', () => {
    const secret = parseDatabaseSecret(original);
    const next = parseDatabaseSecret({ ...secret.fields, password: 'Next-Pw-9911aa' });
    expect(JSON.parse(serializeSecretFields(next.fields))).toEqual({ ...original, password: 'Next-Pw-9911aa' });
  });
});

describe('parseDatabaseSecret: the password stays hidden', () => {
  const secret = parseDatabaseSecret({ ...valid, dbname: 'orders', extra: 'kept' });

  it.each([
    ['JSON.stringify', () => JSON.stringify(secret)],
    ['JSON.stringify(fields)', () => JSON.stringify(secret.fields)],
    ['util.inspect', () => inspect(secret)],
    ['util.inspect with showHidden and full depth', () => inspect(secret, { showHidden: true, depth: Infinity })],
    ['util.inspect(fields, showHidden)', () => inspect(secret.fields, { showHidden: true })],
    ['format %o', () => format('%o', secret)],
    ['format %O', () => format('%O', secret)],
    ['format %j', () => format('%j', secret)],
    ['format %s', () => format('%s', secret)],
    ['template string', () => `${String(secret)}`],
    ['a spread copy', () => JSON.stringify({ ...secret, fields: { ...secret.fields } })],
  ])('from %s', (_how, render) => {
    const out = render();
    expect(out).not.toContain(PASSWORD);
  });

  it('while showing what helps a reader', () => {
    const out = inspect(secret);
    expect(out).toContain(USERNAME);
    expect(out).toContain(HOST);
    expect(out).toContain('[redacted]');
    expect(out).toContain('extra');
  });

  it('yet is readable where needed', () => {
    expect(secret.password).toBe(PASSWORD);
    expect(secret.fields.password).toBe(PASSWORD);
  });
});

describe('parseDatabaseSecret: parsed secrets', () => {
  it('are recognised, and look-alike objects are not', () => {
    const secret = parseDatabaseSecret(valid);
    expect(isParsedDatabaseSecret(secret)).toBe(true);
    expect(isParsedDatabaseSecret({ ...secret, password: PASSWORD })).toBe(false);
    expect(isParsedDatabaseSecret(null)).toBe(false);
  });

  it('parse again from their fields, so the family check still applies', () => {
    const secret = parseDatabaseSecret(valid);
    expect(parseDatabaseSecret(secret)).toEqual(secret);
    expect(parseDatabaseSecret(secret).password).toBe(PASSWORD);
    expect(thrown(() => parseDatabaseSecret(secret, { expectedFamily: 'mysql' })).issues.map((i) => i.path)).toEqual(['engine']);
  });
});

describe('parseDatabaseSecret: host', () => {
  it.each([
    ['a DNS name', HOST],
    ['a fully qualified name with its trailing dot', `${HOST}.`],
    ['a name with an underscore (container names)', 'my_db'],
    ['an internationalised name', 'bücher.example'],
    ['an IPv4 address', '10.0.0.12'],
    ['the IPv6 loopback', '::1'],
    ['an IPv6 address', '2001:db8::5'],
    ['an IPv6 address with a zone', 'fe80::1%eth0'],
    ['an IPv4-mapped IPv6 address', '::ffff:10.0.0.12'],
  ])('accepts %s', (_name, host) => {
    expect(parseDatabaseSecret({ ...valid, host }).host).toBe(host);
  });

  it.each([
    [`${HOST}:5432`, /^host must not contain a port \("host:port"\); put the port in "port"$/],
    ['[::1]:5432', /^host must not contain a port \("\[address\]:port"\)/],
    ['[::1]', /^host must be an IPv6 address without the brackets/],
    [`${HOST}?sslmode=require`, /^host must be a host name or an IP address \(it contains "\?"\)$/],
    ['db\u200bx', /^host must be a host name or an IP address \(it contains a control or symbol character\)$/],
    [`postgres://${HOST}:5432/db`, /^host must be a host name, not a URL/],
  ])('says what is wrong with %j', (host, problem) => {
    const err = thrown(() => parseDatabaseSecret({ ...valid, host }));
    expect(err.issues).toHaveLength(1);
    expect(`${err.issues[0]!.path} ${err.issues[0]!.problem}`).toMatch(problem);
  });

  it('reads ::1:5432 as the IPv6 address it is, not as ::1 with a port', () => {
    expect(parseDatabaseSecret({ ...valid, host: '::1:5432' }).host).toBe('::1:5432');
  });
});
