/** The next version's value: a copy of the current secret with the new username and password. */
import { parseDatabaseSecret } from '../../shared/database-secret';
import { nextVersionString } from '../../shared/rotation/create-secret';

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
