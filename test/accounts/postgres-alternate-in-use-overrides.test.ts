/**
 * A DBA's change to the clone while it is the login in use (AWSCURRENT): the DBA sees `app_clone` in
 * pg_stat_activity and tunes that role. The next rotation makes the clone the original's copy again and
 * switches the application to the original, which never had the change: it must not be undone without
 * a word. The warning names what changed (never a value) and where to make it; a change the DBA made
 * on the original only is carried quietly. Every name starts with `paio_`.
 */
import type { Client } from 'pg';
import { escapeIdentifier as id } from 'pg';
import { randomBytes } from 'node:crypto';
import { assertPostgresEquivalent } from '../support/postgres-equivalence';
import { rotate, secretValue } from '../support/rotation-endpoint';
import {
  admin,
  adminMasterValue,
  createRole,
  dropAll,
  password,
  secretValueFor,
  startRig,
  type Rig,
} from '../support/postgres-alternate-support';

const env = process.env;
let rig: Rig;
let db: Client;
let superMaster: string;
const roles: string[] = [];

beforeAll(async () => {
  rig = await startRig();
  db = await admin(env);
  superMaster = await rig.secret(adminMasterValue(env));
});

afterAll(async () => {
  await db?.end();
  await dropAll(env, roles);
  await rig?.close();
});

/** A role rotated once: its clone exists and is AWSCURRENT. */
async function cloneInUse(): Promise<{ user: string; clone: string; arn: string; here: string }> {
  const user = `paio_u_${randomBytes(4).toString('hex')}`;
  const pw = password();
  roles.push(user, `${user}_clone`);
  await createRole(db, user, pw);
  const arn = await rig.secret(secretValueFor(env, user, pw, { masterarn: superMaster }));
  await rotate(rig.endpoint.client, arn, rig.fn('alternating-users'));
  expect((await secretValue(rig.endpoint.client, arn)).username).toBe(`${user}_clone`);
  const here = String((await db.query('SELECT current_database() AS d')).rows[0].d);
  return { user, clone: `${user}_clone`, arn, here };
}

function warningsAbout(clone: string): string[] {
  return rig.logs.lines
    .filter((l) => l.level === 'warn' && String(l.message).startsWith(`"${clone}" is in use (AWSCURRENT) and had`))
    .map((l) => String(l.message));
}

describe('a DBA’s change to the clone in use', () => {
  it('is named (settings, per-database settings, CONNECTION LIMIT; never a value) when the rotation makes the clone the original’s copy again', async () => {
    const s = await cloneInUse();
    await db.query(`ALTER ROLE ${id(s.clone)} SET statement_timeout = '7123ms'`);
    await db.query(`ALTER ROLE ${id(s.clone)} IN DATABASE ${id(s.here)} SET work_mem = '8MB'`);
    await db.query(`ALTER ROLE ${id(s.clone)} CONNECTION LIMIT 40`);
    await rotate(rig.endpoint.client, s.arn, rig.fn('alternating-users'));
    await assertPostgresEquivalent(db, s.user, s.clone, { databases: [s.here] });
    expect((await secretValue(rig.endpoint.client, s.arn)).username).toBe(s.user);
    const [warning, ...more] = warningsAbout(s.clone);
    expect(more).toEqual([]);
    expect(warning).toContain('statement_timeout');
    expect(warning).toContain(`work_mem in database "${s.here}"`);
    expect(warning).toContain('CONNECTION LIMIT');
    expect(warning).toContain(`ALTER ROLE ${id(s.user)}`);
    expect(warning).not.toContain('7123');
    expect(warning).not.toMatch(/\brole\b,/);
  });

  it('a change the DBA made on the original only is carried without that warning', async () => {
    const s = await cloneInUse();
    await db.query(`ALTER ROLE ${id(s.user)} SET statement_timeout = '9s'`);
    await rotate(rig.endpoint.client, s.arn, rig.fn('alternating-users'));
    await assertPostgresEquivalent(db, s.user, s.clone, { databases: [s.here] });
    expect(warningsAbout(s.clone)).toEqual([]);
  });
});
