/**
 * Single-user MySQL/MariaDB rotation on the shared MariaDB, for account states taken from real servers
 * and public bug reports that the matrix (mysql-account-states.test.ts) does not hold: host parts that
 * compete for the function's address, connection limits (not a password problem), a database the user
 * may not open, unusual user names, default roles, old hashes, and masters that are not root or cannot
 * log in. Each cell is checked from outside (see mysql-account-harness.ts). States that need a server
 * setting (anonymous accounts, read_only, sql_mode) are in mysql-single-user-private.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { startTestEndpoint, type TestEndpoint } from '../support/rotation-rig';
import type { Connection } from 'mysql2/promise';
import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { captureLogger, createSecret, lambdaArn, rotate, secretValue, stagesOf } from '../support/rotation-endpoint';
import { mysqlEngine } from '../../shared/engines/mysql';
import { mysqlNativePasswordHash } from '../../shared/engines/password-hashes';
import type { Connector, Row } from '../../shared/rotation/database-engine';
import { createRotationHandler } from '../../shared/rotation/create-rotation-handler';
import {
  createMaster,
  dropUsers,
  expectOutcome,
  APP_ADDRESS,
  logsIn,
  runCell,
  sharedMariadb,
  shortName,
  strongPassword,
  type AccountSpec,
  type CellContext,
  type Outcome,
} from '../support/mysql-account-harness';

const PREFIX = 'hms';
const server = sharedMariadb();
let endpoint: TestEndpoint;
let ctx: CellContext;
const cleanup: string[] = [];
const roles: string[] = [];

beforeAll(async () => {
  endpoint = await startTestEndpoint();
  const master = await createMaster(endpoint, server, PREFIX);
  cleanup.push(master.username);
  ctx = { endpoint, server, masterArn: master.arn, namePrefix: PREFIX };
});

afterAll(async () => {
  await dropUsers(server, cleanup);
  const admin = await server.admin();
  try {
    for (const role of roles) await admin.query('DROP ROLE IF EXISTS ?', [role]);
  } finally {
    await admin.end();
  }
  await endpoint.close();
});

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

describe('host parts competing for the function address (127.0.0.1, skip_name_resolve)', () => {
  it("'localhost', '127.0.0.1' and '%': every password account is set; without a master the others are named", async () => {
    await single(
      { hosts: ['localhost', '127.0.0.1', '%'] },
      rotated,
      refused('DATABASE', undefined, /also exists as .*'%'.*'localhost'.*Nothing was changed/),
      'localhost/127.0.0.1/%',
    );
  });

  it("'127.0.0.%' before '%': drift on the more specific entry is healed on both", async () => {
    await single({ hosts: ['127.0.0.%', '%'], drifted: true }, rotated, refused('AUTH_FAILED', 'undetermined'), '127.0.0.% drift');
  });

  it("a netmask host ('127.0.0.0/255.0.0.0'): drift proven from the catalogs and healed", async () => {
    await single({ hosts: ['127.0.0.0/255.0.0.0'], drifted: true }, rotated, refused('AUTH_FAILED', 'undetermined'), 'netmask drift');
  });

  describe('a literal address and a netmask that both match (the server takes the greater host string)', () => {
    // Both sort as literal hosts; MariaDB then tries '127.0.0.1' before '127.0.0.0/255.0.0.0'. The
    // application (127.0.0.2) logs in through the netmask entry, the function (127.0.0.1) through the other.
    const hosts = ['127.0.0.0/255.0.0.0', '127.0.0.1'];
    const alter = (host: string, clause: (a: Connection) => string) => async (s: { admin(): Promise<Connection> }, user: string) => {
      const a = await s.admin();
      try {
        await a.query(`ALTER USER ${a.format('?@?', [user, host])} ${clause(a)}`);
      } finally {
        await a.end();
      }
    };
    const otherHash = (a: Connection) => `IDENTIFIED BY PASSWORD ${a.escape(mysqlNativePasswordHash(strongPassword()))}`;

    it("drift on the function's '127.0.0.1' only: proven from that entry and healed on both", async () => {
      await single({ hosts, prepare: alter('127.0.0.1', otherHash) }, rotated, refused('AUTH_FAILED', 'undetermined'), 'literal drift');
    });

    it("REQUIRE SSL on '127.0.0.1', another password on the netmask entry: refused naming TLS, nothing changed", async () => {
      const prepare = async (s: { admin(): Promise<Connection> }, user: string) => {
        await alter('127.0.0.1', () => 'REQUIRE SSL')(s, user);
        await alter('127.0.0.0/255.0.0.0', otherHash)(s, user);
      };
      const run = await runCell(ctx, { hosts, prepare }, 'single-user', true, cleanup);
      expectOutcome(run, refused('AUTH_FAILED', 'undetermined', /requires TLS/), 'literal TLS');
    });

    it('both expired: the expired session is the literal entry, and the netmask entry is set too', async () => {
      await single({ hosts, options: 'PASSWORD EXPIRE' }, rotated, refused('DATABASE', undefined, /expired/), 'both expired');
    });
  });

  it("wildcards in the middle: MariaDB picks '127.0.%.1' (REQUIRE SSL) before '127.0.0.%' for the function; refused naming TLS, nothing healed", async () => {
    // MariaDB ranks patterns by their literal characters, then the earlier wildcard; MySQL's rule (the later
    // first wildcard first) would name '127.0.0.%', whose other password looks like drift.
    const prepare = async (s: { admin(): Promise<Connection> }, user: string) => {
      const a = await s.admin();
      try {
        await a.query(`ALTER USER ${a.format('?@?', [user, '127.0.%.1'])} REQUIRE SSL`);
        await a.query(
          `ALTER USER ${a.format('?@?', [user, '127.0.0.%'])} IDENTIFIED BY PASSWORD ${a.escape(mysqlNativePasswordHash(strongPassword()))}`,
        );
      } finally {
        await a.end();
      }
    };
    const run = await runCell(ctx, { hosts: ['127.0.%.1', '127.0.0.%'], prepare }, 'single-user', true, cleanup);
    expectOutcome(run, refused('AUTH_FAILED', 'undetermined', /'127\.0\.%\.1' requires TLS/), 'wildcard in the middle');
  });

  it('a host name the server never resolves (skip_name_resolve): no account for the address, nothing healed', async () => {
    await single(
      { hosts: ['app.example.invalid'] },
      refused('AUTH_FAILED', 'host-not-allowed', /app\.example\.invalid/),
      refused('AUTH_FAILED', 'undetermined'),
      'host name',
    );
  });
});

describe('connection limits are not a password problem', () => {
  it('MAX_USER_CONNECTIONS 1: the proof needs a second login, so the change is refused before it is made', async () => {
    await single(
      { options: 'WITH MAX_USER_CONNECTIONS 1' },
      refused('AUTH_FAILED', 'connection-limit', /MAX_USER_CONNECTIONS 1/),
      refused('AUTH_FAILED', 'connection-limit', /MAX_USER_CONNECTIONS 1/),
      'MAX_USER_CONNECTIONS 1',
    );
  });

  it('MAX_USER_CONNECTIONS 1 and PASSWORD EXPIRE: the expired session cannot count, the master does; nothing changed', async () => {
    expectOutcome(
      await runCell(ctx, { options: 'WITH MAX_USER_CONNECTIONS 1 PASSWORD EXPIRE' }, 'single-user', true, cleanup),
      refused('AUTH_FAILED', 'connection-limit', /MAX_USER_CONNECTIONS 1/),
      'expired + MAX_USER_CONNECTIONS 1',
    );
  });

  it('MAX_USER_CONNECTIONS reached by the application: the login is refused (1226), nothing healed', async () => {
    const held: Array<{ end(): Promise<void> }> = [];
    const spec: AccountSpec = {
      options: 'WITH MAX_USER_CONNECTIONS 1',
      prepare: async (_s, user, password) => {
        const { createConnection } = await import('mysql2/promise');
        held.push(await createConnection({ host: '127.0.0.1', port: server.port, user, password }));
      },
    };
    try {
      await single(spec, refused('AUTH_FAILED', 'connection-limit'), refused('AUTH_FAILED', 'connection-limit'), 'limit reached');
    } finally {
      for (const c of held) await c.end();
    }
  });

  it('MAX_CONNECTIONS_PER_HOUR exhausted: refused with that reason, nothing healed', async () => {
    const spec: AccountSpec = {
      options: 'WITH MAX_CONNECTIONS_PER_HOUR 1',
      prepare: async (s, user, password) => {
        expect(await logsIn(s, user, password)).toBe(true);
      },
    };
    await single(spec, refused('AUTH_FAILED', 'connection-limit'), refused('AUTH_FAILED', 'connection-limit'), 'per hour');
  });
});

describe('the proving login refused for a connection limit (1226)', () => {
  it('MAX_CONNECTIONS_PER_HOUR 1 used by the rotation itself: the old password is put back, the reason is the limit', async () => {
    const username = shortName('ph', PREFIX);
    cleanup.push(username);
    const password = strongPassword();
    const a = await server.admin();
    try {
      await a.query('CREATE USER ?@? IDENTIFIED BY PASSWORD ? WITH MAX_CONNECTIONS_PER_HOUR 1', [
        username,
        '%',
        mysqlNativePasswordHash(password),
      ]);
      await a.query('GRANT SELECT (User, Host) ON mysql.user TO ?@?', [username, '%']);
      const secretId = await createSecret(endpoint.client, `${username}-secret`, {
        engine: 'mariadb',
        host: '127.0.0.1',
        port: server.port,
        username,
        password,
        ssl: false,
      });
      const logs = captureLogger();
      const handler = createRotationHandler({
        engine: mysqlEngine,
        strategy: 'single-user',
        secretsClient: endpoint.client,
        env: { DB_TLS_MODE: 'disable' },
        logger: logs,
      });
      const fn = lambdaArn(shortName('fn', PREFIX));
      endpoint.local.registerRotationFunction(fn, (event) => handler(event));
      await expect(rotate(endpoint.client, secretId, fn)).rejects.toBeDefined();
      expect(logs.lines.find((l) => l.outcome === 'failure')).toMatchObject({ errorCode: 'AUTH_FAILED', reason: 'connection-limit' });
      const [rows] = await a.query("SELECT JSON_VALUE(Priv, '$.authentication_string') AS hash FROM mysql.global_priv WHERE User = ?", [
        username,
      ]);
      expect((rows as Array<{ hash: string }>)[0]?.hash).toBe(mysqlNativePasswordHash(password));
      expect((await secretValue(endpoint.client, secretId)).password).toBe(password);
    } finally {
      await a.end();
    }
  });
});

describe('a secret whose dbname the user cannot open (the password is right)', () => {
  it('a database that does not exist (1044 to the user, 1049 to the master): refused naming it, not healed', async () => {
    const spec: AccountSpec = { secretFields: { dbname: `hms_missing_${randomBytes(3).toString('hex')}` } };
    const told = refused('AUTH_FAILED', 'database-not-allowed', /password .*was accepted.*dbname/);
    await single(spec, told, told, 'no db');
  });

  it('a database the user has no right to (1044): refused naming it, not healed', async () => {
    const spec: AccountSpec = { secretFields: { dbname: 'mysql' }, mayListAccounts: false };
    const told = refused('AUTH_FAILED', 'database-not-allowed', /password .*was accepted.*dbname/);
    await single(spec, told, told, 'no right');
  });
});

describe('account states', () => {
  it('REQUIRE SSL while the function connects without TLS: refused naming the requirement, nothing healed', async () => {
    await single(
      { options: 'REQUIRE SSL' },
      refused('AUTH_FAILED', 'undetermined', /requires TLS/),
      refused('AUTH_FAILED', 'undetermined'),
      'REQUIRE SSL',
    );
  });

  it('REQUIRE SSL and a drifted password while the function connects without TLS: no password would log in, nothing healed', async () => {
    await single(
      { options: 'REQUIRE SSL', drifted: true },
      refused('AUTH_FAILED', 'undetermined', /requires TLS.*came without it.*nothing was changed/),
      refused('AUTH_FAILED', 'undetermined'),
      'REQUIRE SSL + drift',
    );
  });

  it('ACCOUNT LOCK and a drifted password: the lock is the reason, nothing healed', async () => {
    // The server checks the password before the lock: without a master it is a plain 1045.
    await single(
      { options: 'ACCOUNT LOCK', drifted: true },
      refused('AUTH_FAILED', 'login-disabled'),
      refused('AUTH_FAILED', 'undetermined'),
      'locked + drift',
    );
  });

  it('another host entry locked, TLS-bound and limited: its password set, everything else on it kept', async () => {
    const spec: AccountSpec = {
      hosts: ['127.0.0.1', APP_ADDRESS, '10.%'],
      prepare: async (s, user) => {
        const a = await s.admin();
        try {
          await a.query(`ALTER USER ${a.format('?@?', [user, '10.%'])} REQUIRE SSL WITH MAX_USER_CONNECTIONS 3 ACCOUNT LOCK`);
        } finally {
          await a.end();
        }
      },
    };
    expectOutcome(await runCell(ctx, spec, 'single-user', true, cleanup), rotated, 'mixed other entry');
  });

  it('PASSWORD EXPIRE NEVER and INTERVAL are kept', async () => {
    await single({ options: 'PASSWORD EXPIRE NEVER' }, rotated, rotated, 'expire never');
    await single({ hosts: ['%', '127.0.0.1'], options: 'PASSWORD EXPIRE INTERVAL 10 DAY' }, rotated, refused('DATABASE'), 'interval');
  });

  it("user names with a quote, a backslash, an '@' and non-ASCII letters, and a long one", async () => {
    await single({ usernameSuffix: "_o'b\\x@y_é" }, rotated, rotated, 'odd name');
    await single({ usernameSuffix: `_${'n'.repeat(50)}`, hosts: ['%', '127.0.0.1'] }, rotated, refused('DATABASE'), 'long name');
  });

  it('a default role (SET DEFAULT ROLE) is kept', async () => {
    const role = shortName('r', PREFIX);
    roles.push(role);
    const admin = await server.admin();
    try {
      await admin.query('CREATE ROLE ?', [role]);
    } finally {
      await admin.end();
    }
    const spec: AccountSpec = {
      prepare: async (s, user) => {
        const a = await s.admin();
        try {
          await a.query('GRANT ? TO ?@?', [role, user, '%']);
          await a.query('SET DEFAULT ROLE ? FOR ?@?', [role, user, '%']);
        } finally {
          await a.end();
        }
      },
    };
    await single(spec, rotated, rotated, 'default role');
  });

  it('a MariaDB role of the same name as the user (a row on an empty host) is no host entry of it', async () => {
    const made: string[] = [];
    const spec: AccountSpec = {
      prepare: async (s, user) => {
        const a = await s.admin();
        try {
          await a.query('CREATE ROLE ?', [user]);
          made.push(user);
        } finally {
          await a.end();
        }
      },
    };
    try {
      await single(spec, rotated, rotated, 'same-name role');
    } finally {
      const a = await server.admin();
      try {
        for (const role of made) await a.query('DROP ROLE IF EXISTS ?', [role]);
      } finally {
        await a.end();
      }
    }
  });

  it.each([
    ["USING 'invalid'", "IDENTIFIED VIA mysql_native_password USING 'invalid'"],
    [
      "USING 'invalid' OR unix_socket (MariaDB's own root@localhost)",
      "IDENTIFIED VIA mysql_native_password USING 'invalid' OR unix_socket",
    ],
    ["a hash no password has (MySL's *THISISNOTAVALIDPASSWORD…)", "IDENTIFIED BY PASSWORD '*THISISNOTAVALIDPASSWORDTHATCANBEUSEDHERE'"],
  ])(
    'a stored native string no password matches (%s), the DBA\'s way to shut password logins: refused, never "healed"',
    async (_label, clause) => {
      await single(
        { identified: () => clause },
        refused('AUTH_FAILED', 'login-disabled', /no password can match/),
        refused('AUTH_FAILED', 'undetermined'),
        'invalid hash',
      );
    },
  );

  it("another host entry shut to passwords (USING 'invalid' OR unix_socket): rotated, that entry still takes no password", async () => {
    const shut = "IDENTIFIED VIA mysql_native_password USING 'invalid' OR unix_socket";
    const spec: AccountSpec = {
      prepare: async (s, user) => {
        const a = await s.admin();
        try {
          await a.query(`CREATE USER ${a.format('?@?', [user, 'localhost'])} ${shut}`);
        } finally {
          await a.end();
        }
      },
    };
    const run = await runCell(ctx, spec, 'single-user', true, cleanup);
    expectOutcome(run, rotated, 'shut entry');
    const a = await server.admin();
    try {
      const [rows] = await a.query('SHOW CREATE USER ?@?', [run.username, 'localhost']);
      expect(String(Object.values((rows as Row[])[0]!)[0])).toMatch(/USING 'invalid' OR unix_socket$/);
    } finally {
      await a.end();
    }
  });

  it("drift on the function's entry, and another entry on mysql_old_password: the heal stops before it sets the application's '%'", async () => {
    const spec: AccountSpec = {
      hosts: ['%', '127.0.0.1'],
      prepare: async (s, user) => {
        const a = await s.admin();
        try {
          const other = mysqlNativePasswordHash(strongPassword());
          await a.query(`ALTER USER ${a.format('?@?', [user, '127.0.0.1'])} IDENTIFIED BY PASSWORD '${other}'`);
          await a.query(`CREATE USER ${a.format('?@?', [user, '10.%'])} IDENTIFIED VIA mysql_old_password USING '6f8c114b58f2ce9e'`);
        } finally {
          await a.end();
        }
      },
    };
    const run = await runCell(ctx, spec, 'single-user', true, cleanup);
    expectOutcome(run, refused('DATABASE', undefined, /'10\.%' authenticates with mysql_old_password.*nothing was changed/), 'old entry');
    expect(run.appBefore).toBe(true);
  });

  describe('a MariaDB chain holding two passwords (its way to keep the old one valid while clients move)', () => {
    // `IDENTIFIED VIA mysql_native_password USING … OR mysql_native_password USING …`: the server takes
    // either password. Only the secret's may change; the other belongs to clients the secret does not know.
    const other = `Other-${randomBytes(6).toString('hex')}-1a`;
    const chain =
      (secretFirst: boolean) =>
      (hash: string): string => {
        const mine = `mysql_native_password USING '${hash}'`;
        const theirs = `mysql_native_password USING '${mysqlNativePasswordHash(other)}'`;
        return `IDENTIFIED VIA ${secretFirst ? `${mine} OR ${theirs}` : `${theirs} OR ${mine}`}`;
      };

    it.each([
      ['first', true],
      ['second', false],
    ])('the secret on the %s method: only it is set, the other password still logs in', async (_which, secretFirst) => {
      // A second host entry on one password makes the function's own change go through the master too.
      const run = await runCell(ctx, { hosts: ['%', '10.0.0.0/255.0.0.0'], identified: chain(secretFirst) }, 'single-user', true, cleanup);
      expectOutcome(run, rotated, `two passwords, secret ${_which}`);
      expect({ otherLogsIn: await logsIn(server, run.username, other) }).toEqual({ otherLogsIn: true });
    });

    it('drift (the secret holds neither): refused before any change, both passwords still log in', async () => {
      const run = await runCell(ctx, { identified: chain(true), drifted: true }, 'single-user', true, cleanup);
      expectOutcome(
        run,
        refused('DATABASE', undefined, /several passwords, none of which is the secret's.*Nothing was changed/),
        'two passwords drift',
      );
      expect({ otherLogsIn: await logsIn(server, run.username, other) }).toEqual({ otherLogsIn: true });
    });
  });

  describe('an account or host entry with no password (it admits the empty one)', () => {
    const createEntry = (host: string, clause: string) => async (s: { admin(): Promise<Connection> }, user: string) => {
      const a = await s.admin();
      try {
        await a.query(`CREATE USER ${a.format('?@?', [user, host])} ${clause}`);
      } finally {
        await a.end();
      }
    };

    it('the secret holds a password the account never had: not drift, nothing healed', async () => {
      await single(
        { identified: () => '', drifted: true },
        refused('AUTH_FAILED', 'undetermined', /has no password.*nothing is healed/),
        refused('AUTH_FAILED', 'undetermined'),
        'no password',
      );
    });

    it("another host entry without a password ('localhost'): refused before any change, its clients keep logging in without one", async () => {
      await single(
        { prepare: createEntry('localhost', '') },
        refused('DATABASE', undefined, /'localhost' has no password.*Nothing was changed/),
        refused('DATABASE', undefined, /also exists as .*'localhost'.*Nothing was changed/),
        'entry without password',
      );
    });

    it("a chain of the secret's password OR the empty one: only the secret's is set, the empty one still logs in", async () => {
      const run = await runCell(
        ctx,
        { identified: (hash) => `IDENTIFIED VIA mysql_native_password USING '${hash}' OR mysql_native_password USING ''` },
        'single-user',
        true,
        cleanup,
      );
      expectOutcome(run, rotated, 'secret or empty');
      expect({ emptyLogsIn: await logsIn(server, run.username, '') }).toEqual({ emptyLogsIn: true });
    });
  });

  it("another host entry ('localhost') holding a password the secret never held: refused before any change, its clients keep theirs", async () => {
    const theirs = strongPassword();
    const run = await runCell(
      ctx,
      {
        prepare: async (s, user) => {
          const a = await s.admin();
          try {
            await a.query(`CREATE USER ${a.format('?@?', [user, 'localhost'])} IDENTIFIED BY ${a.escape(theirs)}`);
          } finally {
            await a.end();
          }
        },
      },
      'single-user',
      true,
      cleanup,
    );
    expectOutcome(
      run,
      refused(
        'DATABASE',
        undefined,
        /'localhost' holds a password that is neither the secret's current one nor its new one.*Nothing was changed/,
      ),
      'entry with another password',
    );
    expect(run.texts.filter((t) => t.includes(theirs))).toEqual([]);
  });

  it('a mysql_old_password (pre-4.1) hash: refused naming the plugin, nothing changed', async () => {
    await single(
      { identified: () => "IDENTIFIED VIA mysql_old_password USING '6f8c114b58f2ce9e'" },
      refused('AUTH_FAILED', 'unsupported-auth-plugin', /mysql_old_password/),
      refused('AUTH_FAILED', 'unsupported-auth-plugin'),
      'old password',
    );
  });
});

describe('masters', () => {
  /** A master like RDS's: CREATE USER and every right on the application schemas WITH GRANT OPTION, no SUPER, no mysql.*. */
  async function limitedMaster(): Promise<string> {
    const username = shortName('lm', PREFIX);
    cleanup.push(username);
    const password = strongPassword();
    const admin = await server.admin();
    try {
      await admin.query('CREATE USER ?@? IDENTIFIED BY PASSWORD ?', [username, '%', mysqlNativePasswordHash(password)]);
      await admin.query('GRANT CREATE USER, RELOAD, PROCESS, SHOW DATABASES ON *.* TO ?@? WITH GRANT OPTION', [username, '%']);
    } finally {
      await admin.end();
    }
    return createSecret(endpoint.client, `${username}-secret`, {
      engine: 'mariadb',
      host: '127.0.0.1',
      port: server.port,
      username,
      password,
      ssl: false,
    });
  }

  it('a master that may not read mysql.*: one host entry rotated; two refused naming the grant; drift undetermined; nothing changed', async () => {
    const limited = { ...ctx, masterArn: await limitedMaster() };
    expectOutcome(await runCell(limited, {}, 'single-user', true, cleanup), rotated, 'limited master / one host');
    expectOutcome(
      await runCell(limited, { hosts: ['%', '127.0.0.1'] }, 'single-user', true, cleanup),
      refused('DATABASE', undefined, /master user may not read the accounts.*grant it SELECT.*Nothing was changed/),
      'limited master / hosts',
    );
    expectOutcome(
      await runCell(limited, { drifted: true }, 'single-user', true, cleanup),
      refused('AUTH_FAILED', 'undetermined', /master cannot read/),
      'limited master / drift',
    );
  });

  it("a master whose own login fails: the error says it is the master's, and nothing changes", async () => {
    const username = shortName('bm', PREFIX);
    const badMaster = await createSecret(endpoint.client, `${username}-secret`, {
      engine: 'mariadb',
      host: '127.0.0.1',
      port: server.port,
      username,
      password: strongPassword(),
      ssl: false,
    });
    const bad = { ...ctx, masterArn: badMaster };
    expectOutcome(
      await runCell(bad, { hosts: ['%', '127.0.0.1'] }, 'single-user', true, cleanup),
      refused('AUTH_FAILED', undefined, /master/),
      'bad master / hosts',
    );
    expectOutcome(
      await runCell(bad, { drifted: true }, 'single-user', true, cleanup),
      refused('AUTH_FAILED', undefined, /master/),
      'bad / drift',
    );
  });

  it("the master's own user as the secret's user: refused before any change, the master secret keeps working", async () => {
    const username = shortName('same', PREFIX);
    cleanup.push(username);
    const password = strongPassword();
    const value = { engine: 'mariadb', host: '127.0.0.1', port: server.port, username, password, ssl: false };
    const a = await server.admin();
    try {
      await a.query('CREATE USER ?@? IDENTIFIED BY PASSWORD ?', [username, '%', mysqlNativePasswordHash(password)]);
      await a.query('GRANT ALL PRIVILEGES ON *.* TO ?@? WITH GRANT OPTION', [username, '%']);
    } finally {
      await a.end();
    }
    const masterArn = await createSecret(endpoint.client, `${username}-master`, value);
    const child = await createSecret(endpoint.client, `${username}-child`, { ...value, masterarn: masterArn });
    const logs = captureLogger();
    const handler = createRotationHandler({
      engine: mysqlEngine,
      strategy: 'single-user',
      secretsClient: endpoint.client,
      env: { DB_TLS_MODE: 'disable' },
      logger: logs,
    });
    const fn = lambdaArn(shortName('fn', PREFIX));
    endpoint.local.registerRotationFunction(fn, (event) => handler(event));
    await expect(rotate(endpoint.client, child, fn)).rejects.toBeDefined();
    expect(logs.lines.find((l) => l.outcome === 'failure')).toMatchObject({ errorCode: 'SECRET_INVALID' });
    expect(logs.text()).toMatch(/the master's own user/);
    expect(await logsIn(server, username, password)).toBe(true);
    expect((await secretValue(endpoint.client, child)).password).toBe(password);
  });
});

describe('a crash after the password of one host entry of several is set', () => {
  /** The master's `at`-th password statement reaches the server, then its connection "drops" for good. */
  const crashingMaster =
    (at: number): Connector =>
    async (request) => {
      const session = await mysqlEngine.defaultConnector(request);
      if (request.role !== 'master') return session;
      let changes = 0;
      const reset = (): Error => Object.assign(new Error('simulated crash'), { code: 'ECONNRESET' });
      return {
        ...session,
        async query(sql: string, params?: readonly unknown[]): Promise<readonly Row[]> {
          if (changes >= at) throw reset();
          if (!/^\s*(ALTER USER|SET PASSWORD)\b/i.test(sql)) return session.query(sql, params);
          changes += 1;
          const rows = await session.query(sql, params);
          if (changes === at) throw reset();
          return rows;
        },
      };
    };

  /** The stored native hash of every host entry of `user`. */
  async function hashes(a: Connection, user: string): Promise<Record<string, string>> {
    const [rows] = await a.query(
      "SELECT Host AS host, JSON_VALUE(Priv, '$.authentication_string') AS hash FROM mysql.global_priv WHERE User = ? ORDER BY Host",
      [user],
    );
    return Object.fromEntries((rows as Array<{ host: string; hash: string }>).map((r) => [r.host, r.hash]));
  }

  it.each([
    ['a heal statement refused after the first entry was set (the connection alive): that entry is put back', 2, 'more'],
    ['the first heal statement refused: nothing to put back, and nothing is written', 1, 'none'],
  ] as const)('%s; nothing changed', async (_label, refusedAt, putBack) => {
    const username = shortName('c', PREFIX);
    cleanup.push(username);
    const password = strongPassword();
    const a = await server.admin();
    try {
      for (const host of ['127.0.0.1', 'hms.example.invalid'])
        await a.query('CREATE USER ?@? IDENTIFIED BY PASSWORD ?', [username, host, mysqlNativePasswordHash(password)]);
      const before = await hashes(a, username);
      const secretId = await createSecret(endpoint.client, `${username}-secret`, {
        engine: 'mariadb',
        host: '127.0.0.1',
        port: server.port,
        username,
        password: strongPassword(),
        ssl: false,
        masterarn: ctx.masterArn,
      });
      let changes = 0;
      const refusingSecond: Connector = async (request) => {
        const session = await mysqlEngine.defaultConnector(request);
        if (request.role !== 'master') return session;
        return {
          ...session,
          async query(sql: string, params?: readonly unknown[]): Promise<readonly Row[]> {
            if (/^\s*ALTER USER\b/i.test(sql) && ++changes === refusedAt) {
              throw Object.assign(new Error('refused'), { code: 'ER_CANNOT_USER', errno: 1396 });
            }
            return session.query(sql, params);
          },
        };
      };
      const handler = createRotationHandler({
        engine: mysqlEngine,
        strategy: 'single-user',
        secretsClient: endpoint.client,
        env: { DB_TLS_MODE: 'disable' },
        logger: captureLogger(),
        connect: refusingSecond,
      });
      const fn = lambdaArn(shortName('fn', PREFIX));
      endpoint.local.registerRotationFunction(fn, (event) => handler(event));
      await expect(rotate(endpoint.client, secretId, fn)).rejects.toBeDefined();
      expect(await hashes(a, username)).toEqual(before);
      // A put-back is its own ALTER USER per entry; a read-only replica must not get even that write.
      if (putBack === 'none') expect(changes).toBe(1);
      else expect(changes).toBeGreaterThan(2);
    } finally {
      await a.end();
    }
  });

  it.each([
    ['the own session, the master setting the other entry', ['%', '127.0.0.1'], false, false],
    ["healing drift, the function's entry sorting first", ['127.0.0.1', 'hms.example.invalid'], true, false],
    // A pipeline's PutSecretValue before the retry: refusing the stale pending copy would leave '%' (the
    // applications' entry) on the pending password for good, so the retry finishes and warns instead.
    ['the own session, AWSCURRENT changed by a PutSecretValue before the retry', ['%', '127.0.0.1'], false, true],
  ])('%s: the retry of setSecret (same token) sets every entry', async (_label, hosts, drifted, edited) => {
    const username = shortName('c', PREFIX);
    cleanup.push(username);
    const password = strongPassword();
    const a = await server.admin();
    try {
      for (const host of hosts)
        await a.query('CREATE USER ?@? IDENTIFIED BY PASSWORD ?', [username, host, mysqlNativePasswordHash(password)]);
      const secretId = await createSecret(endpoint.client, `${username}-secret`, {
        engine: 'mariadb',
        host: '127.0.0.1',
        port: server.port,
        username,
        password: drifted ? strongPassword() : password,
        ssl: false,
        masterarn: ctx.masterArn,
      });
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
      const crashing = handler(crashingMaster(1));
      endpoint.local.registerRotationFunction(fn, (event) => crashing(event));
      await expect(rotate(endpoint.client, secretId, fn)).rejects.toBeDefined();
      const token = Object.entries(await stagesOf(endpoint.client, secretId)).find(([, st]) => st.includes('AWSPENDING'))?.[0];
      expect(token).toBeDefined();
      const pending = await secretValue(endpoint.client, secretId, 'AWSPENDING');
      // One entry already has the pending password, one not.
      const halfway = Object.values(await hashes(a, username)).filter((h) => h === mysqlNativePasswordHash(pending.password));
      expect(halfway).toHaveLength(1);
      const current0 = await secretValue(endpoint.client, secretId);
      if (edited) {
        await endpoint.client.send(
          new PutSecretValueCommand({ SecretId: secretId, SecretString: JSON.stringify({ ...current0, team: 'payments' }) }),
        );
      }

      const retry = handler();
      for (const Step of ['setSecret', 'testSecret', 'finishSecret']) await retry({ SecretId: secretId, ClientRequestToken: token!, Step });
      const current = await secretValue(endpoint.client, secretId);
      expect(current.password).toBe(pending.password);
      const expected = Object.fromEntries(hosts.map((h) => [h, mysqlNativePasswordHash(pending.password)]));
      expect(await hashes(a, username)).toEqual(expected);
      expect(await logsIn(server, username, pending.password, '127.0.0.1')).toBe(true);
      if (hosts.includes('%')) expect(await logsIn(server, username, pending.password, APP_ADDRESS)).toBe(true);
    } finally {
      await a.end();
    }
  });
});

describe('a user whose password is empty', () => {
  it('the secret holds an empty password: refused as invalid input before anything changes', async () => {
    const username = shortName('e', PREFIX);
    cleanup.push(username);
    const a = await server.admin();
    try {
      await a.query("CREATE USER ?@? IDENTIFIED BY ''", [username, '%']);
      const secretId = await createSecret(endpoint.client, `${username}-secret`, {
        engine: 'mariadb',
        host: '127.0.0.1',
        port: server.port,
        username,
        password: '',
        ssl: false,
        masterarn: ctx.masterArn,
      });
      const logs = captureLogger();
      const handler = createRotationHandler({
        engine: mysqlEngine,
        strategy: 'single-user',
        secretsClient: endpoint.client,
        env: { DB_TLS_MODE: 'disable' },
        logger: logs,
      });
      const fn = lambdaArn(shortName('fn', PREFIX));
      endpoint.local.registerRotationFunction(fn, (event) => handler(event));
      await expect(rotate(endpoint.client, secretId, fn)).rejects.toBeDefined();
      const failure = logs.lines.find((l) => l.outcome === 'failure');
      expect(failure).toMatchObject({ errorCode: 'SECRET_INVALID' });
      expect(failure?.message).toMatch(/password.*empty/);
      expect(await logsIn(server, username, '')).toBe(true);
    } finally {
      await a.end();
    }
  });
});
