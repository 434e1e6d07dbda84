/**
 * Per-secret password policy from the secret's `dbrotation:` tags: parsing, merging over the function's
 * environment, and createSecret through the handler with a mocked Secrets Manager client (the tags come
 * from the gate's own DescribeSecret; a bad tag fails before anything is written).
 */
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  type Tag,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { SecretValidationError } from '../../shared/errors';
import { postgresEngine } from '../../shared/engines/postgres';
import { mysqlEngine } from '../../shared/engines/mysql';
import { createRotationHandler } from '../../shared/rotation/create-rotation-handler';
import { DIGITS, LOWERCASE, PUNCTUATION, UPPERCASE } from '../../shared/rotation/generate-password';
import { resolvePasswordPolicy } from '../../shared/rotation/password-policy';
import { PASSWORD_POLICY_TAGS, passwordPolicyTagOverrides, secretPasswordPolicy } from '../../shared/rotation/password-policy-tags';
import { captureLogger } from '../support/rotation-endpoint';

const ARN = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:app-AbCdEf';
const TOKEN = 'token-1';
const CONTEXT = { secretId: ARN, step: 'createSecret' };
const base = resolvePasswordPolicy({}, 'postgres');
const tag = (Key: string, Value: string): Tag => ({ Key, Value });

describe('passwordPolicyTagOverrides', () => {
  it('reads every rule by its GetRandomPassword name, keys in any case; other tags are ignored', () => {
    const { policy, issues } = passwordPolicyTagOverrides([
      tag('dbrotation:PasswordLength', ' 48 '),
      tag('DBROTATION:excludecharacters', 'abc'),
      tag('dbrotation:ExcludeNumbers', 'yes'),
      tag('dbrotation:ExcludePunctuation', 'TRUE'),
      tag('dbrotation:ExcludeUppercase', '0'),
      tag('dbrotation:ExcludeLowercase', 'n'),
      tag('dbrotation:RequireEachIncludedType', 'false'),
      tag('team', 'payments'),
      tag('aws:rds:primarydbinstancearn', 'arn:aws:rds:us-east-1:000000000000:db:x'),
    ]);
    expect(issues).toEqual([]);
    expect(policy).toEqual({
      length: 48,
      excludeCharacters: 'abc',
      excludeNumbers: true,
      excludePunctuation: true,
      excludeUppercase: false,
      excludeLowercase: false,
      requireEachIncludedType: false,
    });
  });

  it('names each bad tag: not a number, not a boolean, unknown rule, the same rule twice', () => {
    const { issues } = passwordPolicyTagOverrides([
      tag('dbrotation:PasswordLength', '32.5'),
      tag('dbrotation:ExcludeNumbers', 'maybe'),
      tag('dbrotation:PasswordLenght', '20'),
      tag('dbrotation:excludenumbers', 'true'),
    ]);
    expect(issues.map((i) => i.path)).toEqual([
      'tag dbrotation:PasswordLength',
      'tag dbrotation:ExcludeNumbers',
      'tag dbrotation:PasswordLenght',
      'tag dbrotation:excludenumbers',
    ]);
  });
});

describe('secretPasswordPolicy', () => {
  it('is the function policy itself when no tag sets a rule', () => {
    expect(secretPasswordPolicy([tag('team', 'x')], base, 'postgres', CONTEXT)).toBe(base);
    expect(secretPasswordPolicy(undefined, base, 'postgres', CONTEXT)).toBe(base);
  });

  it('replaces only the rules the tags set, keeping the rest of the environment policy', () => {
    const fn = resolvePasswordPolicy({ length: 20, excludePunctuation: true }, 'mysql');
    const policy = secretPasswordPolicy([tag('dbrotation:PasswordLength', '64')], fn, 'mysql', CONTEXT);
    expect(policy).toEqual({ ...fn, length: 64 });
  });

  it('an empty ExcludeCharacters tag excludes nothing (replaces the engine default)', () => {
    const policy = secretPasswordPolicy([tag('dbrotation:ExcludeCharacters', '')], base, 'postgres', CONTEXT);
    expect(policy.excludeCharacters).toBe('');
  });

  it('refuses a combination the generator cannot satisfy, naming the tags and the secret, without the value', () => {
    const tags = [tag('dbrotation:PasswordLength', '3')];
    let thrown: unknown;
    try {
      secretPasswordPolicy(tags, base, 'postgres', CONTEXT);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(SecretValidationError);
    const err = thrown as SecretValidationError;
    expect(err.issues[0]?.path).toBe('tags dbrotation:PasswordLength');
    expect(err.message).toContain(ARN);
    expect(err.message).toContain('createSecret');
    expect(() => secretPasswordPolicy([tag('dbrotation:PasswordLength', '5000')], base, 'postgres', CONTEXT)).toThrow(/1 to 4096/);
  });
});

describe('createSecret with tags (mocked Secrets Manager)', () => {
  const sm = mockClient(SecretsManagerClient);
  function run(tags: Tag[], engine = postgresEngine, env: Record<string, string> = {}) {
    const CURRENT = JSON.stringify({ engine: engine.family, host: 'db.example', username: 'app', password: 'current-pw-123' });
    sm.reset();
    sm.on(DescribeSecretCommand).resolves({ ARN, RotationEnabled: true, VersionIdsToStages: { [TOKEN]: ['AWSPENDING'] }, Tags: tags });
    sm.on(GetSecretValueCommand, { VersionStage: 'AWSCURRENT' }).resolves({ ARN, SecretString: CURRENT });
    sm.on(GetSecretValueCommand, { VersionStage: 'AWSPENDING' }).rejects(
      Object.assign(new Error('no pending'), { name: 'ResourceNotFoundException', $metadata: {} }),
    );
    sm.on(PutSecretValueCommand).resolves({ ARN });
    const handler = createRotationHandler({
      engine,
      secretsClient: new SecretsManagerClient({ region: 'us-east-1' }),
      env,
      connect: async () => {
        throw new Error('createSecret never logs in');
      },
      logger: captureLogger(),
    });
    return handler({ SecretId: ARN, ClientRequestToken: TOKEN, Step: 'createSecret' });
  }

  function writtenPassword(): string {
    const calls = sm.commandCalls(PutSecretValueCommand);
    expect(calls).toHaveLength(1);
    return (JSON.parse(calls[0]!.args[0].input.SecretString!) as { password: string }).password;
  }

  it('generates the pending password under the tags, over the environment, with no extra request', async () => {
    await run(
      [
        tag(PASSWORD_POLICY_TAGS.length, '48'),
        tag(PASSWORD_POLICY_TAGS.excludePunctuation, 'true'),
        tag(PASSWORD_POLICY_TAGS.excludeNumbers, 'true'),
      ],
      postgresEngine,
      { PASSWORD_LENGTH: '20', EXCLUDE_UPPERCASE: 'true' },
    );
    const password = writtenPassword();
    expect(password).toHaveLength(48);
    // Upper case stays excluded (the environment's rule, not overridden); numbers and punctuation by the tags.
    expect([...password].every((c) => LOWERCASE.includes(c))).toBe(true);
    expect(sm.commandCalls(DescribeSecretCommand)).toHaveLength(1);
  });

  it('replaces the engine default exclusions with the tag set on MySQL too', async () => {
    await run([tag(PASSWORD_POLICY_TAGS.excludeCharacters, `${UPPERCASE}${DIGITS}${PUNCTUATION}`)], mysqlEngine);
    expect([...writtenPassword()].every((c) => LOWERCASE.includes(c))).toBe(true);
  });

  it('fails with SecretValidationError and writes nothing when a tag is invalid', async () => {
    await expect(run([tag(PASSWORD_POLICY_TAGS.requireEachIncludedType, 'sometimes')])).rejects.toBeInstanceOf(SecretValidationError);
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
    await expect(
      run([
        tag(PASSWORD_POLICY_TAGS.excludeLowercase, 'true'),
        tag(PASSWORD_POLICY_TAGS.excludeUppercase, 'true'),
        tag(PASSWORD_POLICY_TAGS.excludeNumbers, 'true'),
        tag(PASSWORD_POLICY_TAGS.excludePunctuation, 'true'),
      ]),
    ).rejects.toThrow(/excludes every character type/);
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });
});
