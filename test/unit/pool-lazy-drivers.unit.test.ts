/**
 * The reader entry point loads no database driver, and each pool loads only its own: an application
 * on PostgreSQL never pays for (or needs to install) mysql2, and the other way round.
 */
import { SecretCache } from '../../shared/secret-cache';

/** Runs `use` on `module` loaded in a fresh registry and reports which drivers were required meanwhile. */
function driversLoadedBy(module: string, use: (exports: Record<string, unknown>) => void = () => undefined): string[] {
  const loaded: string[] = [];
  jest.isolateModules(() => {
    for (const driver of ['pg', 'mysql2', 'mysql2/promise']) {
      jest.doMock(driver, () => {
        loaded.push(driver);
        return jest.requireActual(driver);
      });
    }
    use(jest.requireActual<Record<string, unknown>>(module));
  });
  return loaded;
}

describe('drivers load only for the pool that uses them', () => {
  afterEach(() => jest.resetModules());

  it('importing the reader entry point loads neither pg nor mysql2', () => {
    expect(driversLoadedBy('../../shared/index')).toEqual([]);
  });

  it('createPgPool loads pg and not mysql2, and reads nothing before the first query', async () => {
    const cache = new SecretCache({ client: { send: () => Promise.reject(new Error('no read expected')) } });
    let pool: { end(): Promise<void> } | undefined;
    const loaded = driversLoadedBy('../../shared/index', (exports) => {
      const create = exports.createPgPool as (options: object) => { end(): Promise<void> };
      pool = create({ secretId: 'appside-lazy', cache, pool: { max: 2 } });
    });
    expect(loaded).toEqual(['pg']);
    expect(cache.stats().fetches).toBe(0);
    await pool!.end();
  });

  it('createMysqlPool loads mysql2 and not pg, and reads nothing before the first query', async () => {
    const cache = new SecretCache({ client: { send: () => Promise.reject(new Error('no read expected')) } });
    let pool: { end(): Promise<void> } | undefined;
    const loaded = driversLoadedBy('../../shared/index', (exports) => {
      const create = exports.createMysqlPool as (options: object) => { end(): Promise<void> };
      pool = create({ secretId: 'appside-lazy', cache, pool: { connectionLimit: 2 } });
    });
    expect(loaded).toEqual(['mysql2']);
    expect(cache.stats().fetches).toBe(0);
    await pool!.end();
  });
});
