/**
 * syncAlternateUser on a private MariaDB with the ed25519 plugin loaded (never on the shared server):
 * an original authenticated by a chain `VIA ed25519 OR mysql_native_password` gets an alternate user
 * with the same chain in the same order, each password method holding the NEW password (ed25519 proven
 * by a login with the MariaDB client, which speaks ed25519; the native method by its stored hash), and
 * the chain follows when the DBA changes it between rotations.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Connection } from 'mysql2/promise';
import { startPrivateMariadb, type PrivateMariadb } from '../../local/private-mariadb';
import { noteSensitive } from '../../local/sensitive-values';
import { parseDatabaseSecret } from '../../shared/database-secret';
import { mysqlEngine } from '../../shared/engines/mysql';
import { mysqlConnector } from '../../shared/engines/mysql-connector';
import { mysqlNativePasswordHash } from '../../shared/engines/password-hashes';
import type { ServerInfo, SqlSession } from '../../shared/rotation/database-engine';
import { assertMysqlEquivalent } from '../support/mysql-equivalence';

const exec = promisify(execFile);

let mariadb: PrivateMariadb;
let admin: Connection;
let master: SqlSession;
let server: ServerInfo;

const password = (tag: string): string => {
  const pw = `Hma-${tag}-${Math.random().toString(36).slice(2)}'"`;
  noteSensitive(pw);
  return pw;
};

beforeAll(async () => {
  mariadb = await startPrivateMariadb({ plugins: ['auth_ed25519.so'] });
  admin = await mariadb.admin();
  const masterPassword = password('master');
  await admin.query('CREATE USER hma_master@? IDENTIFIED BY PASSWORD ?', ['%', mysqlNativePasswordHash(masterPassword)]);
  await admin.query("GRANT ALL PRIVILEGES ON *.* TO hma_master@'%' WITH GRANT OPTION");
  await admin.query('CREATE DATABASE hma_app');
  const secret = parseDatabaseSecret({
    engine: 'mariadb',
    host: '127.0.0.1',
    port: mariadb.port,
    username: 'hma_master',
    password: masterPassword,
  });
  master = await mysqlConnector({ family: 'mysql', secret, role: 'master', tlsMode: 'disable', connectTimeoutMs: 5000 });
  server = await mysqlEngine.serverInfo(master);
}, 120_000);

afterAll(async () => {
  await master?.close();
  await admin?.end();
  await mariadb?.stop();
});

/** Logs in with the MariaDB client (which answers ed25519); true when it got in. */
async function clientLogin(user: string, pw: string): Promise<boolean> {
  try {
    await exec('mariadb', ['-h127.0.0.1', `-P${mariadb.port}`, `-u${user}`, '-e', 'SELECT 1'], {
      env: { ...process.env, MYSQL_PWD: pw },
      timeout: 10_000,
    });
    return true;
  } catch {
    return false;
  }
}

async function chainOf(user: string): Promise<Array<{ plugin: string; hash: string }>> {
  const [rows] = await admin.query("SELECT Priv AS p FROM mysql.global_priv WHERE User = ? AND Host = '%'", [user]);
  const raw = (rows as Array<{ p: unknown }>)[0]!.p;
  const priv = (typeof raw === 'string' ? JSON.parse(raw) : raw) as Record<string, unknown>;
  const top = { plugin: String(priv.plugin), hash: String(priv.authentication_string) };
  const chain = (priv.auth_or as Array<Record<string, unknown>> | undefined) ?? [];
  return chain.length === 0
    ? [top]
    : chain.map((m) => (m.plugin === undefined ? top : { plugin: String(m.plugin), hash: String(m.authentication_string) }));
}

describe('an authentication chain with ed25519 (private MariaDB)', () => {
  it('is copied in order with the new password in every password method, and follows the DBA between rotations', async () => {
    const original = 'hma_chain';
    const alternate = 'hma_chain_clone';
    const first = password('orig');
    await admin.query('CREATE USER ?@? IDENTIFIED VIA ed25519 USING PASSWORD(?) OR mysql_native_password USING ?', [
      original,
      '%',
      first,
      mysqlNativePasswordHash(first),
    ]);
    await admin.query("GRANT SELECT ON hma_app.* TO ?@'%'", [original]);
    await expect(clientLogin(original, first)).resolves.toBe(true);

    const pw = password('alt');
    await mysqlEngine.syncAlternateUser(master, server, { currentUsername: original, alternateUsername: alternate, password: pw });
    await assertMysqlEquivalent(admin, original, alternate);
    const chain = await chainOf(alternate);
    expect(chain.map((m) => m.plugin)).toEqual(['ed25519', 'mysql_native_password']);
    expect(chain[1]!.hash).toBe(mysqlNativePasswordHash(pw));
    await expect(clientLogin(alternate, pw)).resolves.toBe(true);
    await expect(clientLogin(original, first)).resolves.toBe(true);

    // The DBA drops the native method from the original: the alternate follows at the next rotation.
    await admin.query("ALTER USER ?@'%' IDENTIFIED VIA ed25519 USING PASSWORD(?)", [original, first]);
    const next = password('alt2');
    await mysqlEngine.syncAlternateUser(master, server, { currentUsername: original, alternateUsername: alternate, password: next });
    await assertMysqlEquivalent(admin, original, alternate);
    expect((await chainOf(alternate)).map((m) => m.plugin)).toEqual(['ed25519']);
    await expect(clientLogin(alternate, next)).resolves.toBe(true);
    await expect(clientLogin(alternate, pw)).resolves.toBe(false);
  });
});
