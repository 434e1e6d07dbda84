/**
 * Model-based (fast-check stateful) test, both engines, single user with a master and alternating users:
 * random sequences of rotations, rotations whose N-th external call fails (the process crashes right
 * after it, or its answer or request is lost), and what a DBA does meanwhile: drifts a password (single
 * user: the user's; alternating: the idle user's), revokes or gives back a grant (on the user in use; on
 * PostgreSQL the original, which the clone inherits from), locks or unlocks the user in use. After every command, from outside:
 * - what the DBA decided holds: the lock and the grant are as the DBA last set them;
 * - an unlocked account is usable: AWSCURRENT (single user, mid-rotation: AWSPENDING) logs in, or the
 *   DBA's drifted password still does while no rotation has healed it;
 * - a completed rotation leaves AWSCURRENT logging in and nothing pending; alternating, the new user is
 *   the same account as the one it replaced (the equivalence check of issue 13);
 * - a rotation while the user in use is locked is refused (AUTH_FAILED, login-disabled) and changes
 *   none of its password.
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
import type { RotationStrategyName } from '../../shared/rotation/rotation-settings';
import type { FaultTiming } from '../support/fault-injection';
import { recordFigure } from '../support/figures';
import { alternateDifferences, availabilityProblem } from '../support/invariants';
import { rigSuite, type Rig } from '../support/rotation-rig';
import { escapeIdentifier as ident, escapeLiteral as literal } from 'pg';

jest.setTimeout(180_000);

/** What the DBA does to an account, and what the test reads back, per engine. */
interface Dba {
  setLocked(user: string, locked: boolean): Promise<void>;
  /** Grants or revokes the scenario's right (on PostgreSQL, SELECT on `<base>_t`). */
  setGranted(base: string, user: string, granted: boolean): Promise<void>;
  drift(user: string, password: string): Promise<void>;
  /** The lock, the right (held directly or inherited) and the stored password hash, as the server has them. */
  read(base: string, user: string): Promise<{ locked: boolean; granted: boolean; verifier: string }>;
  /** Whom the DBA grants to: the user in use (MySQL), or the original, whose rights the clone inherits (PostgreSQL). */
  grantee(base: string, current: string): string;
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

/** PostgreSQL: NOLOGIN, SELECT on a table of the test's own (one per user). */
const postgresDba: Dba = {
  setLocked: (user, locked) => pg((q) => q(`ALTER ROLE ${ident(user)} ${locked ? 'NOLOGIN' : 'LOGIN'}`)).then(() => undefined),
  setGranted: (base, user, granted) =>
    pg(async (q) => {
      await q(`CREATE TABLE IF NOT EXISTS public.${ident(`${base}_t`)} (id int)`);
      await q(`${granted ? 'GRANT' : 'REVOKE'} SELECT ON public.${ident(`${base}_t`)} ${granted ? 'TO' : 'FROM'} ${ident(user)}`);
    }),
  drift: (user, password) =>
    pg((q) => q(`ALTER ROLE ${ident(user)} PASSWORD ${literal(scramSha256Verifier(password))}`)).then(() => undefined),
  read: (base, user) =>
    pg(async (q) => {
      const rows = await q(
        `SELECT NOT rolcanlogin AS locked, rolpassword AS verifier, ` +
          `has_table_privilege(${literal(user)}, ${literal(`public.${base}_t`)}, 'SELECT') AS granted FROM pg_authid WHERE rolname = ${literal(user)}`,
      );
      const r = rows[0] ?? {};
      return { locked: r.locked === true, granted: r.granted === true, verifier: String(r.verifier) };
    }),
  grantee: (base) => base,
};

/** MySQL/MariaDB: ACCOUNT LOCK, the global PROCESS right. */
const mysqlDba: Dba = {
  setLocked: (user, locked) => my((a) => a.query(`ALTER USER ?@'%' ACCOUNT ${locked ? 'LOCK' : 'UNLOCK'}`, [user])).then(() => undefined),
  setGranted: (_base, user, granted) =>
    my((a) => a.query(granted ? `GRANT PROCESS ON *.* TO ?@'%'` : `REVOKE PROCESS ON *.* FROM ?@'%'`, [user])).then(() => undefined),
  drift: (user, password) =>
    my(async (a) => a.query(`ALTER USER ${a.format("?@'%'", [user])} ${await mysqlIdentifiedBy(a, password)}`)).then(() => undefined),
  read: (_base, user) =>
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
  grantee: (_base, current) => current,
};

interface Model {
  /** The user the DBA locked (the one in use then), if any. */
  lockedUser: string | undefined;
  granted: boolean;
  /** Single user: the DBA's password, set since the last completed rotation. */
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

function alternating(r: Real): boolean {
  return r.rig.combination.strategy === 'alternating-users';
}

/** The checks made after every command. */
async function invariant(m: Model, r: Real, after: string): Promise<void> {
  const base = r.rig.baseUsername;
  const current = (await r.rig.state()).current.username;
  const seen = await r.dba.read(base, m.lockedUser ?? current);
  expect({ after, locked: seen.locked }).toEqual({ after, locked: m.lockedUser !== undefined });
  expect({ after, granted: (await r.dba.read(base, current)).granted }).toEqual({ after, granted: m.granted });
  if (m.lockedUser !== undefined) return;
  const problem = await availabilityProblem(r.rig, after);
  const driftedLogsIn = m.drifted !== undefined && (await r.rig.canLogin({ username: base, password: m.drifted }));
  expect({ after, problem: driftedLogsIn ? undefined : problem }).toEqual({ after, problem: undefined });
}

/** After a completed rotation: AWSCURRENT logs in, nothing is pending, and an alternate equals the user it replaced. */
async function completed(m: Model, r: Real, after: string): Promise<void> {
  const state = await r.rig.state();
  expect({ after, pending: state.pending?.versionId }).toEqual({ after, pending: undefined });
  expect({ after, logsIn: await r.rig.canLogin(state.current) }).toEqual({ after, logsIn: true });
  if (alternating(r) && state.previous !== undefined && state.previous.username !== state.current.username) {
    expect({ after, differences: await alternateDifferences(r.rig, state.previous.username, state.current.username) }).toEqual({
      after,
      differences: [],
    });
  }
  m.drifted = undefined;
}

/** A rotation, re-attempting a stuck one as RotateSecret does: completes unless the user in use is locked, then refused with nothing changed. */
class Rotate implements fc.AsyncCommand<Model, Real> {
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    const before = m.lockedUser !== undefined ? await r.dba.read(r.rig.baseUsername, m.lockedUser) : undefined;
    const ok = await rotate(r.rig);
    if (before !== undefined) {
      expect({ ok, refusal: lastRefusal(r.rig) }).toEqual({ ok: false, refusal: { errorCode: 'AUTH_FAILED', reason: 'login-disabled' } });
      expect((await r.dba.read(r.rig.baseUsername, m.lockedUser!)).verifier).toBe(before.verifier);
    } else {
      expect({ ok, refusal: ok ? undefined : lastRefusal(r.rig) }).toEqual({ ok: true, refusal: undefined });
      await completed(m, r, this.toString());
    }
    await invariant(m, r, this.toString());
  }
  toString = (): string => 'rotate';
}

/**
 * A rotation whose N-th external call fails: its process dies right after the call took effect (nothing
 * else reaches a server), or the call's answer or request is lost (the rotation's own cleanup runs).
 */
class FaultAt implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly n: number,
    readonly timing: FaultTiming,
  ) {}
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    const before = m.lockedUser !== undefined ? await r.dba.read(r.rig.baseUsername, m.lockedUser) : undefined;
    r.rig.injector.arm({ at: this.n, timing: this.timing });
    const ok = await rotate(r.rig);
    const fired = r.rig.injector.fired !== undefined;
    r.rig.injector.reset();
    if (before !== undefined) {
      expect(ok).toBe(false);
      expect((await r.dba.read(r.rig.baseUsername, m.lockedUser!)).verifier).toBe(before.verifier);
    } else {
      // N past the rotation's last call, or a fault the rotation absorbs: it completed.
      if (!fired) expect(ok).toBe(true);
      if (ok) await completed(m, r, this.toString());
    }
    await invariant(m, r, this.toString());
  }
  toString = (): string => (this.timing === 'crash' ? `crash after call ${this.n}` : `call ${this.n} fails (${this.timing})`);
}

/** Single user: the DBA sets the user's password. Alternating: the idle user's (the rotation sets it anyway). */
class Drift implements fc.AsyncCommand<Model, Real> {
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    const password = fixturePassword();
    noteSensitive(password);
    drifts.push(password);
    const base = r.rig.baseUsername;
    if (alternating(r)) {
      const current = (await r.rig.state()).current.username;
      const idle = current === base ? `${base}_clone` : base;
      // Before the first rotation there is no idle user yet.
      if ((await r.rig.state()).previous !== undefined || current !== base) await r.dba.drift(idle, password);
    } else {
      await r.dba.drift(base, password);
      m.drifted = password;
    }
    await invariant(m, r, this.toString());
  }
  toString = (): string => 'DBA drifts a password';
}

class ToggleGrant implements fc.AsyncCommand<Model, Real> {
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    m.granted = !m.granted;
    const current = (await r.rig.state()).current.username;
    await r.dba.setGranted(r.rig.baseUsername, r.dba.grantee(r.rig.baseUsername, current), m.granted);
    await invariant(m, r, this.toString());
  }
  toString = (): string => 'DBA revokes or gives back the grant';
}

class ToggleLock implements fc.AsyncCommand<Model, Real> {
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    if (m.lockedUser !== undefined) {
      await r.dba.setLocked(m.lockedUser, false);
      m.lockedUser = undefined;
    } else {
      m.lockedUser = (await r.rig.state()).current.username;
      await r.dba.setLocked(m.lockedUser, true);
    }
    await invariant(m, r, this.toString());
  }
  toString = (): string => 'DBA locks or unlocks the user in use';
}

const drifts: string[] = [];
const tables: string[] = [];
const suite = rigSuite();

const commands = [
  fc.constant(new Rotate()),
  fc
    .tuple(fc.integer({ min: 1, max: 40 }), fc.constantFrom<FaultTiming>('crash', 'after', 'before'))
    .map(([n, timing]) => new FaultAt(n, timing)),
  fc.constant(new Drift()),
  fc.constant(new ToggleGrant()),
  fc.constant(new ToggleLock()),
];

const CASES: ReadonlyArray<{ engine: EngineFamily; dba: Dba; strategy: RotationStrategyName }> = [
  { engine: 'postgres', dba: postgresDba, strategy: 'single-user' },
  { engine: 'mysql', dba: mysqlDba, strategy: 'single-user' },
  { engine: 'postgres', dba: postgresDba, strategy: 'alternating-users' },
  { engine: 'mysql', dba: mysqlDba, strategy: 'alternating-users' },
];

afterAll(async () => {
  await pg(async (q) => {
    for (const t of tables) await q(`DROP TABLE IF EXISTS public.${ident(t)}`);
  });
});

describe.each(CASES)('$engine, $strategy', ({ engine, dba, strategy }) => {
  it('random rotations, crashes and DBA changes keep the account usable and the DBA in charge', async () => {
    const made: Rig[] = [];
    let commandsRun = 0;
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 10 }), async (cmds) => {
        const rig = await suite.rig({ engine, strategy }, { withMaster: true, username: fixtureUsername('rcr') });
        made.push(rig);
        tables.push(`${rig.baseUsername}_t`);
        await dba.setGranted(rig.baseUsername, rig.baseUsername, true);
        commandsRun += [...cmds].length;
        const model: Model = { lockedUser: undefined, granted: true, drifted: undefined };
        await fc.asyncModelRun(() => ({ model, real: { rig, dba } }), cmds);
        // Whatever the sequence left, the DBA's unlock and one more rotation complete it.
        if (model.lockedUser !== undefined) await dba.setLocked(model.lockedUser, false);
        model.lockedUser = undefined;
        expect(await rotate(rig)).toBe(true);
        await completed(model, { rig, dba }, 'the final rotation');
      }),
      { numRuns: 6 },
    );
    recordFigure(`model.${engine}.${strategy}.commands`, commandsRun);
    recordFigure(
      `model.${engine}.${strategy}.rotationRuns`,
      made.map((r) => r.endpoint.local.rotationHistory(r.secretId).length).reduce((a, b) => a + b, 0),
    );
    const text = made.map((r) => r.logs.text()).join('\n') + suite.endpoint.logLines.join('\n');
    expect(drifts.filter((p) => text.includes(p))).toEqual([]);
  });
});
