/**
 * MySQL/MariaDB TLS, as driver options: MariaDB cannot turn TLS on without a restart, so the live proof
 * is PostgreSQL's (postgres-tls.test.ts) and this table pins what mysql2 is told for every mode, which
 * is where a silent downgrade or a skipped verification would come from.
 */
import { join } from 'node:path';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { rootCertificates } from 'node:tls';
import { toMysqlConnectionOptions, type TlsMode } from '../../shared/connection-options';

const base = { engine: 'mariadb', host: 'db.internal', port: 3306, username: 'app', password: 'not-a-real-password-1' };
const dir = mkdtempSync(join(tmpdir(), 'rt-mysql-tls-'));
const bundle = join(dir, 'ca.pem');
// Any PEM block will do: the mapper reads it, it does not verify it.
writeFileSync(bundle, rootCertificates[0]!);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface TlsExpectation {
  readonly ssl?: boolean;
  readonly mode: TlsMode;
  readonly caBundlePath?: string;
  readonly encrypted: boolean;
  readonly verifies: boolean;
}

const TABLE: readonly TlsExpectation[] = [
  { mode: 'verify-full', encrypted: true, verifies: true },
  { mode: 'verify-full', caBundlePath: bundle, encrypted: true, verifies: true },
  { mode: 'require', encrypted: true, verifies: false },
  { mode: 'prefer', encrypted: true, verifies: false },
  { mode: 'disable', encrypted: false, verifies: false },
  { ssl: true, mode: 'disable', encrypted: true, verifies: true },
  { ssl: false, mode: 'verify-full', encrypted: false, verifies: false },
  { ssl: true, mode: 'require', encrypted: true, verifies: true },
];

describe('mysql2 TLS options per mode', () => {
  it.each(TABLE)('ssl=$ssl mode=$mode bundle=$caBundlePath → encrypted $encrypted, verified $verifies', (row) => {
    const secret = row.ssl === undefined ? base : { ...base, ssl: row.ssl };
    const options = toMysqlConnectionOptions(secret, {
      tlsMode: row.mode,
      ...(row.caBundlePath ? { caBundlePath: row.caBundlePath } : {}),
    });
    const ssl = options.ssl as { rejectUnauthorized?: boolean; verifyIdentity?: boolean; ca?: string[] } | undefined;
    expect(ssl !== undefined).toBe(row.encrypted);
    if (ssl === undefined) return;
    expect(ssl.rejectUnauthorized).toBe(row.verifies);
    expect(ssl.verifyIdentity).toBe(row.verifies);
    if (row.caBundlePath !== undefined) {
      // Added to Node's roots, not replacing them (an RDS bundle must not drop the public CAs).
      expect(ssl.ca?.length).toBeGreaterThan(rootCertificates.length - 1);
    }
  });

  it('never offers LOAD DATA LOCAL and never runs several statements per query', () => {
    const options = toMysqlConnectionOptions(base, { tlsMode: 'verify-full' });
    expect(options.multipleStatements).toBe(false);
    expect(options.flags).toContain('-LOCAL_FILES');
  });
});
