/**
 * A fault at every call of the MySQL/MariaDB rotation paths the plain sweep does not take (see
 * path-fault-sweep.ts): drift healed by the master; a refused proof put back; an alternate sync whose
 * grant an RDS-like master may not give (refused, the half-made alternate dropped again, until the DBA's
 * GRANT), with a right taken from the alternate and one given to it alone before every rotation.
 */
import type { Connection } from 'mysql2/promise';
import { connectMysqlAdmin } from '../../local/admin-connections';
import { mysqlIdentifiedBy } from '../../local/fixtures/mysql';
import { fixturePassword, fixtureUsername } from '../../local/fixtures/names';
import { noteSensitive } from '../../local/sensitive-values';
import { mysqlConnector } from '../../shared/engines/mysql-connector';
import { AuthenticationError } from '../../shared/errors';
import type { Connector } from '../../shared/rotation/database-engine';
import { describePathSweep, type PathScenario } from '../support/path-fault-sweep';
import { mysqlGrantSet, type Rig } from '../support/rotation-rig';

const PREFIX = 'rcr';

async function admin<T>(work: (a: Connection) => Promise<T>): Promise<T> {
  const a = await connectMysqlAdmin();
  try {
    return await work(a);
  } finally {
    await a.end();
  }
}

/**
 * What the DBA set on the user AWSCURRENT names (the source of the alternate's rights): SHOW CREATE
 * USER without name and password, and the grant set. Users alternate, so the name is replaced.
 */
async function currentAccountState(rig: Rig): Promise<unknown> {
  const user = (await rig.state()).current.username;
  const shown = await admin(async (a) => {
    const [rows] = await a.query('SHOW CREATE USER ?@?', [user, '%']);
    return String(Object.values((rows as Array<Record<string, unknown>>)[0] ?? {})[0]);
  });
  return {
    create: shown
      .split(`\`${user}\``)
      .join('`<user>`')
      .split(`'${user}'`)
      .join("'<user>'")
      .replace(/ IDENTIFIED (BY PASSWORD|VIA \S+ USING) '[^']*'/g, ''),
    grants: await mysqlGrantSet(user),
  };
}

/** Limits of the DBA's, which the rotation must keep. */
async function dbaSettings(rig: Rig): Promise<void> {
  await admin((a) => a.query('ALTER USER ?@? WITH MAX_QUERIES_PER_HOUR 5000 MAX_USER_CONNECTIONS 20', [rig.baseUsername, '%']));
}

function driftHealedByMaster(): PathScenario {
  const drifts: string[] = [];
  return {
    name: 'drift healed by the master',
    pathLog: /drift proven/,
    combination: { engine: 'mysql', strategy: 'single-user' },
    setUp: async () => ({ username: fixtureUsername(PREFIX), withMaster: true }),
    afterRig: dbaSettings,
    arrange: async (rig) => {
      const password = fixturePassword();
      noteSensitive(password);
      drifts.push(password);
      await admin(async (a) => a.query(`ALTER USER ${a.format('?@?', [rig.baseUsername, '%'])} ${await mysqlIdentifiedBy(a, password)}`));
    },
    fallbackLogins: (rig) => (drifts.length > 0 ? [{ username: rig.baseUsername, password: drifts.at(-1)! }] : []),
    dbaState: currentAccountState,
    secrets: () => drifts,
    tearDown: async () => undefined,
  };
}

/** The proving login (the pending secret's) refused, as MAX_USER_CONNECTIONS reached by a race would, while `refusing`. */
function refusedProof(): PathScenario {
  let refusing = true;
  const connector: Connector = async (request) => {
    if (refusing && request.role === 'pending') {
      throw new AuthenticationError('MySQL login with the pending secret was refused (1226, injected)', { reason: 'connection-limit' });
    }
    return mysqlConnector(request);
  };
  return {
    name: 'a refused proof put back',
    pathLog: /previous password was put back/,
    combination: { engine: 'mysql', strategy: 'single-user' },
    setUp: async () => ({ username: fixtureUsername(PREFIX), connector }),
    afterRig: dbaSettings,
    refusal: {
      errorCode: 'AUTH_FAILED',
      // After a crash left the new password unproven, every credential is refused and no master can tell why.
      reasons: ['connection-limit', 'undetermined', 'wrong-password'],
      block: async () => {
        refusing = true;
      },
      lift: async () => {
        refusing = false;
      },
    },
    dbaState: currentAccountState,
    secrets: () => [],
    tearDown: async () => undefined,
  };
}

/**
 * Alternating users with an RDS-like master (GRANT OPTION on the application's database and mysql.*, no
 * global one). Before every rotation, the DBA takes PROCESS from the user the rotation will change and
 * gives it SELECT on mysql.db alone; the master may revoke the latter but not give PROCESS back until
 * the DBA's remedy (GRANT PROCESS ... WITH GRANT OPTION), which is taken away again after every point.
 */
function grantRefused(): PathScenario {
  const username = fixtureUsername(PREFIX);
  const master = { username: fixtureUsername(PREFIX), password: fixturePassword() };
  noteSensitive(master.password);
  return {
    name: 'a grant the master may not give',
    pathLog: /GRANT PROCESS ON \*\.\* was refused/,
    combination: { engine: 'mysql', strategy: 'alternating-users' },
    setUp: async () => {
      await admin(async (a) => {
        const m = a.format('?@?', [master.username, '%']);
        await a.query(`CREATE USER ${m} ${await mysqlIdentifiedBy(a, master.password)}`);
        await a.query(`GRANT CREATE USER ON *.* TO ${m}`);
        await a.query(`GRANT SELECT ON mysql.* TO ${m} WITH GRANT OPTION`);
        await a.query(`GRANT ALL PRIVILEGES ON ${a.escapeId(`${username}_db`.slice(0, 64))}.* TO ${m} WITH GRANT OPTION`);
      });
      return { username, master };
    },
    afterRig: dbaSettings,
    arrange: async (rig) => {
      const state = await rig.state();
      const inactive = state.current.username === rig.baseUsername ? `${rig.baseUsername}_clone` : rig.baseUsername;
      await admin(async (a) => {
        const [rows] = await a.query('SELECT 1 FROM mysql.user WHERE User = ? AND Host = ?', [inactive, '%']);
        if ((rows as unknown[]).length === 0) return;
        const account = a.format('?@?', [inactive, '%']);
        await a.query(`REVOKE PROCESS ON *.* FROM ${account}`).catch(() => undefined);
        await a.query(`GRANT SELECT ON mysql.db TO ${account}`);
      });
    },
    refusal: {
      errorCode: 'DATABASE',
      reasons: ['master-cannot-grant'],
      block: async () => {
        await admin(async (a) => {
          const m = a.format('?@?', [master.username, '%']);
          await a.query(`REVOKE PROCESS, GRANT OPTION ON *.* FROM ${m}`).catch(() => undefined);
        });
      },
      lift: async () => {
        await admin((a) => a.query('GRANT PROCESS ON *.* TO ?@? WITH GRANT OPTION', [master.username, '%']));
      },
    },
    dbaState: currentAccountState,
    secrets: () => [master.password],
    tearDown: async () => {
      await admin((a) => a.query('DROP USER IF EXISTS ?@?', [master.username, '%']));
    },
  };
}

describePathSweep([driftHealedByMaster(), refusedProof(), grantRefused()]);
