/**
 * Secrets Manager's public endpoint for a region, as the SDK resolves it for the partitions the Lambdas
 * run in: `https://secretsmanager.<region>.amazonaws.com` (`.amazonaws.com.cn` in China), with the FIPS
 * and dual-stack variants the SDK's variables select. Anything else (ISO partitions, VPC endpoint DNS
 * names, emulators) is an explicit endpoint: AWS_ENDPOINT_URL_SECRETS_MANAGER or SECRETS_MANAGER_ENDPOINT.
 */
import type { Env } from '../secrets-client';

const TRUE = new Set(['true', '1']);

/**
 * The endpoint URL for `region`.
 *
 * @param env reads AWS_USE_FIPS_ENDPOINT and AWS_USE_DUALSTACK_ENDPOINT (`true` or `1`), as the SDK does.
 * @example
 *   secretsManagerEndpoint('eu-west-1', {}); // 'https://secretsmanager.eu-west-1.amazonaws.com'
 */
export function secretsManagerEndpoint(region: string, env: Env = {}): string {
  const fips = TRUE.has((env.AWS_USE_FIPS_ENDPOINT ?? '').trim().toLowerCase());
  const dualStack = TRUE.has((env.AWS_USE_DUALSTACK_ENDPOINT ?? '').trim().toLowerCase());
  const china = region.startsWith('cn-');
  const suffix = dualStack ? (china ? 'api.amazonwebservices.com.cn' : 'api.aws') : china ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://secretsmanager${fips ? '-fips' : ''}.${region}.${suffix}`;
}
