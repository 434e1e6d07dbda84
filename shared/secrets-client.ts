/**
 * The environment-aware Secrets Manager client factory.
 *
 * Real AWS is the default on purpose: a production service started outside Lambda with no ENVIRONMENT
 * must never be pointed at localhost. Only an explicit endpoint or `ENVIRONMENT=local` leaves AWS.
 */
import type { SecretsManagerClient, SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';
import { ConfigError } from './errors';

/** Environment variables as `process.env` holds them. */
export type Env = Readonly<Record<string, string | undefined>>;

/** What `getSecretsClient` resolved the environment to; safe to log (dummy credentials only). */
export interface SecretsClientSettings {
  readonly target: 'endpoint' | 'localstack' | 'aws';
  readonly region: string;
  readonly endpoint?: string;
  /** True when the fixed local credentials are used instead of the SDK's credential chain. */
  readonly dummyCredentials: boolean;
}

const DEFAULT_LOCALSTACK_URL = 'http://localhost:4566';
const LOCAL_REGION = 'us-east-1';
const DUMMY_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' } as const;
const ENVIRONMENTS = ['local', 'staging', 'production'] as const;
/** Where the region is read, in the SDK's own order: AWS_REGION wins, AWS_DEFAULT_REGION is the fallback. */
const REGION_VARIABLES = ['AWS_REGION', 'AWS_DEFAULT_REGION'] as const;
/** Where an explicit endpoint is read, most specific first. */
const ENDPOINT_VARIABLES = ['SECRETS_MANAGER_ENDPOINT', 'AWS_ENDPOINT_URL_SECRETS_MANAGER', 'AWS_ENDPOINT_URL'] as const;

/**
 * Resolves the environment to client settings, without building a client. With an explicit endpoint
 * the region is AWS_REGION (then AWS_DEFAULT_REGION), else the region an AWS endpoint's name holds,
 * else us-east-1.
 *
 * @throws ConfigError for an invalid endpoint or ENVIRONMENT, no region for real AWS, or an AWS
 *   endpoint of another region than the one configured.
 */
export function resolveSecretsClientSettings(env: Env = process.env): SecretsClientSettings {
  const explicit = firstSet(env, ENDPOINT_VARIABLES);
  if (explicit) {
    const endpoint = parseEndpoint(explicit.value, explicit.name);
    const configured = firstSet(env, REGION_VARIABLES);
    const named = awsEndpointRegion(endpoint);
    // Requests are signed for the client's region: Secrets Manager's own endpoint of another region
    // refuses every one of them (InvalidSignatureException), which reads as a permissions problem.
    if (configured !== undefined && named !== undefined && configured.value !== named) {
      throw new ConfigError(
        `${explicit.name} is Secrets Manager's endpoint in ${named}, but ${configured.name} is ${configured.value}: requests would be signed for the wrong region; use the endpoint of ${configured.value}, or unset ${explicit.name}`,
      );
    }
    const region = configured?.value ?? named ?? LOCAL_REGION;
    return { target: 'endpoint', region, endpoint, dummyCredentials: isLoopback(endpoint) && !hasCredentials(env) };
  }

  const environment = env.ENVIRONMENT?.trim().toLowerCase() || undefined;
  if (environment !== undefined && !(ENVIRONMENTS as readonly string[]).includes(environment)) {
    throw new ConfigError(`ENVIRONMENT must be one of ${ENVIRONMENTS.join(', ')} (or unset for real AWS); it is not a known value`);
  }
  if (environment === 'local') {
    const endpoint = parseEndpoint(env.LOCALSTACK_URL?.trim() || DEFAULT_LOCALSTACK_URL, 'LOCALSTACK_URL');
    return { target: 'localstack', region: LOCAL_REGION, endpoint, dummyCredentials: true };
  }

  const region = firstSet(env, REGION_VARIABLES)?.value;
  if (!region) {
    throw new ConfigError(
      'No AWS region: set AWS_REGION (or AWS_DEFAULT_REGION), or set SECRETS_MANAGER_ENDPOINT / ENVIRONMENT=local for a local endpoint',
    );
  }
  return { target: 'aws', region, dummyCredentials: false };
}

/**
 * How long (ms) the SDK waits for a TCP connection to an AWS endpoint before it gives up on that
 * attempt and retries on a fresh one: the SDK's own value for its `standard` defaults mode (the
 * default `legacy` mode sets none, so a dropped SYN waits for the OS). A retry may reach another
 * address of the endpoint (an interface VPC endpoint has one per zone). It bounds only the connect
 * phase: the whole call is bounded by its caller, `SecretCache`'s fetch timeout or a rotation's
 * deadline, so a call never takes longer than it did without it.
 */
export const SDK_CONNECTION_TIMEOUT_MS = 3_100;

/** The SDK configuration for resolved settings. */
export function toClientConfig(settings: SecretsClientSettings): SecretsManagerClientConfig {
  return {
    region: settings.region,
    requestHandler: { connectionTimeout: SDK_CONNECTION_TIMEOUT_MS },
    ...(settings.endpoint !== undefined ? { endpoint: settings.endpoint } : {}),
    ...(settings.dummyCredentials ? { credentials: DUMMY_CREDENTIALS } : {}),
  };
}

const clients = new Map<string, SecretsManagerClient>();

/**
 * The Secrets Manager client for this environment: one instance per distinct configuration, reused
 * across calls (a client per call would redo TLS handshakes and credential resolution).
 */
export function getSecretsClient(env: Env = process.env): SecretsManagerClient {
  const settings = resolveSecretsClientSettings(env);
  const key = JSON.stringify(settings);
  let client = clients.get(key);
  if (!client) {
    // Required here, not imported: the rotation Lambdas resolve their settings through this module but
    // call Secrets Manager with the signed client, and must not load the SDK client at cold start.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const sdk = require('@aws-sdk/client-secrets-manager') as typeof import('@aws-sdk/client-secrets-manager');
    client = new sdk.SecretsManagerClient(toClientConfig(settings));
    clients.set(key, client);
  }
  return client;
}

/**
 * The region an AWS Secrets Manager endpoint URL names: the public endpoints (FIPS and dual-stack
 * included) and interface VPC endpoints' DNS names; undefined for anything else (emulators, proxies).
 * @example
 *   awsEndpointRegion('https://vpce-0a1b-x2y3.secretsmanager.eu-west-1.vpce.amazonaws.com'); // 'eu-west-1'
 */
export function awsEndpointRegion(endpoint: string): string | undefined {
  const host = hostOf(endpoint);
  if (host === undefined) return undefined;
  const match =
    /^secretsmanager(?:-fips)?\.([a-z0-9-]+)\.(?:amazonaws\.com(?:\.cn)?|api\.aws|api\.amazonwebservices\.com\.cn)$/.exec(host) ??
    /^vpce-[a-z0-9-]+\.secretsmanager(?:-fips)?\.([a-z0-9-]+)\.vpce\.amazonaws\.com(?:\.cn)?$/.exec(host);
  return match?.[1];
}

/** True for endpoints on this machine, where no real credentials are needed. */
export function isLoopback(endpoint: string): boolean {
  const host = hostOf(endpoint);
  if (host === undefined) return false;
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host === 'localhost.localstack.cloud' ||
    host === '[::1]' ||
    host === '::1' ||
    /^127(\.\d{1,3}){3}$/.test(host)
  );
}

/** An endpoint URL's host name, lower-cased; undefined when it is no URL. */
function hostOf(endpoint: string): string | undefined {
  try {
    return new URL(endpoint).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}

function hasCredentials(env: Env): boolean {
  return Boolean(env.AWS_ACCESS_KEY_ID || env.AWS_PROFILE || env.AWS_WEB_IDENTITY_TOKEN_FILE);
}

function firstSet(env: Env, names: readonly string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = env[name]?.trim();
    if (value) return { name, value };
  }
  return undefined;
}

function parseEndpoint(value: string, variable: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${variable} is not a valid URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`${variable} must be an http:// or https:// URL`);
  }
  if (url.username || url.password) {
    throw new ConfigError(`${variable} must not carry credentials`);
  }
  return value.replace(/\/+$/, '');
}
