/** The next version's value: a copy of the current secret with the new username and password. */
import { parseDatabaseSecret } from '../../shared/database-secret';
import fc from 'fast-check';
import { nextVersionString } from '../../shared/rotation/create-secret';
import { withTopLevelValues } from '../../shared/rotation/json-top-level';

describe('nextVersionString', () => {
  it('keeps every extra key, a literal "__proto__" key included, and sets the new credentials', () => {
    const current = parseDatabaseSecret(
      '{"engine":"postgres","host":"db.example","username":"app","password":"old-pw-1","__proto__":{"note":1},"extra":2}',
    );
    const next = JSON.parse(nextVersionString(current, 'app_clone', 'new-pw-2')) as Record<string, unknown>;
    expect(Object.getOwnPropertyNames(next)).toEqual(['engine', 'host', 'username', 'password', '__proto__', 'extra']);
    expect(Object.getOwnPropertyDescriptor(next, '__proto__')?.value).toEqual({ note: 1 });
    expect(next.username).toBe('app_clone');
    expect(next.password).toBe('new-pw-2');
    expect(next.extra).toBe(2);
  });

  it('keeps unicode, nested, null, boolean and string-typed values exactly as they were, in their order', () => {
    const extras = {
      port: '5432',
      dbname: null,
      ssl: 'TRUE',
      note: 'Zürich – 東京 😀 e\u0301',
      lone: '\ud800',
      nested: { list: [1, 'two', null, { deep: true }], empty: {} },
      flag: false,
      ratio: 0.1,
      '': 'empty key',
    };
    const current = parseDatabaseSecret(
      JSON.stringify({ engine: 'aurora-postgresql', host: 'db.example', username: 'app', password: 'old-pw-1', ...extras }),
    );
    const text = nextVersionString(current, 'app', 'new-pw-2');
    const next = JSON.parse(text) as Record<string, unknown>;
    expect(next).toEqual({ engine: 'aurora-postgresql', host: 'db.example', username: 'app', password: 'new-pw-2', ...extras });
    expect(Object.keys(next)).toEqual(['engine', 'host', 'username', 'password', ...Object.keys(extras)]);
    // Valid UTF-8 all the way: the lone surrogate is escaped, not written as a broken character.
    expect(Buffer.from(text, 'utf8').toString('utf8')).toBe(text);
    expect(text).toContain('\\ud800');
  });
});

describe('nextVersionString from the current text', () => {
  const text =
    '{ "engine" : "postgres",\n  "host":"db.example", "username":"app","password":"old-pw-1",\n' +
    '  "accountNumber": 12345678901234567890, "huge": 1e400, "ratio": 1.10, "2": "int-like key",\n' +
    '  "note": "caf\\u00e9 \\/ {\\"x\\": [1]}", "nested": {"username": "inner", "list": [ "]", {"a": "}"} ]},\n' +
    '  "password": "old-pw-dup", "t\\u0065am": "escaped key" }';
  const current = parseDatabaseSecret(text);

  it('replaces only the credentials, every other byte as written (numbers JavaScript would round, escapes, spacing, order)', () => {
    const next = nextVersionString(current, 'app_clone', 'new-"pw"-2', {}, text);
    const expected = text
      .replace('"username":"app"', '"username":"app_clone"')
      .replace('"password":"old-pw-1"', '"password":"new-\\"pw\\"-2"')
      .replace('"password": "old-pw-dup"', '"password": "new-\\"pw\\"-2"');
    expect(next).toBe(expected);
    // A duplicate key takes its last value in JSON.parse: both hold the new password.
    expect((JSON.parse(next) as { password: string }).password).toBe('new-"pw"-2');
    expect((JSON.parse(next) as { nested: { username: string } }).nested.username).toBe('inner');
  });

  it('adds a key the text lacks at the end, and sets a key written with escapes', () => {
    const next = nextVersionString(current, 'app', 'new-pw-2', { alternateusername: 'app_blue', team: 'ops' }, text);
    const parsed = JSON.parse(next) as Record<string, unknown>;
    expect(parsed.alternateusername).toBe('app_blue');
    expect(parsed.team).toBe('ops');
    expect(next).toContain('"t\\u0065am": "ops"');
    expect(next.endsWith('"t\\u0065am": "ops","alternateusername":"app_blue" }')).toBe(true);
  });
});

describe('withTopLevelValues, against JSON.parse', () => {
  it('sets exactly the given keys and leaves every other value as JSON.parse reads it, for any object and spacing', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), fc.jsonValue()),
        fc.dictionary(fc.constantFrom('username', 'password', 'alternateusername', 'note'), fc.string()),
        fc.constantFrom(undefined, 0, 1, 2, '\t', ' \r\n'),
        (object, values, space) => {
          const text = JSON.stringify(object, null, space as string | number | undefined);
          const expected = JSON.parse(text) as Record<string, unknown>;
          for (const key of Object.keys(values))
            Object.defineProperty(expected, key, { value: values[key], enumerable: true, writable: true, configurable: true });
          expect(JSON.parse(withTopLevelValues(text, values))).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});
