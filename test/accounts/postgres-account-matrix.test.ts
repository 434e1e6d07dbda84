/**
 * The PostgreSQL account-state matrix, on the shared server: each row an account state (and some
 * combinations), each column a strategy with or without a master (superuser, or RDS-like: CREATEROLE,
 * not superuser, so drift is concluded by elimination). Every cell ends rotated, or refused with its
 * reason and nothing changed: pg_authid (verifier included), pg_db_role_setting and memberships of the
 * role and of its clone are compared before and after, and AWSCURRENT logs in afterwards exactly where it
 * did before. fast-check then draws attribute combinations the table does not list.
 */
import fc from 'fast-check';
import type { Client } from 'pg';
import { startEndpoint, type Endpoint } from '../support/rotation-endpoint';
import {
  COLUMNS,
  ROTATED,
  SHARED_SERVER,
  createMasters,
  dropRoles,
  expectedOutcome,
  pgAdmin,
  refused,
  registerHandlers,
  runCell,
  type AccountState,
  type Column,
  type Handlers,
  type Masters,
  type Outcome,
} from '../support/postgres-accounts';

let endpoint: Endpoint;
let handlers: Handlers;
let masters: Masters;
let admin: Client;

beforeAll(async () => {
  endpoint = await startEndpoint();
  handlers = registerHandlers(endpoint);
  admin = await pgAdmin(SHARED_SERVER);
  masters = await createMasters(endpoint, admin, SHARED_SERVER);
});

afterAll(async () => {
  if (masters !== undefined) await dropRoles(admin, [masters.rdsLikeName]);
  await admin?.end();
  await endpoint?.close();
});

const U = refused('undetermined');

/** state → [superuser master, RDS-like master, no master, alternating users]. */
const MATRIX: ReadonlyArray<readonly [string, AccountState, readonly [Outcome, Outcome, Outcome, Outcome]]> = [
  ['ordinary role', {}, [ROTATED, ROTATED, ROTATED, ROTATED]],
  ['NOLOGIN', { nologin: true }, [refused('login-disabled'), refused('login-disabled'), U, refused('login-disabled')]],
  ['VALID UNTIL past (adv-17)', { validUntil: 'past' }, [refused('expired'), refused('expired'), U, refused('expired')]],
  ['VALID UNTIL future (kept)', { validUntil: 'future' }, [ROTATED, ROTATED, ROTATED, ROTATED]],
  ['default_transaction_read_only = on (adv-07)', { readOnly: true }, [ROTATED, ROTATED, ROTATED, ROTATED]],
  [
    'CONNECTION LIMIT reached by the application',
    { connectionLimit: 'exhausted' },
    [refused('connection-limit'), refused('connection-limit'), refused('connection-limit'), refused('connection-limit')],
  ],
  [
    'CONNECTION LIMIT 1: no room for the proving login',
    { connectionLimit: 'one' },
    [refused('connection-limit'), refused('connection-limit'), refused('connection-limit'), ROTATED],
  ],
  ['CONNECTION LIMIT with room (kept)', { connectionLimit: 'room' }, [ROTATED, ROTATED, ROTATED, ROTATED]],
  ['missing role', { missing: true }, [refused('role-missing'), refused('role-missing'), U, refused('role-missing')]],
  // Elimination cannot see PASSWORD NULL (pg_authid is unreadable): healed like drift, and documented.
  [
    'no password (PASSWORD NULL)',
    { noPassword: true },
    [refused('unsupported-auth-plugin'), ROTATED, U, refused('unsupported-auth-plugin')],
  ],
  ['password_encryption md5 on a SCRAM role', { md5Encryption: true }, [ROTATED, ROTATED, ROTATED, ROTATED]],
  ['drift', { drift: true }, [ROTATED, ROTATED, U, refused('wrong-password')]],
  [
    'drift + VALID UNTIL past (never healed)',
    { drift: true, validUntil: 'past' },
    [refused('expired'), refused('expired'), U, refused('expired')],
  ],
  ['drift + NOLOGIN', { drift: true, nologin: true }, [refused('login-disabled'), refused('login-disabled'), U, refused('login-disabled')]],
  [
    'drift + CONNECTION LIMIT reached',
    { drift: true, connectionLimit: 'exhausted' },
    [refused('connection-limit'), refused('connection-limit'), U, refused('connection-limit')],
  ],
  [
    'drift + read-only + password_encryption md5',
    { drift: true, readOnly: true, md5Encryption: true },
    [ROTATED, ROTATED, U, refused('wrong-password')],
  ],
  [
    'NOLOGIN + VALID UNTIL past',
    { nologin: true, validUntil: 'past' },
    [refused('login-disabled'), refused('login-disabled'), U, refused('login-disabled')],
  ],
];

describe.each(MATRIX)('%s', (_name, state, outcomes) => {
  // Cells share nothing but the masters: run side by side (jest's maxConcurrency, 5) to keep the file fast.
  it.concurrent.each(COLUMNS.map((column, i) => [column, outcomes[i]!] as const))('%s → %j', async (column, expected) => {
    // The written table and the rule the property test uses must agree.
    expect(expectedOutcome(state, column)).toEqual(expected);
    await runCell(endpoint, handlers, masters, SHARED_SERVER, state, column, expected);
  });
});

describe('what the refusal says', () => {
  it('an expired role names VALID UNTIL, says the password has not drifted, and keeps the password (adv-17)', async () => {
    const result = await runCell(
      endpoint,
      handlers,
      masters,
      SHARED_SERVER,
      { validUntil: 'past' },
      'superuser-master',
      refused('expired'),
    );
    expect(result.message).toMatch(/VALID UNTIL 2001-01-01 00:00:00 UTC has passed/);
    expect(result.message).toMatch(/has not drifted/);
    expect(result.message).toMatch(/nothing was changed/);
  });

  it('drift on an expired role names both, and is not healed', async () => {
    const result = await runCell(
      endpoint,
      handlers,
      masters,
      SHARED_SERVER,
      { validUntil: 'past', drift: true },
      'superuser-master',
      refused('expired'),
    );
    expect(result.message).toMatch(/expired/);
    expect(result.message).toMatch(/does not match the stored verifier/);
  });

  it('an RDS-like master says what elimination could not see', async () => {
    const result = await runCell(
      endpoint,
      handlers,
      masters,
      SHARED_SERVER,
      { nologin: true, drift: true },
      'rds-like-master',
      refused('login-disabled'),
    );
    expect(result.message).toMatch(/NOLOGIN/);
  });

  it('without a master, says which causes it cannot tell apart', async () => {
    const result = await runCell(endpoint, handlers, masters, SHARED_SERVER, { validUntil: 'past' }, 'no-master', refused('undetermined'));
    expect(result.message).toMatch(/without a masterarn/);
  });
});

/** Attribute combinations the table does not list; impossible ones (an application session for a role without a password) are left out. */
const states: fc.Arbitrary<AccountState> = fc
  .record({
    nologin: fc.boolean(),
    validUntil: fc.constantFrom('none' as const, 'past' as const, 'future' as const),
    readOnly: fc.boolean(),
    connectionLimit: fc.constantFrom('none' as const, 'exhausted' as const, 'one' as const, 'room' as const),
    noPassword: fc.boolean(),
    md5Encryption: fc.boolean(),
    drift: fc.boolean(),
  })
  .filter((s) => !(s.noPassword && (s.drift || s.connectionLimit === 'exhausted')));

it('fast-check: drawn account states end as the contract says in every column', async () => {
  await fc.assert(
    fc.asyncProperty(states, fc.constantFrom(...COLUMNS), async (state: AccountState, column: Column) => {
      await runCell(endpoint, handlers, masters, SHARED_SERVER, state, column, expectedOutcome(state, column));
    }),
    { numRuns: 16 },
  );
});
