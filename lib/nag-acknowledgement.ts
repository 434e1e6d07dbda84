/**
 * cdk-nag v3 acknowledgements. v3 reports through CDK's Validations plugins; an acknowledgement is keyed by
 * the plugin-prefixed rule id (`AwsSolutions::AwsSolutions-IAM5[Resource::*]`) and always carries a reason,
 * so every wildcard this toolkit needs says, in the code that creates it, why nothing narrower exists.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

const AWS_SOLUTIONS_PLUGIN = 'AwsSolutions';

/** `rule` is the finding as nag prints it, e.g. `AwsSolutions-IAM5[Resource::*]`. */
export function acknowledgeNagFinding(scope: IConstruct, rule: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `${AWS_SOLUTIONS_PLUGIN}::${rule}`, reason });
}

/**
 * A resource as cdk-nag names it in a finding id: tokens resolved, `Ref` as `<Id>`, `Fn::GetAtt` as `<Id.Attr>`
 * (`arn:<AWS::Partition>:secretsmanager:…`). Undefined when the value has another intrinsic.
 */
export function nagResourceName(scope: IConstruct, value: string): string | undefined {
  return render(Stack.of(scope).resolve(value));
}

function render(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value === null || typeof value !== 'object') return undefined;
  const record = value as Record<string, unknown>;
  if (typeof record.Ref === 'string') return `<${record.Ref}>`;
  const getAtt = record['Fn::GetAtt'];
  if (Array.isArray(getAtt) && getAtt.length === 2) return `<${getAtt[0]}.${getAtt[1]}>`;
  const join = record['Fn::Join'];
  if (Array.isArray(join) && join[0] === '' && Array.isArray(join[1])) {
    const parts = (join[1] as unknown[]).map(render);
    return parts.every((p) => p !== undefined) ? parts.join('') : undefined;
  }
  return undefined;
}
