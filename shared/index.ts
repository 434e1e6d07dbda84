/**
 * `db-secret-rotation-toolkit/shared`: what rotation Lambdas and applications call, and nothing else.
 *
 * - The rotation handler factory and the two database engines it takes.
 * - The reader: `SecretCache`, the rotation-aware pools, `ConfigLoader`, the secret-to-driver mapper and
 *   `AwsSecretManager`.
 * - The typed errors both throw.
 *
 * Everything else (parsers, SQL builders, cache and pool internals) is reachable by deep path for the
 * project's own tests, and may change without notice.
 */
import { mysqlEngine } from './engines/mysql';
import { postgresEngine } from './engines/postgres';

// The rotation handler factory and the engines.
export { createRotationHandler, type CreateRotationHandlerOptions } from './rotation/create-rotation-handler';
export type { RotationHandler, RotationInvocationContext, RotationStep, SecretsManagerRotationEvent } from './rotation/event';
export type { RotationStrategyName } from './rotation/rotation-settings';
export type { RotationLogger, StepLogLine, StepOutcome } from './rotation/logger';
export type { RdsEndpoint, RdsEndpointLookup, RdsLookupOptions, RdsResourceKind } from './rotation/rds-endpoint';
export type {
  AlternateUserChange,
  ConnectRequest,
  Connector,
  DatabaseEngine,
  LoginFacts,
  LoginRole,
  Row,
  ServerInfo,
  SqlSession,
} from './rotation/database-engine';
export { postgresEngine } from './engines/postgres';
export { mysqlEngine } from './engines/mysql';
// For a handler of your own: load the engine's driver during the Lambda's init (as lambdas/* do).
export { loadPostgresDriver } from './engines/postgres-connector';
export { loadMysqlDriver } from './engines/mysql-connector';
/**
 * The PostgreSQL database engine under its former name.
 * @deprecated Use `postgresEngine`: "strategy" now means only single user or alternating users.
 */
export const postgresStrategy = postgresEngine;
/**
 * The MySQL / MariaDB database engine under its former name.
 * @deprecated Use `mysqlEngine`: "strategy" now means only single user or alternating users.
 */
export const mysqlStrategy = mysqlEngine;
export type { PasswordPolicy } from './rotation/password-policy';

// The reader.
export {
  SecretCache,
  type GetSecretOptions,
  type PrefetchFailure,
  type PrefetchReport,
  type SecretCacheOptions,
  type SecretCacheStats,
  type SecretsReadClient,
  type WithSecretOptions,
} from './secret-cache';
export type { SendOptions } from './fetch-timeout';
export type { SecretValue } from './secret-value';
export { createPgPool, type CreatePgPoolOptions, type PgPoolOptions, type RotatingPgPool } from './pools/pg-pool';
export { createMysqlPool, type CreateMysqlPoolOptions, type MysqlPoolOptions, type RotatingMysqlPool } from './pools/mysql-pool';
export { defaultPoolCache, type PoolRotationStats } from './pools/pool-credentials';
export { isAuthenticationFailure, type AuthErrorClassifier } from './auth-errors';
export {
  ConfigLoader,
  type ConfigLoaderOptions,
  type ConfigSource,
  type InferSchemaOutput,
  type LoadOptions,
  type StandardSchemaIssue,
  type StandardSchemaResult,
  type StandardSchemaV1,
} from './config-loader';
export { parseDatabaseSecret, type DatabaseSecret, type EngineFamily, type ParseDatabaseSecretOptions } from './database-secret';
export {
  toJdbcOptions,
  toMysqlConnectionOptions,
  toPgClientConfig,
  type DriverOptionsInput,
  type JdbcDbType,
  type JdbcOptions,
  type TlsMode,
} from './connection-options';
export { AwsSecretManager, type AwsSecretManagerOptions, type SecretConnectionInfo } from './aws-secret-manager';
export { getSecretsClient, type Env, type SecretsClientSettings } from './secrets-client';

// The typed errors.
export {
  AccessDeniedError,
  AuthenticationError,
  ConfigError,
  DatabaseError,
  PartialChangeError,
  EventValidationError,
  InvalidRequestError,
  NetworkError,
  RotationDisabledError,
  SecretNotFoundError,
  SecretValidationError,
  StageMismatchError,
  ThrottledError,
  TimeoutError,
  TlsError,
  ToolkitError,
  TransientError,
  isRetryable,
  isToolkitError,
  type AuthenticationErrorContext,
  type CauseSummary,
  type ErrorCode,
  type ErrorContext,
  type RefusalReason,
  type ValidationIssue,
} from './errors';
