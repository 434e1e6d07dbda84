/**
 * The contract between the engine-agnostic rotation steps and one database engine. The steps decide
 * WHO logs in and WHAT must change; an engine knows only how to say it in its engine's SQL.
 *
 * All database traffic goes through a `Connector`, so tests, the local loop and fault injection can
 * wrap, slow down or break every login and every statement.
 */
import type { DatabaseSecret, EngineFamily } from '../database-secret';
import type { TlsMode } from '../connection-options';
import type { AuthenticationError, RefusalReason } from '../errors';

/** A row as the driver returns it. */
export type Row = Readonly<Record<string, unknown>>;

/**
 * What a connector learned while logging in, for its engine's own later use: MySQL's greeting version
 * (an expired session may run nothing else), how PostgreSQL authenticated the login (a role that logs in
 * with SCRAM keeps SCRAM). Anything that wraps a session must pass it on.
 */
export interface LoginFacts {
  /** The version the server announced in its greeting (MySQL/MariaDB). */
  readonly serverVersion?: string;
  /** How the server authenticated the login (PostgreSQL): `scram`, `md5`, `password` or `none`. */
  readonly authentication?: 'scram' | 'md5' | 'password' | 'none';
}

/** One open database login. Statements are fully escaped client-side or use the driver's own parameters. */
export interface SqlSession {
  /** What the connector learned at login; wrappers pass it on. */
  readonly login?: LoginFacts;
  query(sql: string, params?: readonly unknown[]): Promise<readonly Row[]>;
  /** Closes the login; never throws. */
  close(): Promise<void>;
}

/** Which credential a login uses: named in logs and errors, never with its value. */
export type LoginRole = 'pending' | 'current' | 'previous' | 'master';

/** What a `Connector` is asked to open: whose login, to which database, with which TLS and time bound. */
export interface ConnectRequest {
  readonly family: EngineFamily;
  readonly secret: DatabaseSecret;
  readonly role: LoginRole;
  /** The database to open; the master logs in to the child's database. Defaults to the secret's. */
  readonly database?: string;
  readonly tlsMode: TlsMode;
  readonly connectTimeoutMs: number;
  /** A PEM bundle trusted on top of Node's roots (the mapper's `caBundlePath`). */
  readonly caBundlePath?: string;
  /** Named in the connector's errors (never a value). */
  readonly secretId?: string;
  readonly step?: string;
}

/**
 * Opens a login. Must throw the toolkit's typed errors: `AuthenticationError` when the server refused
 * the credentials, `NetworkError`/`TimeoutError` when it could not be reached, `TlsError` for TLS.
 */
export type Connector = (request: ConnectRequest) => Promise<SqlSession>;

/** The server's flavour and version, read from the server itself, never guessed from the secret. */
export interface ServerInfo {
  readonly flavor: 'postgres' | 'mysql' | 'mariadb';
  /** Aurora MySQL / Aurora PostgreSQL, when the server says so. */
  readonly aurora: boolean;
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  /** The version string as the server reported it. */
  readonly version: string;
}

/** What alternating-users rotation asks the master to do to the other user (`syncAlternateUser`). */
export interface AlternateUserChange {
  /** The account whose rights the alternate user gets (the current secret's user). */
  readonly currentUsername: string;
  /** The account to create or update (the pending secret's user). */
  readonly alternateUsername: string;
  readonly password: string;
  /**
   * Told what the sync skipped or changed beyond the obvious (a grant on a dropped table, a host entry
   * dropped from the alternate user), so the step can log it. Messages name accounts and objects, never
   * a value. Optional: without it nothing is reported.
   */
  readonly warn?: (message: string) => void;
  /**
   * Whether the secret's AWSPREVIOUS names the alternate user on the same host: it was this secret's
   * login before, so an alternate that exists is the secret's own copy even where the catalogs cannot
   * show it (see alternate-user-identity.ts). Asked only then (it costs a request), at most once.
   * Optional: without it, only the catalogs count.
   */
  readonly previouslyHeld?: () => Promise<boolean>;
}

/** A login the server refused, handed to the engine to explain. */
export interface RefusedLogin {
  readonly username: string;
  /**
   * The refused password: compared with the stored verifier where the master may read it, so drift is
   * proven rather than assumed. Never logged, never part of a message.
   */
  readonly password: string;
  /** The refusal as the connector raised it: its driver code and the reason the code alone gives. */
  readonly error: AuthenticationError;
  /**
   * The database the refused login named (PostgreSQL: the secret's dbname, else postgres). The master's
   * session may be on another one (its own, when it may not open this one). Undefined: the master's.
   */
  readonly database?: string;
}

/** Why a login was refused, read from the server's catalogs as the master. */
export interface RefusalDiagnosis {
  readonly reason: RefusalReason;
  /** What the catalogs showed, for the error message: names, hosts, dates, settings; never a value. */
  readonly detail: string;
  /**
   * True when the catalogs show that no other password could log in where this one was refused, beyond
   * what `reason` says (an unmet TLS requirement; the refused password is the stored one): the secret's
   * other passwords are then not tried, since each would be a failed login counted against the account.
   */
  readonly noOtherPasswordLogsIn?: boolean;
}

/**
 * Puts an account's stored password verifiers back exactly as they were, as the master. Holds the
 * verifiers in memory only; never logged.
 */
export type PasswordRestore = (master: SqlSession) => Promise<void>;

/** What single-user rotation asks the user's own session to change. */
export interface OwnPasswordChange {
  readonly username: string;
  readonly password: string;
  /**
   * Opens (once) a session as the master, when the secret names one: for what the user may not do
   * itself (other host parts of a MySQL account, RDS `rds.restrict_password_commands`). The caller
   * closes it. Undefined without a `masterarn`.
   */
  readonly master?: () => Promise<SqlSession>;
  /**
   * The password the session logged in with: MySQL 8.0.13+ PASSWORD REQUIRE CURRENT needs it in a
   * `REPLACE` clause. Never logged.
   */
  readonly currentPassword?: string;
  /**
   * True when the step puts the previous password back after a failed proof: nothing of the refused
   * password may stay valid (MySQL 8.0.14+ discards the secondary password it retained).
   */
  readonly restoring?: boolean;
}

/**
 * One database engine (PostgreSQL, or MySQL with MariaDB and Aurora MySQL): how to log in, read the server,
 * and say each password change in its SQL. Not to be confused with the rotation strategy (single user or
 * alternating users), which is `RotationSettings.strategy`. The toolkit's two are `postgresEngine` and
 * `mysqlEngine`; tests and fault injection wrap one to slow or break it.
 */
export interface DatabaseEngine {
  readonly family: EngineFamily;
  /** The AWS templates' default EXCLUDE_CHARACTERS for this engine. */
  readonly defaultExcludeCharacters: string;
  /** The connector used when the handler is given none (pg or mysql2). */
  readonly defaultConnector: Connector;
  /**
   * Why `username` cannot exist on this engine (too long for it, invalid), or undefined when it can.
   * Without `server` (createSecret does not log in) the limit comes from the secret's `engine`.
   */
  usernameProblem(username: string, engine: string, server?: ServerInfo): string | undefined;
  /** Reads the flavour and version of the server behind a session. */
  serverInfo(session: SqlSession): Promise<ServerInfo>;
  /** testSecret: runs the test query on a session opened with the pending secret. */
  runTestQuery(session: SqlSession, sql: string): Promise<void>;
  /**
   * Single-user: the logged-in user sets its own password on every account the secret stands for,
   * with the master's help where the user may not. Leaves everything else about the account as the
   * DBA set it. Throws a typed error, before any change, when some account cannot be changed.
   */
  setOwnPassword(session: SqlSession, server: ServerInfo, change: OwnPasswordChange): Promise<void>;
  /**
   * Single-user healing of proven drift: the master sets the password on every account of the user,
   * changing nothing else (not LOGIN, not expiry, not the other methods of an authentication chain, nor
   * another password a MariaDB chain holds beside `replacing`, the secret's refused password, when given).
   * @throws PartialChangeError when a statement failed after others had set some of the accounts (the
   *   caller puts the stored passwords back); any other error means nothing was changed.
   */
  setPasswordAsMaster(session: SqlSession, server: ServerInfo, username: string, password: string, replacing?: string): Promise<void>;
  /**
   * As the master, explains a refused login from the server's catalogs (and the refusal's code). Reads
   * only; changes nothing.
   */
  diagnoseRefusal(session: SqlSession, server: ServerInfo, refused: RefusedLogin): Promise<RefusalDiagnosis>;
  /**
   * Whether a login refused over TLS may be admitted in plaintext: the server refused the login as it came
   * (its TLS), not its credentials, so `DB_TLS_MODE=prefer` retries it without TLS, as the engine's own
   * client does under its "prefer" mode. Optional: an engine without it never retries a refusal.
   */
  readonly refusedForItsTls?: (refusal: AuthenticationError) => boolean;
  /**
   * As the master, reads the account's stored password verifiers so a heal that cannot be proven is put
   * back exactly. Undefined when the master may not read them (RDS's master cannot read pg_authid).
   */
  savePassword(session: SqlSession, server: ServerInfo, username: string): Promise<PasswordRestore | undefined>;
  /**
   * Alternating users, as the master: create the alternate user when missing, (re)sync its rights with
   * the current user's, then set its password. Safe to re-run after a crash at any point.
   */
  syncAlternateUser(session: SqlSession, server: ServerInfo, change: AlternateUserChange): Promise<void>;
}
