/** The engine-agnostic rotation engine. Engine strategies live in shared/engines/. */
export * from './alternate-username';
export * from './create-rotation-handler';
export * from './deadline';
export * from './engine-registry';
export * from './engine-strategy';
export * from './event';
export * from './gate';
export * from './logger';
export * from './master-secret';
export * from './password-policy';
export * from './rotation-settings';
export { AWSCURRENT, AWSPENDING, AWSPREVIOUS } from './secret-versions';
export { nextVersionString } from './create-secret';
