/**
 * Whether a VPC function can reach Secrets Manager. A rotation function in isolated subnets times out on
 * its first Secrets Manager call with nothing in the log (aws-cdk #17265); that is a synth error here,
 * naming the fix. (Public subnets never host it: Lambda refuses them, its ENIs get no public IP.)
 */
import * as ec2 from 'aws-cdk-lib/aws-ec2';

/** True when every subnet of the selection is isolated: no NAT, so no route to the public endpoint. */
export function isIsolatedSelection(vpc: ec2.IVpc, selection: ec2.SubnetSelection = {}): boolean {
  if (selection.subnetType !== undefined) return selection.subnetType === ec2.SubnetType.PRIVATE_ISOLATED;
  const selected = vpc.selectSubnets(selection).subnetIds;
  const isolated = new Set(vpc.isolatedSubnets.map((s) => s.subnetId));
  return selected.length > 0 && selected.every((id) => isolated.has(id));
}

export function noRouteMessage(path: string): string {
  return (
    `${path}: the rotation function runs in isolated subnets (no NAT) and cannot reach Secrets Manager. ` +
    'Pass `endpoint` (an existing Secrets Manager interface VPC endpoint) or set `createSecretsManagerEndpoint: true`, ' +
    'or place the function in PRIVATE_WITH_EGRESS subnets'
  );
}
