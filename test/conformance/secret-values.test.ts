/**
 * Conformance: reading and writing values (GetSecretValue, BatchGetSecretValue, PutSecretValue,
 * ListSecretVersionIds) and ClientRequestToken idempotency. Portable.
 */
import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { errorName, rejection, secretValue, startTarget, token, type Target } from '../support/conformance-harness';

let t: Target;
beforeAll(async () => {
  t = await startTarget();
});
afterAll(() => t.close());

async function secretWith(label: string, value = secretValue()): Promise<{ name: string; arn: string; versionId: string }> {
  const name = t.name(label);
  const out = await t.client.send(new CreateSecretCommand({ Name: name, SecretString: value }));
  return { name, arn: out.ARN!, versionId: out.VersionId! };
}

describe('GetSecretValue', () => {
  test('returns AWSCURRENT by default, with the version id, stages and CreatedDate', async () => {
    const value = secretValue();
    const { name, arn, versionId } = await secretWith('get-default', value);
    const out = await t.client.send(new GetSecretValueCommand({ SecretId: arn }));
    expect(out).toMatchObject({ ARN: arn, Name: name, VersionId: versionId, SecretString: value, VersionStages: ['AWSCURRENT'] });
    expect(out.CreatedDate).toBeInstanceOf(Date);
    expect(out.$metadata.requestId).toEqual(expect.any(String));
  });

  test('SecretBinary round-trips as bytes', async () => {
    const name = t.name('binary');
    const bytes = Uint8Array.from([0, 1, 2, 250, 255, 10, 13]);
    await t.client.send(new CreateSecretCommand({ Name: name, SecretBinary: bytes }));
    const out = await t.client.send(new GetSecretValueCommand({ SecretId: name }));
    expect(out.SecretString).toBeUndefined();
    expect(Buffer.from(out.SecretBinary!)).toEqual(Buffer.from(bytes));
  });

  test('by VersionStage and by VersionId', async () => {
    const first = secretValue('first');
    const { name, versionId } = await secretWith('get-stage', first);
    const second = secretValue('second');
    await t.client.send(new PutSecretValueCommand({ SecretId: name, SecretString: second }));
    expect((await t.client.send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSPREVIOUS' }))).SecretString).toBe(first);
    expect((await t.client.send(new GetSecretValueCommand({ SecretId: name, VersionId: versionId }))).SecretString).toBe(first);
  });

  test('VersionId and VersionStage must name the same version, else ResourceNotFoundException', async () => {
    const { name, versionId } = await secretWith('get-mismatch');
    await t.client.send(new PutSecretValueCommand({ SecretId: name, SecretString: secretValue() }));
    const both = await t.client.send(new GetSecretValueCommand({ SecretId: name, VersionId: versionId, VersionStage: 'AWSPREVIOUS' }));
    expect(both.VersionId).toBe(versionId);
    expect(
      await errorName(t.client.send(new GetSecretValueCommand({ SecretId: name, VersionId: versionId, VersionStage: 'AWSCURRENT' }))),
    ).toBe('ResourceNotFoundException');
  });

  test('an unknown VersionId or stage is ResourceNotFoundException', async () => {
    const { name } = await secretWith('get-unknown');
    expect(await errorName(t.client.send(new GetSecretValueCommand({ SecretId: name, VersionId: token() })))).toBe(
      'ResourceNotFoundException',
    );
    expect(await errorName(t.client.send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'NOPE' })))).toBe(
      'ResourceNotFoundException',
    );
  });
});

describe('BatchGetSecretValue', () => {
  test('returns the AWSCURRENT values of a SecretIdList and reports unknown ids as errors', async () => {
    const a = await secretWith('batch-a');
    const b = await secretWith('batch-b');
    const missing = t.name('batch-missing');
    const out = await t.client.send(new BatchGetSecretValueCommand({ SecretIdList: [a.name, b.arn, missing] }));
    expect(out.SecretValues?.map((v) => v.Name).sort()).toEqual([a.name, b.name].sort());
    expect(out.Errors).toEqual([expect.objectContaining({ SecretId: missing, ErrorCode: 'ResourceNotFoundException' })]);
  });

  test('with Filters returns the matching secrets', async () => {
    const a = await secretWith('batch-filter');
    const out = await t.client.send(new BatchGetSecretValueCommand({ Filters: [{ Key: 'name', Values: [a.name] }] }));
    expect(out.SecretValues?.map((v) => v.VersionId)).toEqual([a.versionId]);
  });
});

describe('PutSecretValue', () => {
  test('defaults to AWSCURRENT and moves AWSPREVIOUS to the version that lost it', async () => {
    const { name, versionId: v1 } = await secretWith('put-default');
    const v2 = (await t.client.send(new PutSecretValueCommand({ SecretId: name, SecretString: secretValue() }))).VersionId!;
    const v3 = (await t.client.send(new PutSecretValueCommand({ SecretId: name, SecretString: secretValue() }))).VersionId!;
    const out = await t.client.send(new DescribeSecretCommand({ SecretId: name }));
    expect(out.VersionIdsToStages).toEqual({ [v2]: ['AWSPREVIOUS'], [v3]: ['AWSCURRENT'] });
    // v1 lost its last label: deprecated, listed only with IncludeDeprecated.
    const listed = await t.client.send(new ListSecretVersionIdsCommand({ SecretId: name }));
    expect(listed.Versions?.map((v) => v.VersionId).sort()).toEqual([v2, v3].sort());
    const all = await t.client.send(new ListSecretVersionIdsCommand({ SecretId: name, IncludeDeprecated: true }));
    expect(all.Versions?.map((v) => v.VersionId)).toContain(v1);
  });

  test('VersionStages [AWSPENDING] leaves AWSCURRENT where it is', async () => {
    const current = secretValue('current');
    const { name, versionId } = await secretWith('put-pending', current);
    const pendingId = token();
    const out = await t.client.send(
      new PutSecretValueCommand({
        SecretId: name,
        SecretString: secretValue(),
        ClientRequestToken: pendingId,
        VersionStages: ['AWSPENDING'],
      }),
    );
    expect(out.VersionStages).toEqual(['AWSPENDING']);
    expect((await t.client.send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe(current);
    const described = await t.client.send(new DescribeSecretCommand({ SecretId: name }));
    expect(described.VersionIdsToStages).toEqual({ [versionId]: ['AWSCURRENT'], [pendingId]: ['AWSPENDING'] });
  });

  test('a label given to a new version is taken from the version that had it', async () => {
    const { name } = await secretWith('put-move-label');
    const a = token();
    const b = token();
    await t.client.send(
      new PutSecretValueCommand({ SecretId: name, SecretString: secretValue(), ClientRequestToken: a, VersionStages: ['MINE'] }),
    );
    await t.client.send(
      new PutSecretValueCommand({ SecretId: name, SecretString: secretValue(), ClientRequestToken: b, VersionStages: ['MINE'] }),
    );
    const out = await t.client.send(new DescribeSecretCommand({ SecretId: name }));
    expect(out.VersionIdsToStages?.[b]).toEqual(['MINE']);
    expect(out.VersionIdsToStages?.[a]).toBeUndefined();
  });

  test('the same ClientRequestToken with the same value succeeds without a new version', async () => {
    const { name } = await secretWith('put-idempotent');
    const value = secretValue();
    const versionId = token();
    await t.client.send(new PutSecretValueCommand({ SecretId: name, SecretString: value, ClientRequestToken: versionId }));
    const again = await t.client.send(new PutSecretValueCommand({ SecretId: name, SecretString: value, ClientRequestToken: versionId }));
    expect(again.VersionId).toBe(versionId);
    const versions = await t.client.send(new ListSecretVersionIdsCommand({ SecretId: name, IncludeDeprecated: true }));
    expect(versions.Versions).toHaveLength(2);
  });

  test('the same ClientRequestToken with another value is ResourceExistsException, naming no value', async () => {
    const { name } = await secretWith('put-conflict');
    const versionId = token();
    const first = secretValue('first');
    const second = secretValue('second');
    await t.client.send(new PutSecretValueCommand({ SecretId: name, SecretString: first, ClientRequestToken: versionId }));
    const err = await rejection(
      t.client.send(new PutSecretValueCommand({ SecretId: name, SecretString: second, ClientRequestToken: versionId })),
    );
    expect(err.name).toBe('ResourceExistsException');
    expect(err.message).not.toContain(second);
    expect(err.message).not.toContain(first);
    expect((await t.client.send(new GetSecretValueCommand({ SecretId: name, VersionId: versionId }))).SecretString).toBe(first);
  });

  test('CreateSecret retried with the same token and value succeeds with the same version', async () => {
    const name = t.name('create-idempotent');
    const value = secretValue();
    const versionId = token();
    const first = await t.client.send(new CreateSecretCommand({ Name: name, SecretString: value, ClientRequestToken: versionId }));
    const again = await t.client.send(new CreateSecretCommand({ Name: name, SecretString: value, ClientRequestToken: versionId }));
    expect(again.ARN).toBe(first.ARN);
    expect(again.VersionId).toBe(versionId);
  });

  test('PutSecretValue without a value is refused', async () => {
    const { name } = await secretWith('put-empty');
    expect(await errorName(t.client.send(new PutSecretValueCommand({ SecretId: name })))).toMatch(
      /^(InvalidRequestException|InvalidParameterException)$/,
    );
  });

  test('PutSecretValue accepts a RotationToken', async () => {
    const { name } = await secretWith('put-rotation-token');
    const out = await t.client.send(new PutSecretValueCommand({ SecretId: name, SecretString: secretValue(), RotationToken: token() }));
    expect(out.VersionStages).toEqual(['AWSCURRENT']);
  });
});

describe('ListSecretVersionIds', () => {
  test('lists labelled versions with stages and dates, paging with MaxResults', async () => {
    const { name } = await secretWith('list-versions');
    await t.client.send(new PutSecretValueCommand({ SecretId: name, SecretString: secretValue() }));
    const first = await t.client.send(new ListSecretVersionIdsCommand({ SecretId: name, MaxResults: 1 }));
    expect(first.Versions).toHaveLength(1);
    expect(first.NextToken).toBeDefined();
    const second = await t.client.send(new ListSecretVersionIdsCommand({ SecretId: name, MaxResults: 1, NextToken: first.NextToken }));
    expect(second.Versions).toHaveLength(1);
    const stages = [...first.Versions!, ...second.Versions!].flatMap((v) => v.VersionStages).sort();
    expect(stages).toEqual(['AWSCURRENT', 'AWSPREVIOUS']);
    expect(first.Versions![0]!.CreatedDate).toBeInstanceOf(Date);
  });
});

describe('UpdateSecretVersionStage', () => {
  async function twoVersions(label: string): Promise<{ name: string; v1: string; v2: string }> {
    const { name, versionId: v1 } = await secretWith(label);
    const v2 = (await t.client.send(new PutSecretValueCommand({ SecretId: name, SecretString: secretValue() }))).VersionId!;
    return { name, v1, v2 };
  }

  test('moving AWSCURRENT back moves AWSPREVIOUS to the version that lost it', async () => {
    const { name, v1, v2 } = await twoVersions('stage-rollback');
    await t.client.send(
      new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSCURRENT', MoveToVersionId: v1, RemoveFromVersionId: v2 }),
    );
    const out = await t.client.send(new DescribeSecretCommand({ SecretId: name }));
    expect(out.VersionIdsToStages).toEqual({ [v1]: ['AWSCURRENT'], [v2]: ['AWSPREVIOUS'] });
  });

  test('moving a label attached elsewhere without RemoveFromVersionId is InvalidParameterException', async () => {
    const { name, v1, v2 } = await twoVersions('stage-no-remove');
    const call = t.client.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSCURRENT', MoveToVersionId: v1 }));
    expect(await errorName(call)).toBe('InvalidParameterException');
    const out = await t.client.send(new DescribeSecretCommand({ SecretId: name }));
    expect(out.VersionIdsToStages?.[v2]).toEqual(['AWSCURRENT']);
  });

  test('RemoveFromVersionId naming a version that does not hold the label is InvalidParameterException', async () => {
    const { name, v1 } = await twoVersions('stage-wrong-remove');
    const call = t.client.send(
      new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSCURRENT', MoveToVersionId: v1, RemoveFromVersionId: v1 }),
    );
    expect(await errorName(call)).toBe('InvalidParameterException');
  });

  test('a custom label can be attached, moved and removed', async () => {
    const { name, v1, v2 } = await twoVersions('stage-custom');
    await t.client.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'BLUE', MoveToVersionId: v1 }));
    await t.client.send(
      new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'BLUE', MoveToVersionId: v2, RemoveFromVersionId: v1 }),
    );
    let out = await t.client.send(new DescribeSecretCommand({ SecretId: name }));
    expect(out.VersionIdsToStages?.[v2]).toEqual(expect.arrayContaining(['AWSCURRENT', 'BLUE']));
    expect(out.VersionIdsToStages?.[v1]).toEqual(['AWSPREVIOUS']);
    await t.client.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'BLUE', RemoveFromVersionId: v2 }));
    out = await t.client.send(new DescribeSecretCommand({ SecretId: name }));
    expect(out.VersionIdsToStages?.[v2]).toEqual(['AWSCURRENT']);
  });

  test('AWSCURRENT cannot be removed without moving it', async () => {
    const { name, v2 } = await twoVersions('stage-remove-current');
    const call = t.client.send(
      new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSCURRENT', RemoveFromVersionId: v2 }),
    );
    expect(await errorName(call)).toBe('InvalidParameterException');
  });

  test('finishSecret-style: moving AWSCURRENT to the AWSPENDING version keeps AWSPENDING there until removed', async () => {
    const { name, versionId: v1 } = await secretWith('stage-finish');
    const pending = token();
    await t.client.send(
      new PutSecretValueCommand({
        SecretId: name,
        SecretString: secretValue(),
        ClientRequestToken: pending,
        VersionStages: ['AWSPENDING'],
      }),
    );
    await t.client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: name,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: pending,
        RemoveFromVersionId: v1,
      }),
    );
    const out = await t.client.send(new DescribeSecretCommand({ SecretId: name }));
    expect(out.VersionIdsToStages?.[v1]).toEqual(['AWSPREVIOUS']);
    expect([...(out.VersionIdsToStages?.[pending] ?? [])].sort()).toEqual(['AWSCURRENT', 'AWSPENDING']);
  });
});
