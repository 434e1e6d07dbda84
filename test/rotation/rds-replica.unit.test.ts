/** The reader check of a user secret on another host than its master's, against a fake RDS topology. */
import { AccessDeniedError, SecretValidationError } from '../../shared/errors';
import {
  assertReaderOfMaster,
  readerOfMaster,
  type RdsClusterFacts,
  type RdsInstanceFacts,
  type RdsTopology,
} from '../../shared/rotation/rds-replica';

const SUFFIX = 'abc123.us-east-1.rds.amazonaws.com';

function topology(
  instances: Record<string, RdsInstanceFacts>,
  clusters: Record<string, RdsClusterFacts> = {},
): RdsTopology & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    instance: async (id) => {
      asked.push(`instance ${id}`);
      return instances[id];
    },
    cluster: async (id) => {
      asked.push(`cluster ${id}`);
      return clusters[id];
    },
  };
}

describe('readerOfMaster, RDS instances', () => {
  const master = { host: `primary.${SUFFIX}`, port: 5432, engine: 'postgres' };
  const replica = { host: `replica1.${SUFFIX}`, port: 5432 };

  it('accepts a read replica of the master instance, by identifier or cross-region ARN', async () => {
    const same = topology({ replica1: { address: replica.host, port: 5432, readReplicaSource: 'primary' } });
    await expect(readerOfMaster(replica, master, same)).resolves.toEqual({ reader: 'read-replica' });
    expect(same.asked).toEqual(['instance replica1']);
    const crossRegion = topology({
      replica1: { address: replica.host, port: 5432, readReplicaSource: 'arn:aws:rds:us-west-2:000000000000:db:primary' },
    });
    await expect(readerOfMaster(replica, master, crossRegion)).resolves.toEqual({ reader: 'read-replica' });
  });

  it('refuses a replica of another instance, an unknown instance, a look-alike host and another port', async () => {
    const other = topology({ replica1: { address: replica.host, port: 5432, readReplicaSource: 'elsewhere' } });
    await expect(readerOfMaster(replica, master, other)).resolves.toMatchObject({
      why: expect.stringContaining('not a read replica of primary'),
    });
    await expect(readerOfMaster(replica, master, topology({}))).resolves.toMatchObject({ why: expect.stringContaining('no DB instance') });
    // A CNAME whose first label matches a replica is not the replica.
    const lookAlike = { host: 'replica1.attacker.example', port: 5432 };
    const real = topology({ replica1: { address: replica.host, port: 5432, readReplicaSource: 'primary' } });
    await expect(readerOfMaster(lookAlike, master, real)).resolves.toMatchObject({ why: expect.stringContaining('another address') });
    await expect(readerOfMaster({ ...replica, port: 6432 }, master, real)).resolves.toMatchObject({
      why: expect.stringContaining('port 5432'),
    });
  });
});

describe('readerOfMaster, Aurora clusters', () => {
  const cluster: RdsClusterFacts = {
    readerEndpoint: `orders.cluster-ro-${SUFFIX}`,
    port: 3306,
    members: [
      { instanceId: 'orders-1', writer: true },
      { instanceId: 'orders-2', writer: false },
    ],
  };
  const byClusterEndpoint = { host: `orders.cluster-${SUFFIX}`, port: 3306, engine: 'aurora-mysql' };
  const byInstanceEndpoint = { host: `orders-1.${SUFFIX}`, port: 3306, engine: 'aurora-mysql' };

  it('accepts the reader endpoint of the cluster a cluster endpoint names', async () => {
    const t = topology({}, { orders: cluster });
    await expect(readerOfMaster({ host: cluster.readerEndpoint!, port: 3306 }, byClusterEndpoint, t)).resolves.toEqual({
      reader: 'aurora-reader-endpoint',
    });
    expect(t.asked).toEqual(['cluster orders']);
  });

  it('finds the cluster through the instance a master instance endpoint names, and accepts a reader instance', async () => {
    const t = topology(
      {
        'orders-1': { address: byInstanceEndpoint.host, port: 3306, clusterId: 'orders' },
        'orders-2': { address: `orders-2.${SUFFIX}`, port: 3306 },
      },
      { orders: cluster },
    );
    await expect(readerOfMaster({ host: `orders-2.${SUFFIX}`, port: 3306 }, byInstanceEndpoint, t)).resolves.toEqual({
      reader: 'aurora-reader-instance',
    });
    expect(t.asked).toEqual(['instance orders-1', 'cluster orders', 'instance orders-2']);
  });

  it('refuses the writer under another name, a non-member, and a master that is no cluster member', async () => {
    const t = topology({ 'orders-1': { address: `orders-1.${SUFFIX}`, port: 3306 } }, { orders: cluster });
    await expect(readerOfMaster({ host: `orders-1.${SUFFIX}`, port: 3306 }, byClusterEndpoint, t)).resolves.toMatchObject({
      why: expect.stringContaining('is the writer'),
    });
    await expect(readerOfMaster({ host: `billing-2.${SUFFIX}`, port: 3306 }, byClusterEndpoint, t)).resolves.toMatchObject({
      why: expect.stringContaining('neither the reader endpoint nor an instance'),
    });
    await expect(readerOfMaster({ host: cluster.readerEndpoint!, port: 3306 }, byInstanceEndpoint, t)).resolves.toMatchObject({
      why: expect.stringContaining('names no Aurora cluster'),
    });
  });
});

describe('assertReaderOfMaster', () => {
  const master = { host: `primary.${SUFFIX}`, port: 5432, engine: 'postgres' };
  const child = { host: `replica1.${SUFFIX}`, port: 5432 };
  const context = { secretId: 'arn:master', step: 'setSecret' };
  const failing = (err: Error): RdsTopology => ({
    instance: async () => {
      throw err;
    },
    cluster: async () => {
      throw err;
    },
  });

  it('refuses a host that is no reader with SecretValidationError naming both hosts and the reason', async () => {
    const err = await assertReaderOfMaster(child, master, topology({}), context).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecretValidationError);
    expect((err as Error).message).toContain(child.host);
    expect((err as Error).message).toContain(master.host);
    expect((err as Error).message).toContain('no DB instance is named replica1');
  });

  it('types RDS API failures: AccessDenied names the actions; anything else leaves the other host unproven, an invalid secret', async () => {
    const denied = Object.assign(new Error('denied'), { name: 'AccessDenied' });
    await expect(assertReaderOfMaster(child, master, failing(denied), context)).rejects.toThrow(AccessDeniedError);
    await expect(assertReaderOfMaster(child, master, failing(denied), context)).rejects.toThrow(/rds:DescribeDBInstances/);
    const throttled = Object.assign(new Error('slow down'), { name: 'Throttling' });
    await expect(assertReaderOfMaster(child, master, failing(throttled), context)).rejects.toThrow(SecretValidationError);
    await expect(assertReaderOfMaster(child, master, failing(throttled), context)).rejects.toThrow(/host and port are not the master/);
  });

  it('names the network path, not the secret or the role, when the RDS API cannot be reached', async () => {
    const unresolved = Object.assign(new Error('getaddrinfo ENOTFOUND rds.us-east-1.amazonaws.com'), { code: 'ENOTFOUND' });
    const err = await assertReaderOfMaster(child, master, failing(unresolved), context).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'NETWORK',
      message: expect.stringMatching(/RDS API could not be reached .*\(ENOTFOUND\); .*VPC endpoint for rds/),
    });
    const timedOut = Object.assign(new Error('connection timed out'), { name: 'TimeoutError' });
    await expect(assertReaderOfMaster(child, master, failing(timedOut), context)).rejects.toMatchObject({ code: 'TIMEOUT' });
  });
});
