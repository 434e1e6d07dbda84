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
});
