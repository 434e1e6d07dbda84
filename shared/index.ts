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
export * from './config-loader';
export * from './aws-secret-manager';
