/**
 * Where an RDS-managed master secret's database is: the writer endpoint of the instance or cluster its
 * tags name, from the RDS API. The RDS client is required only here, on that path: the Lambda runtime
 * ships it and the bundles leave it out.
 */
import { SecretNotFoundError } from '../errors';
import { SDK_CONNECTION_TIMEOUT_MS } from '../secrets-client';

/** Which RDS API an ARN is looked up with: DescribeDBInstances or DescribeDBClusters. */
export type RdsResourceKind = 'instance' | 'cluster';

/** The writer endpoint of an RDS instance or cluster, and its engine as RDS names it (`aurora-postgresql`, …). */
export interface RdsEndpoint {
  readonly host: string;
  readonly port: number;
  readonly engine: string;
}

/** What an RDS lookup is given beside the ARN: a signal that fires when the Lambda's time runs out. */
export interface RdsLookupOptions {
  readonly abortSignal?: AbortSignal;
}

/** Finds the writer endpoint of an RDS instance or cluster by ARN. Injectable for tests. */
export type RdsEndpointLookup = (kind: RdsResourceKind, arn: string, options?: RdsLookupOptions) => Promise<RdsEndpoint>;

interface RdsModule {
  RDSClient: new (config: object) => { send(command: object, options?: RdsLookupOptions): Promise<unknown> };
  DescribeDBInstancesCommand: new (input: object) => object;
  DescribeDBClustersCommand: new (input: object) => object;
}

interface DescribeInstancesOutput {
  DBInstances?: Array<{ Endpoint?: { Address?: string; Port?: number }; Engine?: string }>;
}
interface DescribeClustersOutput {
  DBClusters?: Array<{ Endpoint?: string; Port?: number; Engine?: string }>;
}

let rdsClient: { send(command: object, options?: RdsLookupOptions): Promise<unknown> } | undefined;

/** The RDS API through the SDK the Lambda runtime ships, required only here. */
export const defaultRdsLookup: RdsEndpointLookup = async (kind, arn, options = {}) => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const rds = require('@aws-sdk/client-rds') as RdsModule;
  rdsClient ??= new rds.RDSClient({ requestHandler: { connectionTimeout: SDK_CONNECTION_TIMEOUT_MS } });
  const sendOptions = options.abortSignal !== undefined ? { abortSignal: options.abortSignal } : {};
  const notFound = (): never => {
    throw new SecretNotFoundError(`${arn} is not a valid DB ${kind === 'instance' ? 'Instance' : 'Cluster'} ARN: none found`);
  };
  if (kind === 'instance') {
    const out = (await rdsClient.send(
      new rds.DescribeDBInstancesCommand({ DBInstanceIdentifier: arn }),
      sendOptions,
    )) as DescribeInstancesOutput;
    const db = out.DBInstances?.[0];
    if (!db?.Endpoint?.Address || db.Endpoint.Port === undefined || !db.Engine) return notFound();
    return { host: db.Endpoint.Address, port: db.Endpoint.Port, engine: db.Engine };
  }
  const out = (await rdsClient.send(
    new rds.DescribeDBClustersCommand({ DBClusterIdentifier: arn }),
    sendOptions,
  )) as DescribeClustersOutput;
  const db = out.DBClusters?.[0];
  if (!db?.Endpoint || db.Port === undefined || !db.Engine) return notFound();
  return { host: db.Endpoint, port: db.Port, engine: db.Engine };
};
