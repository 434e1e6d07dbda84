/**
 * A master whose search_path puts a schema before pg_catalog (`ALTER ROLE master SET search_path =
 * tools, pg_catalog`): a function there named like one the toolkit calls (now(), current_setting(), …)
 * would run with the master's rights, as whoever owns that schema wrote it (the CVE-2018-1058 pattern).
 * The master's sessions resolve names in pg_catalog only, so no such function runs, and the drift heal
 * works as usual. The shared server.
 */
import { randomBytes } from 'node:crypto';
import type { Client } from 'pg';
import { escapePostgresIdentifier as ident, escapePostgresLiteral as literal } from '../../shared/engines/postgres-escape';
import { scramSha256Verifier } from '../../shared/engines/password-hashes';
import { postgresEngine } from '../../shared/engines/postgres';
import { createRotationHandler } from '../../shared/rotation/create-rotation-handler';
import {
  captureLogger,
  createSecret,
  lambdaArn,
  rotate,
  secretValue,
  startEndpoint,
  uniqueName,
  type Endpoint,
} from '../support/rotation-endpoint';
import { SHARED_SERVER, dropRoles, loginCode, pgAdmin, pgPassword } from '../support/postgres-accounts';

let endpoint: Endpoint;
let admin: Client;
const logs = captureLogger();
let singleUser: string;
const roles: string[] = [];
const schema = `hp_tools_${randomBytes(3).toString('hex')}`;

const base = { engine: 'postgres', host: SHARED_SERVER.host, port: SHARED_SERVER.port, ssl: false, dbname: 'postgres' };

beforeAll(async () => {
  endpoint = await startEndpoint();
  admin = await pgAdmin(SHARED_SERVER);
  singleUser = lambdaArn(uniqueName('hp-single'));
  endpoint.local.registerRotationFunction(
    singleUser,
    createRotationHandler({
      engine: postgresEngine,
      strategy: 'single-user',
      secretsClient: endpoint.client,
      env: { DB_TLS_MODE: 'disable' },
      logger: logs,
    }),
  );
  await admin.query(`CREATE SCHEMA ${ident(schema)}`);
  await admin.query(`CREATE TABLE ${ident(schema)}.calls (fn text, by_role name)`);
  await admin.query(`GRANT INSERT ON ${ident(schema)}.calls TO PUBLIC`);
  // Same names and argument types as pg_catalog's: found first on the master's search_path.
  for (const [fn, args, returns, body] of [
    ['now', '', 'timestamptz', 'pg_catalog.now()'],
    ['current_setting', 'text', 'text', 'pg_catalog.current_setting($1)'],
    ['pg_backend_pid', '', 'int', 'pg_catalog.pg_backend_pid()'],
  ] as const) {
    await admin.query(
      `CREATE FUNCTION ${ident(schema)}.${fn}(${args}) RETURNS ${returns} LANGUAGE sql VOLATILE AS ` +
        `$$ INSERT INTO ${ident(schema)}.calls VALUES ('${fn}', current_user); SELECT ${body} $$`,
    );
  }
});

afterAll(async () => {
  if (admin !== undefined) {
    await admin.query(`DROP SCHEMA IF EXISTS ${ident(schema)} CASCADE`);
    await dropRoles(admin, roles);
    await admin.end();
  }
  await endpoint?.close();
});

async function createRole(label: string, password: string, attributes: string): Promise<string> {
  const name = `hp_${label}_${randomBytes(3).toString('hex')}`;
  roles.push(name);
  await admin.query(`CREATE ROLE ${ident(name)} WITH LOGIN ${attributes} PASSWORD ${literal(scramSha256Verifier(password))}`);
  return name;
}

it.each([
  ['a superuser master', 'SUPERUSER'],
  ['an RDS-like master', 'CREATEROLE'],
])('%s: drift healed, and no function outside pg_catalog ran', async (_label, attributes) => {
  const masterPassword = pgPassword();
  const master = await createRole('m', masterPassword, attributes);
  await admin.query(`ALTER ROLE ${ident(master)} SET search_path = ${ident(schema)}, pg_catalog`);
  const masterarn = await createSecret(endpoint.client, uniqueName('hp-master'), { ...base, username: master, password: masterPassword });
  const app = await createRole('app', pgPassword(), '');
  const arn = await createSecret(endpoint.client, uniqueName('hp-app'), { ...base, username: app, password: pgPassword(), masterarn });
  await rotate(endpoint.client, arn, singleUser).catch(() => undefined);
  expect(logs.lines.find((l) => l.secretArn === arn && l.outcome === 'failure')?.message).toBeUndefined();
  expect(await loginCode(SHARED_SERVER, app, (await secretValue(endpoint.client, arn)).password)).toBe('ok');
  expect((await admin.query(`SELECT fn, by_role FROM ${ident(schema)}.calls`)).rows).toEqual([]);
});
