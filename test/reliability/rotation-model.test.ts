/**
 * Model-based (fast-check stateful) test of single-user rotation with a master, on both engines: random
 * sequences of rotations, rotations whose process crashes at the N-th external call, and what a DBA does
 * meanwhile (drifts the password, revokes or gives back a grant, locks or unlocks the account). After
 * every command, from outside:
 * - what the DBA decided holds: the lock and the grant are as the DBA last set them;
 * - an unlocked account is usable: AWSCURRENT (or, mid-rotation, AWSPENDING) logs in, or the DBA's
 *   drifted password still does while no rotation has healed it;
 * - a completed rotation (unlocked account) leaves AWSCURRENT logging in, nothing pending;
 * - a rotation of a locked account is refused (AUTH_FAILED, login-disabled) and changes no password.
 * Run counts are small: each command is a real rotation against the shared servers.
 */
import { RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import fc from 'fast-check';
import { connectMysqlAdmin, connectPostgresAdmin } from '../../local/admin-connections';
import { mysqlIdentifiedBy } from '../../local/fixtures/mysql';
import { fixturePassword, fixtureUsername } from '../../local/fixtures/names';
import { noteSensitive } from '../../local/sensitive-values';
import { scramSha256Verifier } from '../../shared/engines/password-hashes';
import type { EngineFamily } from '../../shared/database-secret';
import { recordFigure } from '../support/figures';
import { availabilityProblem } from '../support/invariants';
import { rigSuite, type Rig } from '../support/rotation-rig';
import { escapeIdentifier as ident, escapeLiteral as literal } from 'pg';

jest.setTimeout(180_000);

/** What the DBA does to the account, and what the test reads back, per engine. */
interface Dba {
  setLocked(user: string, locked: boolean): Promise<void>;
  setGranted(user: string, granted: boolean): Promise<void>;
  drift(user: string, password: string): Promise<void>;
  /** The lock, the grant and the stored password hash, as the server has them. */
  read(user: string): Promise<{ locked: boolean; granted: boolean; verifier: string }>;
}

async function pg<T>(work: (q: (sql: string) => Promise<Array<Record<string, unknown>>>) => Promise<T>): Promise<T> {
  const c = await connectPostgresAdmin();
  try {
    return await work(async (sql) => (await c.query(sql)).rows as Array<Record<string, unknown>>);
  } finally {
    await c.end();
  }
}

async function my<T>(work: (a: Awaited<ReturnType<typeof connectMysqlAdmin>>) => Promise<T>): Promise<T> {
  const a = await connectMysqlAdmin();
  try {
    return await work(a);
  } finally {
    await a.end();
  }
}

/** PostgreSQL: NOLOGIN, SELECT on a table of the test's own (created per user). */
const postgresDba: Dba = {
  setLocked: (user, locked) => pg((q) => q(`ALTER ROLE ${ident(user)} ${locked ? 'NOLOGIN' : 'LOGIN'}`)).then(() => undefined),
  setGranted: (user, granted) =>
    pg(async (q) => {
      await q(`CREATE TABLE IF NOT EXISTS public.${ident(`${user}_t`)} (id int)`);
      await q(`${granted ? 'GRANT' : 'REVOKE'} SELECT ON public.${ident(`${user}_t`)} ${granted ? 'TO' : 'FROM'} ${ident(user)}`);
    }),
  drift: (user, password) =>
    pg((q) => q(`ALTER ROLE ${ident(user)} PASSWORD ${literal(scramSha256Verifier(password))}`)).then(() => undefined),
  read: (user) =>
    pg(async (q) => {
      const rows = await q(
        `SELECT NOT rolcanlogin AS locked, rolpassword AS verifier, ` +
          `has_table_privilege(${literal(user)}, ${literal(`public.${user}_t`)}, 'SELECT') AS granted FROM pg_authid WHERE rolname = ${literal(user)}`,
      );
      const r = rows[0] ?? {};
      return { locked: r.locked === true, granted: r.granted === true, verifier: String(r.verifier) };
    }),
};

/** MySQL/MariaDB: ACCOUNT LOCK, the global PROCESS right. */
const mysqlDba: Dba = {
  setLocked: (user, locked) => my((a) => a.query(`ALTER USER ?@'%' ACCOUNT ${locked ? 'LOCK' : 'UNLOCK'}`, [user])).then(() => undefined),
  setGranted: (user, granted) =>
    my((a) => a.query(granted ? `GRANT PROCESS ON *.* TO ?@'%'` : `REVOKE PROCESS ON *.* FROM ?@'%'`, [user])).then(() => undefined),
  drift: (user, password) =>
    my(async (a) => a.query(`ALTER USER ${a.format("?@'%'", [user])} ${await mysqlIdentifiedBy(a, password)}`)).then(() => undefined),
  read: (user) =>
    my(async (a) => {
      const [shown] = await a.query(`SHOW CREATE USER ?@'%'`, [user]);
      const create = String(Object.values((shown as Array<Record<string, unknown>>)[0] ?? {})[0]);
      const [grants] = await a.query(`SHOW GRANTS FOR ?@'%'`, [user]);
      const granted = (grants as Array<Record<string, unknown>>).some((g) =>
        /^GRANT [^O]*\bPROCESS\b.* ON \*\.\*/.test(String(Object.values(g)[0])),
      );
      const [rows] = await a.query(`SELECT authentication_string AS v FROM mysql.user WHERE User = ? AND Host = '%'`, [user]);
      return { locked: /ACCOUNT LOCK/.test(create), granted, verifier: String((rows as Array<{ v: unknown }>)[0]?.v) };
    }),
};

interface Model {
  locked: boolean;
  granted: boolean;
  /** The DBA's password, set since the last completed rotation. */
  drifted: string | undefined;
}

interface Real {
  readonly rig: Rig;
  readonly dba: Dba;
}

/**
 * RotateSecret, as Secrets Manager runs it: re-attempting a stuck rotation with its token (the call
 * itself then answers 'a previous rotation isn't complete'). True when the rotation run completed.
 */
async function rotate(rig: Rig): Promise<boolean> {
  const runs = rig.endpoint.local.rotationHistory(rig.secretId).length;
  await rig.endpoint.client
    .send(new RotateSecretCommand({ SecretId: rig.secretId, RotationLambdaARN: rig.functionArn }))
    .catch(() => undefined);
  const history = rig.endpoint.local.rotationHistory(rig.secretId);
  return history.length > runs && history.at(-1)?.outcome === 'succeeded';
}

/** The refusal of the last failed step, from the rotation's own failure line. */
function lastRefusal(rig: Rig): { errorCode?: string; reason?: string } | undefined {
  const line = [...rig.logs.lines].reverse().find((l) => l.outcome === 'failure');
  return line === undefined ? undefined : { errorCode: line.errorCode, reason: line.reason };
}

/** The checks made after every command. */
async function invariant(m: Model, r: Real, after: string): Promise<void> {
  const seen = await r.dba.read(r.rig.baseUsername);
  expect({ after, locked: seen.locked, granted: seen.granted }).toEqual({ after, locked: m.locked, granted: m.granted });
  if (m.locked) return;
  const problem = await availabilityProblem(r.rig, after);
  const driftedLogsIn = m.drifted !== undefined && (await r.rig.canLogin({ username: r.rig.baseUsername, password: m.drifted }));
  expect({ after, problem: driftedLogsIn ? undefined : problem }).toEqual({ after, problem: undefined });
}

/** A rotation, re-attempting a stuck one as RotateSecret does: completes on an unlocked account, else refused with nothing changed. */
class Rotate implements fc.AsyncCommand<Model, Real> {
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    const before = await r.dba.read(r.rig.baseUsername);
    const ok = await rotate(r.rig);
    if (m.locked) {
      expect({ ok, refusal: lastRefusal(r.rig) }).toEqual({ ok: false, refusal: { errorCode: 'AUTH_FAILED', reason: 'login-disabled' } });
      expect((await r.dba.read(r.rig.baseUsername)).verifier).toBe(before.verifier);
    } else {
      expect({ ok, refusal: ok ? undefined : lastRefusal(r.rig) }).toEqual({ ok: true, refusal: undefined });
      const state = await r.rig.state();
      expect(state.pending).toBeUndefined();
      expect(await r.rig.canLogin(state.current)).toBe(true);
      m.drifted = undefined;
    }
    await invariant(m, r, this.toString());
  }
  toString = (): string => 'rotate';
}

/** A rotation whose process dies right after its N-th external call took effect (nothing else reaches a server). */
class CrashAt implements fc.AsyncCommand<Model, Real> {
  constructor(readonly n: number) {}
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    const before = await r.dba.read(r.rig.baseUsername);
    r.rig.injector.arm({ at: this.n, timing: 'crash' });
    const ok = await rotate(r.rig);
    const fired = r.rig.injector.fired !== undefined;
    r.rig.injector.reset();
    if (m.locked) {
      expect(ok).toBe(false);
      expect((await r.dba.read(r.rig.baseUsername)).verifier).toBe(before.verifier);
    } else if (!fired) {
      // N past the rotation's last call: it completed.
      expect(ok).toBe(true);
      m.drifted = undefined;
    }
    await invariant(m, r, this.toString());
  }
  toString = (): string => `crash after call ${this.n}`;
}

class Drift implements fc.AsyncCommand<Model, Real> {
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    const password = fixturePassword();
    noteSensitive(password);
    drifts.push(password);
    await r.dba.drift(r.rig.baseUsername, password);
    m.drifted = password;
    await invariant(m, r, this.toString());
  }
  toString = (): string => 'DBA drifts the password';
}

class ToggleGrant implements fc.AsyncCommand<Model, Real> {
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    m.granted = !m.granted;
    await r.dba.setGranted(r.rig.baseUsername, m.granted);
    await invariant(m, r, this.toString());
  }
  toString = (): string => 'DBA revokes or gives back the grant';
}

class ToggleLock implements fc.AsyncCommand<Model, Real> {
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    m.locked = !m.locked;
    await r.dba.setLocked(r.rig.baseUsername, m.locked);
    await invariant(m, r, this.toString());
  }
  toString = (): string => 'DBA locks or unlocks the account';
}

const drifts: string[] = [];
const suite = rigSuite();

const commands = [
  fc.constant(new Rotate()),
  fc.integer({ min: 1, max: 40 }).map((n) => new CrashAt(n)),
  fc.constant(new Drift()),
  fc.constant(new ToggleGrant()),
  fc.constant(new ToggleLock()),
];

const ENGINES: ReadonlyArray<{ engine: EngineFamily; dba: Dba }> = [
  { engine: 'postgres', dba: postgresDba },
  { engine: 'mysql', dba: mysqlDba },
];

afterAll(async () => {
  await pg(async (q) => {
    for (const r of rigs) await q(`DROP TABLE IF EXISTS public.${ident(`${r}_t`)}`);
  });
});
const rigs: string[] = [];

describe.each(ENGINES)('$engine, single user with a master', ({ engine, dba }) => {
  it('random rotations, crashes and DBA changes keep the account usable and the DBA in charge', async () => {
    const made: Rig[] = [];
    let commandsRun = 0;
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 10 }), async (cmds) => {
        const rig = await suite.rig({ engine, strategy: 'single-user' }, { withMaster: true, username: fixtureUsername('rcr') });
        made.push(rig);
        rigs.push(rig.baseUsername);
        await dba.setGranted(rig.baseUsername, true);
        commandsRun += [...cmds].length;
        await fc.asyncModelRun(() => ({ model: { locked: false, granted: true, drifted: undefined }, real: { rig, dba } }), cmds);
        // Whatever the sequence left, the DBA's unlock and one more rotation complete it.
        await dba.setLocked(rig.baseUsername, false);
        expect(await rotate(rig)).toBe(true);
        expect(await rig.canLogin((await rig.state()).current)).toBe(true);
      }),
      { numRuns: 8 },
    );
    recordFigure(`model.${engine}.commands`, commandsRun);
    recordFigure(
      `model.${engine}.rotationRuns`,
      made.map((r) => r.endpoint.local.rotationHistory(r.secretId).length).reduce((a, b) => a + b, 0),
    );
    const text = made.map((r) => r.logs.text()).join('\n') + suite.endpoint.logLines.join('\n');
    expect(drifts.filter((p) => text.includes(p))).toEqual([]);
  });
});
