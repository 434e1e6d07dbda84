/**
 * Statement logging on the two local servers for the length of a test run, so the leak scan can search
 * what the servers were sent. PostgreSQL: log_statement = 'all' by ALTER SYSTEM and a reload, read back
 * with pg_read_file from where the run started (Debian's cluster log, or PG_SERVER_LOG). MariaDB: the
 * general log, also to its table, read back with SQL. Both are restored at the end of the run.
 *
 * Several jest runs may share the servers (parallel sessions, a developer's watch mode). Each run holds a
 * lease (a file named by its pid); the first one records the servers' original settings and the last
 * one to leave restores them, so no run switches logging off under another.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectMysqlAdmin, connectPostgresAdmin } from '../../local/admin-connections';

const LEASE_DIR = join(tmpdir(), 'rotation-toolkit-statement-logging');
const ORIGINAL_FILE = join(LEASE_DIR, 'original.json');

interface OriginalSettings {
  readonly postgresLogStatement: string;
  readonly mysqlGeneralLog: string;
  readonly mysqlLogOutput: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM';
  }
}

/** The pids holding a lease, dead holders' leases removed. */
function liveLeases(): number[] {
  if (!existsSync(LEASE_DIR)) return [];
  const pids: number[] = [];
  for (const name of readdirSync(LEASE_DIR)) {
    const m = /^(\d+)\.lease$/.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (alive(pid)) pids.push(pid);
    else rmSync(join(LEASE_DIR, name), { force: true });
  }
  return pids;
}

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
  mkdirSync(LEASE_DIR, { recursive: true });
  // A run that crashed leaves the file behind: its record of the original settings still holds.
  const first = !existsSync(ORIGINAL_FILE);
  writeFileSync(join(LEASE_DIR, `${process.pid}.lease`), '');
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
    const outputs = new Set(
      String(row.o)
        .split(',')
        .filter((o) => o !== 'NONE'),
    );
    outputs.add('TABLE');
    await my.query(`SET GLOBAL log_output = '${[...outputs].join(',')}'`);
    await my.query('SET GLOBAL general_log = 1');
  } finally {
    await my.end();
  }
  if (first) {
    const original: OriginalSettings = {
      postgresLogStatement: String(marks.postgresLogStatement),
      mysqlGeneralLog: String(marks.mysqlGeneralLog),
      mysqlLogOutput: String(marks.mysqlLogOutput),
    };
    writeFileSync(ORIGINAL_FILE, JSON.stringify(original));
  }
  return marks as ServerLogMarks;
}

/** What the servers logged since the marks, as text. */
export async function readServerLogs(
  marks: ServerLogMarks,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ postgres?: string; mysql: string }> {
  let postgres: string | undefined;
  if (marks.postgresLog !== undefined && marks.postgresOffset !== undefined) {
    const pg = await connectPostgresAdmin(env);
    try {
      const size = Number((await pg.query('SELECT (pg_stat_file($1)).size AS size', [marks.postgresLog])).rows[0]?.size);
      const parts: string[] = [];
      // A rotated log is shorter than the mark: read it from its start.
      for (let offset = size < marks.postgresOffset ? 0 : marks.postgresOffset; offset < size; offset += PG_CHUNK) {
        const rows = await pg.query('SELECT pg_read_binary_file($1, $2, $3) AS chunk', [
          marks.postgresLog,
          offset,
          Math.min(PG_CHUNK, size - offset),
        ]);
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

/** Gives up this run's lease; the last run to leave puts both servers' logging back as it was. */
export async function stopStatementLogging(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  rmSync(join(LEASE_DIR, `${process.pid}.lease`), { force: true });
  if (liveLeases().length > 0 || !existsSync(ORIGINAL_FILE)) return;
  const marks = JSON.parse(readFileSync(ORIGINAL_FILE, 'utf8')) as OriginalSettings;
  rmSync(ORIGINAL_FILE, { force: true });
  const pg = await connectPostgresAdmin(env);
  try {
    if (marks.postgresLogStatement === 'none') {
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
    if (/^[A-Z,]+$/.test(marks.mysqlLogOutput)) {
      await my.query(`SET GLOBAL log_output = '${marks.mysqlLogOutput}'`);
    }
    // Only the run's own rows are in the table when the general log was off before it.
    if (marks.mysqlGeneralLog !== '1') await my.query('TRUNCATE TABLE mysql.general_log');
  } finally {
    await my.end();
  }
}
