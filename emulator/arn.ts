/** Secret ARNs as Secrets Manager forms them: the name plus a hyphen and six random characters. */
import { randomInt } from 'node:crypto';

const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function randomArnSuffix(): string {
  let suffix = '';
  for (let i = 0; i < 6; i++) suffix += SUFFIX_ALPHABET[randomInt(SUFFIX_ALPHABET.length)];
  return suffix;
}

export function secretArnPrefix(region: string, accountId: string): string {
  return `arn:aws:secretsmanager:${region}:${accountId}:secret:`;
}

export function secretArn(region: string, accountId: string, name: string, suffix: string): string {
  return `${secretArnPrefix(region, accountId)}${name}-${suffix}`;
}

/** A Lambda function ARN in this endpoint's region and account, for a bare function name. */
export function lambdaArn(region: string, accountId: string, functionName: string): string {
  return `arn:aws:lambda:${region}:${accountId}:function:${functionName}`;
}

const LAMBDA_ARN = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9$_-]+)?$/;

export function isLambdaArn(value: string): boolean {
  return LAMBDA_ARN.test(value);
}
