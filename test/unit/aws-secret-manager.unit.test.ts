import { inspect } from 'node:util';
import { AwsSecretManager } from '../../shared/aws-secret-manager';
import { ConfigError, SecretNotFoundError, SecretValidationError } from '../../shared/errors';
import { FakeSecretsClient, ManualClock } from '../support/secret-cache-fakes';

const PASSWORD = 'Jdbc-Passw0rd-Value-123';
const MODULE_FORMAT = {
  username: 'etl',
  password: PASSWORD,
  hosturl: 'jdbc:postgresql://db.internal:5432/warehouse',
  driver: 'org.postgresql.Driver',
  jars: '/opt/jars/postgresql.jar',
};

function setup(env: Record<string, string | undefined> = { AWS_DEFAULT_REGION: 'eu-west-1' }) {
  const client = new FakeSecretsClient();
  const clock = new ManualClock();
  const regions: string[] = [];
  const manager = new AwsSecretManager({
    env,
    clientForRegion: (region) => {
      regions.push(region);
      return client.asClient();
    },
    cache: { clock: clock.now },
  });
  return { client, clock, regions, manager };
}

describe('AwsSecretManager', () => {
  it('returns JDBC options for { dbType, Secret }, fetched once in AWS_DEFAULT_REGION, then cached', async () => {
    const { client, regions, manager } = setup();
    client.put('prod/pg', MODULE_FORMAT);
    const options = await manager.getValueForSecret({ dbType: 'POSTGRES', Secret: 'prod/pg' });
    expect({ ...options }).toEqual({
      url: 'jdbc:postgresql://db.internal:5432/warehouse',
      user: 'etl',
      password: PASSWORD,
      driver: 'org.postgresql.Driver',
      jars: '/opt/jars/postgresql.jar',
    });
    await expect(manager.getValueForSecret({ dbType: 'postgres', Secret: 'prod/pg' })).resolves.toBe(options);
    expect(client.count()).toBe(1);
    expect(regions).toEqual(['eu-west-1']);
  });

  it('maps an RDS-format secret, the URL built for the dbType', async () => {
    const { client, manager } = setup();
    client.put('rds/mysql', { engine: 'mysql', host: 'm.internal', port: 3306, username: 'u', password: PASSWORD, dbname: 'app' });
    const options = await manager.getValueForSecret({ dbType: 'MYSQL', Secret: 'rds/mysql' });
    expect(options.url).toBe('jdbc:mysql://m.internal:3306/app');
    expect(options.user).toBe('u');
  });

  it('follows a rotation instead of keeping the first password forever', async () => {
    const { client, clock, manager } = setup();
    client.put('prod/pg', MODULE_FORMAT);
    await manager.getValueForSecret({ dbType: 'POSTGRES', Secret: 'prod/pg' });
    client.put('prod/pg', { ...MODULE_FORMAT, password: `${PASSWORD}-next` });
    clock.advance(301);
    const options = await manager.getValueForSecret({ dbType: 'POSTGRES', Secret: 'prod/pg' });
    expect(options.password).toBe(`${PASSWORD}-next`);
  });

  it('says AWS_DEFAULT_REGION is missing with a typed error, before any call', async () => {
    const { client, manager } = setup({});
    const err = await manager.getValueForSecret({ dbType: 'POSTGRES', Secret: 'prod/pg' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(String(err)).toContain('AWS_DEFAULT_REGION');
    expect(client.count()).toBe(0);
  });

  it('rejects a missing Secret or dbType with a typed error', async () => {
    const { manager } = setup();
    await expect(manager.getValueForSecret({ dbType: 'POSTGRES' } as any)).rejects.toThrow('secretInfo is missing "Secret"');
    await expect(manager.getValueForSecret({ Secret: 'x' } as any)).rejects.toThrow('secretInfo is missing "dbType"');
    await expect(manager.getValueForSecret({ dbType: 'ORACLE', Secret: 'x' })).rejects.toBeInstanceOf(ConfigError);
  });

  it('initializes a list in one BatchGetSecretValue call, then serves it from the given region', async () => {
    const { client, regions, manager } = setup({});
    client.put('a', MODULE_FORMAT);
    client.put('b', { ...MODULE_FORMAT, hosturl: 'jdbc:redshift://rs.internal:5439/dw' });
    await manager.initializeSecretConnections(
      [
        { dbType: 'POSTGRES', Secret: 'a' },
        { dbType: 'REDSHIFT', Secret: 'b' },
      ],
      'us-west-2',
    );
    expect(client.calls.map((c) => c.name)).toEqual(['BatchGetSecretValue']);
    // No AWS_DEFAULT_REGION needed: the entries remember their region.
    const b = await manager.getValueForSecret({ dbType: 'REDSHIFT', Secret: 'b' });
    expect(b.url).toBe('jdbc:redshift://rs.internal:5439/dw');
    expect(client.count()).toBe(1);
    expect(regions).toEqual(['us-west-2']);
  });

  it('names the index of an entry missing Secret or dbType, before any call', async () => {
    const { client, manager } = setup();
    await expect(
      manager.initializeSecretConnections([{ dbType: 'POSTGRES', Secret: 'a' }, { Secret: 'b' } as any], 'us-east-1'),
    ).rejects.toThrow('secrets[1] is missing "dbType"');
    await expect(manager.initializeSecretConnections([{ dbType: 'MYSQL' } as any], 'us-east-1')).rejects.toThrow(
      'secrets[0] is missing "Secret"',
    );
    expect(client.count()).toBe(0);
  });

  it('raises the typed error of a secret that failed to load', async () => {
    const { manager } = setup();
    const err = await manager
      .initializeSecretConnections([{ dbType: 'POSTGRES', Secret: 'missing' }], 'us-east-1')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecretNotFoundError);
    expect((err as SecretNotFoundError).secretId).toBe('missing');
  });

  it('reports invalid JSON and missing fields as typed errors that never echo the secret', async () => {
    const { client, manager } = setup();
    client.put('broken', `{"username": "etl", "password": "${PASSWORD}"`);
    client.put('partial', { username: 'etl', password: PASSWORD });
    for (const name of ['broken', 'partial']) {
      const err = await manager.extractValueForSecret('POSTGRES', 'us-east-1', name).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SecretValidationError);
      expect((err as SecretValidationError).secretId).toBe(name);
      for (const view of [String(err), JSON.stringify(err), inspect(err, { depth: 10 })]) expect(view).not.toContain(PASSWORD);
    }
  });

  it('shows no password when inspected or serialised', async () => {
    const { client, manager } = setup();
    client.put('prod/pg', MODULE_FORMAT);
    const options = await manager.getValueForSecret({ dbType: 'POSTGRES', Secret: 'prod/pg' });
    for (const view of [inspect(manager, { depth: 10 }), JSON.stringify(manager), String(manager), inspect(options)]) {
      expect(view).not.toContain(PASSWORD);
    }
  });
});
