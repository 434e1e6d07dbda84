/**
 * PostgreSQL account states that need server-level settings, on ONE private server for the whole file
 * (pg_hba.conf rules, password_encryption): refusals for this address (no line, a rejecting line, a
 * method that does not use the stored password), md5 hashes against scram-sha-256 and md5 lines, and
 * SASLprep: the verifier this toolkit computes and the one the server computes from the plaintext must
 * agree with what pg and libpq send.
 */
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from 'pg';
import { escapePostgresIdentifier as ident, escapePostgresLiteral as literal } from '../../shared/engines/postgres-escape';
import {
  matchPostgresStoredPassword,
  postgresMd5Hash,
  scramPreparationProblem,
  scramSha256Verifier,
} from '../../shared/engines/password-hashes';
import { startPrivatePostgres, type PrivatePostgres } from '../../local/private-postgres';
import { MEMBER_OF_SQL } from '../../shared/engines/postgres-hba';
import { createSecret, rotate, secretValue, startEndpoint, uniqueName, type Endpoint } from '../support/rotation-endpoint';
import {
  COLUMNS,
  ROTATED,
  createMasters,
  dropRoles,
  loginCode,
  pgAdmin,
  pgPassword,
  refused,
  registerHandlers,
  runCell,
  type AccountState,
  type Handlers,
  type Masters,
  type Outcome,
  type PgServer,
} from '../support/postgres-accounts';

const GROUPS = ['pgacc_allowed', 'pgacc_rejected', 'pgacc_ldap', 'pgacc_elsewhere', 'pgacc_md5line', 'pgacc_quoted'] as const;

/** A role literally named like the `+pgacc_quoted` group token: line 10 quotes it, and names only that role. */
const PLUS_NAMED = '+pgacc_quoted';

/** A role admitted by a line naming it (its alternate `_clone` meets none). */
const NAMED = 'rpa_hba_named';

/** The function's address is 127.0.0.1: each group meets another kind of line from it. */
const HBA = `
local all all trust
host all postgres 127.0.0.1/32 scram-sha-256
host all +pgacc_rejected 127.0.0.1/32 reject
host all +pgacc_ldap 127.0.0.1/32 ldap ldapserver=127.0.0.1 ldapport=9 ldapprefix="cn=" ldapsuffix=",dc=example,dc=org"
host all +pgacc_elsewhere 10.11.12.0/24 scram-sha-256
host all +pgacc_md5line 127.0.0.1/32 md5
host all +pgacc_allowed 127.0.0.1/32 scram-sha-256
host all ${NAMED} 127.0.0.1/32 scram-sha-256
host all "${PLUS_NAMED}" 127.0.0.1/32 reject
host all +pgacc_quoted 127.0.0.1/32 ldap ldapserver=127.0.0.1 ldapport=9 ldapprefix="cn=" ldapsuffix=",dc=example,dc=org"
`;

let pg: PrivatePostgres;
let server: PgServer;
let endpoint: Endpoint;
let handlers: Handlers;
let masters: Masters;
let admin: Client;

beforeAll(async () => {
  pg = await startPrivatePostgres();
  server = { host: '127.0.0.1', port: pg.port, adminPassword: pg.env.PGPASSWORD ?? '' };
  writeFileSync(join(pg.dir, 'data', 'pg_hba.conf'), HBA);
  admin = await pgAdmin(server);
  await admin.query('SELECT pg_reload_conf()');
  for (const group of GROUPS) await admin.query(`CREATE ROLE ${ident(group)} NOLOGIN`);
  await admin.query(`CREATE ROLE ${ident(PLUS_NAMED)} NOLOGIN`);
  endpoint = await startEndpoint();
  handlers = registerHandlers(endpoint);
  masters = await createMasters(endpoint, admin, server);
  await admin.query(`GRANT pgacc_allowed TO ${ident(masters.rdsLikeName)}`);
}, 60_000);

afterAll(async () => {
  await admin?.end();
  await endpoint?.close();
  await pg?.stop();
});

const U = refused('undetermined');
const member = (group: (typeof GROUPS)[number], extra: AccountState = {}): AccountState => ({ memberOf: [group], ...extra });

/** state → [superuser master, RDS-like master, no master, alternating users]. */
const MATRIX: ReadonlyArray<readonly [string, AccountState, readonly [Outcome, Outcome, Outcome, Outcome]]> = [
  ['a scram-sha-256 line admits the role', member('pgacc_allowed'), [ROTATED, ROTATED, ROTATED, ROTATED]],
  // 28000 is never drift: the RDS-like master, which cannot read pg_hba, does not conclude anything.
  ['no pg_hba line for this address', member('pgacc_elsewhere'), [refused('host-not-allowed'), U, U, refused('host-not-allowed')]],
  ['a pg_hba line rejects this address', member('pgacc_rejected'), [refused('host-not-allowed'), U, U, refused('host-not-allowed')]],
  [
    'drift + a rejecting line (never healed)',
    member('pgacc_rejected', { drift: true }),
    [refused('host-not-allowed'), U, U, refused('host-not-allowed')],
  ],
  ['an ldap line', member('pgacc_ldap'), [refused('unsupported-auth-plugin'), U, U, refused('unsupported-auth-plugin')]],
  // Elimination cannot see the md5 hash (pg_authid): it heals, with a SCRAM verifier, which the line takes.
  [
    'an md5 hash under a scram-sha-256 line',
    member('pgacc_allowed', { md5Stored: true }),
    [refused('unsupported-auth-plugin'), ROTATED, U, refused('unsupported-auth-plugin')],
  ],
  ['drift under an md5 line', member('pgacc_md5line', { drift: true, md5Stored: true }), [ROTATED, ROTATED, U, refused('wrong-password')]],
];

describe.each(MATRIX)('%s', (_name, state, outcomes) => {
  it.concurrent.each(COLUMNS.map((column, i) => [column, outcomes[i]!] as const))('%s → %j', async (column, expected) => {
    await runCell(endpoint, handlers, masters, server, state, column, expected);
  });
});

describe('what a host refusal says', () => {
  it('names the address and the database when no line admits it', async () => {
    const result = await runCell(
      endpoint,
      handlers,
      masters,
      server,
      member('pgacc_elsewhere'),
      'superuser-master',
      refused('host-not-allowed'),
    );
    expect(result.message).toMatch(/no pg_hba\.conf line admits this role from 127\.0\.0\.1 to database postgres/);
  });

  it('names the rejecting line and the method of a line that does not use the stored password', async () => {
    const rejected = await runCell(
      endpoint,
      handlers,
      masters,
      server,
      member('pgacc_rejected'),
      'superuser-master',
      refused('host-not-allowed'),
    );
    expect(rejected.message).toMatch(/pg_hba\.conf line 4 rejects/);
    const ldap = await runCell(
      endpoint,
      handlers,
      masters,
      server,
      member('pgacc_ldap'),
      'superuser-master',
      refused('unsupported-auth-plugin'),
    );
    expect(ldap.message).toMatch(/line 5 .* with ldap/);
  });

  it('names the md5 hash that a scram-sha-256 line cannot use', async () => {
    const result = await runCell(
      endpoint,
      handlers,
      masters,
      server,
      member('pgacc_allowed', { md5Stored: true }),
      'superuser-master',
      refused('unsupported-auth-plugin'),
    );
    expect(result.message).toMatch(/md5 hash, which pg_hba\.conf line 8 \(scram-sha-256\) cannot use/);
  });
});

/**
 * pg_hba.conf's `+group` (and samerole) match a role by membership WITHOUT the superuser shortcut: the role
 * itself or a chain of pg_auth_members rows. pg_has_role(…, 'MEMBER') is true of every group for a
 * superuser, which would place a superuser application role on the first `+group` line (line 4, reject).
 */
describe('a superuser application role meets only the +group lines it is a member of', () => {
  it('drift with an md5 hash under the scram-sha-256 line it really meets: refused, never healed', async () => {
    const state = member('pgacc_allowed', { superuser: true, md5Stored: true, drift: true });
    const result = await runCell(endpoint, handlers, masters, server, state, 'superuser-master', refused('unsupported-auth-plugin'));
    expect(result.message).toMatch(/md5 hash, which pg_hba\.conf line 8 \(scram-sha-256\) cannot use/);
  });

  it('an ldap line met through a group: named as such, not as the rejecting line of a group it is not in', async () => {
    const result = await runCell(
      endpoint,
      handlers,
      masters,
      server,
      member('pgacc_ldap', { superuser: true }),
      'superuser-master',
      refused('unsupported-auth-plugin'),
    );
    expect(result.message).toMatch(/line 5 .* with ldap/);
  });

  it('a group granted through another group (a chain in pg_auth_members) still matches', async () => {
    await admin.query('CREATE ROLE pgacc_chain NOLOGIN IN ROLE pgacc_ldap');
    try {
      const result = await runCell(
        endpoint,
        handlers,
        masters,
        server,
        { memberOf: ['pgacc_chain'], superuser: true },
        'superuser-master',
        refused('unsupported-auth-plugin'),
      );
      expect(result.message).toMatch(/line 5 .* with ldap/);
    } finally {
      await dropRoles(admin, ['pgacc_chain']);
    }
  });

  it('names that need quoting, a chain, a group that does not exist and the role itself, as the server counts them', async () => {
    const group = 'pgacc_Grp "q" ü';
    const middle = "pgacc_mid'dle";
    const role = 'pgacc_Super Mem';
    await admin.query(`CREATE ROLE ${ident(group)} NOLOGIN`);
    await admin.query(`CREATE ROLE ${ident(middle)} NOLOGIN IN ROLE ${ident(group)}`);
    await admin.query(`CREATE ROLE ${ident(role)} SUPERUSER LOGIN IN ROLE ${ident(middle)}`);
    try {
      const named = [group, middle, role, 'pgacc_allowed', 'pgacc_no_such_group', 'pgacc_super mem'];
      const rows = await admin.query(MEMBER_OF_SQL, [role, named]);
      expect(rows.rows.map((r: { rolname: string }) => r.rolname).sort()).toEqual([group, middle, role].sort());
    } finally {
      await dropRoles(admin, [role, middle, group]);
    }
  });

  it('a role named rds_iam (as a local RDS stand-in has) does not make a superuser an IAM role: drift is healed', async () => {
    await admin.query('CREATE ROLE rds_iam NOLOGIN');
    try {
      await runCell(
        endpoint,
        handlers,
        masters,
        server,
        member('pgacc_allowed', { superuser: true, drift: true }),
        'superuser-master',
        ROTATED,
      );
    } finally {
      await dropRoles(admin, ['rds_iam']);
    }
  });
});

/**
 * pg_hba_file_rules shows a quoted `"+pgacc_quoted"` (the role of that name, literally) exactly as the
 * group token `+pgacc_quoted`: line 10 is the quoted one, line 11 the group's (ldap).
 */
describe('a quoted name the view shows as a keyword or +group', () => {
  it('a member of the group is not placed on the line quoting a role of the same spelling: it cannot be told, and nothing changes', async () => {
    const result = await runCell(endpoint, handlers, masters, server, member('pgacc_quoted'), 'superuser-master', refused('undetermined'));
    expect(result.message).toMatch(/pg_hba\.conf line 10 applies cannot be told/);
    expect(result.message).not.toMatch(/rejects/);
  });
});

describe('verifier kinds and password_encryption', () => {
  it('keeps md5 when password_encryption is md5 and the role logs in by md5', async () => {
    const state = member('pgacc_md5line', { md5Stored: true, md5Encryption: true });
    const result = await runCell(endpoint, handlers, masters, server, state, 'no-master', ROTATED);
    expect(result.after.password).toBe(postgresMd5Hash(result.current.password, result.current.username));
  });

  it('keeps SCRAM under password_encryption md5 for a role that logs in with SCRAM (an md5 line with a SCRAM verifier)', async () => {
    const result = await runCell(
      endpoint,
      handlers,
      masters,
      server,
      member('pgacc_md5line', { md5Encryption: true }),
      'no-master',
      ROTATED,
    );
    expect(result.after.password).toMatch(/^SCRAM-SHA-256\$/);
  });

  it('heals drift as the master in the md5 the role has and password_encryption asks for', async () => {
    const state = member('pgacc_md5line', { drift: true, md5Stored: true, md5Encryption: true });
    const result = await runCell(endpoint, handlers, masters, server, state, 'superuser-master', ROTATED);
    expect(result.after.password).toBe(postgresMd5Hash(result.current.password, result.current.username));
  });
});

describe('SASLprep: verifier, server and clients agree', () => {
  /** Characters SASLprep maps, removes, normalises, prohibits, or leaves alone. */
  const interesting = [
    'a',
    'Z',
    '7',
    '-',
    ' ',
    '\\',
    "'",
    'é',
    'ß',
    'Ω',
    '密',
    '😀',
    '\u00a0',
    '\u2003',
    '\u200b',
    '\u00ad',
    '\u200d',
    '\ufe0f',
    'ｐ',
    'ﬁ',
    '½',
    '\u0301',
    '\u2126',
    'Ⅸ',
    '\u0627',
    '\ue000',
    '\u0085',
  ];
  const passwords = fc.array(fc.constantFrom(...interesting), { minLength: 1, maxLength: 12 }).map((chars) => `p${chars.join('')}`);

  async function serverVerifier(name: string, password: string): Promise<string> {
    // The plaintext goes to the private server only (its log is deleted with it).
    await admin.query(`ALTER ROLE ${ident(name)} PASSWORD ${literal(password)}`);
    const { rows } = await admin.query('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [name]);
    return String(rows[0].rolpassword);
  }

  function psqlLogs(name: string, password: string): boolean {
    const out = spawnSync('psql', ['-h', '127.0.0.1', '-p', String(server.port), '-U', name, '-d', 'postgres', '-tAc', 'SELECT 1', '-w'], {
      env: { ...process.env, PGPASSWORD: password, PGCONNECT_TIMEOUT: '5' },
      encoding: 'utf8',
    });
    return out.status === 0 && out.stdout.trim() === '1';
  }

  it('the server verifier of any password verifies; a password SASLprep leaves alone logs in with our verifier from pg and libpq', async () => {
    const name = `pgacc_prep_${Date.now().toString(36)}`;
    await admin.query(`CREATE ROLE ${ident(name)} LOGIN IN ROLE pgacc_allowed`);
    try {
      await fc.assert(
        fc.asyncProperty(passwords, async (password) => {
          const fromServer = await serverVerifier(name, password);
          expect(await matchPostgresStoredPassword(fromServer, name, password)).toBe('match');
          expect(await matchPostgresStoredPassword(fromServer, name, `${password}x`)).toBe('mismatch');
          if (scramPreparationProblem(password) !== undefined) return;
          await admin.query(`ALTER ROLE ${ident(name)} PASSWORD ${literal(scramSha256Verifier(password))}`);
          expect(await loginCode(server, name, password)).toBe('ok');
          expect(psqlLogs(name, password)).toBe(true);
        }),
        { numRuns: 40 },
      );
    } finally {
      await dropRoles(admin, [name]);
    }
  });

  it('a rotation refuses, before any change, a new password that changes under SASLprep', async () => {
    // The generator never makes one (printable ASCII); a hand-made AWSPENDING can.
    const name = `pgacc_prep_${Date.now().toString(36)}`;
    const password = pgPassword();
    await admin.query(`CREATE ROLE ${ident(name)} LOGIN IN ROLE pgacc_allowed PASSWORD ${literal(scramSha256Verifier(password))}`);
    try {
      const { setOwnPostgresPassword, readPostgresServerInfo } = await import('../../shared/engines/postgres-passwords');
      const { connectPostgres } = await import('../../shared/engines/postgres-connector');
      const { parseDatabaseSecret } = await import('../../shared/database-secret');
      const secret = parseDatabaseSecret({
        engine: 'postgres',
        host: '127.0.0.1',
        port: server.port,
        username: name,
        password,
        dbname: 'postgres',
      });
      const session = await connectPostgres({ family: 'postgres', secret, role: 'current', tlsMode: 'disable', connectTimeoutMs: 5000 });
      try {
        const info = await readPostgresServerInfo(session);
        await expect(setOwnPostgresPassword(session, info, { username: name, password: 'new\u00a0password-123' })).rejects.toThrow(
          /SASLprep/,
        );
      } finally {
        await session.close();
      }
      expect(await loginCode(server, name, password)).toBe('ok');
    } finally {
      await dropRoles(admin, [name]);
    }
  });
});

describe('alternating users and a pg_hba line naming the role', () => {
  it('the alternate would meet no line: refused host-not-allowed before any change, no alternate made', async () => {
    const password = pgPassword();
    await admin.query(`CREATE ROLE ${ident(NAMED)} LOGIN PASSWORD ${literal(scramSha256Verifier(password))}`);
    try {
      const arn = await createSecret(endpoint.client, uniqueName('rpa-hba-named'), {
        engine: 'postgres',
        host: server.host,
        port: server.port,
        dbname: 'postgres',
        ssl: false,
        username: NAMED,
        password,
        masterarn: masters.superuser,
      });
      await expect(rotate(endpoint.client, arn, handlers.arn('alternating-users'))).rejects.toThrow(/pg_hba\.conf admits/);
      const failure = handlers.logs.lines.find((l) => l.secretArn === arn && l.outcome === 'failure');
      expect(failure?.reason).toBe('host-not-allowed');
      expect((await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [`${NAMED}_clone`])).rows).toEqual([]);
      expect((await secretValue(endpoint.client, arn)).password).toBe(password);
      expect(await loginCode(server, NAMED, password)).toBe('ok');
    } finally {
      await dropRoles(admin, [NAMED, `${NAMED}_clone`]);
    }
  });
});
