/**
 * The cached secret reader applications use to read the credentials this toolkit rotates.
 *
 * Timeline of one cached value (all on a monotonic clock), fetched at t0:
 *   [t0, t0 + ttl - refreshBefore)   fresh: served from memory.
 *   [.., t0 + ttl)                   refresh window: served from memory, ONE background refresh starts.
 *   [t0 + ttl, ..)                   expired: callers wait for ONE shared fetch.
 *   If that fetch (or a background one) fails with a retryable error (throttling, 5xx, network,
 *   timeout), the old value keeps being served until t0 + ttl + maxStaleSeconds, with background
 *   retries spaced by capped exponential back-off with full jitter. Callers are never slept.
 *   AccessDenied, NotFound, DecryptionFailure and a malformed response drop the value at once, so a
 *   revocation takes effect; the error is then remembered for the back-off delay (negative caching)
 *   so a denied application does not hammer the API. `forceRefresh` ignores the back-off.
 *
 * Single flight: every miss, refresh and force-refresh of one key joins the fetch already in flight
 * for that key; other keys are never blocked. No lock is held across I/O.
 *
 * Rotation-aware expiry (`expireAtNextRotation`): each fetch of AWSCURRENT also calls DescribeSecret,
 * in parallel, and a `NextRotationDate` before t0 + ttl becomes that value's expiry instead, so a
 * scheduled rotation is picked up without waiting for the TTL or a refused login. That costs one
 * DescribeSecret per AWSCURRENT fetch (twice the requests; needs secretsmanager:DescribeSecret). A date
 * in the past (a late or failed rotation) or none (rotation off) leaves the TTL alone, and so does a
 * failed DescribeSecret: after AccessDenied it is not asked again for that entry.
 *
 * The cache sets no timers of its own except each fetch's timeout, which is `unref`'d, so it never
 * keeps a process alive. Neither `util.inspect`, `JSON.stringify` nor any error of the cache shows a
 * value: values live in private fields and errors carry the secret id and the failing call only.
 */
import {
  BatchGetSecretValueCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  type BatchGetSecretValueCommandOutput,
  type DescribeSecretCommandOutput,
  type GetSecretValueCommandOutput,
} from '@aws-sdk/client-secrets-manager';
import { isAuthenticationFailure, type AuthErrorClassifier } from './auth-errors';
import { fullJitterDelayMs, type BackoffPolicy } from './backoff';
import { fetchTimeoutOption, withinFetchTimeout, type SendOptions } from './fetch-timeout';
import {
  AccessDeniedError,
  AuthenticationError,
  ConfigError,
  SecretNotFoundError,
  fromSecretsManagerError,
  isRetryable,
  type ToolkitError,
} from './errors';
import { systemMonotonicClock, type MonotonicClock } from './monotonic-clock';
import { getSecretsClient } from './secrets-client';
import { payloadByteSize, payloadToSecretValue, sameSecretValue, type RawSecretPayload, type SecretValue } from './secret-value';

export type { SecretValue } from './secret-value';

/** What the cache needs of a Secrets Manager client; a `SecretsManagerClient` or a test fake. */
export interface SecretsReadClient {
  send(command: GetSecretValueCommand, options?: SendOptions): Promise<GetSecretValueCommandOutput>;
  send(command: BatchGetSecretValueCommand, options?: SendOptions): Promise<BatchGetSecretValueCommandOutput>;
  /** Used only with `expireAtNextRotation`. */
  send(command: DescribeSecretCommand, options?: SendOptions): Promise<DescribeSecretCommandOutput>;
}

/** How a `SecretCache` reads, keeps and refreshes values. Every field optional. */
export interface SecretCacheOptions {
  /** @default `getSecretsClient()`, resolved at the first fetch (construction never throws) */
  readonly client?: SecretsReadClient;
  /** Seconds a fetched value lives before callers must wait for a new one. @default 300 */
  readonly ttlSeconds?: number;
  /** Seconds of the refresh window before expiry. @default min(60, ttlSeconds / 5): 60 at the default TTL */
  readonly refreshBeforeExpirySeconds?: number;
  /**
   * Stale-if-error bound, in seconds: how long past its expiry a value may still be served while Secrets
   * Manager fails with retryable errors. 0 disables stale-if-error.
   * @default 900 (15 min)
   */
  readonly maxStaleSeconds?: number;
  /** Most entries kept (least recently read evicted first). @default 1000 */
  readonly maxEntries?: number;
  /**
   * Most bytes of secret values kept (UTF-8 bytes of SecretString, or SecretBinary length).
   * @default unbounded
   */
  readonly maxBytes?: number;
  /** Milliseconds after which an unanswered fetch fails with TimeoutError (retryable). 0 disables. @default 10000 */
  readonly fetchTimeoutMs?: number;
  /** Back-off after failures, per key. @default base 1000 ms, max 60000 ms */
  readonly backoff?: BackoffPolicy;
  /** Monotonic milliseconds. @default performance.now() */
  readonly clock?: MonotonicClock;
  /** Uniform in [0, 1), for back-off jitter. @default Math.random */
  readonly random?: () => number;
  /**
   * Expire an AWSCURRENT value at the secret's `NextRotationDate` when that comes before its TTL, as
   * read by one DescribeSecret call beside every AWSCURRENT fetch (GetSecretValue or a prefetch batch),
   * made in parallel so it adds no latency. Costs that extra request and the
   * secretsmanager:DescribeSecret permission; without it (or on any DescribeSecret failure) the TTL
   * applies. Lets a long `ttlSeconds` coexist with scheduled rotations.
   * @default false
   */
  readonly expireAtNextRotation?: boolean;
  /** Wall-clock epoch milliseconds, to place `NextRotationDate` on the monotonic clock. @default Date.now */
  readonly wallClock?: () => number;
}

/** Which version `getSecret` reads. @default AWSCURRENT, served from the cache when fresh */
export interface GetSecretOptions {
  /** Fetch now even if a fresh value is cached (joins a fetch already in flight). */
  readonly forceRefresh?: boolean;
  /** A staging label (`AWSPENDING`, `AWSPREVIOUS`, or your own). @default AWSCURRENT */
  readonly versionStage?: string;
  /** One version by its id, instead of a label. */
  readonly versionId?: string;
}

/** How `withSecret` recognises a refused login and which values it must not retry. */
export interface WithSecretOptions {
  /** Decides whether `fn` failed because the credentials were refused. @default isAuthenticationFailure */
  readonly isAuthError?: AuthErrorClassifier;
  /**
   * Values the caller already saw refused (compared by content): `fn` is never called with them, so a
   * caller that failed with the cached value goes straight to the refresh. Default none.
   */
  readonly refused?: readonly SecretValue[];
}

/** Counters since the cache was made (`stats()`, also its `toJSON`): safe to log, no ids or values. */
export interface SecretCacheStats {
  /** Reads answered from memory without waiting (fresh or stale). */
  readonly hits: number;
  /** Reads that had to wait for a fetch (nothing cached, expired, forced) or got a remembered error. */
  readonly misses: number;
  /** Hits and failed waits answered with a value past its refresh point (refresh window or stale-if-error). */
  readonly staleServed: number;
  /** Calls made to Secrets Manager (GetSecretValue and BatchGetSecretValue pages). */
  readonly fetches: number;
  /** DescribeSecret calls made for `expireAtNextRotation` (0 without it). */
  readonly describes: number;
  /** Failed fetches, counted per secret. */
  readonly errors: number;
  /** Entries removed to respect maxEntries / maxBytes. */
  readonly evictions: number;
  /** Entries held now. */
  readonly entries: number;
  /** Bytes of values held now. */
  readonly bytes: number;
}

/** One secret `prefetch` could not load, and why. */
export interface PrefetchFailure {
  readonly secretId: string;
  readonly error: ToolkitError;
}

/** What `prefetch` loaded and what failed; it never throws for a single secret. */
export interface PrefetchReport {
  /** Ids now cached (fetched, joined or already fresh). */
  readonly loaded: readonly string[];
  readonly failed: readonly PrefetchFailure[];
}

const DEFAULT_TTL_SECONDS = 300;
const DEFAULT_REFRESH_BEFORE_SECONDS = 60;
const DEFAULT_MAX_STALE_SECONDS = 900;
const DEFAULT_MAX_ENTRIES = 1000;
const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1_000, maxMs: 60_000 };
/** BatchGetSecretValue accepts at most 20 ids in SecretIdList. */
const BATCH_SIZE = 20;
const MAX_BATCH_PAGES = 10;
const CURRENT = 'AWSCURRENT';
const PENDING = 'AWSPENDING';
const NO_OPTIONS: GetSecretOptions = Object.freeze({});

interface Fetched {
  readonly payload: RawSecretPayload;
  /** `NextRotationDate` as wall-clock epoch ms, when asked for and known. */
  readonly rotationAt?: number;
}

interface Entry {
  readonly key: string;
  readonly secretId: string;
  readonly versionStage?: string;
  readonly versionId?: string;
  value?: SecretValue;
  /** `value` already resolved, handed to every hit of a non-binary value (a hit then allocates nothing). */
  settled?: Promise<SecretValue>;
  bytes: number;
  /** Monotonic ms: served without a refresh until then. */
  softAt: number;
  /** Monotonic ms: expired from then on (stale-if-error counts from here). */
  hardAt: number;
  /** DescribeSecret was denied: not asked again for this entry. */
  describeDenied?: boolean;
  inflight?: Promise<SecretValue>;
  failures: number;
  retryAt: number;
  lastError?: ToolkitError;
}

type BatchResult = ReadonlyMap<string, Fetched | ToolkitError>;

/**
 * An in-memory cache of Secrets Manager values for applications: refreshes ahead of expiry in the
 * background, serves the last value through Secrets Manager outages (stale-if-error), shares one fetch
 * per secret, and bridges a rotation in `withSecret`. See the module comment for the value's timeline.
 *
 * @throws from its methods, typed errors only: `SecretNotFoundError`, `AccessDeniedError`,
 *   `ThrottledError`, `TransientError`, `NetworkError`, `TimeoutError`, and from `withSecret` an
 *   `AuthenticationError` when neither AWSCURRENT nor AWSPENDING logs in.
 * @example
 * import { SecretCache, toPgClientConfig } from 'db-secret-rotation-toolkit/shared';
 * import { Client } from 'pg';
 *
 * const cache = new SecretCache({ ttlSeconds: 300 });
 * const rows = await cache.withSecret('prod/app/db', async (secret) => {
 *   const client = new Client(toPgClientConfig(secret));
 *   await client.connect();
 *   try {
 *     return (await client.query('SELECT 1')).rows;
 *   } finally {
 *     await client.end();
 *   }
 * });
 */
export class SecretCache {
  readonly #explicitClient: SecretsReadClient | undefined;
  #defaultClient: SecretsReadClient | undefined;
  readonly #softMs: number;
  readonly #hardMs: number;
  readonly #maxStaleMs: number;
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  readonly #fetchTimeoutMs: number;
  readonly #backoff: BackoffPolicy;
  readonly #clock: MonotonicClock;
  readonly #random: () => number;
  readonly #expireAtNextRotation: boolean;
  readonly #wallClock: () => number;
  /** Every entry in least- to most-recently-read order (Map keeps insertion order). */
  readonly #entries = new Map<string, Entry>();
  /** The last entry of `#entries`, so a repeated read of it skips the reorder. */
  #mostRecent: Entry | undefined;
  #bytes = 0;
  readonly #stats = { hits: 0, misses: 0, staleServed: 0, fetches: 0, describes: 0, errors: 0, evictions: 0 };

  constructor(options: SecretCacheOptions = {}) {
    const ttl = options.ttlSeconds ?? DEFAULT_TTL_SECONDS;
    requireNumber('ttlSeconds', ttl, 0);
    const refreshBefore = options.refreshBeforeExpirySeconds ?? Math.min(DEFAULT_REFRESH_BEFORE_SECONDS, ttl / 5);
    requireNumber('refreshBeforeExpirySeconds', refreshBefore, 0);
    if (refreshBefore > ttl) throw new ConfigError('refreshBeforeExpirySeconds must not exceed ttlSeconds');
    const maxStale = options.maxStaleSeconds ?? DEFAULT_MAX_STALE_SECONDS;
    requireNumber('maxStaleSeconds', maxStale, 0);
    const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new ConfigError('maxEntries must be an integer >= 1');
    const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    if (!(maxBytes > 0)) throw new ConfigError('maxBytes must be > 0');
    const fetchTimeoutMs = fetchTimeoutOption(options.fetchTimeoutMs);
    const backoff = options.backoff ?? DEFAULT_BACKOFF;
    requireNumber('backoff.baseMs', backoff.baseMs, 0);
    requireNumber('backoff.maxMs', backoff.maxMs, 0);

    this.#explicitClient = options.client;
    this.#hardMs = ttl * 1000;
    this.#softMs = (ttl - refreshBefore) * 1000;
    this.#maxStaleMs = maxStale * 1000;
    this.#maxEntries = maxEntries;
    this.#maxBytes = maxBytes;
    this.#fetchTimeoutMs = fetchTimeoutMs;
    this.#backoff = backoff;
    this.#clock = options.clock ?? systemMonotonicClock;
    this.#random = options.random ?? Math.random;
    this.#expireAtNextRotation = options.expireAtNextRotation === true;
    this.#wallClock = options.wallClock ?? Date.now;
  }

  /**
   * The secret's value: a deep-frozen object/array for a JSON SecretString, the string itself
   * otherwise, or a fresh copy of the SecretBinary bytes (callers may mutate their copy freely).
   */
  getSecret(secretId: string, options?: GetSecretOptions): Promise<SecretValue> {
    // The hot path: the default AWSCURRENT read of a fresh value, keyed by the id itself, so no key is
    // built and nothing allocated. An entry whose own id is this key exists only for a valid id (an
    // invalid "id" shaped like another read's key must not reach that entry: it falls through and is
    // rejected).
    if (options === undefined) {
      const entry = this.#entries.get(secretId);
      if (entry?.settled !== undefined && entry.secretId === secretId && this.#clock() < entry.softAt) {
        if (entry !== this.#mostRecent) this.#promote(entry);
        this.#stats.hits++;
        return entry.settled;
      }
    }
    return this.#getSecret(secretId, options ?? NO_OPTIONS);
  }

  async #getSecret(secretId: string, options: GetSecretOptions): Promise<SecretValue> {
    requireSecretId(secretId);
    const key = cacheKey(secretId, options);
    const now = this.#clock();
    let entry = this.#touch(key);

    if (options.forceRefresh !== true && entry?.value !== undefined) {
      if (now < entry.softAt) {
        this.#stats.hits++;
        return readView(entry.value);
      }
      if (now < entry.hardAt || this.#servingThroughErrors(entry, now)) {
        this.#stats.hits++;
        this.#stats.staleServed++;
        this.#refreshInBackground(entry, now);
        return readView(entry.value);
      }
    }
    this.#stats.misses++;
    if (options.forceRefresh !== true && entry?.lastError !== undefined && entry.inflight === undefined && now < entry.retryAt) {
      throw entry.lastError;
    }

    entry ??= this.#create(key, secretId, options);
    try {
      return readView(await (entry.inflight ?? this.#startGet(entry)));
    } catch (err) {
      if (isRetryable(err) && entry.value !== undefined && this.#withinStaleBound(entry, this.#clock())) {
        this.#stats.staleServed++;
        return readView(entry.value);
      }
      throw err;
    }
  }

  /**
   * Runs `fn` with the secret and bridges a rotation: when `fn` fails with an authentication error,
   * AWSCURRENT is force-refreshed and `fn` retried with the new value; if that value did not change
   * (or is refused too), AWSPENDING is tried, since between setSecret and finishSecret the new
   * password exists only there. When nothing works, an `AuthenticationError` naming the secret is
   * thrown. Errors that are not authentication failures propagate untouched.
   */
  async withSecret<R>(secretId: string, fn: (value: SecretValue) => Promise<R> | R, options: WithSecretOptions = {}): Promise<R> {
    const isAuthError = options.isAuthError ?? isAuthenticationFailure;
    const tried: SecretValue[] = [...(options.refused ?? [])];
    let lastAuthError: unknown;

    const attempt = async (value: SecretValue): Promise<{ ok: true; result: R } | { ok: false }> => {
      tried.push(value);
      try {
        return { ok: true, result: await fn(value) };
      } catch (err) {
        if (!isAuthError(err)) throw err;
        lastAuthError = err;
        return { ok: false };
      }
    };
    const untried = (value: SecretValue): boolean => !tried.some((t) => sameSecretValue(t, value));

    const cached = await this.getSecret(secretId);
    if (untried(cached)) {
      const first = await attempt(cached);
      if (first.ok) return first.result;
    }

    const current = await this.getSecret(secretId, { forceRefresh: true });
    if (untried(current)) {
      const second = await attempt(current);
      if (second.ok) return second.result;
    }

    const pending = await this.#readPending(secretId);
    if (pending !== undefined && untried(pending)) {
      const third = await attempt(pending);
      if (third.ok) return third.result;
    }

    throw new AuthenticationError(
      `credentials refused by the database after refreshing AWSCURRENT${pending === undefined ? ' (no readable AWSPENDING)' : ' and trying AWSPENDING'}`,
      { secretId, cause: lastAuthError },
    );
  }

  /**
   * Loads AWSCURRENT of many secrets with BatchGetSecretValue (20 ids per call). Ids already fresh
   * are skipped, ids in flight are joined, and concurrent `getSecret` calls join the batch. Never
   * rejects for one secret's failure: failures are listed in the report (with their typed error).
   * If the caller may not call BatchGetSecretValue, each secret falls back to GetSecretValue.
   */
  async prefetch(secretIds: Iterable<string>): Promise<PrefetchReport> {
    const ids = [...new Set(secretIds)];
    ids.forEach(requireSecretId);
    const now = this.#clock();
    const outcomes: Promise<PrefetchFailure | string>[] = [];
    const toFetch: Entry[] = [];

    for (const secretId of ids) {
      const key = cacheKey(secretId, {});
      const entry = this.#touch(key);
      if (entry?.inflight !== undefined) {
        outcomes.push(outcomeOf(secretId, entry.inflight));
      } else if (entry?.value !== undefined && now < entry.softAt) {
        outcomes.push(Promise.resolve(secretId));
      } else {
        toFetch.push(entry ?? this.#create(key, secretId, {}));
      }
    }

    for (let i = 0; i < toFetch.length; i += BATCH_SIZE) {
      const chunk = toFetch.slice(i, i + BATCH_SIZE);
      const batch = this.#batchGet(chunk.map((e) => e.secretId));
      // The batch's own rejection is delivered through each entry's flight below.
      batch.catch(() => undefined);
      for (const entry of chunk) {
        const flight = this.#start(entry, async () => {
          const got = (await batch).get(entry.secretId);
          if (got === undefined) {
            this.#stats.fetches++;
            return this.#getOne(entry);
          }
          if (got instanceof Error) throw got;
          return got;
        });
        outcomes.push(outcomeOf(entry.secretId, flight));
      }
    }

    const settled = await Promise.all(outcomes);
    return {
      loaded: settled.filter((o): o is string => typeof o === 'string'),
      failed: settled.filter((o): o is PrefetchFailure => typeof o !== 'string'),
    };
  }

  /** Forgets one secret (every stage and version of it) or, without an id, everything. */
  invalidate(secretId?: string): void {
    for (const entry of [...this.#entries.values()]) {
      if (secretId === undefined || entry.secretId === secretId) this.#remove(entry);
    }
  }

  stats(): SecretCacheStats {
    return { ...this.#stats, entries: this.#entries.size, bytes: this.#bytes };
  }

  toString(): string {
    return `SecretCache(entries=${this.#entries.size}, bytes=${this.#bytes})`;
  }

  toJSON(): SecretCacheStats {
    return this.stats();
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  #servingThroughErrors(entry: Entry, now: number): boolean {
    return entry.failures > 0 && isRetryable(entry.lastError) && this.#withinStaleBound(entry, now);
  }

  #withinStaleBound(entry: Entry, now: number): boolean {
    return now < entry.hardAt + this.#maxStaleMs;
  }

  #refreshInBackground(entry: Entry, now: number): void {
    if (entry.inflight === undefined && now >= entry.retryAt) void this.#startGet(entry);
  }

  async #readPending(secretId: string): Promise<SecretValue | undefined> {
    try {
      return await this.getSecret(secretId, { versionStage: PENDING, forceRefresh: true });
    } catch (err) {
      // No rotation in progress (NotFound), or a policy limited to AWSCURRENT: nothing to try.
      if (err instanceof SecretNotFoundError || err instanceof AccessDeniedError) return undefined;
      throw err;
    }
  }

  #startGet(entry: Entry): Promise<SecretValue> {
    this.#stats.fetches++;
    return this.#start(entry, () => this.#getOne(entry));
  }

  /** Starts the one flight of `entry`; the returned promise is what every joiner awaits. */
  #start(entry: Entry, fetch: () => Promise<Fetched>): Promise<SecretValue> {
    const fetched = this.#asksRotationDate(entry)
      ? Promise.all([fetch(), this.#nextRotationAt(entry)]).then(([f, rotationAt]) => (rotationAt === undefined ? f : { ...f, rotationAt }))
      : fetch();
    const flight = fetched.then(
      (fetched) => this.#settleSuccess(entry, fetched),
      (err: unknown) => {
        throw this.#settleFailure(entry, err);
      },
    );
    entry.inflight = flight;
    // Background flights have no awaiting caller; their failure is recorded on the entry.
    flight.catch(() => undefined);
    return flight;
  }

  #asksRotationDate(entry: Entry): boolean {
    return (
      this.#expireAtNextRotation &&
      entry.describeDenied !== true &&
      entry.versionId === undefined &&
      (entry.versionStage === undefined || entry.versionStage === CURRENT)
    );
  }

  /** `NextRotationDate` in wall-clock ms; undefined when rotation is off or DescribeSecret fails (never throws). */
  async #nextRotationAt(entry: Entry): Promise<number | undefined> {
    this.#stats.describes++;
    const command = new DescribeSecretCommand({ SecretId: entry.secretId });
    try {
      const output = await this.#send(entry.secretId, 'DescribeSecret', (client, options) => client.send(command, options));
      if (output.RotationEnabled === false || !(output.NextRotationDate instanceof Date)) return undefined;
      const at = output.NextRotationDate.getTime();
      return Number.isFinite(at) ? at : undefined;
    } catch (err) {
      if (err instanceof AccessDeniedError) entry.describeDenied = true;
      return undefined;
    }
  }

  async #getOne(entry: Entry): Promise<Fetched> {
    const command = new GetSecretValueCommand({
      SecretId: entry.secretId,
      ...(entry.versionStage !== undefined ? { VersionStage: entry.versionStage } : {}),
      ...(entry.versionId !== undefined ? { VersionId: entry.versionId } : {}),
    });
    const output = await this.#send(entry.secretId, 'GetSecretValue', (client, options) => client.send(command, options));
    return { payload: output };
  }

  async #batchGet(secretIds: readonly string[]): Promise<BatchResult> {
    const result = new Map<string, Fetched | ToolkitError>();
    let nextToken: string | undefined;
    try {
      for (let page = 0; page < MAX_BATCH_PAGES; page++) {
        this.#stats.fetches++;
        const command = new BatchGetSecretValueCommand({
          SecretIdList: [...secretIds],
          ...(nextToken !== undefined ? { NextToken: nextToken } : {}),
        });
        const output = await this.#send(undefined, 'BatchGetSecretValue', (client, options) => client.send(command, options));
        for (const item of output.SecretValues ?? []) {
          const id = secretIds.find((requested) => matchesSecret(requested, item.Name, item.ARN));
          if (id !== undefined) result.set(id, { payload: item });
        }
        for (const failure of output.Errors ?? []) {
          const id = secretIds.find((requested) => requested === failure.SecretId);
          if (id !== undefined) {
            result.set(id, fromSecretsManagerError({ name: failure.ErrorCode }, 'BatchGetSecretValue', { secretId: id }));
          }
        }
        nextToken = output.NextToken;
        if (nextToken === undefined || result.size === secretIds.length) break;
      }
    } catch (err) {
      // Allowed GetSecretValue but not BatchGetSecretValue: an empty result makes each id fall back.
      if (err instanceof AccessDeniedError) return new Map();
      throw err;
    }
    return result;
  }

  async #send<T>(
    secretId: string | undefined,
    action: string,
    call: (client: SecretsReadClient, options: SendOptions) => Promise<T>,
  ): Promise<T> {
    const client = this.#client();
    return withinFetchTimeout(this.#fetchTimeoutMs, action, secretId !== undefined ? { secretId } : {}, (options) => call(client, options));
  }

  #client(): SecretsReadClient {
    if (this.#explicitClient !== undefined) return this.#explicitClient;
    this.#defaultClient ??= getSecretsClient();
    return this.#defaultClient;
  }

  #settleSuccess(entry: Entry, fetched: Fetched): SecretValue {
    entry.inflight = undefined;
    let value: SecretValue;
    try {
      value = payloadToSecretValue(fetched.payload, entry.secretId);
    } catch (err) {
      throw this.#settleFailure(entry, err);
    }
    entry.failures = 0;
    entry.retryAt = 0;
    entry.lastError = undefined;
    if (this.#entries.get(entry.key) !== entry) return value; // invalidated or evicted meanwhile
    const bytes = payloadByteSize(fetched.payload);
    if (bytes > this.#maxBytes) {
      this.#remove(entry);
      this.#stats.evictions++;
      return value;
    }
    this.#bytes += bytes - entry.bytes;
    entry.value = value;
    entry.settled = value instanceof Uint8Array ? undefined : Promise.resolve(value);
    entry.bytes = bytes;
    this.#stampExpiry(entry, fetched.rotationAt);
    this.#enforceLimits(entry);
    return value;
  }

  /** Fresh and expiry points of a value stored now; a rotation due before the TTL ends it then. */
  #stampExpiry(entry: Entry, rotationAt: number | undefined): void {
    const now = this.#clock();
    entry.softAt = now + this.#softMs;
    entry.hardAt = now + this.#hardMs;
    if (rotationAt === undefined) return;
    const untilRotation = rotationAt - this.#wallClock();
    if (!(untilRotation > 0) || now + untilRotation >= entry.hardAt) return;
    entry.hardAt = now + untilRotation;
    entry.softAt = Math.min(entry.softAt, entry.hardAt);
  }

  #settleFailure(entry: Entry, err: unknown): ToolkitError {
    entry.inflight = undefined;
    const error = fromSecretsManagerError(err, 'GetSecretValue', { secretId: entry.secretId });
    this.#stats.errors++;
    entry.failures++;
    entry.lastError = error;
    entry.retryAt = this.#clock() + fullJitterDelayMs(entry.failures, this.#backoff, this.#random);
    if (!isRetryable(error)) this.#dropValue(entry);
    return error;
  }

  #create(key: string, secretId: string, options: GetSecretOptions): Entry {
    const entry: Entry = {
      key,
      secretId,
      ...(options.versionStage !== undefined ? { versionStage: options.versionStage } : {}),
      ...(options.versionId !== undefined ? { versionId: options.versionId } : {}),
      bytes: 0,
      softAt: Number.NEGATIVE_INFINITY,
      hardAt: Number.NEGATIVE_INFINITY,
      failures: 0,
      retryAt: 0,
    };
    this.#entries.set(key, entry);
    this.#mostRecent = entry;
    this.#enforceLimits(entry);
    return entry;
  }

  /** Returns the entry and marks it most recently used. */
  #touch(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry !== undefined && entry !== this.#mostRecent) this.#promote(entry);
    return entry;
  }

  /** Moves `entry` to the most recent end of the LRU order. */
  #promote(entry: Entry): void {
    this.#entries.delete(entry.key);
    this.#entries.set(entry.key, entry);
    this.#mostRecent = entry;
  }

  /** Evicts least recently used entries, never `keep` nor one with a fetch in flight. */
  #enforceLimits(keep: Entry): void {
    if (this.#entries.size <= this.#maxEntries && this.#bytes <= this.#maxBytes) return;
    for (const entry of [...this.#entries.values()]) {
      if (this.#entries.size <= this.#maxEntries && this.#bytes <= this.#maxBytes) return;
      if (entry === keep || entry.inflight !== undefined) continue;
      this.#remove(entry);
      this.#stats.evictions++;
    }
  }

  #remove(entry: Entry): void {
    this.#dropValue(entry);
    if (this.#entries.get(entry.key) === entry) this.#entries.delete(entry.key);
    if (this.#mostRecent === entry) this.#mostRecent = undefined;
  }

  #dropValue(entry: Entry): void {
    if (this.#entries.get(entry.key) === entry) this.#bytes -= entry.bytes;
    entry.value = undefined;
    entry.settled = undefined;
    entry.bytes = 0;
  }
}

/**
 * The key of one read. No stage and no version id means AWSCURRENT, so `getSecret(id)` and
 * `getSecret(id, { versionStage: 'AWSCURRENT' })` share an entry, keyed by the bare id (the hot path
 * builds no string). Every other read's key holds a NUL, which cannot occur in an id: no collision.
 */
function cacheKey(secretId: string, options: GetSecretOptions): string {
  if (options.versionId === undefined && (options.versionStage === undefined || options.versionStage === CURRENT)) {
    return secretId;
  }
  return `${secretId}\u0000${options.versionStage ?? ''}\u0000${options.versionId ?? ''}`;
}

function readView(value: SecretValue): SecretValue {
  return value instanceof Uint8Array ? new Uint8Array(value) : value;
}

function outcomeOf(secretId: string, flight: Promise<SecretValue>): Promise<PrefetchFailure | string> {
  return flight.then(
    () => secretId,
    (err: unknown) => ({ secretId, error: fromSecretsManagerError(err, 'BatchGetSecretValue', { secretId }) }),
  );
}

/** A requested id matches a returned secret by name, full ARN, or ARN without its random suffix. */
function matchesSecret(requested: string, name: string | undefined, arn: string | undefined): boolean {
  if (requested === name || requested === arn) return true;
  return arn !== undefined && requested.startsWith('arn:') && arn.startsWith(`${requested}-`);
}

function requireSecretId(secretId: string): void {
  if (typeof secretId !== 'string' || secretId.length === 0 || secretId.includes('\u0000')) {
    throw new ConfigError('a secret id must be a non-empty string');
  }
}

function requireNumber(name: string, value: number, min: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new ConfigError(`${name} must be a finite number >= ${min}`);
  }
}
