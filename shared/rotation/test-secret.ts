/** testSecret: AWSPENDING logs in and runs the test query (default `SELECT 1`, or TEST_QUERY). */
import { AWSPENDING, readDatabaseSecret } from './secret-versions';
import { login, withSession } from './login';
import type { StepContext, StepResult } from './step-context';

export async function testSecret(ctx: StepContext): Promise<StepResult> {
  const pending = await readDatabaseSecret(
    { client: ctx.client, step: ctx.step },
    ctx.secretArn,
    { stage: AWSPENDING, versionId: ctx.event.token },
    ctx.engine.family,
  );
  const session = await login(ctx, pending, 'pending');
  await withSession(session, (s) => ctx.engine.runTestQuery(s, ctx.settings.testQuery));
  return 'success';
}
