/**
 * cdk-nag v3 acknowledgements. v3 reports through CDK's Validations plugins; an acknowledgement is keyed by
 * the plugin-prefixed rule id (`AwsSolutions::AwsSolutions-IAM5[Resource::*]`) and always carries a reason,
 * so every wildcard this toolkit needs says, in the code that creates it, why nothing narrower exists.
 */
import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

const AWS_SOLUTIONS_PLUGIN = 'AwsSolutions';

/** `rule` is the finding as nag prints it, e.g. `AwsSolutions-IAM5[Resource::*]`. */
export function acknowledgeNagFinding(scope: IConstruct, rule: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `${AWS_SOLUTIONS_PLUGIN}::${rule}`, reason });
}
