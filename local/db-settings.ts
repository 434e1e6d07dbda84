/**
 * Where the local database servers are and how the admin account logs in: the usual PG* variables and
 * MYSQL_* variables, with loopback defaults, so a user with other servers (Docker, remote) points them
 * elsewhere without code changes.
 */
export type Env = Readonly<Record<string, string | undefined>>;

export interface AdminSettings {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** Postgres only: the database the admin connects to. */
  readonly database?: string;
}

export function postgresAdminSettings(env: Env = process.env): AdminSettings {
  return {
    host: env.PGHOST || '127.0.0.1',
    port: Number(env.PGPORT || 5432),
    user: env.PGUSER || 'postgres',
    password: env.PGPASSWORD ?? '',
    database: env.PGDATABASE || 'postgres',
  };
}

export function mysqlAdminSettings(env: Env = process.env): AdminSettings {
  return {
    host: env.MYSQL_HOST || '127.0.0.1',
    port: Number(env.MYSQL_PORT || 3306),
    user: env.MYSQL_USER || 'root',
    password: env.MYSQL_PASSWORD ?? '',
  };
}

/** True when the host is this machine, where db:setup may start and configure the servers. */
export function isLocalHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}
