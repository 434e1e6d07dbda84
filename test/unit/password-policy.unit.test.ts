/**
 * Guarantee 9 (EXCLUDE_CHARACTERS): the function accepts whatever GetRandomPassword accepts, an
 * ExcludeCharacters of 0 to 4096 characters of any kind, and passes it on unchanged.
 */
import * as path from 'path';
import { ConfigError } from '../../shared/errors';
import { postgresEngine } from '../../shared/engines/postgres';
import { createRotationHandler } from '../../shared/rotation/create-rotation-handler';
import { passwordPolicyFromEnv, validatePasswordPolicy } from '../../shared/rotation/password-policy';

// The value aws-cdk-lib's addRotationSingleUser/MultiUser use by default, from the installed version.
/* eslint-disable @typescript-eslint/no-require-imports -- the installed aws-cdk-lib's own constant */
const CDK_DEFAULT = (
  require(path.join(__dirname, '../../node_modules/aws-cdk-lib/aws-rds/lib/private/util.js')) as {
    DEFAULT_PASSWORD_EXCLUDE_CHARS: string;
  }
).DEFAULT_PASSWORD_EXCLUDE_CHARS;
/* eslint-enable @typescript-eslint/no-require-imports */

describe('EXCLUDE_CHARACTERS', () => {
  it("takes aws-cdk-lib's default, leading space and all, exactly as given", () => {
    expect(CDK_DEFAULT.startsWith(' ')).toBe(true);
    expect(passwordPolicyFromEnv({ EXCLUDE_CHARACTERS: CDK_DEFAULT }, 'postgres').excludeCharacters).toBe(CDK_DEFAULT);
    expect(passwordPolicyFromEnv({ EXCLUDE_CHARACTERS: CDK_DEFAULT }, 'mysql').excludeCharacters).toBe(CDK_DEFAULT);
  });

  it('lets the handler start cold with it (hunt-08)', () => {
    expect(() =>
      createRotationHandler({
        engine: postgresEngine,
        env: { EXCLUDE_CHARACTERS: CDK_DEFAULT, SECRETS_MANAGER_ENDPOINT: 'http://127.0.0.1:9', AWS_REGION: 'us-east-1' },
      }),
    ).not.toThrow();
  });

  it.each([
    ['only a space', ' '],
    ['whitespace and control characters', ' \t\r\n\u0001'],
    ['non-ASCII characters', 'äéß€'],
    ['4096 characters', '#'.repeat(4096)],
    ['4096 astral characters (8192 UTF-16 units)', '😀'.repeat(4096)],
    ['an empty string', ''],
  ])('accepts %s', (_name, excludeCharacters) => {
    expect(validatePasswordPolicy({ excludeCharacters }, 'postgres')).toEqual([]);
  });

  it("refuses more than GetRandomPassword's 4096 characters, naming the limit", () => {
    expect(validatePasswordPolicy({ excludeCharacters: '#'.repeat(4097) }, 'postgres')).toEqual([
      "excludeCharacters may hold at most 4096 characters (GetRandomPassword's limit)",
    ]);
    expect(() => passwordPolicyFromEnv({ EXCLUDE_CHARACTERS: '#'.repeat(4097) }, 'mysql')).toThrow(ConfigError);
  });

  it('still refuses a policy that leaves no character to draw from', () => {
    const problems = validatePasswordPolicy(
      { excludeCharacters: `${CDK_DEFAULT}abcdefghijklmnopqrstuvwxyz0123456789`, excludeUppercase: true, excludePunctuation: true },
      'postgres',
    );
    expect(problems).toEqual(['the policy excludes every character type: no password can be generated']);
  });
});
