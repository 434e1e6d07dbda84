/** The CDK side of the toolkit: constructs, stacks and their supporting types. */
export { ROTATION_RUNTIME, ROTATION_BUNDLING_TARGET, esbuildTargetFor } from './runtime';
export { RotationEngine, RotationStrategy, DbTlsMode, rotationEntryCandidates } from './rotation-engine';
export {
  RotationFunction,
  type RotationFunctionOptions,
  type RotationFunctionProps,
  LAMBDA_CA_BUNDLE,
  VPC_NETWORK_INTERFACE_ACTIONS,
  rotationEnvironment,
  secretArnPattern,
} from './rotation-function';
export {
  DatabaseSecretRotation,
  type DatabaseSecretRotationProps,
  type DatabaseRotationOptions,
  fullSecretArn,
} from './database-secret-rotation';
export {
  RotationSucceededNotification,
  type RotationSucceededNotificationProps,
  type RotationSucceededTarget,
  type RotationSucceededDeliveryOptions,
  rotationSucceededPattern,
} from './rotation-succeeded-notification';
export {
  type RotationScheduleOptions,
  type RotationRules,
  DEFAULT_ROTATION_INTERVAL,
  rotationRules,
  rateFromDuration,
  validateScheduleExpression,
  windowDuration,
} from './schedule';
export { isIsolatedSelection } from './secrets-manager-route';
export { acknowledgeNagFinding } from './nag-acknowledgement';
export { RotationStack, type RotationStackProps, VPC_CONTEXT } from './rotation-stack';
export { ExampleDatabaseStack, type ExampleDatabaseStackProps, EXAMPLE_SECRET_PREFIX } from './example-database-stack';
export type { PasswordPolicy } from '../shared/rotation/password-policy';
