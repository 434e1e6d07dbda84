/**
 * The four demo scenarios of `rotate:local` (engine x strategy) and the fixed names they use, so a
 * second run finds the users, secrets and functions of the first.
 */
import type { EngineFamily } from '../../shared/database-secret';
import { lambdaArn } from '../../emulator/arn';
import type { RotationStrategyName } from '../../shared/rotation/rotation-settings';

export const DEMO_ENGINES: readonly EngineFamily[] = ['postgres', 'mysql'];
export const DEMO_STRATEGIES: readonly RotationStrategyName[] = ['single-user', 'alternating-users'];

export interface Scenario {
  readonly engine: EngineFamily;
  readonly strategy: RotationStrategyName;
}

/** Where the local endpoints and LocalStack's default account live. */
export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT_ID = '000000000000';

/** The compose service names: inside LocalStack's Lambda network the secrets name the servers by these. */
export const COMPOSE_DATABASE_HOSTS: Readonly<Record<EngineFamily, string>> = { postgres: 'postgres', mysql: 'mysql' };

export function isDemoEngine(value: string): value is EngineFamily {
  return (DEMO_ENGINES as readonly string[]).includes(value);
}

export function isDemoStrategy(value: string): value is RotationStrategyName {
  return (DEMO_STRATEGIES as readonly string[]).includes(value);
}

/** Every scenario, or those matching the filters, in a fixed order. */
export function selectScenarios(engine?: EngineFamily, strategy?: RotationStrategyName): Scenario[] {
  return DEMO_ENGINES.filter((e) => engine === undefined || e === engine).flatMap((e) =>
    DEMO_STRATEGIES.filter((s) => strategy === undefined || s === strategy).map((s) => ({ engine: e, strategy: s })),
  );
}

/** The function name the standalone endpoint registers and `localstack:deploy` deploys. */
export function rotationFunctionName(engine: EngineFamily, strategy: RotationStrategyName): string {
  return `${engine}-${strategy}-rotation`;
}

export function rotationFunctionArn(
  engine: EngineFamily,
  strategy: RotationStrategyName,
  region: string = LOCAL_REGION,
  accountId: string = LOCAL_ACCOUNT_ID,
): string {
  return lambdaArn(region, accountId, rotationFunctionName(engine, strategy));
}

const ENGINE_TAG: Readonly<Record<EngineFamily, string>> = { postgres: 'pg', mysql: 'my' };
const STRATEGY_TAG: Readonly<Record<RotationStrategyName, string>> = { 'single-user': 'single', 'alternating-users': 'alt' };

/** The demo user's fixed name; short enough that `_clone` still fits MySQL's 32 characters. */
export function demoUsername(scenario: Scenario): string {
  return `rotation_demo_${ENGINE_TAG[scenario.engine]}_${STRATEGY_TAG[scenario.strategy]}`;
}

/** The master account created for alternating users when the admin's own password cannot be stored. */
export function demoMasterUsername(engine: EngineFamily): string {
  return `rotation_demo_${ENGINE_TAG[engine]}_master`;
}

export function demoSecretName(scenario: Scenario): string {
  return `rotation-demo/${scenario.engine}/${scenario.strategy}`;
}

export function demoMasterSecretName(engine: EngineFamily): string {
  return `rotation-demo/${engine}/master`;
}

export function scenarioLabel(scenario: Scenario): string {
  return `${scenario.engine} ${scenario.strategy}`;
}
