/**
 * Conformance: creating, describing, updating, deleting, restoring and tagging secrets, through the
 * real SDK client. Portable: runs against SECRETS_MANAGER_ENDPOINT when it is set.
 */
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretCommand,
} from '@aws-sdk/client-secrets-manager';
import { errorName, rejection, secretValue, startTarget, token, type Target } from '../support/conformance-harness';

let t: Target;
beforeAll(async () => {
  t = await startTarget();
});
afterAll(() => t.close());

describe('CreateSecret', () => {
  test('returns an ARN of the form arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 chars>', async () => {
    const name = t.name('arn-form');
    const out = await t.client.send(new CreateSecretCommand({ Name: name, SecretString: secretValue() }));
    const escaped = name.replace(/[/+=.@-]/g, (c) => `\\${c}`);
    expect(out.ARN).toMatch(new RegExp(`^arn:aws:secretsmanager:[a-z0-9-]+:\\d{12}:secret:${escaped}-[A-Za-z0-9]{6}$`));
    expect(out.Name).toBe(name);
    expect(out.VersionId).toBeDefined();
  });

  test('uses the ClientRequestToken as the first version id, labelled AWSCURRENT', async () => {
    const name = t.name('first-version');
    const versionId = token();
    await t.client.send(new CreateSecretCommand({ Name: name, SecretString: secretValue(), ClientRequestToken: versionId }));
    const described = await t.client.send(new DescribeSecretCommand({ SecretId: name }));
    expect(described.VersionIdsToStages).toEqual({ [versionId]: ['AWSCURRENT'] });
  });

  test('without a value creates the secret with no version, and GetSecretValue finds nothing', async () => {
    const name = t.name('no-value');
    const out = await t.client.send(new CreateSecretCommand({ Name: name }));
    expect(out.VersionId).toBeUndefined();
    expect(await errorName(t.client.send(new GetSecretValueCommand({ SecretId: name })))).toBe('ResourceNotFoundException');
  });

  test('refuses an existing name with ResourceExistsException', async () => {
    const name = t.name('exists');
    await t.client.send(new CreateSecretCommand({ Name: name, SecretString: secretValue() }));
    expect(await errorName(t.client.send(new CreateSecretCommand({ Name: name, SecretString: secretValue() })))).toBe(
      'ResourceExistsException',
    );
  });

  test('refuses both SecretString and SecretBinary with InvalidParameterException', async () => {
    const name = t.name('both');
    const call = t.client.send(new CreateSecretCommand({ Name: name, SecretString: secretValue(), SecretBinary: Buffer.from('abc') }));
    expect(await errorName(call)).toBe('InvalidParameterException');
  });

  test('refuses a name with characters outside A-Za-z0-9/_+=.@- with InvalidParameterException', async () => {
    expect(await errorName(t.client.send(new CreateSecretCommand({ Name: `${t.name('bad')}#x`, SecretString: 'x' })))).toBe(
      'InvalidParameterException',
    );
  });

  test('refuses a SecretString over 64 KiB, and the error does not quote the value', async () => {
    const big = `${secretValue()}${'x'.repeat(65_536)}`;
    const err = await rejection(t.client.send(new CreateSecretCommand({ Name: t.name('big'), SecretString: big })));
    expect(err.name).toBe('ValidationException');
    expect(err.$metadata?.httpStatusCode).toBe(400);
    expect(err.message).not.toContain('xxxxxxxx');
  });
});

describe('DescribeSecret', () => {
  test('accepts the name, the full ARN and the partial ARN alike', async () => {
    const name = t.name('ids');
    const { ARN } = await t.client.send(new CreateSecretCommand({ Name: name, SecretString: secretValue() }));
    const partial = ARN!.slice(0, -7);
    for (const SecretId of [name, ARN!, partial]) {
      const out = await t.client.send(new DescribeSecretCommand({ SecretId }));
      expect(out.ARN).toBe(ARN);
    }
  });

  test('returns Description, Tags, dates as Date objects and VersionIdsToStages', async () => {
    const name = t.name('describe');
    const before = Date.now() - 5 * 60_000;
    await t.client.send(
      new CreateSecretCommand({
        Name: name,
        Description: 'conformance describe',
        SecretString: secretValue(),
        Tags: [{ Key: 'team', Value: 'db' }],
      }),
    );
    const out = await t.client.send(new DescribeSecretCommand({ SecretId: name }));
    expect(out.Description).toBe('conformance describe');
    expect(out.Tags).toEqual([{ Key: 'team', Value: 'db' }]);
    expect(out.CreatedDate).toBeInstanceOf(Date);
    expect(out.CreatedDate!.getTime()).toBeGreaterThan(before);
    expect(out.LastChangedDate).toBeInstanceOf(Date);
    expect(Object.values(out.VersionIdsToStages ?? {})).toEqual([['AWSCURRENT']]);
    expect(out.DeletedDate).toBeUndefined();
  });

  test('an unknown secret is ResourceNotFoundException', async () => {
    expect(await errorName(t.client.send(new DescribeSecretCommand({ SecretId: t.name('missing') })))).toBe('ResourceNotFoundException');
  });
});

describe('UpdateSecret', () => {
  test('a new value becomes AWSCURRENT and the old one AWSPREVIOUS; the description changes', async () => {
    const name = t.name('update');
    const first = secretValue('first');
    const second = secretValue('second');
    const created = await t.client.send(new CreateSecretCommand({ Name: name, SecretString: first }));
    const updated = await t.client.send(new UpdateSecretCommand({ SecretId: name, SecretString: second, Description: 'changed' }));
    expect(updated.VersionId).not.toBe(created.VersionId);
    const out = await t.client.send(new DescribeSecretCommand({ SecretId: name }));
    expect(out.Description).toBe('changed');
    expect(out.VersionIdsToStages).toEqual({
      [created.VersionId!]: ['AWSPREVIOUS'],
      [updated.VersionId!]: ['AWSCURRENT'],
    });
    const value = await t.client.send(new GetSecretValueCommand({ SecretId: name }));
    expect(value.SecretString).toBe(second);
  });

  test('metadata only: no new version', async () => {
    const name = t.name('update-meta');
    const created = await t.client.send(new CreateSecretCommand({ Name: name, SecretString: secretValue() }));
    const out = await t.client.send(new UpdateSecretCommand({ SecretId: name, Description: 'meta only' }));
    expect(out.VersionId).toBeUndefined();
    const described = await t.client.send(new DescribeSecretCommand({ SecretId: name }));
    expect(Object.keys(described.VersionIdsToStages ?? {})).toEqual([created.VersionId]);
  });
});

describe('DeleteSecret and RestoreSecret', () => {
  test('a recovery window schedules deletion: DeletedDate is set, values are refused, Restore undoes it', async () => {
    const name = t.name('delete-window');
    const value = secretValue();
    await t.client.send(new CreateSecretCommand({ Name: name, SecretString: value }));
    const deleted = await t.client.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 7 }));
    const days = (deleted.DeletionDate!.getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.9);
    expect(days).toBeLessThan(8);
    const described = await t.client.send(new DescribeSecretCommand({ SecretId: name }));
    expect(described.DeletedDate).toBeInstanceOf(Date);
    expect(await errorName(t.client.send(new GetSecretValueCommand({ SecretId: name })))).toBe('InvalidRequestException');
    expect(await errorName(t.client.send(new PutSecretValueCommand({ SecretId: name, SecretString: value })))).toBe(
      'InvalidRequestException',
    );
    expect(await errorName(t.client.send(new CreateSecretCommand({ Name: name, SecretString: value })))).toBe('InvalidRequestException');

    await t.client.send(new RestoreSecretCommand({ SecretId: name }));
    const restored = await t.client.send(new GetSecretValueCommand({ SecretId: name }));
    expect(restored.SecretString).toBe(value);
    expect((await t.client.send(new DescribeSecretCommand({ SecretId: name }))).DeletedDate).toBeUndefined();
  });

  test('a scheduled secret is hidden from ListSecrets unless IncludePlannedDeletion', async () => {
    const name = t.name('delete-list');
    await t.client.send(new CreateSecretCommand({ Name: name, SecretString: secretValue() }));
    await t.client.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 7 }));
    const filters = [{ Key: 'name' as const, Values: [name] }];
    const hidden = await t.client.send(new ListSecretsCommand({ Filters: filters }));
    expect(hidden.SecretList ?? []).toHaveLength(0);
    const shown = await t.client.send(new ListSecretsCommand({ Filters: filters, IncludePlannedDeletion: true }));
    expect(shown.SecretList?.map((s) => s.Name)).toEqual([name]);
  });

  test('ForceDeleteWithoutRecovery with RecoveryWindowInDays is InvalidParameterException', async () => {
    const name = t.name('delete-both');
    await t.client.send(new CreateSecretCommand({ Name: name, SecretString: secretValue() }));
    const call = t.client.send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true, RecoveryWindowInDays: 7 }));
    expect(await errorName(call)).toBe('InvalidParameterException');
  });

  test('a recovery window outside 7-30 days is InvalidParameterException', async () => {
    const name = t.name('delete-window-range');
    await t.client.send(new CreateSecretCommand({ Name: name, SecretString: secretValue() }));
    expect(await errorName(t.client.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 3 })))).toBe(
      'InvalidParameterException',
    );
  });

  test('deleting an already scheduled secret again without force is InvalidRequestException', async () => {
    const name = t.name('delete-twice');
    await t.client.send(new CreateSecretCommand({ Name: name, SecretString: secretValue() }));
    await t.client.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 7 }));
    expect(await errorName(t.client.send(new DeleteSecretCommand({ SecretId: name })))).toBe('InvalidRequestException');
  });
});

describe('TagResource and UntagResource', () => {
  test('tags are added, overwritten by key, and removed', async () => {
    const name = t.name('tags');
    await t.client.send(new CreateSecretCommand({ Name: name, SecretString: secretValue(), Tags: [{ Key: 'a', Value: '1' }] }));
    await t.client.send(
      new TagResourceCommand({
        SecretId: name,
        Tags: [
          { Key: 'a', Value: '2' },
          { Key: 'b', Value: '3' },
        ],
      }),
    );
    let tags = (await t.client.send(new DescribeSecretCommand({ SecretId: name }))).Tags ?? [];
    expect([...tags].sort((x, y) => x.Key!.localeCompare(y.Key!))).toEqual([
      { Key: 'a', Value: '2' },
      { Key: 'b', Value: '3' },
    ]);
    await t.client.send(new UntagResourceCommand({ SecretId: name, TagKeys: ['a'] }));
    tags = (await t.client.send(new DescribeSecretCommand({ SecretId: name }))).Tags ?? [];
    expect(tags).toEqual([{ Key: 'b', Value: '3' }]);
  });
});
