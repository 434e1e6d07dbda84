/**
 * Whether a user secret's host is a reader of the master's database, asked of the RDS API as AWS's
 * multi-user templates do (aws-samples/aws-secrets-manager-rotation-lambdas #146, #156): an RDS read
 * replica of the master's DB instance, or the reader endpoint or a reader instance of the master's
 * Aurora cluster. Applications that only read are given such a host; the password is still changed on
 * the writer (the master's host), and testSecret logs in at the secret's own host.
 *
 * As in the templates, a DB identifier is the first DNS label of its endpoint, and a master host whose
 * second label starts with `cluster-` is an Aurora cluster (writer) endpoint. Unlike them, the endpoint
 * address the API returns must BE the secret's host (and its port the secret's port): a look-alike name
 * whose first label happens to match a reader would otherwise pass, and the current credential would
 * then be proven on a server other than the one the master changes.
 */
import { SDK_CONNECTION_TIMEOUT_MS } from '../secrets-client';
import {
  AccessDeniedError,
  NetworkError,
  RDS_NETWORK_HINT,
  SecretValidationError,
  TimeoutError,
  ToolkitError,
  summarizeCause,
  unreachableKind,
  type ErrorContext,
} from '../errors';
import type { RdsLookupOptions } from './rds-endpoint';

/** What the check needs of one DB instance. */
export interface RdsInstanceFacts {
  readonly address?: string;
  readonly port?: number;
  /** The source of a read replica: an identifier, or an ARN for a cross-region replica. */
  readonly readReplicaSource?: string;
  /** The Aurora cluster the instance belongs to. */
  readonly clusterId?: string;
}

/** What the check needs of one Aurora cluster. */
export interface RdsClusterFacts {
  readonly readerEndpoint?: string;
  readonly port?: number;
  readonly members: readonly { readonly instanceId: string; readonly writer: boolean }[];
}

/**
 * The two RDS describe calls, by identifier; undefined when none has that identifier. Injectable for
 * tests. `options.abortSignal` fires when the Lambda's time runs out (see `boundedRdsTopology`).
 */
export interface RdsTopology {
  instance(id: string, options?: RdsLookupOptions): Promise<RdsInstanceFacts | undefined>;
  cluster(id: string, options?: RdsLookupOptions): Promise<RdsClusterFacts | undefined>;
}

/** How the host reads from the master's database. */
export type ReaderKind = 'read-replica' | 'aurora-reader-endpoint' | 'aurora-reader-instance';

/** The check's answer: the kind of reader, or why the host is none. */
export type ReaderCheck = { readonly reader: ReaderKind } | { readonly reader?: undefined; readonly why: string };

interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/**
 * Asks the RDS API whether `child` is a reader of the database behind `master`.
 *
 * @param master the master's endpoint and `engine` (`aurora-*` engines are checked as clusters, the
 *   others as instances with read replicas).
 * @throws whatever `topology` throws (the caller types it).
 */
export async function readerOfMaster(
  child: Endpoint,
  master: Endpoint & { readonly engine: string },
  topology: RdsTopology,
): Promise<ReaderCheck> {
  const childHost = child.host.toLowerCase();
  const childId = firstLabel(childHost);
  const [masterId, masterSecondLabel] = twoLabels(master.host.toLowerCase());
  if (!master.engine.toLowerCase().startsWith('aurora')) {
    const instance = await topology.instance(childId);
    if (instance === undefined) return { why: `no DB instance is named ${childId}` };
    const mismatch = sameEndpoint(instance.address, instance.port, child, `DB instance ${childId}`);
    if (mismatch !== undefined) return mismatch;
    const source = instance.readReplicaSource?.toLowerCase();
    if (source !== undefined && (source === masterId || source.endsWith(`:db:${masterId}`))) return { reader: 'read-replica' };
    return { why: `DB instance ${childId} is not a read replica of ${masterId}` };
  }

  let clusterId: string | undefined = masterId;
  if (!masterSecondLabel.startsWith('cluster-')) clusterId = (await topology.instance(masterId))?.clusterId?.toLowerCase();
  if (clusterId === undefined) return { why: `the master's host names no Aurora cluster (${masterId} is no cluster member)` };
  const cluster = await topology.cluster(clusterId);
  if (cluster === undefined) return { why: `no Aurora cluster is named ${clusterId}` };
  if (cluster.readerEndpoint?.toLowerCase() === childHost) {
    return (
      sameEndpoint(cluster.readerEndpoint, cluster.port, child, `the reader endpoint of cluster ${clusterId}`) ?? {
        reader: 'aurora-reader-endpoint',
      }
    );
  }
  const member = cluster.members.find((m) => m.instanceId.toLowerCase() === childId);
  if (member === undefined) return { why: `${childId} is neither the reader endpoint nor an instance of cluster ${clusterId}` };
  if (member.writer) return { why: `${childId} is the writer of cluster ${clusterId}, under another host name than the master's` };
  const instance = await topology.instance(childId);
  return sameEndpoint(instance?.address, instance?.port, child, `DB instance ${childId}`) ?? { reader: 'aurora-reader-instance' };
}

/**
 * The master-secret step's use of the check: resolves when `child` is a reader of `master`, else fails.
 *
 * @throws SecretValidationError naming both hosts and why the child's is no reader (or why the RDS API
 *   could not tell); AccessDeniedError when the function may not call rds:DescribeDBInstances or
 *   DescribeDBClusters; NetworkError or TimeoutError naming the network path when the RDS API cannot
 *   be reached.
 */
export async function assertReaderOfMaster(
  child: Endpoint,
  master: Endpoint & { readonly engine: string },
  topology: RdsTopology,
  context: ErrorContext,
): Promise<ReaderKind> {
  const hosts = `${child.host}:${child.port} is not the master's ${master.host}:${master.port}`;
  let check: ReaderCheck;
  try {
    check = await readerOfMaster(child, master, topology);
  } catch (err) {
    if (err instanceof ToolkitError) throw err;
    const name = (err as { name?: unknown } | null)?.name;
    if (name === 'AccessDenied' || name === 'AccessDeniedException') {
      throw new AccessDeniedError(
        `The current secret's host ${hosts}, and the function may not ask the RDS API whether it is a reader or replica of it (rds:DescribeDBInstances, rds:DescribeDBClusters)`,
        { ...context, cause: err },
      );
    }
    // Not reached at all: the network path is what to fix, not the secret or the role.
    const unreachable = rdsUnreachable(
      err,
      `The current secret's host ${hosts}, and the RDS API could not be reached to check whether it is a reader or replica of it`,
      context,
    );
    if (unreachable !== undefined) throw unreachable;
    // Unproven, the other host is a misconfigured secret: say so, with why the RDS API could not clear it.
    throw new SecretValidationError(
      "The current secret's host and port are not the master secret's, and the RDS API could not tell whether it is a reader or replica of it",
      [
        {
          path: 'host',
          problem: `${hosts}; give the function rds:DescribeDBInstances and rds:DescribeDBClusters (readerHost) for a reader host`,
        },
      ],
      { ...context, cause: err },
    );
  }
  if (check.reader !== undefined) return check.reader;
  throw new SecretValidationError(
    "The current secret's host is neither the master's nor a reader or read replica of the master's database",
    [{ path: 'host', problem: `${hosts} (per the RDS API: ${check.why})` }],
    context,
  );
}

function sameEndpoint(address: string | undefined, port: number | undefined, child: Endpoint, what: string): ReaderCheck | undefined {
  if (address?.toLowerCase() !== child.host.toLowerCase()) return { why: `${what} is at another address than ${child.host}` };
  if (port !== undefined && port !== child.port) return { why: `${what} listens on port ${port}, not ${child.port}` };
  return undefined;
}

function firstLabel(host: string): string {
  return host.split('.')[0] ?? host;
}

function twoLabels(host: string): [string, string] {
  const labels = host.split('.');
  return [labels[0] ?? host, labels[1] ?? ''];
}

interface RdsModule {
  RDSClient: new (config: object) => { send(command: object, options?: RdsLookupOptions): Promise<unknown> };
  DescribeDBInstancesCommand: new (input: object) => object;
  DescribeDBClustersCommand: new (input: object) => object;
}

interface DescribeInstancesOutput {
  DBInstances?: Array<{
    Endpoint?: { Address?: string; Port?: number };
    ReadReplicaSourceDBInstanceIdentifier?: string;
    DBClusterIdentifier?: string;
  }>;
}
interface DescribeClustersOutput {
  DBClusters?: Array<{
    ReaderEndpoint?: string;
    Port?: number;
    DBClusterMembers?: Array<{ DBInstanceIdentifier?: string; IsClusterWriter?: boolean }>;
  }>;
}

/**
 * The error for an RDS API call that never reached the API: TimeoutError when it timed out,
 * NetworkError when it was refused, unresolved or reset; undefined for any other failure. The message
 * is `what` with the failure's code and where to look (RDS_NETWORK_HINT).
 */
export function rdsUnreachable(err: unknown, what: string, context: ErrorContext): TimeoutError | NetworkError | undefined {
  const kind = unreachableKind(err);
  if (kind === undefined) return undefined;
  const { name, code } = summarizeCause(err);
  const message = `${what} (${code ?? name}); ${RDS_NETWORK_HINT}`;
  return kind === 'timeout' ? new TimeoutError(message, { ...context, cause: err }) : new NetworkError(message, { ...context, cause: err });
}

/** RDS answers an unknown or malformed identifier (an IP address's first label) with these. */
const NOT_FOUND = new Set(['DBInstanceNotFoundFault', 'DBClusterNotFoundFault', 'InvalidParameterValue', 'InvalidParameterValueException']);

let client: { send(command: object, options?: RdsLookupOptions): Promise<unknown> } | undefined;

/**
 * The RDS API through the SDK the Lambda runtime ships, required only when a host differs from the
 * master's (bundles leave the RDS client out, as for rds-endpoint.ts).
 */
export const defaultRdsTopology: RdsTopology = {
  async instance(id, options = {}) {
    const rds = rdsModule();
    const out = (await orUndefined(() =>
      rdsClient(rds).send(new rds.DescribeDBInstancesCommand({ DBInstanceIdentifier: id }), signalOnly(options)),
    )) as DescribeInstancesOutput | undefined;
    const db = out?.DBInstances?.[0];
    if (db === undefined) return undefined;
    return {
      ...(db.Endpoint?.Address !== undefined ? { address: db.Endpoint.Address } : {}),
      ...(db.Endpoint?.Port !== undefined ? { port: db.Endpoint.Port } : {}),
      ...(db.ReadReplicaSourceDBInstanceIdentifier !== undefined ? { readReplicaSource: db.ReadReplicaSourceDBInstanceIdentifier } : {}),
      ...(db.DBClusterIdentifier !== undefined ? { clusterId: db.DBClusterIdentifier } : {}),
    };
  },
  async cluster(id, options = {}) {
    const rds = rdsModule();
    const out = (await orUndefined(() =>
      rdsClient(rds).send(new rds.DescribeDBClustersCommand({ DBClusterIdentifier: id }), signalOnly(options)),
    )) as DescribeClustersOutput | undefined;
    const db = out?.DBClusters?.[0];
    if (db === undefined) return undefined;
    return {
      ...(db.ReaderEndpoint !== undefined ? { readerEndpoint: db.ReaderEndpoint } : {}),
      ...(db.Port !== undefined ? { port: db.Port } : {}),
      members: (db.DBClusterMembers ?? []).map((m) => ({ instanceId: m.DBInstanceIdentifier ?? '', writer: m.IsClusterWriter === true })),
    };
  },
};

function signalOnly(options: RdsLookupOptions): RdsLookupOptions {
  return options.abortSignal !== undefined ? { abortSignal: options.abortSignal } : {};
}

function rdsModule(): RdsModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('@aws-sdk/client-rds') as RdsModule;
}

function rdsClient(rds: RdsModule): { send(command: object, options?: RdsLookupOptions): Promise<unknown> } {
  // The same connect timeout as the master's endpoint lookup: an RDS API the function cannot reach fails fast.
  return (client ??= new rds.RDSClient({ requestHandler: { connectionTimeout: SDK_CONNECTION_TIMEOUT_MS } }));
}

async function orUndefined(call: () => Promise<unknown>): Promise<unknown> {
  try {
    return await call();
  } catch (err) {
    if (NOT_FOUND.has(String((err as { name?: unknown } | null)?.name))) return undefined;
    throw err;
  }
}
