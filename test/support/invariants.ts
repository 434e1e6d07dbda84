/**
 * The two things every rotation test asserts, from outside the rotation: the strategy's availability
 * promise at one moment, and the end state a completed rotation must reach.
 */
import { connectMysqlAdmin, connectPostgresAdmin } from '../../local/admin-connections';
import { mysqlDifferences } from './mysql-equivalence';
import { postgresDifferences } from './postgres-equivalence';
import type { Rig, SecretState } from './rotation-rig';

/**
 * Alternating users: AWSCURRENT logs in. Single user: AWSCURRENT or AWSPENDING logs in (between the
 * password change and finishSecret only the pending one does). Undefined when the promise holds.
 */
export async function availabilityProblem(rig: Rig, where: string): Promise<string | undefined> {
  const state = await rig.state();
  const currentOk = await rig.canLogin(state.current);
  if (rig.combination.strategy === 'alternating-users') {
    return currentOk ? undefined : `${where}: AWSCURRENT (${state.current.username}) does not log in`;
  }
  if (currentOk) return undefined;
  const pendingOk = state.pending !== undefined && (await rig.canLogin(state.pending));
  return pendingOk ? undefined : `${where}: neither AWSCURRENT nor AWSPENDING logs in`;
}

/** The end state of a completed rotation, relative to the state before it; fails the test otherwise. */
export async function assertConverged(rig: Rig, before: SecretState, label: string): Promise<SecretState> {
  const after = await rig.state();
  const problems: string[] = [];
  if (after.current.versionId === before.current.versionId) problems.push('AWSCURRENT did not move');
  if (after.previous?.versionId !== before.current.versionId) problems.push('AWSPREVIOUS is not the replaced version');
  if (after.previous !== undefined && after.previous.password !== before.current.password) problems.push('AWSPREVIOUS lost its value');
  const strayPending = Object.entries(after.stages).filter(([, s]) => s.includes('AWSPENDING') && !s.includes('AWSCURRENT'));
  if (strayPending.length > 0) problems.push('an AWSPENDING label is left on a non-current version');
  if (!(await rig.canLogin(after.current))) problems.push('AWSCURRENT does not log in');
  if (rig.combination.strategy === 'single-user') {
    if (after.current.password === before.current.password) problems.push('the password did not change');
    if (await rig.canLogin(before.current)) problems.push('the replaced password still logs in');
  } else {
    if (after.current.username === before.current.username) problems.push('the username did not alternate');
    if (!(await rig.canLogin(before.current))) problems.push('the previous user no longer logs in');
    problems.push(...(await alternateDifferences(rig, before.current.username, after.current.username)));
  }
  expect({ label, problems }).toEqual({ label, problems: [] });
  return after;
}

/**
 * The equivalence check of issue 13, after every alternating rotation: the user AWSCURRENT now names
 * must be the same account as the one it replaced, in everything but name and password.
 */
export async function alternateDifferences(rig: Rig, original: string, alternate: string): Promise<string[]> {
  if (rig.combination.engine === 'mysql') {
    const admin = await connectMysqlAdmin();
    try {
      return (await mysqlDifferences(admin, original, alternate)).map((d) => `the alternate differs: ${d}`);
    } finally {
      await admin.end();
    }
  }
  const admin = await connectPostgresAdmin({ ...process.env, ...(rig.database !== undefined ? { PGDATABASE: rig.database } : {}) });
  try {
    // Only the rig's own database: other suites create and drop databases with database-wide settings
    // while this runs.
    const scope = rig.database !== undefined ? { databases: [rig.database] } : {};
    return (await postgresDifferences(admin, original, alternate, scope)).map((d) => `the alternate differs: ${d.what}`);
  } finally {
    await admin.end();
  }
}
