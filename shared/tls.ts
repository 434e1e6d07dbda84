/**
 * Which CA certificates a database connection trusts.
 *
 * Passing `ca` to Node's TLS REPLACES its trust store, so a CA bundle given by path (e.g. the RDS bundle)
 * is added to Node's bundled roots instead of used alone. `NODE_EXTRA_CA_CERTS` is read explicitly too:
 * Node adds it to the default store only, which an explicit `ca` also replaces.
 *
 * Files are read once per path and kept for the life of the process: this runs on every connection a
 * Lambda opens. A failed read is not cached (the file may appear later). The secure context built from
 * a bundle is cached too: building one from Node's ~145 roots costs about 20 ms, per connection if
 * left to the driver.
 */
import { readFileSync } from 'node:fs';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import { ConfigError } from './errors';
import type { Env } from './secrets-client';

export interface TrustOptions {
  /** A PEM file of CA certificates to trust on top of Node's roots. */
  readonly caBundlePath?: string;
  readonly env?: Env;
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

const filesByPath = new Map<string, readonly string[]>();
const bundlesByKey = new Map<string, string[]>();
const contextsByBundle = new WeakMap<readonly string[], SecureContext>();

/**
 * The certificates to pass as `ca`, or undefined when no bundle path is given (Node's default store,
 * which already holds `NODE_EXTRA_CA_CERTS`, then applies). The returned array is frozen and shared.
 */
export function trustedCertificates(opts: TrustOptions = {}): string[] | undefined {
  const bundlePath = opts.caBundlePath?.trim();
  if (!bundlePath) return undefined;
  const extraPath = (opts.env ?? process.env).NODE_EXTRA_CA_CERTS?.trim() || undefined;
  const key = `${bundlePath}\0${extraPath ?? ''}`;
  let bundle = bundlesByKey.get(key);
  if (!bundle) {
    const extra = extraPath !== undefined ? readCertificates(extraPath, 'NODE_EXTRA_CA_CERTS file') : [];
    const own = readCertificates(bundlePath, 'CA bundle');
    bundle = Object.freeze([...new Set([...rootCertificates, ...extra, ...own])]) as string[];
    bundlesByKey.set(key, bundle);
  }
  return bundle;
}

/** A TLS secure context trusting `ca`, built once per bundle returned by `trustedCertificates`. */
export function secureContextFor(ca: readonly string[]): SecureContext {
  let context = contextsByBundle.get(ca);
  if (!context) {
    context = createSecureContext({ ca: [...ca] });
    contextsByBundle.set(ca, context);
  }
  return context;
}

/** The PEM certificates in a file, each as its own string; read once per path. */
export function readCertificates(path: string, what = 'CA bundle'): readonly string[] {
  const cached = filesByPath.get(path);
  if (cached) return cached;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw new ConfigError(`${what} ${path} cannot be read${typeof code === 'string' ? ` (${code})` : ''}`, { cause: err });
  }
  const certificates = Object.freeze(text.match(PEM_BLOCK) ?? []);
  if (certificates.length === 0) throw new ConfigError(`${what} ${path} contains no PEM certificate`);
  filesByPath.set(path, certificates);
  return certificates;
}
