/**
 * `db-secret-rotation-toolkit`: the CDK constructs and the types of their props, and nothing else.
 *
 * - `DatabaseSecretRotation`: rotation for one secret (or one RDS instance or cluster).
 * - `RotationFunction`: one rotation Lambda, for one engine and strategy, to share among secrets.
 * - `RotationStack`: the shared functions of an account, in the databases' VPC.
 * - `RotationSucceededNotification`: an EventBridge rule for each completed rotation.
 *
 * Helpers the constructs use (IAM action lists, bundling, schedule parsing, the example stack) are
 * reachable by deep path for the project's own tests and app, and may change without notice.
 */
export { RotationEngine, RotationStrategy, DbTlsMode } from './rotation-engine';
export { RotationFunction, type RotationFunctionOptions, type RotationFunctionProps } from './rotation-function';
export { DatabaseSecretRotation, type DatabaseSecretRotationProps, type DatabaseRotationOptions } from './database-secret-rotation';
export {
  RotationSucceededNotification,
  type RotationSucceededNotificationProps,
  type RotationSucceededTarget,
  type RotationSucceededDeliveryOptions,
  rotationSucceededPattern,
} from './rotation-succeeded-notification';
export { type RotationScheduleOptions, DEFAULT_ROTATION_INTERVAL } from './schedule';
export { RotationStack, type RotationStackProps, VPC_CONTEXT } from './rotation-stack';
export type { PasswordPolicy } from '../shared/rotation/password-policy';
