/**
 * What a rotation-aware pool logs in with: the credentials every NEW connection uses, kept in step
 * with the secret, and the test that tells a connection of a retired account from a current one.
 *
 * - Before each checkout the pool calls `refresh()`: AWSCURRENT from the cache (a memory read while
 *   fresh). A Secrets Manager outage (throttling, 5xx, network, timeout) does not fail the checkout
 *   when credentials were already known: they are used as they are, since the database does not care
 *   whether Secrets Manager answers. Other errors (AccessDenied, NotFound, an invalid secret) fail it.
 * - A refused login calls `recover()`: one probe per secret (`login-probe.ts`) finds the value the
 *   database takes. When that is AWSPENDING (between setSecret and finishSecret of a single-user
 *   rotation, AWSCURRENT is already refused), it is used until the cache's AWSCURRENT changes.
 * - A connection belongs to an account: user, host, port and database. It is retired when the
 *   current credentials name another account (alternating users switched user). A password change
 *   alone retires nothing: a logged-in session outlives its password.
 *
 * Only the snapshot of parsed credentials is kept; nothing here logs or prints a value.
 */
import { isAuthenticationFailure, type AuthErrorClassifier } from '../auth-errors';
import { parseDatabaseSecret, type DatabaseSecret, type EngineFamily } from '../database-secret';
import { ConfigError, isRetryable } from '../errors';
import { SecretCache } from '../secret-cache';
import { sameSecretValue, type SecretValue } from '../secret-value';
import { probeWorkingValue } from './login-probe';

/** The credentials one login used (or will use). Compared by identity: one object per secret value. */
export interface PoolLogin {
  readonly secret: DatabaseSecret;
  /** The secret value as the cache returned it. */
  readonly value: SecretValue;
  /** user, host, port and database: what a connection of this login is "of". */
  readonly account: string;
}

/** Counters of one pool since it was created. */
export interface PoolRotationStats {
  /** New connections that logged in. */
  readonly logins: number;
  /** New connections the database refused (each is retried once after a probe). */
  readonly refusedLogins: number;
  /** Probes this pool started (joined ones not counted): refreshes of AWSCURRENT/AWSPENDING with a trial login. */
  readonly probes: number;
  /** Connections of a retired account closed when they were idle (released, or found idle at checkout). */
  readonly drained: number;
}

export interface PoolCredentialsOptions {
  readonly cache: SecretCache;
  readonly secretId: string;
  readonly family: EngineFamily;
  /** Logs in once with these credentials and closes; rejects as the driver does. */
  readonly probeLogin: (secret: DatabaseSecret) => Promise<void>;
  /** Default: the built-in classifiers (pg SQLSTATE 28P01/28000, MySQL errno 1045/1698). */
  readonly isAuthError?: AuthErrorClassifier;
}

/** Refused values remembered for the probe's skip list; a rotation adds at most two. */
/** Logins again after a refusal, per checkout. */
const MAX_RETRIES = 2;
const MAX_REFUSED = 4;
/** The database a login lands in when the secret names none (PostgreSQL's default; MySQL has none). */
const DEFAULT_DATABASE: Readonly<Record<EngineFamily, string>> = { postgres: 'postgres', mysql: '' };

let sharedCache: SecretCache | undefined;

/** The cache pools use when given none: one per process, with SecretCache's defaults. */
export function defaultPoolCache(): SecretCache {
  sharedCache ??= new SecretCache();
  return sharedCache;
}

/** The rotation-aware credentials of one pool. */
export class PoolCredentials {
  readonly #cache: SecretCache;
  readonly #secretId: string;
  readonly #family: EngineFamily;
  readonly #probeLogin: (secret: DatabaseSecret) => Promise<void>;
  readonly #isAuthError: AuthErrorClassifier;
  /** The last AWSCURRENT read from the cache. */
  #current: PoolLogin | undefined;
  /** A proven AWSPENDING value, used while the cache's AWSCURRENT is still `bypassed`. */
  #override: { readonly login: PoolLogin; readonly bypassed: SecretValue } | undefined;
  readonly #refused: SecretValue[] = [];
  readonly #logins = new WeakMap<object, PoolLogin>();
  readonly #stats = { logins: 0, refusedLogins: 0, probes: 0, drained: 0 };

  constructor(options: PoolCredentialsOptions) {
    if (typeof options.secretId !== 'string' || options.secretId.length === 0) {
      throw new ConfigError('secretId must be a non-empty string');
    }
    this.#cache = options.cache;
    this.#secretId = options.secretId;
    this.#family = options.family;
    this.#probeLogin = options.probeLogin;
    this.#isAuthError = options.isAuthError ?? isAuthenticationFailure;
  }

  /** The secret these credentials come from (name or ARN, as given). */
  get secretId(): string {
    return this.#secretId;
  }

  /** The credentials the next new connection uses; undefined before the first `refresh()`. */
  snapshot(): PoolLogin | undefined {
    return this.#override?.login ?? this.#current;
  }

  /**
   * Reads AWSCURRENT from the cache and returns the credentials for new connections.
   * @throws the cache's typed error, unless it is retryable and credentials are already known;
   *   SecretValidationError (naming the secret, never a value) for a secret that is not a database secret.
   */
  async refresh(): Promise<PoolLogin> {
    let value: SecretValue;
    try {
      value = await this.#cache.getSecret(this.#secretId);
    } catch (err) {
      const known = this.snapshot();
      if (known !== undefined && isRetryable(err)) return known;
      throw err;
    }
    this.#adoptCurrent(value);
    return this.snapshot()!;
  }

  /**
   * Called when a login with `refused` was refused: unless the credentials already moved on since,
   * finds (or joins the search for) the value that logs in now and makes it the snapshot.
   * @throws AuthenticationError when neither AWSCURRENT nor AWSPENDING logs in; the cache's or the
   *   driver's error when the probe cannot run.
   */
  async recover(refused: PoolLogin): Promise<void> {
    this.#remember(refused.value);
    // Compared by content: the same value may have been re-read into a new login object meanwhile.
    const now = this.snapshot();
    if (now !== undefined && !sameSecretValue(now.value, refused.value)) return;
    const probe = probeWorkingValue(this.#cache, this.#secretId, (value) => this.#probeLogin(this.#parse(value)), {
      isAuthError: this.#isAuthError,
      refused: [...this.#refused],
    });
    if (!probe.joined) this.#stats.probes++;
    const working = await probe.value;
    // The probe force-refreshed AWSCURRENT: this read is answered from memory.
    const current = await this.#cache.getSecret(this.#secretId);
    this.#adoptCurrent(current);
    if (sameSecretValue(working, current)) {
      this.#override = undefined;
    } else {
      this.#remember(current);
      this.#override = { login: this.#loginFor(working), bypassed: current };
    }
  }

  /** True when a connection of `login` should be closed once idle: its account is no longer the current one. */
  isRetired(login: PoolLogin): boolean {
    const now = this.snapshot();
    return now !== undefined && now.account !== login.account;
  }

  /** Remembers which credentials a driver connection (or its config) logged in with. */
  tag(connection: object, login: PoolLogin): void {
    this.#logins.set(connection, login);
  }

  /** The credentials `connection` logged in with, if it was tagged. */
  loginOf(connection: object): PoolLogin | undefined {
    return this.#logins.get(connection);
  }

  /** Counts a new connection that logged in. */
  noteLogin(): void {
    this.#stats.logins++;
  }

  /**
   * Whether a checkout refused for the `refusals`-th time, with `refused`, should log in again after a
   * probe: the first refusal always; a later one only when other credentials were refused than the time
   * before (a rotation step landed between the probe and the retry), and at most `MAX_RETRIES` times.
   */
  shouldRetry(refused: PoolLogin, previous: PoolLogin | undefined, refusals: number): boolean {
    if (refusals > MAX_RETRIES) return false;
    return previous === undefined || !sameSecretValue(previous.value, refused.value);
  }

  /** Counts a refused login. */
  noteRefused(): void {
    this.#stats.refusedLogins++;
  }

  /** Counts a retired connection closed while idle. */
  noteDrained(): void {
    this.#stats.drained++;
  }

  stats(): PoolRotationStats {
    return { ...this.#stats };
  }

  /** Whether `err` means the database refused the credentials. */
  isAuthError(err: unknown): boolean {
    return this.#isAuthError(err);
  }

  /**
   * A new AWSCURRENT ends the AWSPENDING override, unless it is a value already seen refused: a probe
   * force-refreshes AWSCURRENT while other checkouts read it, and they must not switch back to it.
   */
  #adoptCurrent(value: SecretValue): void {
    if (this.#current?.value !== value) this.#current = this.#loginFor(value);
    const override = this.#override;
    if (override === undefined || sameSecretValue(value, override.bypassed) || this.#isRefused(value)) return;
    this.#override = undefined;
  }

  #isRefused(value: SecretValue): boolean {
    return this.#refused.some((v) => sameSecretValue(v, value));
  }

  #loginFor(value: SecretValue): PoolLogin {
    if (this.#current?.value === value) return this.#current;
    const secret = this.#parse(value);
    const account = [secret.username, secret.host, secret.port, secret.dbname ?? DEFAULT_DATABASE[this.#family]].join('\u0000');
    return { secret, value, account };
  }

  #parse(value: SecretValue): DatabaseSecret {
    return parseDatabaseSecret(value, { expectedFamily: this.#family, secretId: this.#secretId });
  }

  #remember(value: SecretValue): void {
    if (this.#isRefused(value)) return;
    this.#refused.push(value);
    if (this.#refused.length > MAX_REFUSED) this.#refused.shift();
  }
}
