/**
 * Statement logging on the two local servers for the length of a test run, so the leak scan can search
 * what the servers were sent. PostgreSQL: log_statement = 'all' by ALTER SYSTEM and a reload, read back
 * with pg_read_file from where the run started (Debian's cluster log, or PG_SERVER_LOG). MariaDB: the
 * general log, also to its table, read back with SQL. Both are restored at the end of the run.
 */
import { connectMysqlAdmin, connectPostgresAdmin } from '../../local/admin-connections';

export interface ServerLogMarks {
  /** The PostgreSQL log file and its size when the run started; absent when it cannot be read. */
  readonly postgresLog?: string;
  readonly postgresOffset?: number;
  readonly postgresLogStatement?: string;
  /** The MariaDB clock when the run started, and the settings to restore. */
  readonly mysqlSince?: string;
  readonly mysqlGeneralLog?: string;
  readonly mysqlLogOutput?: string;
}

const PG_CHUNK = 8 * 1024 * 1024;

/** Turns statement logging on and notes where the run's part of each log starts. */
export async function startStatementLogging(env: NodeJS.ProcessEnv = process.env): Promise<ServerLogMarks> {
  const marks: Record<string, string | number> = {};
  const pg = await connectPostgresAdmin(env);
  try {
    marks.postgresLogStatement = String((await pg.query('SHOW log_statement')).rows[0]?.log_statement ?? 'none');
    const dataDir = String((await pg.query('SHOW data_directory')).rows[0]?.data_directory ?? '');
    const cluster = /postgresql\/(\d+)\/([^/]+)$/.exec(dataDir);
    const file = env.PG_SERVER_LOG || (cluster ? `/var/log/postgresql/postgresql-${cluster[1]}-${cluster[2]}.log` : undefined);
    if (file !== undefined) {
      try {
        const size = (await pg.query('SELECT (pg_stat_file($1)).size AS size', [file])).rows[0]?.size;
        marks.postgresLog = file;
        marks.postgresOffset = Number(size);
      } catch {
        // No such file here (another platform's layout): the scan reports that it could not read it.
      }
    }
    await pg.query("ALTER SYSTEM SET log_statement = 'all'");
    await pg.query('SELECT pg_reload_conf()');
  } finally {
    await pg.end();
  }
  const my = await connectMysqlAdmin(env);
  try {
    const [rows] = await my.query('SELECT @@GLOBAL.general_log AS g, @@GLOBAL.log_output AS o, NOW(6) AS now');
    const row = (rows as Array<{ g: number; o: string; now: Date | string }>)[0]!;
    marks.mysqlGeneralLog = String(row.g);
    marks.mysqlLogOutput = String(row.o);
    marks.mysqlSince = row.now instanceof Date ? row.now.toISOString() : String(row.now);
    const outputs = new Set(String(row.o).split(',').filter((o) => o !== 'NONE'));
    outputs.add('TABLE');
    await my.query(`SET GLOBAL log_output = '${[...outputs].join(',')}'`);
    await my.query('SET GLOBAL general_log = 1');
  } finally {
    await my.end();
  }
  return marks as ServerLogMarks;
}

/** What the servers logged since the marks, as text. */
export async function readServerLogs(marks: ServerLogMarks, env: NodeJS.ProcessEnv = process.env): Promise<{ postgres?: string; mysql: string }> {
  let postgres: string | undefined;
  if (marks.postgresLog !== undefined && marks.postgresOffset !== undefined) {
    const pg = await connectPostgresAdmin(env);
    try {
      const size = Number((await pg.query('SELECT (pg_stat_file($1)).size AS size', [marks.postgresLog])).rows[0]?.size);
      const parts: string[] = [];
      // A rotated log is shorter than the mark: read it from its start.
      for (let offset = size < marks.postgresOffset ? 0 : marks.postgresOffset; offset < size; offset += PG_CHUNK) {
        const rows = await pg.query('SELECT pg_read_binary_file($1, $2, $3) AS chunk', [marks.postgresLog, offset, Math.min(PG_CHUNK, size - offset)]);
        parts.push((rows.rows[0]?.chunk as Buffer).toString('utf8'));
      }
      postgres = parts.join('');
    } finally {
      await pg.end();
    }
  }
  const my = await connectMysqlAdmin(env);
  try {
    const [rows] = await my.query('SELECT argument FROM mysql.general_log WHERE event_time >= ?', [new Date(marks.mysqlSince ?? 0)]);
    const mysql = (rows as Array<{ argument: Buffer | string }>)
      .map((r) => (Buffer.isBuffer(r.argument) ? r.argument.toString('utf8') : String(r.argument)))
      .join('\n');
    return { ...(postgres !== undefined ? { postgres } : {}), mysql };
  } finally {
    await my.end();
  }
}

/** Puts both servers' logging back as it was. */
export async function stopStatementLogging(marks: ServerLogMarks, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const pg = await connectPostgresAdmin(env);
  try {
    if (marks.postgresLogStatement === undefined || marks.postgresLogStatement === 'none') {
      await pg.query('ALTER SYSTEM RESET log_statement');
    } else {
      await pg.query(`ALTER SYSTEM SET log_statement = '${marks.postgresLogStatement.replace(/[^a-z]/g, '')}'`);
    }
    await pg.query('SELECT pg_reload_conf()');
  } finally {
    await pg.end();
  }
  const my = await connectMysqlAdmin(env);
  try {
    await my.query(`SET GLOBAL general_log = ${marks.mysqlGeneralLog === '1' ? 1 : 0}`);
    if (marks.mysqlLogOutput !== undefined && /^[A-Z,]+$/.test(marks.mysqlLogOutput)) {
      await my.query(`SET GLOBAL log_output = '${marks.mysqlLogOutput}'`);
    }
    // Only the run's own rows are in the table when the general log was off before it.
    if (marks.mysqlGeneralLog !== '1') await my.query('TRUNCATE TABLE mysql.general_log');
  } finally {
    await my.end();
  }
}
