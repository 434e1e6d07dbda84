/**
 * Makes the local servers fit for the tests: running, and checking passwords for real.
 *
 * The stock PostgreSQL here trusts every loopback login, so a wrong password would pass and every test
 * of a rotated password would be meaningless. Setup puts a managed block at the top of pg_hba.conf
 * (first match wins): trust for the admin superuser only, scram-sha-256 for everyone else on 127.0.0.1
 * and ::1, then reloads. Where it cannot change the servers (not root, remote hosts) it only verifies.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { canLoginMysql, canLoginPostgres, connectMysqlAdmin, connectPostgresAdmin } from './admin-connections';
import { isLocalHost, mysqlAdminSettings, postgresAdminSettings, type Env } from './db-settings';
import { createMysqlUser, createPostgresUser, fixtureUsername } from './fixtures';

export const START_POSTGRES = 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start';
export const START_MARIADB = 'start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd';

const HBA_BEGIN = '# BEGIN db-secret-rotation-toolkit: managed by `npm run db:setup`';
const HBA_END = '# END db-secret-rotation-toolkit';

/** A setup problem, with one line saying what to do. */
export class DatabaseSetupError extends Error {
  override readonly name = 'DatabaseSetupError';
}

export type Log = (line: string) => void;

/** How setup finds, checks and starts one of the two servers on this machine. */
interface LocalServer {
  readonly name: string;
  readonly host: (env: Env) => string;
  readonly ping: (env: Env) => Promise<void>;
  /** What to run by hand, for the messages. */
  readonly startCommand: string;
  /** A path that exists only where the server is installed. */
  readonly installedAt: string;
  /** What to do instead when it is not installed here. */
  readonly elsewhere: string;
  readonly start: () => void;
}

const LOCAL_SERVERS: Readonly<Record<'postgres' | 'mysql', LocalServer>> = {
  postgres: {
    name: 'PostgreSQL',
    host: (env) => postgresAdminSettings(env).host,
    ping: pingPostgres,
    startCommand: START_POSTGRES,
    installedAt: '/etc/postgresql',
    elsewhere: 'point PGHOST at a server',
    start: () => {
      for (const version of readdirSync('/etc/postgresql')) {
        execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start'], { stdio: 'ignore' });
      }
    },
  },
  mysql: {
    name: 'MariaDB',
    host: (env) => mysqlAdminSettings(env).host,
    ping: pingMysql,
    startCommand: START_MARIADB,
    installedAt: '/usr/sbin/mariadbd',
    elsewhere: 'point MYSQL_HOST at a server',
    start: () => {
      execFileSync('start-stop-daemon', ['--start', '--oknodo', '--background', '--exec', '/usr/sbin/mariadbd'], { stdio: 'ignore' });
    },
  },
};

export async function setupDatabases(env: Env = process.env, log: Log = console.log): Promise<void> {
  const canManage = process.getuid?.() === 0;
  await ensureRunning(LOCAL_SERVERS.postgres, env, canManage, log);
  await ensureRunning(LOCAL_SERVERS.mysql, env, canManage, log);
  if (canManage && isLocalHost(postgresAdminSettings(env).host)) await enforcePostgresPasswordAuth(env, log);
  await verifyPasswordAuth(env);
  log('db:setup: PostgreSQL and MariaDB are up and refuse wrong passwords.');
}

/**
 * Fails unless both servers refuse a wrong password for a real user. The tests run this first: a
 * server that accepts any password would make every rotation test pass for the wrong reason.
 */
export async function verifyPasswordAuth(env: Env = process.env): Promise<void> {
  await expectReachable(LOCAL_SERVERS.postgres, env);
  await expectReachable(LOCAL_SERVERS.mysql, env);
  if (await acceptsWrongPassword('postgres', env)) {
    throw new DatabaseSetupError(
      'PostgreSQL accepts a wrong password on loopback (trust auth): run `npm run db:setup` as root to enforce scram-sha-256.',
    );
  }
  if (await acceptsWrongPassword('mysql', env)) {
    throw new DatabaseSetupError('MariaDB accepts a wrong password: check its authentication plugins, then `npm run db:setup`.');
  }
}

const PROBE = {
  postgres: {
    create: (username: string, env: Env) => createPostgresUser({ username, env }),
    canLogin: canLoginPostgres,
    refusesCorrect: 'PostgreSQL refuses a correct password for a new role: check pg_hba.conf.',
  },
  mysql: {
    create: (username: string, env: Env) => createMysqlUser({ username, ownDatabase: false, env }),
    canLogin: canLoginMysql,
    refusesCorrect: 'MariaDB refuses a correct password for a new user: check its configuration.',
  },
} as const;

/** Creates a throw-away user through the fixtures, then tries its password and a wrong one. */
async function acceptsWrongPassword(engine: 'postgres' | 'mysql', env: Env): Promise<boolean> {
  const probe = PROBE[engine];
  const user = await probe.create(fixtureUsername('rtprobe'), env);
  try {
    if (!(await probe.canLogin(user.username, user.password, env))) throw new DatabaseSetupError(probe.refusesCorrect);
    return await probe.canLogin(user.username, `${user.password}-wrong`, env);
  } finally {
    await user.drop().catch(() => undefined);
  }
}

async function enforcePostgresPasswordAuth(env: Env, log: Log): Promise<void> {
  const admin = await connectPostgresAdmin(env);
  try {
    const hbaFile = String((await admin.query('SHOW hba_file')).rows[0]?.hba_file ?? '');
    if (!hbaFile || !existsSync(hbaFile)) {
      log('db:setup: pg_hba.conf is not on this machine; verifying only.');
      return;
    }
    const current = readFileSync(hbaFile, 'utf8');
    const next = withManagedBlock(current, postgresAdminSettings(env).user);
    if (next !== current) {
      writeFileSync(hbaFile, next);
      const { rows } = await admin.query<{ ok: boolean }>('SELECT pg_reload_conf() AS ok');
      const errors = await admin.query('SELECT line_number, error FROM pg_hba_file_rules WHERE error IS NOT NULL');
      if (!rows[0]?.ok || errors.rowCount) {
        writeFileSync(hbaFile, current);
        await admin.query('SELECT pg_reload_conf()');
        throw new DatabaseSetupError(`The new ${hbaFile} did not load; it was restored. Check the file by hand.`);
      }
      log(`db:setup: ${hbaFile}: trust for ${postgresAdminSettings(env).user} only, scram-sha-256 for everyone else; reloaded.`);
    }
    const enc = String((await admin.query('SHOW password_encryption')).rows[0]?.password_encryption ?? '');
    if (enc !== 'scram-sha-256') log(`db:setup: note: password_encryption is ${enc}, not scram-sha-256.`);
  } finally {
    await admin.end();
  }
}

/** The hba file with our block first (replacing an older copy of it); pure, for tests. */
export function withManagedBlock(hba: string, adminUser: string): string {
  const block = [
    HBA_BEGIN,
    `host all ${adminUser} 127.0.0.1/32 trust`,
    `host all ${adminUser} ::1/128 trust`,
    'host all all 127.0.0.1/32 scram-sha-256',
    'host all all ::1/128 scram-sha-256',
    HBA_END,
  ].join('\n');
  const start = hba.indexOf(HBA_BEGIN);
  const end = hba.indexOf(HBA_END);
  const rest = start >= 0 && end > start ? hba.slice(0, start) + hba.slice(end + HBA_END.length).replace(/^\n/, '') : hba;
  return `${block}\n${rest}`;
}

async function ensureRunning(server: LocalServer, env: Env, canManage: boolean, log: Log): Promise<void> {
  const ping = (): Promise<void> => server.ping(env);
  if (await succeeds(ping)) return;
  const host = server.host(env);
  if (!canManage || !isLocalHost(host)) {
    throw new DatabaseSetupError(`${server.name} is not reachable at ${host}; start it (e.g. \`${server.startCommand}\`).`);
  }
  if (!existsSync(server.installedAt)) {
    throw new DatabaseSetupError(`${server.name} is not installed here (no ${server.installedAt}); ${server.elsewhere}.`);
  }
  log(`db:setup: starting ${server.name}…`);
  server.start();
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (await succeeds(ping)) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new DatabaseSetupError(`${server.name} did not come up within 60 s after \`${server.startCommand}\`.`);
}

async function expectReachable(server: LocalServer, env: Env): Promise<void> {
  try {
    await server.ping(env);
  } catch (err) {
    const code = (err as { code?: string }).code ?? 'error';
    throw new DatabaseSetupError(
      `${server.name} is not reachable (${code}): run \`npm run db:setup\` (it starts local servers: \`${server.startCommand}\`).`,
    );
  }
}

async function pingPostgres(env: Env): Promise<void> {
  const c = await connectPostgresAdmin(env, 3000);
  await c.end();
}

async function pingMysql(env: Env): Promise<void> {
  const c = await connectMysqlAdmin(env, 3000);
  await c.end();
}

async function succeeds(fn: () => Promise<void>): Promise<boolean> {
  try {
    await fn();
    return true;
  } catch {
    return false;
  }
}
