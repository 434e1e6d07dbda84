/**
 * The leak scan itself must be able to fail: the scanner finds planted values (and only whole ones), and
 * the register the teardown reads is there. (That the private servers' statement logs really hold what
 * was sent is asserted where they are scanned: server-statement-logs.test.ts.)
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LeakScanner, describeLeaks, readSensitiveValues } from '../setup/leak-scanner';

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

  it("leaves plain lowercase words out of the register, which the product's messages also hold", () => {
    const file = join(mkdtempSync(join(tmpdir(), 'leak-register-')), 'register.jsonl');
    writeFileSync(file, [a, 'previous', 'Previous1', 'previous-v0', 'short'].map((v) => JSON.stringify(v)).join('\n') + '\n');
    expect(readSensitiveValues(file)).toEqual([a, 'Previous1', 'previous-v0']);
  });
});
