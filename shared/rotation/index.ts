/** The engine-agnostic rotation engine. The database engines live in shared/engines/. */
export * from './alternate-username';
export * from './create-rotation-handler';
export * from './deadline';
export * from './database-engine';
export * from './event';
export * from './gate';
export * from './logger';
export * from './master-secret';
export * from './password-policy';
export * from './rotation-settings';
export { AWSCURRENT, AWSPENDING, AWSPREVIOUS } from './secret-versions';
export { nextVersionString } from './create-secret';
