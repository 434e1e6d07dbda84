/**
 * Whether a VPC function can reach Secrets Manager. A rotation function in isolated subnets (or public
 * ones: Lambda ENIs never get a public IP) times out on its first Secrets Manager call with nothing in the
 * log (aws-cdk #17265); that is a synth error here, naming the fix.
 */
import * as ec2 from 'aws-cdk-lib/aws-ec2';

export type UnroutedSubnetKind = 'isolated' | 'public';

/**
 * The kind of subnets the selection lands in when none of them routes to the internet through a NAT,
 * else undefined (a private-with-egress subnet, or a selection this VPC cannot classify).
 */
export function unroutedSubnetKind(vpc: ec2.IVpc, selection: ec2.SubnetSelection = {}): UnroutedSubnetKind | undefined {
  if (selection.subnetType === ec2.SubnetType.PRIVATE_ISOLATED) return 'isolated';
  if (selection.subnetType === ec2.SubnetType.PUBLIC) return 'public';
  if (selection.subnetType !== undefined) return undefined;
  const selected = vpc.selectSubnets(selection).subnetIds;
  if (selected.length === 0) return undefined;
  const isolated = new Set(vpc.isolatedSubnets.map((s) => s.subnetId));
  const open = new Set(vpc.publicSubnets.map((s) => s.subnetId));
  if (selected.every((id) => isolated.has(id))) return 'isolated';
  if (selected.every((id) => isolated.has(id) || open.has(id))) return 'public';
  return undefined;
}

export function noRouteMessage(path: string, kind: UnroutedSubnetKind): string {
  const why = kind === 'isolated' ? 'isolated subnets (no NAT)' : 'public subnets (Lambda ENIs get no public IP)';
  return (
    `${path}: the rotation function runs in ${why} and cannot reach Secrets Manager. ` +
    'Pass `endpoint` (an existing Secrets Manager interface VPC endpoint) or set `createSecretsManagerEndpoint: true`, ' +
    'or place the function in PRIVATE_WITH_EGRESS subnets'
  );
}
