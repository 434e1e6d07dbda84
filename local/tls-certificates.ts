/**
 * A throw-away CA and server certificates made with openssl for the TLS tests: P-256 keys (fast), one
 * day of validity, subjectAltNames chosen by the test (127.0.0.1 and localhost, or a name that does not
 * match, to prove host-name checking).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const openssl = (args: readonly string[]): Promise<unknown> => promisify(execFile)('openssl', [...args]);

export interface CertificateAuthority {
  readonly dir: string;
  readonly caFile: string;
  issue(name: string, altNames: readonly string[]): Promise<{ certFile: string; keyFile: string }>;
  remove(): void;
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export async function createCertificateAuthority(label: string): Promise<CertificateAuthority> {
  const dir = mkdtempSync(join(tmpdir(), 'rt-ca-'));
  const caKey = join(dir, 'ca.key');
  const caFile = join(dir, 'ca.pem');
  await openssl([
    'req',
    '-x509',
    ...EC_KEY,
    '-keyout',
    caKey,
    '-out',
    caFile,
    '-days',
    '1',
    '-subj',
    `/CN=${label}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return {
    dir,
    caFile,
    async issue(name, altNames) {
      const keyFile = join(dir, `${name}.key`);
      const csr = join(dir, `${name}.csr`);
      const certFile = join(dir, `${name}.crt`);
      const ext = join(dir, `${name}.ext`);
      writeFileSync(
        ext,
        [
          `subjectAltName=${altNames.join(',')}`,
          'basicConstraints=CA:FALSE',
          'keyUsage=critical,digitalSignature,keyEncipherment',
          'extendedKeyUsage=serverAuth',
        ].join('\n'),
      );
      await openssl(['req', ...EC_KEY, '-keyout', keyFile, '-out', csr, '-subj', `/CN=${name}`]);
      await openssl([
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        caFile,
        '-CAkey',
        caKey,
        '-CAcreateserial',
        '-out',
        certFile,
        '-days',
        '1',
        '-extfile',
        ext,
      ]);
      return { certFile, keyFile };
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
