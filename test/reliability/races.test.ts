/**
 * Races: two RotateSecret calls on one secret at once; every step delivered twice concurrently (Lambda's
 * at-least-once delivery of async invocations); 50 secrets rotated with at most 10 in flight against one
 * PostgreSQL server.
 */
import { RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { canLoginPostgres } from '../../local/admin-connections';
import { createPostgresUser, type PostgresFixtureUser } from '../../local/fixtures';
import { postgresEngine } from '../../shared/engines/postgres';
import { isToolkitError } from '../../shared/errors';
import { createRotationHandler } from '../../shared/rotation/create-rotation-handler';
import { silentLogger } from '../../shared/rotation/logger';
import { recordFigure } from '../support/figures';
import { assertConverged } from '../support/invariants';
import { COMBINATIONS, readState, type Rig, rigSuite } from '../support/rotation-rig';
import { createSecret, lambdaArn, uniqueName } from '../support/rotation-endpoint';

const suite = rigSuite();

function rotateCommand(rig: Rig, functionArn = rig.functionArn): RotateSecretCommand {
  return new RotateSecretCommand({ SecretId: rig.secretId, RotationLambdaARN: functionArn });
}

describe.each(COMBINATIONS)('races: $engine, $strategy', (combination) => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await suite.rig(combination);
  });

  it('two RotateSecret calls at once: one is refused, the other completes', async () => {
    const before = await rig.state();
    const results = await Promise.allSettled([
      suite.endpoint.client.send(rotateCommand(rig)),
      suite.endpoint.client.send(rotateCommand(rig)),
    ]);
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect((refused[0]!.reason as { name?: string }).name).toBe('InvalidRequestException');
    await assertConverged(rig, before, 'two RotateSecret calls');
  });

  it('every step delivered twice at once: each delivery finishes or fails with a typed error, and the end state is consistent', async () => {
    const duplicateArn = lambdaArn(uniqueName('rel-twice'));
    const failures: string[] = [];
    suite.endpoint.local.registerRotationFunction(duplicateArn, async (event) => {
      const results = await Promise.allSettled([rig.handler(event), rig.handler(event)]);
      for (const r of results) {
        if (r.status === 'rejected') {
          expect(isToolkitError(r.reason)).toBe(true);
          failures.push(`${event.Step}:${(r.reason as { code: string }).code}`);
        }
      }
      // Secrets Manager needs one delivery to succeed; both failing is a failed step.
      if (results.every((r) => r.status === 'rejected')) throw (results[0] as PromiseRejectedResult).reason;
    });
    const before = await rig.state();
    await suite.endpoint.client.send(rotateCommand(rig, duplicateArn));
    await assertConverged(rig, before, 'duplicated steps');
    const text = rig.logs.text();
    const after = await rig.state();
    for (const c of [before.current, after.current]) expect(text.includes(c.password)).toBe(false);
    recordFigure(`duplicate.${combination.engine}.${combination.strategy}`, failures.join(',') || 'none failed');
  });
});

describe('50 secrets, at most 10 in flight, one PostgreSQL server', () => {
  const users: PostgresFixtureUser[] = [];
  afterAll(async () => {
    for (const u of users) await u.drop();
  });

  it('rotates every one: each new password logs in and each old one is refused', async () => {
    const count = 50;
    const limit = 10;
    for (let i = 0; i < count; i += 1) users.push(await createPostgresUser());
    const functionArn = lambdaArn(uniqueName('rel-fleet'));
    suite.endpoint.local.registerRotationFunction(
      functionArn,
      createRotationHandler({
        engine: postgresEngine,
        strategy: 'single-user',
        secretsClient: suite.endpoint.client,
        env: {},
        logger: silentLogger,
      }),
    );
    const ids = await Promise.all(
      users.map((u) =>
        createSecret(suite.endpoint.client, uniqueName('rel-fleet'), {
          engine: 'postgres',
          host: u.host,
          port: u.port,
          username: u.username,
          password: u.password,
          dbname: u.database,
          ssl: false,
        }),
      ),
    );
    let inFlight = 0;
    let peak = 0;
    const failures: string[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < ids.length) {
        const id = ids[next]!;
        next += 1;
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        try {
          await suite.endpoint.client.send(new RotateSecretCommand({ SecretId: id, RotationLambdaARN: functionArn }));
        } catch (err) {
          failures.push(`${id}: ${(err as { name?: string }).name}`);
        } finally {
          inFlight -= 1;
        }
      }
    };
    await Promise.all(Array.from({ length: limit }, worker));
    expect(failures).toEqual([]);
    expect(peak).toBeLessThanOrEqual(limit);
    for (const [i, id] of ids.entries()) {
      const state = await readState(suite.endpoint.client, id);
      expect(state.current.password).not.toBe(users[i]!.password);
      expect(await canLoginPostgres(users[i]!.username, state.current.password)).toBe(true);
      expect(await canLoginPostgres(users[i]!.username, users[i]!.password)).toBe(false);
    }
    recordFigure('fleet.postgres', `${count} secrets, peak ${peak} in flight, ${failures.length} failed`);
  });
});
