import { withManagedBlock } from '../../local/db-setup';
import { fixtureCreatedAt, fixtureUsername } from '../../local/fixtures';

describe('withManagedBlock', () => {
  const stock = 'local all all trust\nhost all all 127.0.0.1/32 trust\n';

  it('puts trust for the admin only, then scram-sha-256 for everyone on both loopbacks, before the stock rules', () => {
    const out = withManagedBlock(stock, 'postgres');
    const lines = out.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(lines.slice(0, 4)).toEqual([
      'host all postgres 127.0.0.1/32 trust',
      'host all postgres ::1/128 trust',
      'host all all 127.0.0.1/32 scram-sha-256',
      'host all all ::1/128 scram-sha-256',
    ]);
    expect(out.endsWith(stock)).toBe(true);
  });

  it('is idempotent: a second run replaces its block instead of adding one', () => {
    const once = withManagedBlock(stock, 'postgres');
    expect(withManagedBlock(once, 'postgres')).toBe(once);
    expect(withManagedBlock(once, 'admin').match(/BEGIN db-secret-rotation-toolkit/g)).toHaveLength(1);
  });
});

describe('fixture names', () => {
  it('carry their creation time so a sweep spares users of concurrent runs', () => {
    const name = fixtureUsername();
    const at = fixtureCreatedAt(name)!.getTime();
    expect(Math.abs(at - Date.now())).toBeLessThan(5_000);
    expect(fixtureCreatedAt(`${name}_clone`)!.getTime()).toBe(at);
    expect(fixtureCreatedAt('app_user')).toBeUndefined();
  });

  it('leave room for the _clone suffix within MySQL 5.7+ 32 characters', () => {
    expect(`${fixtureUsername()}_clone`.length).toBeLessThanOrEqual(32);
  });
});
