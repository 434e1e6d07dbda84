/**
 * `AwsSecretManager`: JDBC connection options (`url`, `user`, `password`, `driver`, `jars`) for a
 * database secret, the contract of the Python module it replaces, built on `SecretCache`.
 *
 * Unlike the original, which kept the mapped options in a dict forever (so a rotated password was
 * never seen again), the key `${DBTYPE}_${secretName}` only remembers WHERE a secret lives (region,
 * name, type); every read goes through the region's `SecretCache`, so values follow its TTL,
 * stale-while-revalidate and single flight, and rotations are picked up. Mapping is memoised per
 * cached value, so steady-state reads cost neither an API call nor a re-parse.
 */
import { parseJdbcDbType, toJdbcOptions, type JdbcOptions } from './connection-options';
import { ConfigError } from './errors';
import { SecretCache, type SecretCacheOptions, type SecretsReadClient } from './secret-cache';
import { getSecretsClient, type Env } from './secrets-client';
import type { SecretValue } from './secret-value';

export type { JdbcOptions } from './connection-options';

/** One secret to read: its name (or ARN) and database type (POSTGRES, MYSQL, MARIADB, REDSHIFT…). */
export interface SecretConnectionInfo {
  readonly dbType: string;
  readonly Secret: string;
}

/** Where an `AwsSecretManager` reads its region and clients, and how its caches behave. */
export interface AwsSecretManagerOptions {
  /**
   * Where AWS_DEFAULT_REGION (then AWS_REGION: the module's own order, not the SDK's) and the client settings are read.
   * @default process.env
   */
  readonly env?: Env;
  /** The client for a region. Default: `getSecretsClient` with that region (endpoint overrides still apply). */
  readonly clientForRegion?: (region: string) => SecretsReadClient;
  /** Options of each region's cache. */
  readonly cache?: Omit<SecretCacheOptions, 'client'>;
}

interface Location {
  readonly region: string;
  readonly secretName: string;
  readonly dbType: string;
}

/**
 * JDBC connection options for database secrets, one `SecretCache` per region, so values follow the
 * cache's TTL and rotations are picked up.
 *
 * @throws ConfigError from `getValueForSecret` when neither AWS_DEFAULT_REGION nor AWS_REGION is set
 *   and the secret was not registered with a region; the cache's typed errors when it cannot be read.
 * @example
 * const manager = new AwsSecretManager();
 * const { url, user, password, driver } = await manager.getValueForSecret({
 *   dbType: 'POSTGRES',
 *   Secret: 'prod/app/db',
 * });
 */
export class AwsSecretManager {
  readonly #env: Env;
  readonly #clientForRegion: (region: string) => SecretsReadClient;
  readonly #cacheOptions: Omit<SecretCacheOptions, 'client'>;
  readonly #caches = new Map<string, SecretCache>();
  readonly #locations = new Map<string, Location>();
  readonly #mapped = new WeakMap<object, Map<string, JdbcOptions>>();

  constructor(options: AwsSecretManagerOptions = {}) {
    this.#env = options.env ?? process.env;
    this.#clientForRegion = options.clientForRegion ?? ((region) => getSecretsClient({ ...this.#env, AWS_REGION: region }));
    this.#cacheOptions = options.cache ?? {};
  }

  /**
   * Connection options for `{ dbType, Secret }`: from a secret registered by `initializeSecretConnections`
   * or `extractValueForSecret`, else fetched in the region of AWS_DEFAULT_REGION (or AWS_REGION).
   */
  async getValueForSecret(secretInfo: SecretConnectionInfo): Promise<JdbcOptions> {
    const { dbType, secretName } = requireEntry(secretInfo, 'secretInfo');
    const location = this.#locations.get(locationKey(dbType, secretName));
    if (location !== undefined) return this.#read(location);
    await this.extractValueForSecret(dbType, this.#defaultRegion(), secretName);
    return this.#read(this.#locations.get(locationKey(dbType, secretName)) as Location);
  }

  /**
   * Loads every listed secret of `region` with BatchGetSecretValue and checks that each maps to
   * connection options. Every entry is checked before any call: a missing `Secret` or `dbType` is a
   * ConfigError naming the entry's index. The first failing secret's typed error is thrown.
   */
  async initializeSecretConnections(secrets: readonly SecretConnectionInfo[], region: string): Promise<void> {
    if (!Array.isArray(secrets)) throw new ConfigError('secrets must be an array of { dbType, Secret }');
    const entries = secrets.map((entry: unknown, index) => requireEntry(entry, `secrets[${index}]`));
    const cache = this.#cache(requireRegion(region));
    const report = await cache.prefetch(entries.map((e) => e.secretName));
    const failure = report.failed[0];
    if (failure !== undefined) throw failure.error;
    for (const { dbType, secretName } of entries) await this.extractValueForSecret(dbType, region, secretName);
  }

  /**
   * Fetches (or reads from the cache) `secretName` in `region`, maps it for `dbType` and registers it
   * under `${DBTYPE}_${secretName}`. Invalid JSON or missing fields throw SecretValidationError naming
   * the secret and the fields, never their values.
   */
  async extractValueForSecret(dbType: string, region: string, secretName: string): Promise<void> {
    const entry = requireEntry({ dbType, Secret: secretName }, 'extractValueForSecret');
    const location: Location = { region: requireRegion(region), secretName: entry.secretName, dbType: entry.dbType };
    await this.#read(location);
    this.#locations.set(locationKey(location.dbType, location.secretName), location);
  }

  toString(): string {
    return `AwsSecretManager(secrets=${this.#locations.size}, regions=${this.#caches.size})`;
  }

  toJSON(): { secrets: number; regions: number } {
    return { secrets: this.#locations.size, regions: this.#caches.size };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  async #read(location: Location): Promise<JdbcOptions> {
    const value = await this.#cache(location.region).getSecret(location.secretName);
    return this.#map(value, location);
  }

  #map(value: SecretValue, location: Location): JdbcOptions {
    const context = { secretId: location.secretName };
    if (typeof value !== 'object' || value instanceof Uint8Array) return toJdbcOptions(value, location.dbType, context);
    let byType = this.#mapped.get(value);
    if (byType === undefined) {
      byType = new Map();
      this.#mapped.set(value, byType);
    }
    let options = byType.get(location.dbType);
    if (options === undefined) {
      options = toJdbcOptions(value, location.dbType, context);
      byType.set(location.dbType, options);
    }
    return options;
  }

  #cache(region: string): SecretCache {
    let cache = this.#caches.get(region);
    if (cache === undefined) {
      cache = new SecretCache({ ...this.#cacheOptions, client: this.#clientForRegion(region) });
      this.#caches.set(region, cache);
    }
    return cache;
  }

  /**
   * AWS_DEFAULT_REGION first, the reverse of the SDK (and of `getSecretsClient`): this class keeps the
   * contract of the AwsSecretManager module it stands in for, which documents AWS_DEFAULT_REGION as the
   * variable it reads (and fails without). Callers ported from it set that one; reading AWS_REGION first
   * would, where both are set and differ, read the secret from a region the caller did not choose.
   */
  #defaultRegion(): string {
    const region = this.#env.AWS_DEFAULT_REGION?.trim() || this.#env.AWS_REGION?.trim();
    if (!region) {
      throw new ConfigError('AWS_DEFAULT_REGION is not set (nor AWS_REGION): cannot tell which region to read the secret from');
    }
    return region;
  }
}

function locationKey(dbType: string, secretName: string): string {
  return `${dbType}_${secretName}`;
}

function requireEntry(entry: unknown, where: string): { dbType: string; secretName: string } {
  if (entry === null || typeof entry !== 'object') throw new ConfigError(`${where} must be an object { dbType, Secret }`);
  const { dbType, Secret } = entry as { dbType?: unknown; Secret?: unknown };
  if (typeof Secret !== 'string' || Secret.trim() === '') throw new ConfigError(`${where} is missing "Secret"`);
  if (typeof dbType !== 'string' || dbType.trim() === '') {
    throw new ConfigError(`${where} is missing "dbType"`, { secretId: Secret });
  }
  try {
    return { dbType: parseJdbcDbType(dbType), secretName: Secret };
  } catch (err) {
    throw new ConfigError(`${where}: ${err instanceof Error ? err.message : 'invalid dbType'}`, { secretId: Secret });
  }
}

function requireRegion(region: string): string {
  if (typeof region !== 'string' || region.trim() === '') throw new ConfigError('region must be a non-empty string');
  return region.trim();
}
