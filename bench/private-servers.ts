/**
 * Throw-away PostgreSQL and MariaDB servers with TLS for the modeled-AWS run: the shared servers have no
 * TLS and their configuration is not ours to change. They are the tests' private servers
 * (local/private-postgres.ts, local/private-mariadb.ts) run as production runs them — fsync on and no
 * statement log — presenting a certificate of a throw-away CA for 127.0.0.1. Logins over TCP use SCRAM
 * (PostgreSQL) and mysql_native_password (MariaDB's default), TLS optional on the server so the admin
 * fixtures log in as before; the rotation's logins ask for verify-full.
 */
import type { Env } from '../local/db-settings';
import { startPrivateMariadb } from '../local/private-mariadb';
import { startPrivatePostgres } from '../local/private-postgres';
import { createCertificateAuthority } from '../local/tls-certificates';

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

/** Starts both servers with certificates of one new CA; stops whatever started if the other fails. */
export async function startPrivateTlsServers(): Promise<PrivateTlsServers> {
  const ca = await createCertificateAuthority('bench modeled-aws CA');
  const cert = await ca.issue('server', ['IP:127.0.0.1', 'DNS:localhost']);
  const started: PrivateServer[] = [];
  try {
    const pg = await startPrivatePostgres({ tls: cert, durable: true });
    const postgres: PrivateServer = {
      port: pg.port,
      env: { PGHOST: '127.0.0.1', PGPORT: String(pg.port), PGUSER: 'postgres', PGPASSWORD: pg.env.PGPASSWORD, PGDATABASE: 'postgres' },
      stop: () => pg.stop(),
    };
    started.push(postgres);
    const my = await startPrivateMariadb({ tls: { ca: ca.caFile, cert: cert.certFile, key: cert.keyFile }, generalLog: false });
    const mysql: PrivateServer = {
      port: my.port,
      env: { MYSQL_HOST: '127.0.0.1', MYSQL_PORT: String(my.port), MYSQL_USER: 'root', MYSQL_PASSWORD: '' },
      stop: () => my.stop(),
    };
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
