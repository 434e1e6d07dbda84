/**
 * A throw-away MariaDB server of the installed version, in a temporary directory on a free loopback port,
 * for the tests that need a server-wide setting the shared server must never get: password-validation
 * plugins, max_password_errors, auth plugins (ed25519), TLS with client certificates. It is stopped by its
 * own pid and its directory removed, so nothing outlives the test file even when a test fails.
 *
 * The general log goes to a file in the directory: the tests read it to check what the server was sent.
 * root logs in over TCP with an empty password (the shared server's convention); anonymous accounts are
 * dropped, since they would match before `'user'@'%'` for clients on 127.0.0.1.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createConnection, type Connection } from 'mysql2/promise';
import { freeLoopbackPort } from './free-port';

const run = promisify(execFile);

export interface PrivateMariadbOptions {
  /** Server plugins to load at start, by library name, e.g. `simple_password_check.so`. */
  readonly plugins?: readonly string[];
  /** Extra `[mariadbd]` settings, e.g. `{ max_password_errors: '3' }`. */
  readonly settings?: Readonly<Record<string, string>>;
  /** Keep the general log (every statement received, for the leak scan). @default true */
  readonly generalLog?: boolean;
  /** PEM files for TLS: the server's certificate and key, and the CA it trusts for client certificates. */
  readonly tls?: { readonly ca: string; readonly cert: string; readonly key: string };
}

/** A running private server: its port, a root login, its general log, and how to stop it. */
export interface PrivateMariadb {
  readonly port: number;
  readonly dir: string;
  readonly pid: number;
  /** A new root login (empty password over TCP); the caller ends it. */
  admin(): Promise<Connection>;
  /** Everything the general log holds so far (every statement the server received). */
  generalLog(): string;
  stop(): Promise<void>;
}

function adminLogin(port: number): Promise<Connection> {
  return createConnection({ host: '127.0.0.1', port, user: 'root', password: '', connectTimeout: 2000, charset: 'utf8mb4' }).then((c) => {
    c.on('error', () => undefined);
    return c;
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Initialises a data directory (mariadb-install-db), starts mariadbd on a free port and waits until root
 * logs in; stops and removes everything if it does not come up.
 */
export async function startPrivateMariadb(options: PrivateMariadbOptions = {}): Promise<PrivateMariadb> {
  const dir = mkdtempSync(join(tmpdir(), 'myacc-mariadb-'));
  const port = await freeLoopbackPort();
  const lines = [
    '[mariadbd]',
    `datadir=${join(dir, 'data')}`,
    `port=${port}`,
    'bind-address=127.0.0.1',
    `socket=${join(dir, 'server.sock')}`,
    `pid-file=${join(dir, 'server.pid')}`,
    `log-error=${join(dir, 'error.log')}`,
    ...(options.generalLog === false ? [] : ['general-log=1', `general-log-file=${join(dir, 'general.log')}`]),
    'skip-name-resolve',
    'innodb_buffer_pool_size=16M',
    'innodb_log_file_size=8M',
    'performance_schema=OFF',
    ...(userInfo().uid === 0 ? ['user=root'] : []),
    ...(options.plugins ?? []).map((p) => `plugin-load-add=${p}`),
    ...Object.entries(options.settings ?? {}).map(([k, v]) => `${k}=${v}`),
    ...(options.tls ? [`ssl-ca=${options.tls.ca}`, `ssl-cert=${options.tls.cert}`, `ssl-key=${options.tls.key}`] : []),
  ];
  const cnf = join(dir, 'my.cnf');
  writeFileSync(cnf, `${lines.join('\n')}\n`);
  await run('mariadb-install-db', [`--defaults-file=${cnf}`, '--auth-root-authentication-method=normal', '--skip-test-db'], {
    timeout: 60_000,
  });
  const child = spawn('mariadbd', [`--defaults-file=${cnf}`], { stdio: 'ignore', detached: true });
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new Error('mariadbd did not start');
  const stop = async (): Promise<void> => {
    if (alive(pid)) process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 200 && alive(pid); i += 1) await new Promise((r) => setTimeout(r, 50));
    if (alive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    let ready: Connection | undefined;
    for (let i = 0; i < 300 && ready === undefined; i += 1) {
      if (!alive(pid)) break;
      ready = await adminLogin(port).catch(() => undefined);
      if (ready === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    if (ready === undefined) {
      const log = existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8').slice(-2000) : '';
      throw new Error(`the private MariaDB did not accept logins on port ${port}\n${log}`);
    }
    const [anonymous] = await ready.query("SELECT Host AS host FROM mysql.user WHERE User = ''");
    for (const row of anonymous as Array<{ host: string }>) await ready.query("DROP USER ''@?", [String(row.host)]);
    await ready.end();
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    port,
    dir,
    pid,
    admin: () => adminLogin(port),
    generalLog: () => {
      const file = join(dir, 'general.log');
      return existsSync(file) ? readFileSync(file, 'utf8') : '';
    },
    stop,
  };
}
