/**
 * The runtime layer: what rotation Lambdas and applications import.
 */
export * from './errors';
export * from './secrets-client';
export * from './database-secret';
export * from './connection-options';
export * from './rotation/password-policy';
export * from './secret-value';
export * from './secret-cache';
export * from './auth-errors';
export { createPgPool, type CreatePgPoolOptions, type PgPoolOptions, type RotatingPgPool } from './pools/pg-pool';
export {
  createMysqlPool,
  type CreateMysqlPoolOptions,
  type MysqlPoolOptions,
  type RotatingMysqlPool,
} from './pools/mysql-pool';
export { defaultPoolCache, type PoolRotationStats } from './pools/pool-credentials';
export * from './config-loader';
export * from './aws-secret-manager';
export * from './rotation/create-rotation-handler';
export * from './rotation/event';
export type {
  AlternateUserChange,
  ConnectRequest,
  Connector,
  DatabaseEngine,
  LoginRole,
  Row,
  ServerInfo,
  SqlSession,
} from './rotation/database-engine';
export { postgresEngine } from './engines/postgres';
export { mysqlEngine } from './engines/mysql';

import { postgresEngine } from './engines/postgres';
import { mysqlEngine } from './engines/mysql';
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
