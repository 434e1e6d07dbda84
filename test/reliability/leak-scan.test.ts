/**
 * The leak scan itself must be able to fail: the scanner finds planted values (and only whole ones),
 * statement logging is really on while the suites run, and a statement sent now is in the server logs
 * the teardown reads.
 */
import { randomBytes } from 'node:crypto';
import { connectMysqlAdmin, connectPostgresAdmin } from '../../local/admin-connections';
import { LeakScanner, describeLeaks, readSensitiveValues } from '../setup/leak-scanner';
import { readServerLogs, type ServerLogMarks } from '../setup/server-logs';

describe('the leak scanner', () => {
  const a = randomBytes(18).toString('base64url');
  const b = randomBytes(24).toString('base64url');

  it('finds every planted value with its line, and names it without quoting it', () => {
    const scanner = new LeakScanner([a, b]);
    const leaks = scanner.scan(`first line\nuser=x password=${a}\n${b.slice(0, 10)} is not all of b\nlast ${b}`);
    expect(leaks).toEqual([
      { value: 1, length: a.length, line: 2, before: 'user=x password=' },
      { value: 2, length: b.length, line: 4, before: 'last ' },
    ]);
    const text = describeLeaks('somewhere', leaks).join('\n');
    expect(text).toContain('registered value #1');
    expect(text.includes(a) || text.includes(b)).toBe(false);
  });

  it('finds nothing in text without the values', () => {
    expect(new LeakScanner([a, b]).scan(`${a.slice(0, -1)} ${b.slice(1)}`)).toEqual([]);
  });

  it('reads the register the suites write, including values seen in this run', () => {
    const values = readSensitiveValues(process.env.ROTATION_TOOLKIT_SENSITIVE_FILE);
    expect(process.env.ROTATION_TOOLKIT_SENSITIVE_FILE).toBeDefined();
    expect(Array.isArray(values)).toBe(true);
  });
});

describe('statement logging during the run', () => {
  const marks = JSON.parse(process.env.ROTATION_TOOLKIT_SERVER_LOG_MARKS ?? '{}') as ServerLogMarks;

  it('is on for both servers, and a statement sent now shows up in what the teardown reads', async () => {
    const marker = `leak_scan_marker_${randomBytes(6).toString('hex')}`;
    const pg = await connectPostgresAdmin();
    try {
      expect((await pg.query('SHOW log_statement')).rows[0]?.log_statement).toBe('all');
      await pg.query(`SELECT '${marker}' AS marker`);
    } finally {
      await pg.end();
    }
    const my = await connectMysqlAdmin();
    try {
      const [rows] = await my.query('SELECT @@GLOBAL.general_log AS g');
      expect(Number((rows as Array<{ g: number }>)[0]?.g)).toBe(1);
      await my.query(`SELECT '${marker}' AS marker`);
    } finally {
      await my.end();
    }
    // PostgreSQL writes its log asynchronously through the logger's pipe: give it a moment.
    let logs = await readServerLogs(marks);
    for (let i = 0; i < 20 && !(logs.postgres ?? '').includes(marker); i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      logs = await readServerLogs(marks);
    }
    expect(logs.postgres).toContain(marker);
    expect(logs.mysql).toContain(marker);
  });
});
