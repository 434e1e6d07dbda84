/**
 * The runtime layer: what rotation Lambdas and applications import.
 */
export * from './errors';
export * from './secrets-client';
export * from './database-secret';
export * from './connection-options';
export * from './rotation/password-policy';
