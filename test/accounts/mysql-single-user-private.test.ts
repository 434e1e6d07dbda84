/**
 * Single-user MySQL/MariaDB states that need server settings the shared server must never get, on ONE
 * private MariaDB for the whole file (a temporary directory, a free port, stopped by its pid): name
 * resolution on (127.0.0.1 is seen as 'localhost', so the classic anonymous ''@'localhost' account can
 * shadow 'app'@'%'), a server sql_mode with ANSI_QUOTES and NO_BACKSLASH_ESCAPES, and read_only (a
 * replica; for alternating users too). Global variables are changed only on this private server, and put
 * back after each test.
 */
import { mysqlNativePasswordHash } from '../../shared/engines/password-hashes';
import { mysqlEngine } from '../../shared/engines/mysql';
import type { Connector, Row } from '../../shared/rotation/database-engine';
import { createRotationHandler } from '../../shared/rotation/create-rotation-handler';
import { captureLogger, createSecret, lambdaArn, rotate, secretValue, stagesOf } from '../support/rotation-endpoint';
import { startPrivateMariadb, type PrivateMariadb } from '../../local/private-mariadb';
import { startTestEndpoint, type TestEndpoint } from '../support/rotation-rig';
import {
  APP_ADDRESS,
  createMaster,
  expectOutcome,
  logsIn,
  runCell,
  shortName,
  strongPassword,
  type AccountSpec,
  type CellContext,
  type MysqlServer,
  type Outcome,
} from '../support/mysql-account-harness';

const PREFIX = 'hms';
let mariadb: PrivateMariadb;
let server: MysqlServer;
let endpoint: TestEndpoint;
let ctx: CellContext;
let masterName: string;
const cleanup: string[] = [];

beforeAll(async () => {
  mariadb = await startPrivateMariadb({
    generalLog: false,
    plugins: ['auth_ed25519.so', 'password_reuse_check.so'],
    // password_reuse_check is loaded but strict only in the test that needs it: the set-up's accounts use hashes.
    settings: {
      strict_password_validation: 'OFF',
      skip_name_resolve: 'OFF',
      sql_mode: 'ANSI_QUOTES,NO_BACKSLASH_ESCAPES,STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION',
    },
  });
  server = { port: mariadb.port, admin: () => mariadb.admin() };
  endpoint = await startTestEndpoint();
  const master = await createMaster(endpoint, server, PREFIX);
  masterName = master.username;
  ctx = { endpoint, server, masterArn: master.arn, namePrefix: PREFIX };
}, 120_000);

afterAll(async () => {
  await endpoint?.close();
  await mariadb?.stop();
});

async function admin<T>(work: (a: Awaited<ReturnType<MysqlServer['admin']>>) => Promise<T>): Promise<T> {
  const a = await server.admin();
  try {
    return await work(a);
  } finally {
    await a.end();
  }
}

const rotated: Outcome = { kind: 'rotated' };
const refused = (code: string, reason?: string, message?: RegExp): Outcome => ({
  kind: 'refused',
  code,
  ...(reason ? { reason } : {}),
  ...(message ? { message } : {}),
});

async function single(spec: AccountSpec, withMaster: Outcome, withoutMaster: Outcome, label: string): Promise<void> {
  expectOutcome(await runCell(ctx, spec, 'single-user', true, cleanup), withMaster, `${label} / single-user + master`);
  expectOutcome(await runCell(ctx, spec, 'single-user', false, cleanup), withoutMaster, `${label} / single-user`);
}

describe('the anonymous account shadowing the user (name resolution on)', () => {
  it.each(['localhost', '127.0.0.1'])(
    "''@'%s' is picked before 'app'@'%%': the right password is refused, diagnosed as the address, never healed",
    async (host) => {
      // The master gets an account of its own for the host, so that only the user is shadowed.
      await admin(async (a) => {
        await a.query("CREATE USER ''@?", [host]);
        const [rows] = await a.query("SELECT JSON_VALUE(Priv, '$.authentication_string') AS hash FROM mysql.global_priv WHERE User = ?", [
          masterName,
        ]);
        await a.query('CREATE USER ?@? IDENTIFIED BY PASSWORD ?', [masterName, host, (rows as Array<{ hash: string }>)[0]!.hash]);
        await a.query('GRANT ALL PRIVILEGES ON *.* TO ?@? WITH GRANT OPTION', [masterName, host]);
      });
      try {
        // ''@'localhost' is matched by the name the server sees; ''@'127.0.0.1' by the address it
        // does not show: that one cannot be proven, and so the drift is not healed either.
        const reason = host === 'localhost' ? 'host-not-allowed' : 'undetermined';
        await single(
          {},
          refused('AUTH_FAILED', reason, /anonymous account ''@/),
          refused('AUTH_FAILED', 'undetermined'),
          `anonymous ${host}`,
        );
        await single(
          { drifted: true },
          refused('AUTH_FAILED', reason, /anonymous account ''@/),
          refused('AUTH_FAILED', 'undetermined'),
          `anonymous ${host} + drift`,
        );
      } finally {
        await admin(async (a) => {
          await a.query("DROP USER IF EXISTS ''@?", [host]);
          await a.query('DROP USER IF EXISTS ?@?', [masterName, host]);
        });
      }
    },
  );

  it("with name resolution 'localhost' is the function's host part: it is set with the others", async () => {
    await single(
      { hosts: ['localhost', '%'] },
      rotated,
      refused('DATABASE', undefined, /also exists as account '.*'@'%'.*Nothing was changed/),
      'localhost and %',
    );
  });

  it("an expired password on '127.0.0.1' and '%': the expired session's own entry is not guessed from the name, every entry is set", async () => {
    // USER() shows 'localhost', which only '%' matches; the server picked '127.0.0.1' by the address.
    await single(
      { hosts: ['127.0.0.1', '%'], options: 'PASSWORD EXPIRE' },
      rotated,
      refused('DATABASE', undefined, /has expired/),
      'expired, name resolution',
    );
  });
});

describe('a server sql_mode with ANSI_QUOTES and NO_BACKSLASH_ESCAPES', () => {
  it('rotated on every host entry; drift healed', async () => {
    await single({ hosts: ['%', '127.0.0.%'] }, rotated, refused('DATABASE'), 'sql_mode hosts');
    await single({ drifted: true }, rotated, refused('AUTH_FAILED', 'undetermined'), 'sql_mode drift');
  });
});

describe('read_only (a replica)', () => {
  afterEach(() => admin((a) => a.query('SET GLOBAL read_only = 0')));

  it('the password change is refused naming read_only, before any change, with or without a master', async () => {
    const readOnly = (): AccountSpec['prepare'] => async (s) => {
      const a = await s.admin();
      try {
        await a.query('SET GLOBAL read_only = 1');
      } finally {
        await a.end();
      }
    };
    const told = refused('DATABASE', undefined, /read.only.*Nothing was changed/);
    await single({ prepare: readOnly() }, told, told, 'read_only');
    await admin((a) => a.query('SET GLOBAL read_only = 0'));
    await single({ prepare: readOnly(), hosts: ['%', '127.0.0.1'] }, told, refused('DATABASE'), 'read_only hosts');
    await admin((a) => a.query('SET GLOBAL read_only = 0'));
    expectOutcome(await runCell(ctx, { prepare: readOnly(), drifted: true }, 'single-user', true, cleanup), told, 'read_only drift');
  });

  it('alternating users: the master (READ_ONLY ADMIN, so the server would let it write) is refused naming read_only, no alternate made', async () => {
    const readOnly: AccountSpec['prepare'] = async (s) => {
      const a = await s.admin();
      try {
        await a.query('SET GLOBAL read_only = 1');
      } finally {
        await a.end();
      }
    };
    const run = await runCell({ ...ctx, namePrefix: 'rpa' }, { prepare: readOnly }, 'alternating-users', true, cleanup);
    expectOutcome(run, refused('DATABASE', undefined, /read.only.*Nothing was changed/), 'read_only alternating');
    const [rows] = await admin((a) => a.query('SELECT Host FROM mysql.global_priv WHERE User = ?', [`${run.username}_clone`]));
    expect(rows).toEqual([]);
  });
});

describe('MariaDB chains with ed25519 (which mysql2 cannot answer)', () => {
  it('ed25519 OR mysql_native_password: the server asks for ed25519 first, refused naming it, nothing changed', async () => {
    const spec: AccountSpec = {
      identified: (hash, password) => `IDENTIFIED VIA ed25519 USING PASSWORD('${password}') OR mysql_native_password USING '${hash}'`,
    };
    await single(
      spec,
      refused('AUTH_FAILED', 'unsupported-auth-plugin', /ed25519 OR mysql_native_password/),
      refused('AUTH_FAILED', 'unsupported-auth-plugin'),
      'ed25519 first',
    );
  });

  it('mysql_native_password OR ed25519: the master re-states both methods with the new password', async () => {
    const spec: AccountSpec = {
      identified: (hash, password) => `IDENTIFIED VIA mysql_native_password USING '${hash}' OR ed25519 USING PASSWORD('${password}')`,
    };
    await single(spec, rotated, refused('DATABASE', undefined, /chain of methods/), 'native first');
  });
});

describe('a host entry the master cannot set, after others were set', () => {
  it('an ed25519 entry whose plugin was uninstalled since: the entries set before it are put back, the application keeps logging in', async () => {
    // '%' (the application's) sorts before '10.%', which the server refuses once auth_ed25519 is gone; the
    // function logs in through '127.0.0.1'. Left on the new password, '%' would refuse AWSCURRENT on every retry.
    const spec: AccountSpec = {
      hosts: ['127.0.0.1', '%'],
      prepare: async (s, user, password) => {
        const a = await s.admin();
        try {
          await a.query(`CREATE USER ${a.format('?@?', [user, '10.%'])} IDENTIFIED VIA ed25519 USING PASSWORD(${a.escape(password)})`);
          await a.query("UNINSTALL SONAME 'auth_ed25519'");
        } finally {
          await a.end();
        }
      },
    };
    try {
      const run = await runCell(ctx, spec, 'single-user', true, cleanup);
      expectOutcome(
        run,
        refused('DATABASE', undefined, /'10\.%'.*refused.*'%', set before it, was put back: nothing was changed/),
        'plugin gone',
      );
      expect(run.appBefore).toBe(true);
    } finally {
      await admin((a) => a.query("INSTALL SONAME 'auth_ed25519'"));
    }
  });
});

describe('password_reuse_check with strict validation: the old password cannot be put back', () => {
  afterEach(() => admin((a) => a.query('SET GLOBAL strict_password_validation = OFF')));

  it("the retry after a crash that set the applications' '%' entry: that entry already holds the pending password and is not set again (the plugin would refuse the reuse)", async () => {
    const username = shortName('r', PREFIX);
    cleanup.push(username);
    const password = strongPassword();
    await admin(async (a) => {
      for (const host of ['127.0.0.1', '%'])
        await a.query('CREATE USER ?@? IDENTIFIED BY PASSWORD ?', [username, host, mysqlNativePasswordHash(password)]);
      await a.query('SET GLOBAL strict_password_validation = ON');
    });
    const secretId = await createSecret(endpoint.client, `${username}-secret`, {
      engine: 'mariadb',
      host: '127.0.0.1',
      port: server.port,
      username,
      password,
      ssl: false,
      masterarn: ctx.masterArn,
    });
    // The master's first password statement that the server takes is its last: the connection drops.
    const crashing: Connector = async (request) => {
      const session = await mysqlEngine.defaultConnector(request);
      if (request.role !== 'master') return session;
      let crashed = false;
      const reset = (): Error => Object.assign(new Error('simulated crash'), { code: 'ECONNRESET' });
      return {
        ...session,
        async query(sql: string, params?: readonly unknown[]): Promise<readonly Row[]> {
          if (crashed) throw reset();
          const rows = await session.query(sql, params);
          if (/^\s*ALTER USER\b/i.test(sql)) {
            crashed = true;
            throw reset();
          }
          return rows;
        },
      };
    };
    const handler = (connect?: Connector): ReturnType<typeof createRotationHandler> =>
      createRotationHandler({
        engine: mysqlEngine,
        strategy: 'single-user',
        secretsClient: endpoint.client,
        env: { DB_TLS_MODE: 'disable' },
        logger: captureLogger(),
        ...(connect !== undefined ? { connect } : {}),
      });
    const fn = lambdaArn(shortName('fn', PREFIX));
    const first = handler(crashing);
    endpoint.local.registerRotationFunction(fn, (event) => first(event));
    await expect(rotate(endpoint.client, secretId, fn)).rejects.toBeDefined();
    const token = Object.entries(await stagesOf(endpoint.client, secretId)).find(([, st]) => st.includes('AWSPENDING'))?.[0];
    const pending = await secretValue(endpoint.client, secretId, 'AWSPENDING');
    // The applications' entry is on the pending password, the function's still on AWSCURRENT.
    expect(await logsIn(server, username, pending.password, APP_ADDRESS)).toBe(true);
    expect(await logsIn(server, username, password, '127.0.0.1')).toBe(true);

    const retry = handler();
    for (const Step of ['setSecret', 'testSecret', 'finishSecret']) await retry({ SecretId: secretId, ClientRequestToken: token!, Step });
    expect((await secretValue(endpoint.client, secretId)).password).toBe(pending.password);
    expect(await logsIn(server, username, pending.password, APP_ADDRESS)).toBe(true);
    expect(await logsIn(server, username, pending.password, '127.0.0.1')).toBe(true);
  });

  it('a proof refused for MAX_CONNECTIONS_PER_HOUR: the error says the new password stays in place under AWSPENDING', async () => {
    await admin((a) => a.query('SET GLOBAL strict_password_validation = ON'));
    // The harness's own login before the rotation, the rotation's login: the proof is the third.
    const run = await runCell(
      ctx,
      { identified: (_hash, password) => `IDENTIFIED BY '${password}'`, options: 'WITH MAX_CONNECTIONS_PER_HOUR 2' },
      'single-user',
      false,
      cleanup,
    );
    expect(run.result).toMatchObject({ ok: false, errorCode: 'AUTH_FAILED', reason: 'connection-limit' });
    expect(run.result.message).toMatch(/could not be put back \(DATABASE.*stays in place and AWSPENDING holds it/);
    expect(run.result.message).not.toMatch(/was put back|password policy/);
    const pending = await admin(async (a) => {
      const [rows] = await a.query("SELECT JSON_VALUE(Priv, '$.authentication_string') AS hash FROM mysql.global_priv WHERE User = ?", [
        run.username,
      ]);
      return (rows as Array<{ hash: string }>)[0]?.hash;
    });
    expect(pending).not.toBe(mysqlNativePasswordHash(run.secretPassword));
    expect(run.texts.join('\n')).toMatch(/could not be put back: the new password stays in place under AWSPENDING/);
  });
});
