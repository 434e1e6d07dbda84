import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError, type ToolkitError } from '../../shared/errors';
import {
  getSecretsClient,
  isLoopback,
  resolveSecretsClientSettings,
  SDK_CONNECTION_TIMEOUT_MS,
  toClientConfig,
  type Env,
} from '../../shared/secrets-client';

function thrown(fn: () => unknown): ToolkitError {
  try {
    fn();
  } catch (err) {
    return err as ToolkitError;
  }
  throw new Error('expected a throw');
}

describe('resolveSecretsClientSettings: explicit endpoints', () => {
  it.each(['SECRETS_MANAGER_ENDPOINT', 'AWS_ENDPOINT_URL_SECRETS_MANAGER', 'AWS_ENDPOINT_URL'])(
    '%s points the client at that endpoint',
    (name) => {
      expect(resolveSecretsClientSettings({ [name]: 'http://127.0.0.1:4566' })).toEqual({
        target: 'endpoint',
        region: 'us-east-1',
        endpoint: 'http://127.0.0.1:4566',
        dummyCredentials: true,
      });
    },
  );

  it('takes the most specific variable first', () => {
    const env: Env = {
      SECRETS_MANAGER_ENDPOINT: 'http://localhost:1111',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://localhost:2222',
      AWS_ENDPOINT_URL: 'http://localhost:3333',
    };
    expect(resolveSecretsClientSettings(env).endpoint).toBe('http://localhost:1111');
    expect(resolveSecretsClientSettings({ ...env, SECRETS_MANAGER_ENDPOINT: '  ' }).endpoint).toBe('http://localhost:2222');
    expect(resolveSecretsClientSettings({ AWS_ENDPOINT_URL: env.AWS_ENDPOINT_URL }).endpoint).toBe('http://localhost:3333');
  });

  it('wins over ENVIRONMENT, even an unknown one', () => {
    const settings = resolveSecretsClientSettings({ SECRETS_MANAGER_ENDPOINT: 'http://localhost:4566', ENVIRONMENT: 'qa' });
    expect(settings.target).toBe('endpoint');
  });

  it('uses AWS_REGION, then AWS_DEFAULT_REGION, then us-east-1', () => {
    const endpoint = 'http://localhost:4566';
    expect(resolveSecretsClientSettings({ SECRETS_MANAGER_ENDPOINT: endpoint, AWS_REGION: 'eu-west-1' }).region).toBe('eu-west-1');
    expect(resolveSecretsClientSettings({ SECRETS_MANAGER_ENDPOINT: endpoint, AWS_DEFAULT_REGION: 'ap-south-1' }).region).toBe(
      'ap-south-1',
    );
    expect(
      resolveSecretsClientSettings({ SECRETS_MANAGER_ENDPOINT: endpoint, AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'ap-south-1' })
        .region,
    ).toBe('eu-west-1');
  });

  it("signs for the region an AWS endpoint's name holds when no region is set", () => {
    expect(resolveSecretsClientSettings({ SECRETS_MANAGER_ENDPOINT: 'https://secretsmanager.eu-west-1.amazonaws.com' }).region).toBe(
      'eu-west-1',
    );
    expect(
      resolveSecretsClientSettings({ SECRETS_MANAGER_ENDPOINT: 'https://vpce-0a1b2c-x9y8.secretsmanager.ap-south-2.vpce.amazonaws.com/' })
        .region,
    ).toBe('ap-south-2');
    expect(
      resolveSecretsClientSettings({ SECRETS_MANAGER_ENDPOINT: 'https://secretsmanager-fips.us-gov-west-1.amazonaws.com' }).region,
    ).toBe('us-gov-west-1');
    expect(resolveSecretsClientSettings({ SECRETS_MANAGER_ENDPOINT: 'http://localhost:4566' }).region).toBe('us-east-1');
    expect(
      resolveSecretsClientSettings({ SECRETS_MANAGER_ENDPOINT: 'https://secretsmanager.eu-west-1.amazonaws.com', AWS_REGION: 'eu-west-1' })
        .region,
    ).toBe('eu-west-1');
  });

  it('refuses an AWS endpoint of another region than AWS_REGION, which would fail every request as a bad signature', () => {
    const err = thrown(() =>
      resolveSecretsClientSettings({ SECRETS_MANAGER_ENDPOINT: 'https://secretsmanager.us-east-1.amazonaws.com', AWS_REGION: 'eu-west-1' }),
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(/SECRETS_MANAGER_ENDPOINT is Secrets Manager's endpoint in us-east-1, but AWS_REGION is eu-west-1/);
  });

  it('strips trailing slashes', () => {
    expect(resolveSecretsClientSettings({ SECRETS_MANAGER_ENDPOINT: 'http://localhost:4566///' }).endpoint).toBe('http://localhost:4566');
  });

  it.each([
    ['a loopback endpoint without credentials', 'http://localhost:4566', {}, true],
    ['a loopback endpoint with AWS_ACCESS_KEY_ID', 'http://127.0.0.1:4566', { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE' }, false],
    ['a loopback endpoint with AWS_PROFILE', 'http://[::1]:4566', { AWS_PROFILE: 'dev' }, false],
    ['a loopback endpoint with web identity', 'http://localhost:4566', { AWS_WEB_IDENTITY_TOKEN_FILE: '/t' }, false],
    ['a remote endpoint without credentials', 'https://secretsmanager.eu-west-1.amazonaws.com', {}, false],
    ['a VPC endpoint', 'https://vpce-123.secretsmanager.eu-west-1.vpce.amazonaws.com', {}, false],
  ] as const)('%s → dummy credentials %p', (_name, endpoint, extra, dummy) => {
    expect(resolveSecretsClientSettings({ SECRETS_MANAGER_ENDPOINT: endpoint, ...extra }).dummyCredentials).toBe(dummy);
  });

  it.each([
    ['not a URL', 'not a url', 'is not a valid URL'],
    ['a bare host:port', 'localhost:4566', 'must be an http:// or https:// URL'],
    ['another scheme', 'ftp://localhost:4566', 'must be an http:// or https:// URL'],
    ['credentials in the URL', 'http://AKIA:secretkey123@localhost:4566', 'must not carry credentials'],
  ])('refuses %s with a ConfigError naming the variable', (_name, value, problem) => {
    const err = thrown(() => resolveSecretsClientSettings({ AWS_ENDPOINT_URL_SECRETS_MANAGER: value }));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.code).toBe('CONFIG');
    expect(err.message).toContain('AWS_ENDPOINT_URL_SECRETS_MANAGER');
    expect(err.message).toContain(problem);
    expect(err.message).not.toContain('secretkey123');
  });
});

describe('resolveSecretsClientSettings: ENVIRONMENT', () => {
  it('local without LOCALSTACK_URL → LocalStack on localhost:4566 with dummy credentials', () => {
    expect(resolveSecretsClientSettings({ ENVIRONMENT: 'local' })).toEqual({
      target: 'localstack',
      region: 'us-east-1',
      endpoint: 'http://localhost:4566',
      dummyCredentials: true,
    });
  });

  it('local with LOCALSTACK_URL → that URL, any case of ENVIRONMENT', () => {
    const settings = resolveSecretsClientSettings({ ENVIRONMENT: ' Local ', LOCALSTACK_URL: 'http://localstack:4566/' });
    expect(settings).toMatchObject({ target: 'localstack', endpoint: 'http://localstack:4566', dummyCredentials: true });
  });

  it('local with an invalid LOCALSTACK_URL → ConfigError naming it', () => {
    const err = thrown(() => resolveSecretsClientSettings({ ENVIRONMENT: 'local', LOCALSTACK_URL: 'nope' }));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain('LOCALSTACK_URL');
  });

  it.each(['staging', 'production', 'PRODUCTION', undefined, ''])('%p with AWS_REGION → real AWS', (environment) => {
    expect(resolveSecretsClientSettings({ ENVIRONMENT: environment, AWS_REGION: 'eu-central-1' })).toEqual({
      target: 'aws',
      region: 'eu-central-1',
      dummyCredentials: false,
    });
  });

  it.each(['staging', 'production', undefined])('%p with only AWS_DEFAULT_REGION → real AWS there', (environment) => {
    expect(resolveSecretsClientSettings({ ENVIRONMENT: environment, AWS_DEFAULT_REGION: 'us-west-2' }).region).toBe('us-west-2');
  });

  it('never points at localhost when nothing is set: no region is a ConfigError naming AWS_REGION', () => {
    const err = thrown(() => resolveSecretsClientSettings({}));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain('AWS_REGION');
    expect(thrown(() => resolveSecretsClientSettings({ ENVIRONMENT: 'production', AWS_REGION: '  ' })).message).toContain('AWS_REGION');
  });

  it('an unknown ENVIRONMENT → ConfigError naming the variable, region or not', () => {
    for (const env of [{ ENVIRONMENT: 'qa' }, { ENVIRONMENT: 'dev', AWS_REGION: 'eu-west-1' }]) {
      const err = thrown(() => resolveSecretsClientSettings(env));
      expect(err).toBeInstanceOf(ConfigError);
      expect(err.message).toContain('ENVIRONMENT');
    }
  });
});

describe('toClientConfig', () => {
  it('sets dummy credentials only when the settings say so', () => {
    expect(toClientConfig({ target: 'endpoint', region: 'us-east-1', endpoint: 'http://localhost:1', dummyCredentials: true })).toEqual({
      region: 'us-east-1',
      endpoint: 'http://localhost:1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      requestHandler: { connectionTimeout: SDK_CONNECTION_TIMEOUT_MS },
    });
    const aws = toClientConfig({ target: 'aws', region: 'eu-west-1', dummyCredentials: false });
    expect(aws).toEqual({ region: 'eu-west-1', requestHandler: { connectionTimeout: SDK_CONNECTION_TIMEOUT_MS } });
    expect('credentials' in aws).toBe(false);
    expect('endpoint' in aws).toBe(false);
  });

  it("gives up on a TCP connect after the SDK's own standard-mode timeout, and sets no whole-request timeout", () => {
    // The callers bound whole requests (SecretCache's fetch timeout, a rotation's deadline); the
    // connect timeout only lets a dropped SYN be retried on a fresh connection within that bound.
    expect(SDK_CONNECTION_TIMEOUT_MS).toBe(3_100);
    const config = toClientConfig({ target: 'aws', region: 'eu-west-1', dummyCredentials: false });
    expect(config.requestHandler).toEqual({ connectionTimeout: 3_100 });
  });
});

describe('isLoopback', () => {
  it.each([
    ['http://localhost:4566', true],
    ['http://LOCALHOST:4566', true],
    ['http://sm.localhost:4566', true],
    ['http://localhost.localstack.cloud:4566', true],
    ['http://127.0.0.1:4566', true],
    ['http://127.10.20.30', true],
    ['http://[::1]:4566', true],
    ['http://localstack:4566', false],
    ['http://10.0.0.1:4566', false],
    ['https://secretsmanager.us-east-1.amazonaws.com', false],
    ['http://127.0.0.1.nip.io', false],
    ['not a url', false],
  ])('%s → %p', (endpoint, expected) => {
    expect(isLoopback(endpoint)).toBe(expected);
  });
});

describe('getSecretsClient', () => {
  it('returns one client per distinct configuration', () => {
    const env = { SECRETS_MANAGER_ENDPOINT: 'http://127.0.0.1:45661' };
    const first = getSecretsClient(env);
    expect(first).toBeInstanceOf(SecretsManagerClient);
    expect(getSecretsClient({ ...env })).toBe(first);
    expect(getSecretsClient({ ...env, UNRELATED: 'x' })).toBe(first);
    expect(getSecretsClient({ SECRETS_MANAGER_ENDPOINT: 'http://127.0.0.1:45662' })).not.toBe(first);
    expect(getSecretsClient({ ...env, AWS_REGION: 'eu-west-1' })).not.toBe(first);
    expect(getSecretsClient({ ...env, AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE' })).not.toBe(first);
  });

  it('builds the client from the resolved settings', async () => {
    const client = getSecretsClient({ SECRETS_MANAGER_ENDPOINT: 'http://127.0.0.1:45663', AWS_REGION: 'eu-north-1' });
    expect(await client.config.region()).toBe('eu-north-1');
    expect(await client.config.endpoint?.()).toMatchObject({ hostname: '127.0.0.1', port: 45663, protocol: 'http:' });
    expect(await client.config.credentials()).toMatchObject({ accessKeyId: 'test', secretAccessKey: 'test' });
  });

  it('builds a real-AWS client with the region and no fixed endpoint', async () => {
    const client = getSecretsClient({ ENVIRONMENT: 'production', AWS_REGION: 'sa-east-1' });
    expect(client).toBe(getSecretsClient({ ENVIRONMENT: 'staging', AWS_REGION: 'sa-east-1' }));
    expect(await client.config.region()).toBe('sa-east-1');
    expect(client.config.endpoint).toBeUndefined();
  });

  it('throws the resolution error instead of building a client', () => {
    expect(thrown(() => getSecretsClient({ ENVIRONMENT: 'qa' }))).toBeInstanceOf(ConfigError);
  });
});
