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
import { classifyAdminLoginFailure, describeAdminLoginProblem, type AdminLoginProblem } from './admin-login-problem';
import { isLocalHost, mysqlAdminSettings, postgresAdminSettings, type AdminSettings, type Env } from './db-settings';
import { createMysqlUser, createPostgresUser, fixtureUsername } from './fixtures';
import { noProgress, type ProgressSink } from '../operator/wait-progress';
import type { EngineFamily } from '../shared/database-secret';

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
  readonly engine: EngineFamily;
  readonly name: string;
  readonly settings: (env: Env) => AdminSettings;
  readonly ping: (env: Env) => Promise<void>;
  /** What to run by hand, for the messages. */
  readonly startCommand: string;
  /** A path that exists only where the server is installed. */
  readonly installedAt: string;
  /** What to do instead when it is not installed here. */
  readonly elsewhere: string;
  /** True when the locally installed server is already running (whatever port it listens on). */
  readonly isRunning: () => boolean;
  readonly start: () => void;
}

const LOCAL_SERVERS: Readonly<Record<'postgres' | 'mysql', LocalServer>> = {
  postgres: {
    engine: 'postgres',
    name: 'PostgreSQL',
    settings: postgresAdminSettings,
    ping: pingPostgres,
    startCommand: START_POSTGRES,
    installedAt: '/etc/postgresql',
    elsewhere: 'point PGHOST at a server',
    isRunning: () =>
      readdirSync('/etc/postgresql').some((version) =>
        exitsZero('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'status']),
      ),
    start: () => {
      for (const version of readdirSync('/etc/postgresql')) {
        execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start'], { stdio: 'ignore' });
      }
    },
  },
  mysql: {
    engine: 'mysql',
    name: 'MariaDB',
    settings: mysqlAdminSettings,
    ping: pingMysql,
    startCommand: START_MARIADB,
    installedAt: '/usr/sbin/mariadbd',
    elsewhere: 'point MYSQL_HOST at a server',
    isRunning: () => exitsZero('start-stop-daemon', ['--status', '--exec', '/usr/sbin/mariadbd']),
    start: () => {
      execFileSync('start-stop-daemon', ['--start', '--oknodo', '--background', '--exec', '/usr/sbin/mariadbd'], { stdio: 'ignore' });
    },
  },
};

export interface SetupOptions {
  /** @default process.env */
  readonly env?: Env;
  /** Setup's own lines. @default stderr: stdout belongs to the results of the command that runs setup */
  readonly log?: Log;
  /** Shown while a server is starting. @default none */
  readonly progress?: ProgressSink;
  /** Only these servers. @default both */
  readonly engines?: readonly EngineFamily[];
}

const BOTH: readonly EngineFamily[] = ['postgres', 'mysql'];

/**
 * Starts the servers when installed here but stopped, makes PostgreSQL check passwords on loopback
 * (root only), then proves each server refuses a wrong password.
 * @throws DatabaseSetupError naming the server, host and port, and what to do
 */
export async function setupDatabases(options: SetupOptions = {}): Promise<void> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const engines = options.engines ?? BOTH;
  const canManage = process.getuid?.() === 0;
  for (const engine of engines) await ensureRunning(LOCAL_SERVERS[engine], env, canManage, log, options.progress ?? noProgress);
  if (engines.includes('postgres') && canManage && isLocalHost(postgresAdminSettings(env).host)) {
    await enforcePostgresPasswordAuth(env, log);
  }
  await verifyPasswordAuth(env, engines);
  log(
    `db:setup: ${engines.map((e) => LOCAL_SERVERS[e].name).join(' and ')} ${engines.length > 1 ? 'are' : 'is'} up and refuse${engines.length > 1 ? '' : 's'} wrong passwords.`,
  );
}

/**
 * Fails unless each server refuses a wrong password for a real user. The tests run this first: a
 * server that accepts any password would make every rotation test pass for the wrong reason.
 * @throws DatabaseSetupError when a server cannot be reached, refuses the admin, or accepts a wrong password
 */
export async function verifyPasswordAuth(env: Env = process.env, engines: readonly EngineFamily[] = BOTH): Promise<void> {
  for (const engine of engines) await expectAdminLogin(LOCAL_SERVERS[engine], env);
  if (engines.includes('postgres') && (await acceptsWrongPassword('postgres', env))) {
    throw new DatabaseSetupError(
      'PostgreSQL accepts a wrong password on loopback (trust auth): run `npm run db:setup` as root to enforce scram-sha-256.',
    );
  }
  if (engines.includes('mysql') && (await acceptsWrongPassword('mysql', env))) {
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

const START_WAIT_MS = 60_000;

/**
 * Only a server that does not answer is started: one that answers and refuses the admin is running,
 * and starting it again would not fix the credentials.
 */
async function ensureRunning(server: LocalServer, env: Env, canManage: boolean, log: Log, progress: ProgressSink): Promise<void> {
  const first = await loginProblem(server, env);
  if (first === undefined) return;
  const settings = server.settings(env);
  if (first.kind !== 'unreachable') throw problemError(server, env, first);
  if (!canManage || !isLocalHost(settings.host)) throw problemError(server, env, first);
  if (!existsSync(server.installedAt)) {
    throw new DatabaseSetupError(
      `${server.name} is not reachable at ${settings.host}:${settings.port} and not installed here (no ${server.installedAt}); ${server.elsewhere}.`,
    );
  }
  if (server.isRunning()) {
    // Starting it again would not help: it answers somewhere else than where the variables point.
    throw new DatabaseSetupError(
      `${server.name} is not reachable at ${settings.host}:${settings.port} (${first.code}), although the local server is ` +
        `running: it listens elsewhere; check ${server.engine === 'postgres' ? 'PGHOST/PGPORT' : 'MYSQL_HOST/MYSQL_PORT'}.`,
    );
  }
  log(`db:setup: starting ${server.name}…`);
  server.start();
  const started = Date.now();
  let last: AdminLoginProblem | undefined = first;
  try {
    while (Date.now() - started < START_WAIT_MS) {
      progress({
        awaiting: `${server.name} to accept the admin login at ${settings.host}:${settings.port}`,
        elapsedMs: Date.now() - started,
        limitMs: START_WAIT_MS,
      });
      last = await loginProblem(server, env);
      if (last === undefined) return;
      if (last.kind === 'refused') throw problemError(server, env, last);
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    progress(undefined);
  }
  throw new DatabaseSetupError(
    `${server.name} did not accept the admin login at ${settings.host}:${settings.port} within 60 s after \`${server.startCommand}\` ` +
      `(last: ${last?.code ?? last?.kind ?? 'unknown'}).`,
  );
}

async function expectAdminLogin(server: LocalServer, env: Env): Promise<void> {
  const problem = await loginProblem(server, env);
  if (problem !== undefined) throw problemError(server, env, problem);
}

/** Undefined when the admin logs in. */
async function loginProblem(server: LocalServer, env: Env): Promise<AdminLoginProblem | undefined> {
  try {
    await server.ping(env);
    return undefined;
  } catch (err) {
    return classifyAdminLoginFailure(err);
  }
}

function exitsZero(command: string, args: readonly string[]): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function problemError(server: LocalServer, env: Env, problem: AdminLoginProblem): DatabaseSetupError {
  const hint = `\`npm run db:setup\` as root (it runs \`${server.startCommand}\`)`;
  return new DatabaseSetupError(describeAdminLoginProblem(server.engine, server.name, server.settings(env), problem, hint));
}

async function pingPostgres(env: Env): Promise<void> {
  const c = await connectPostgresAdmin(env, 3000);
  await c.end();
}

async function pingMysql(env: Env): Promise<void> {
  const c = await connectMysqlAdmin(env, 3000);
  await c.end();
}
