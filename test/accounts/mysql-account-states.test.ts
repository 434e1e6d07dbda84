/**
 * The MySQL/MariaDB account-state matrix on the shared MariaDB: each row an account state real servers
 * hold (and combinations), each column a strategy with or without a master, each cell the outcome the
 * product promises: rotated (or renewed), or refused with a stated reason and nothing changed. Every
 * cell is checked from outside (see mysql-account-harness.ts). States that need a server setting
 * (password-validation plugins, max_password_errors, ed25519, client certificates) are in
 * mysql-private-server.test.ts.
 */
import fc from 'fast-check';
import { startTestEndpoint, type TestEndpoint } from '../support/rotation-rig';
import {
  createMaster,
  dropUsers,
  expectOutcome,
  runCell,
  sharedMariadb,
  type AccountSpec,
  type CellContext,
  type Outcome,
} from '../support/mysql-account-harness';

const server = sharedMariadb();
let endpoint: TestEndpoint;
let ctx: CellContext;
const cleanup: string[] = [];

beforeAll(async () => {
  endpoint = await startTestEndpoint();
  const master = await createMaster(endpoint, server);
  cleanup.push(master.username);
  ctx = { endpoint, server, masterArn: master.arn };
});

afterAll(async () => {
  await dropUsers(server, cleanup);
  await endpoint.close();
});

const rotated: Outcome = { kind: 'rotated' };
const refused = (code: string, reason?: string, message?: RegExp): Outcome => ({
  kind: 'refused',
  code,
  ...(reason ? { reason } : {}),
  ...(message ? { message } : {}),
});

interface Row {
  readonly state: string;
  readonly spec: AccountSpec;
  readonly singleWithMaster: Outcome;
  readonly singleWithoutMaster: Outcome;
  readonly alternating: Outcome;
}

const chain = (hash: string): string => `IDENTIFIED VIA unix_socket OR mysql_native_password USING '${hash}'`;

const ROWS: readonly Row[] = [
  { state: 'plain account', spec: {}, singleWithMaster: rotated, singleWithoutMaster: rotated, alternating: rotated },
  {
    state: "two host parts ('%' and the function's 127.0.0.1)",
    spec: { hosts: ['%', '127.0.0.1'] },
    singleWithMaster: rotated,
    singleWithoutMaster: refused('DATABASE', undefined, /also exists as account '.*'@'%'.*Nothing was changed/),
    alternating: rotated,
  },
  {
    state: "only the application's host (127.0.0.2)",
    spec: { hosts: ['127.0.0.2'] },
    singleWithMaster: refused('AUTH_FAILED', 'host-not-allowed'),
    singleWithoutMaster: refused('AUTH_FAILED', 'undetermined', /without a masterarn/),
    alternating: refused('AUTH_FAILED', 'host-not-allowed'),
  },
  {
    state: 'ACCOUNT LOCK',
    spec: { options: 'ACCOUNT LOCK' },
    singleWithMaster: refused('AUTH_FAILED', 'login-disabled', /is locked \(ACCOUNT LOCK\)/),
    // MariaDB's 4151 under MariaDB's name, not mysql2's MySQL one (ER_BULK_PARSER_…).
    singleWithoutMaster: refused('AUTH_FAILED', 'login-disabled', /^(?!.*BULK_PARSER).*MariaDB ER_ACCOUNT_HAS_BEEN_LOCKED/),
    alternating: refused('AUTH_FAILED', 'login-disabled'),
  },
  {
    state: 'PASSWORD EXPIRE (renewed)',
    spec: { options: 'PASSWORD EXPIRE' },
    singleWithMaster: rotated,
    singleWithoutMaster: refused('DATABASE', undefined, /has expired/),
    alternating: rotated,
  },
  {
    state: 'ACCOUNT LOCK and PASSWORD EXPIRE',
    spec: { options: 'ACCOUNT LOCK PASSWORD EXPIRE' },
    singleWithMaster: refused('AUTH_FAILED', 'login-disabled'),
    singleWithoutMaster: refused('AUTH_FAILED', 'login-disabled'),
    alternating: refused('AUTH_FAILED', 'login-disabled'),
  },
  {
    state: 'resource limits, password lifetime, REQUIRE NONE',
    spec: { options: 'REQUIRE NONE WITH MAX_USER_CONNECTIONS 7 MAX_QUERIES_PER_HOUR 5000 PASSWORD EXPIRE INTERVAL 90 DAY' },
    singleWithMaster: rotated,
    singleWithoutMaster: rotated,
    alternating: rotated,
  },
  {
    state: 'authentication chain (unix_socket OR mysql_native_password)',
    spec: { identified: chain },
    singleWithMaster: rotated,
    singleWithoutMaster: refused('DATABASE', undefined, /chain of methods/),
    alternating: rotated,
  },
  {
    state: 'drift (the secret holds another password)',
    spec: { drifted: true },
    singleWithMaster: rotated,
    singleWithoutMaster: refused('AUTH_FAILED', 'undetermined'),
    alternating: refused('AUTH_FAILED', 'wrong-password'),
  },
  {
    state: 'no such user',
    spec: { missing: true },
    singleWithMaster: refused('AUTH_FAILED', 'role-missing'),
    singleWithoutMaster: refused('AUTH_FAILED', 'undetermined'),
    alternating: refused('AUTH_FAILED', 'role-missing'),
  },
  {
    state: 'a user that may not list its own host entries',
    spec: { mayListAccounts: false },
    singleWithMaster: rotated,
    singleWithoutMaster: refused('DATABASE', undefined, /cannot list its own host entries/),
    alternating: rotated,
  },
];

describe.each(ROWS)('$state', (row) => {
  it('single-user with a master', async () => {
    expectOutcome(await runCell(ctx, row.spec, 'single-user', true, cleanup), row.singleWithMaster, `${row.state} / single-user + master`);
  });
  it('single-user without a master', async () => {
    expectOutcome(await runCell(ctx, row.spec, 'single-user', false, cleanup), row.singleWithoutMaster, `${row.state} / single-user`);
  });
  it('alternating users (always with a master)', async () => {
    expectOutcome(await runCell(ctx, row.spec, 'alternating-users', true, cleanup), row.alternating, `${row.state} / alternating-users`);
  });
});

describe('attribute combinations drawn by fast-check', () => {
  it('single-user: rotated exactly when nothing forbids it, else refused with nothing changed', async () => {
    const attributes = fc.record({
      locked: fc.boolean(),
      expired: fc.boolean(),
      secondHost: fc.boolean(),
      limits: fc.boolean(),
      lifetime: fc.boolean(),
      chain: fc.boolean(),
      master: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(attributes, async (a) => {
        const options = [
          a.limits ? 'WITH MAX_USER_CONNECTIONS 9' : '',
          a.locked ? 'ACCOUNT LOCK' : '',
          a.expired ? 'PASSWORD EXPIRE' : a.lifetime ? 'PASSWORD EXPIRE INTERVAL 30 DAY' : '',
        ]
          .filter(Boolean)
          .join(' ');
        const spec: AccountSpec = {
          options,
          ...(a.secondHost ? { hosts: ['%', '127.0.0.1'] } : {}),
          ...(a.chain ? { identified: chain } : {}),
        };
        const expected: Outcome = a.locked
          ? refused('AUTH_FAILED', 'login-disabled')
          : !a.master && (a.secondHost || a.expired || a.chain)
            ? refused('DATABASE')
            : rotated;
        expectOutcome(await runCell(ctx, spec, 'single-user', a.master, cleanup), expected, JSON.stringify(a));
      }),
      { numRuns: 8 },
    );
  });
});
