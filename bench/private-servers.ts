/**
 * Throw-away PostgreSQL and MariaDB servers with TLS for the modeled-AWS run: the shared servers have no
 * TLS and their configuration is not ours to change. Each runs from a temporary directory on a free
 * loopback port with the installed binaries and default durability (fsync on, as on RDS), presents a
 * certificate of a throw-away CA for 127.0.0.1, and is stopped by its own pid. Logins over TCP use
 * SCRAM (PostgreSQL) and mysql_native_password (MariaDB's default), TLS optional on the server so the
 * admin fixtures log in as before; the rotation's logins ask for verify-full.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { connectMysqlAdmin } from '../local/admin-connections';
import type { Env } from '../local/db-settings';
import { createCertificateAuthority, type CertificateAuthority } from '../local/tls-certificates';

const run = promisify(execFile);

export interface PrivateServer {
  readonly port: number;
  /** PG* or MYSQL_* variables of its admin, for local/fixtures and local/admin-connections. */
  readonly env: Env;
  stop(): Promise<void>;
}

export interface PrivateTlsServers {
  /** The CA's PEM file: DB_CA_BUNDLE for the handlers. */
  readonly caFile: string;
  readonly postgres: PrivateServer;
  readonly mysql: PrivateServer;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Starts both servers with certificates of one new CA; stops whatever started if the other fails. */
export async function startPrivateTlsServers(): Promise<PrivateTlsServers> {
  const ca = await createCertificateAuthority('bench modeled-aws CA');
  const cert = await ca.issue('server', ['IP:127.0.0.1', 'DNS:localhost']);
  const started: PrivateServer[] = [];
  try {
    const postgres = await startPostgres(cert);
    started.push(postgres);
    const mysql = await startMariadb(ca, cert);
    started.push(mysql);
    return {
      caFile: ca.caFile,
      postgres,
      mysql,
      stop: async () => {
        await Promise.all(started.map((s) => s.stop()));
        ca.remove();
      },
    };
  } catch (err) {
    await Promise.all(started.map((s) => s.stop()));
    ca.remove();
    throw err;
  }
}

function postgresBinDir(): string {
  if (process.env.PG_BINDIR) return process.env.PG_BINDIR;
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base)
    ? readdirSync(base)
        .filter((v) => /^\d+$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) throw new Error('No PostgreSQL server binaries found (set PG_BINDIR)');
  return join(base, versions[0]!, 'bin');
}

/** PostgreSQL refuses to run as root: as root, files go to the `postgres` account and the server runs as it. */
function serverAccount(): { uid: number; gid: number } | undefined {
  if (userInfo().uid !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (line === undefined) throw new Error('Running as root but there is no postgres account to run the server as');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

async function startPostgres(cert: { certFile: string; keyFile: string }): Promise<PrivateServer> {
  const bin = postgresBinDir();
  const account = serverAccount();
  const asServer = (command: string, args: string[]): [string, string[]] =>
    account ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
  const own = (path: string, mode?: number): void => {
    if (mode !== undefined) chmodSync(path, mode);
    if (account) chownSync(path, account.uid, account.gid);
  };
  const dir = mkdtempSync(join(tmpdir(), 'bench-pg-'));
  own(dir, 0o755);
  const password = randomBytes(18).toString('base64url');
  const pwfile = join(dir, 'pwfile');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  own(pwfile);
  const data = join(dir, 'data');
  const initdb = asServer(join(bin, 'initdb'), [
    '-D',
    data,
    '-U',
    'postgres',
    '--pwfile',
    pwfile,
    '--auth-host=scram-sha-256',
    '--auth-local=trust',
    '-E',
    'UTF8',
    '--no-sync',
  ]);
  await run(initdb[0], initdb[1]);
  rmSync(pwfile, { force: true });
  const certFile = join(dir, 'server.crt');
  const keyFile = join(dir, 'server.key');
  copyFileSync(cert.certFile, certFile);
  copyFileSync(cert.keyFile, keyFile);
  own(certFile, 0o644);
  own(keyFile, 0o600);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c ssl=on -c ssl_cert_file=${certFile} -c ssl_key_file=${keyFile}`;
  const start = asServer(join(bin, 'pg_ctl'), ['-D', data, '-o', options, '-l', join(dir, 'server.log'), '-w', 'start']);
  await run(start[0], start[1]);
  return {
    port,
    env: { PGHOST: '127.0.0.1', PGPORT: String(port), PGUSER: 'postgres', PGPASSWORD: password, PGDATABASE: 'postgres' },
    stop: async () => {
      const stop = asServer(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', 'stop']);
      await run(stop[0], stop[1]).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startMariadb(ca: CertificateAuthority, cert: { certFile: string; keyFile: string }): Promise<PrivateServer> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-mariadb-'));
  const port = await freePort();
  const cnf = join(dir, 'my.cnf');
  writeFileSync(
    cnf,
    [
      '[mariadbd]',
      `datadir=${dir}/data`,
      `port=${port}`,
      'bind-address=127.0.0.1',
      `socket=${dir}/mysqld.sock`,
      `pid-file=${dir}/mysqld.pid`,
      `log-error=${dir}/error.log`,
      'user=root',
      'skip-name-resolve',
      'innodb_buffer_pool_size=32M',
      `ssl-ca=${ca.caFile}`,
      `ssl-cert=${cert.certFile}`,
      `ssl-key=${cert.keyFile}`,
      '',
    ].join('\n'),
  );
  await run('mariadb-install-db', [`--defaults-file=${cnf}`, '--auth-root-authentication-method=normal']);
  const child = spawn('/usr/sbin/mariadbd', [`--defaults-file=${cnf}`], { stdio: 'ignore', detached: true });
  child.unref();
  const pid = child.pid!;
  const env: Env = { MYSQL_HOST: '127.0.0.1', MYSQL_PORT: String(port), MYSQL_USER: 'root', MYSQL_PASSWORD: '' };
  const stop = async (): Promise<void> => {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
    for (let i = 0; i < 100; i++) {
      try {
        process.kill(pid, 0);
        await new Promise((resolve) => setTimeout(resolve, 100));
      } catch {
        break;
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; ; i++) {
    try {
      const admin = await connectMysqlAdmin(env, 1000);
      await admin.end();
      break;
    } catch (err) {
      if (i >= 100 || child.exitCode !== null) {
        await stop();
        throw err;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  return { port, env, stop };
}
