/**
 * Alternating users and a hand-made AWSPENDING (PutSecretValue, then RotateSecret with its token) whose
 * password changes under SASLprep: as in single-user rotation, it is refused before any change, since
 * SCRAM clients would not agree on its verifier (pg before 8.21 and drivers without SASLprep hash it
 * raw). No alternate is made, the original is untouched. The shared server, as its superuser.
 */
import { randomBytes } from 'node:crypto';
import type { Client } from 'pg';
import { escapePostgresIdentifier as ident, escapePostgresLiteral as literal } from '../../shared/engines/postgres-escape';
import { scramSha256Verifier } from '../../shared/engines/password-hashes';
import { readPostgresServerInfo } from '../../shared/engines/postgres-passwords';
import { syncPostgresAlternateUser } from '../../shared/engines/postgres-alternate-user';
import { SecretValidationError } from '../../shared/errors';
import { sessionOf } from '../support/postgres-alternate-support';
import { SHARED_SERVER, dropRoles, loginCode, pgAdmin, pgPassword, roleRows } from '../support/postgres-accounts';

let admin: Client;
const roles: string[] = [];

beforeAll(async () => {
  admin = await pgAdmin(SHARED_SERVER);
});

afterAll(async () => {
  if (admin !== undefined) {
    await dropRoles(admin, roles);
    await admin.end();
  }
});

it.each([
  ['a no-break space', 'new\u00a0password-123'],
  ['a compatibility ligature', 'new-\ufb01-password-123'],
])('a pending password with %s is refused before any change', async (_label, pending) => {
  const original = `hp_prep_${randomBytes(3).toString('hex')}`;
  const password = pgPassword();
  roles.push(original, `${original}_clone`);
  await admin.query(`CREATE ROLE ${ident(original)} LOGIN PASSWORD ${literal(scramSha256Verifier(password))}`);
  const before = await roleRows(admin, original);
  const session = sessionOf(admin);
  const server = await readPostgresServerInfo(session);
  const sync = syncPostgresAlternateUser(session, server, {
    currentUsername: original,
    alternateUsername: `${original}_clone`,
    password: pending,
  });
  await expect(sync).rejects.toThrow(SecretValidationError);
  await expect(sync).rejects.toThrow(/SASLprep/);
  expect((await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [`${original}_clone`])).rowCount).toBe(0);
  expect(await roleRows(admin, original)).toEqual(before);
  expect(await loginCode(SHARED_SERVER, original, password)).toBe('ok');
});
