/**
 * What the local loop needs to know about a running LocalStack: its release (from
 * `/_localstack/health`) and whether that release needs an auth token. Facts from
 * localstack/localstack: 4.14.0 is the last release that starts without `LOCALSTACK_AUTH_TOKEN`; from
 * 4.15 (calendar versions 2026.x) the image refuses to start without one. No CDK imports here:
 * rotate:local loads this file too.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

/** The LocalStack URL `localstack:deploy` and the compose file agree on when LOCALSTACK_URL is unset. */
export const DEFAULT_LOCALSTACK_URL = 'http://localhost:4566';

/** The first release that needs an auth token to start. */
export const FIRST_RELEASE_NEEDING_TOKEN = '4.15.0';

/** The one line for a user without a token: where to get one, how to hand it to the compose file. */
export const AUTH_TOKEN_HINT =
  'LocalStack 4.15 and later (2026.x) start only with an auth token: get one at https://app.localstack.cloud/workspace/auth-token, then `export LOCALSTACK_AUTH_TOKEN=<token>` and re-run `docker compose up -d --wait`';

/** Numeric release parts (`4.14.0` -> [4, 14, 0]; `2026.03.1` -> [2026, 3, 1]), undefined when not a release. */
export function parseRelease(text: string): number[] | undefined {
  const match = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(text.trim());
  if (!match) return undefined;
  return [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
}

/**
 * Whether release `version` is `minimum` or later. Calendar versions (2026.x) sort after every 4.x.
 * @throws Error when either is not a release number
 */
export function releaseAtLeast(version: string, minimum: string): boolean {
  const a = parseRelease(version);
  const b = parseRelease(minimum);
  if (!a || !b) throw new Error(`not a LocalStack release: ${a ? minimum : version}`);
  for (let i = 0; i < 3; i += 1) {
    if (a[i]! !== b[i]!) return a[i]! > b[i]!;
  }
  return true;
}

/** Whether this LocalStack release needs LOCALSTACK_AUTH_TOKEN to start. */
export function needsAuthToken(version: string): boolean {
  return releaseAtLeast(version, FIRST_RELEASE_NEEDING_TOKEN);
}

/** What `/_localstack/health` says; `version` is absent from answers that do not carry one. */
export interface LocalStackHealth {
  readonly version?: string;
  /** Service name -> state (`available`, `running`, `disabled`, `error`...). */
  readonly services: Readonly<Record<string, string>>;
}

/**
 * Reads `<url>/_localstack/health`.
 * @param timeoutMs how long to wait for the answer (default 5 s)
 * @returns undefined when nothing answers there, or the answer is not LocalStack's health document
 */
export async function readLocalStackHealth(url: string, timeoutMs = 5000): Promise<LocalStackHealth | undefined> {
  try {
    const response = await fetch(`${url}/_localstack/health`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) return undefined;
    const body = (await response.json()) as { version?: unknown; services?: unknown };
    if (body === null || typeof body !== 'object') return undefined;
    const services: Record<string, string> = {};
    if (body.services !== null && typeof body.services === 'object') {
      for (const [name, state] of Object.entries(body.services as Record<string, unknown>)) {
        if (typeof state === 'string') services[name] = state;
      }
    }
    return { ...(typeof body.version === 'string' ? { version: body.version } : {}), services };
  } catch {
    return undefined;
  }
}

/** Resolves a host name to one address, IPv4 first (the compose file publishes LocalStack on 127.0.0.1). */
export type HostResolver = (host: string) => Promise<string>;

const resolveHost: HostResolver = async (host) => {
  try {
    return (await lookup(host, { family: 4 })).address;
  } catch {
    return (await lookup(host)).address;
  }
};

/**
 * The S3 endpoint to hand cdklocal next to AWS_ENDPOINT_URL (cdklocal 3.x refuses one without the
 * other). Over http the host is replaced by its address: the SDK addresses buckets by path on an IP
 * endpoint, where on a name it would ask DNS for `<bucket>.<host>`, which `localhost` and compose
 * service names do not answer. Over https the name must stay for the certificate, so it follows
 * cdklocal's own convention, `s3.<host>` (LocalStack's certificate covers `*.localhost.localstack.cloud`).
 * @param url LocalStack's URL, e.g. http://localhost:4566
 * @param resolve how host names are resolved (injectable for tests)
 */
export async function localStackS3Endpoint(url: string, resolve: HostResolver = resolveHost): Promise<string> {
  const parsed = new URL(url);
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0) return parsed.origin;
  if (parsed.protocol === 'https:') return `https://s3.${parsed.host}`;
  let address: string;
  try {
    address = await resolve(host);
  } catch {
    // Nothing answers there anyway; the health check says so in its own words.
    return parsed.origin;
  }
  const port = parsed.port === '' ? '' : `:${parsed.port}`;
  return `${parsed.protocol}//${isIP(address) === 6 ? `[${address}]` : address}${port}`;
}
