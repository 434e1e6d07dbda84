/**
 * Conformance: RotateSecret's refusals that hold on any endpoint. Rotations that run in-process
 * handlers are in rotation.embedded.test.ts.
 */
import { CreateSecretCommand, DescribeSecretCommand, RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { errorName, secretValue, startTarget, type Target } from '../support/conformance-harness';

let t: Target;
beforeAll(async () => {
  t = await startTarget();
});
afterAll(() => t.close());

test('RotateSecret with no Lambda ARN given or stored is InvalidRequestException', async () => {
  const name = t.name('rotate-no-lambda');
  await t.client.send(new CreateSecretCommand({ Name: name, SecretString: secretValue() }));
  expect(await errorName(t.client.send(new RotateSecretCommand({ SecretId: name })))).toBe('InvalidRequestException');
});

test('RotateSecret naming a Lambda that cannot be invoked fails the call and creates no AWSPENDING version', async () => {
  const name = t.name('rotate-missing-lambda');
  await t.client.send(new CreateSecretCommand({ Name: name, SecretString: secretValue() }));
  const call = t.client.send(
    new RotateSecretCommand({
      SecretId: name,
      RotationLambdaARN: 'arn:aws:lambda:us-east-1:000000000000:function:conformance-no-such-function',
      RotationRules: { AutomaticallyAfterDays: 30 },
    }),
  );
  expect(await errorName(call)).toBe('AccessDeniedException');
  const described = await t.client.send(new DescribeSecretCommand({ SecretId: name }));
  expect(Object.values(described.VersionIdsToStages ?? {})).toEqual([['AWSCURRENT']]);
});
