/**
 * The master (admin) secret that alternating-users rotation, and single-user self-healing, act as: named
 * by the current secret's `masterarn`. An RDS-managed master secret holds only `username` and `password`;
 * its host, port and engine come from the RDS API through the instance or cluster ARN in its tags. The
 * RDS client is loaded only on that path (the Lambda runtime ships it; bundles mark it external).
 */
import type { SecretsApi } from '../secrets-api/secrets-api';
import { DEFAULT_POSTGRES_DATABASE } from '../connection-options';
import { parseDatabaseSecret, toRecord, type DatabaseSecret, type EngineFamily } from '../database-secret';
import {
  AuthenticationError,
  AccessDeniedError,
  InvalidRequestError,
  SecretValidationError,
  ToolkitError,
  TransientError,
  summarizeCause,
} from '../errors';
import type { SqlSession } from './database-engine';
import { defaultRdsLookup, type RdsEndpoint, type RdsEndpointLookup, type RdsResourceKind } from './rds-endpoint';
import { login } from './login';
import { assertReaderOfMaster, rdsUnreachable, defaultRdsTopology, type RdsTopology } from './rds-replica';
import { assertUsableMasterArn } from './secret-arn';
import { AWSCURRENT, describeSecret, getSecretString, getSecretVersionText, scheduledForDeletion } from './secret-versions';
import type { StepContext } from './step-context';

const INSTANCE_TAG = 'aws:rds:primarydbinstancearn';
const CLUSTER_TAG = 'aws:rds:primarydbclusterarn';
const MAX_RDS_ARN_LENGTH = 256;

export interface MasterSecretContext {
  readonly client: SecretsApi;
  readonly family: EngineFamily;
  readonly step: string;
  readonly rdsLookup?: RdsEndpointLookup;
  /** Answers the reader check of a child on another host. @default the RDS API */
  readonly rdsTopology?: RdsTopology;
}

/**
 * Reads and validates the master secret. Its host must equal the child's, or the child's host must be a
 * reader of the master's database by the RDS API (an Aurora reader endpoint or instance, an RDS read
 * replica; see rds-replica.ts): the master acts on its own host, the writer, opening the child's dbname
 * (see `masterDatabase`).
 * @throws the typed Secrets Manager errors of its read (SecretNotFoundError, AccessDeniedError…);
 *   InvalidRequestError naming the master when it is scheduled for deletion; SecretValidationError when
 *   it is no database secret or its host is neither the child's nor one the child's reads from;
 *   AccessDeniedError, NetworkError, TimeoutError or TransientError when the RDS API, asked for an
 *   RDS-managed master's endpoint or about a reader, refuses or cannot be reached.
 */
export async function resolveMasterSecret(ctx: MasterSecretContext, masterArn: string, child: DatabaseSecret): Promise<DatabaseSecret> {
  const text = await readMasterString(ctx, masterArn);
  const parsed = toRecord(text);
  let value: unknown = text;
  if (!('problem' in parsed) && isRdsManagedShape(parsed.record)) {
    const endpoint = await rdsManagedEndpoint(ctx, masterArn);
    const { username, password } = parsed.record;
    value = { username, password, engine: endpoint.engine, host: endpoint.host, port: endpoint.port };
  }
  const master = parseDatabaseSecret(value, { secretId: masterArn, step: ctx.step, expectedFamily: ctx.family, requireEngine: true });
  const sameHost = master.host.toLowerCase() === child.host.toLowerCase();
  if (sameHost && master.port !== child.port) {
    throw new SecretValidationError(
      "The current secret's host and port are not the master secret's",
      [{ path: 'host', problem: `${child.host}:${child.port} differs from the master's ${master.host}:${master.port}` }],
      { secretId: masterArn, step: ctx.step },
    );
  }
  // Another host may be a reader of the master's database: the master still acts on its own host (the writer).
  if (!sameHost) await assertReaderOfMaster(child, master, ctx.rdsTopology ?? defaultRdsTopology, { secretId: masterArn, step: ctx.step });
  return master;
}

/**
 * The database the master opens: for PostgreSQL the child's, as in the templates (a child without
 * `dbname` gets `postgres` here, not left to the mapper, which would fall back to the MASTER's own
 * `dbname`). For MySQL none (`''`, which the mapper reads as no database): accounts are server-wide, a
 * child's dbname that does not exist would only make the master's login fail (1049) and blame the
 * master for the child's secret, and the master secret's own `dbname` may name none that exists either.
 */
export function masterDatabase(child: DatabaseSecret): string {
  if (child.family !== 'postgres') return '';
  return child.dbname ?? DEFAULT_POSTGRES_DATABASE;
}

/**
 * `resolveMasterSecret` with the step's Secrets Manager client, engine and RDS lookups.
 * @throws SecretValidationError when `masterArn` names no secret (whitespace around it, a character no
 *   secret id holds) or one in another region than the rotated secret, said before the read, which would
 *   only come back as a bare InvalidParameterException or "not found"
 */
export async function resolveMasterFor(ctx: StepContext, child: DatabaseSecret, masterArn: string): Promise<DatabaseSecret> {
  assertUsableMasterArn(masterArn, ctx.secretArn, { secretId: ctx.secretArn, step: ctx.step });
  return resolveMasterSecret(
    {
      client: ctx.client,
      family: ctx.engine.family,
      step: ctx.step,
      ...(ctx.rdsLookup !== undefined ? { rdsLookup: ctx.rdsLookup } : {}),
      ...(ctx.rdsTopology !== undefined ? { rdsTopology: ctx.rdsTopology } : {}),
    },
    masterArn,
    child,
  );
}

/**
 * A session as `master` (from `resolveMasterFor`), on the child's database (see `masterDatabase`). Shared by the
 * alternating-users setSecret and the single-user self-healing path. With `anyDatabase`, a master the
 * child's database refuses (`database-not-allowed`: no CONNECT there, or no such database) opens its own
 * database instead (its `dbname`, else the engine's default), as work on server-wide roles allows.
 * @throws AuthenticationError when the master's login is refused (on its own database too, with `anyDatabase`)
 */
export async function loginAsMaster(
  ctx: StepContext,
  child: DatabaseSecret,
  master: DatabaseSecret,
  options: { readonly anyDatabase?: boolean } = {},
): Promise<SqlSession> {
  const database = masterDatabase(child);
  try {
    return await login(ctx, master, 'master', database !== undefined ? { database } : {});
  } catch (err) {
    const own = masterDatabase(master);
    if (
      options.anyDatabase !== true ||
      !(err instanceof AuthenticationError) ||
      err.reason !== 'database-not-allowed' ||
      own === database
    ) {
      throw err;
    }
    return login(ctx, master, 'master', own !== undefined ? { database: own } : {});
  }
}

/**
 * Single-user: the secret's user must not be its master's own user. A user's rotation changes every
 * account of its name, so it would change the master's password behind the master secret and lock out
 * everything that uses it (this rotation's own diagnosis and healing among them). The master is not
 * otherwise needed in a normal single-user rotation, so only the master secret's `username` is read (one
 * GetSecretValue, never the RDS API); a master secret that cannot be read is left to fail where the
 * master is needed. A secret naming itself as its master is the master's own rotation, and passes, whether
 * `masterarn` is its full ARN, a partial ARN or its name (the read's answer gives the full ARN).
 * @throws SecretValidationError before any change (also for a masterarn that names no secret or one in
 *   another region, before its read)
 */
export async function assertNotMastersOwnUser(ctx: StepContext, child: DatabaseSecret): Promise<void> {
  const masterArn = child.masterarn;
  if (masterArn === undefined || masterArn === ctx.secretArn) return;
  // A masterarn that names no secret, or one in another region, is refused by name before it is read
  // (the read would only say "not found" or InvalidParameterException).
  assertUsableMasterArn(masterArn, ctx.secretArn, { secretId: ctx.secretArn, step: ctx.step });
  let username: unknown;
  try {
    const master = await getSecretVersionText({ client: ctx.client, step: ctx.step }, masterArn, { stage: AWSCURRENT });
    // Written as a name or a partial ARN, the masterarn still names this very secret: its own rotation.
    if (master.arn === ctx.secretArn) return;
    const parsed = toRecord(master.secretString);
    username = 'problem' in parsed ? undefined : parsed.record.username;
  } catch {
    return;
  }
  assertNotMasterUser(ctx, child, username);
}

/**
 * Neither the secret's user nor any of `others` (with alternating users, the alternate, whose password
 * the rotation sets now; the current user's is set at the next rotation) may be `masterUsername`, the
 * master's own user: the rotation would change the master's password behind the master secret.
 * @param others further users whose password this rotation sets; none by default
 * @throws SecretValidationError naming which user it is
 */
export function assertNotMasterUser(
  ctx: StepContext,
  child: DatabaseSecret,
  masterUsername: unknown,
  others: readonly string[] = [],
): void {
  const context = { secretId: ctx.secretArn, step: ctx.step };
  if (masterUsername === child.username) {
    throw new SecretValidationError(
      "The secret's user is the master's own user",
      [
        {
          path: 'username',
          problem: "is the user of its masterarn; a user's rotation would change the master's password behind the master secret",
        },
      ],
      context,
    );
  }
  if (typeof masterUsername === 'string' && others.includes(masterUsername)) {
    throw new SecretValidationError(
      "The secret's alternate user is the master's own user",
      [
        {
          path: 'username',
          problem: `has the alternate user ${masterUsername}, the user of its masterarn; the rotation would change the master's password behind the master secret`,
        },
      ],
      context,
    );
  }
}

/**
 * The master's AWSCURRENT text. Secrets Manager refuses a secret scheduled for deletion with a bare
 * InvalidRequestException; only then is the master described, to say so by name.
 */
async function readMasterString(ctx: MasterSecretContext, masterArn: string): Promise<string> {
  const readCtx = { client: ctx.client, step: ctx.step };
  try {
    return await getSecretString(readCtx, masterArn, { stage: AWSCURRENT });
  } catch (err) {
    if (!(err instanceof InvalidRequestError)) throw err;
    const description = await describeSecret(readCtx, masterArn).catch(() => undefined);
    if (!scheduledForDeletion(description)) throw err;
    throw new InvalidRequestError(
      "The master secret named by the current secret's masterarn is scheduled for deletion; restore it (RestoreSecret) or point masterarn at another",
      { secretId: masterArn, step: ctx.step },
    );
  }
}

function isRdsManagedShape(record: Readonly<Record<string, unknown>>): boolean {
  const keys = Object.getOwnPropertyNames(record).sort();
  return keys.length === 2 && keys[0] === 'password' && keys[1] === 'username';
}

async function rdsManagedEndpoint(ctx: MasterSecretContext, masterArn: string): Promise<RdsEndpoint> {
  const context = { secretId: masterArn, step: ctx.step };
  const description = await describeSecret({ client: ctx.client, step: ctx.step }, masterArn);
  const tags = description.Tags ?? [];
  const tag = (name: string): string | undefined => tags.find((t) => t.Key?.toLowerCase() === name)?.Value;
  const instanceArn = tag(INSTANCE_TAG);
  const clusterArn = tag(CLUSTER_TAG);
  const kind: RdsResourceKind | undefined = instanceArn ? 'instance' : clusterArn ? 'cluster' : undefined;
  const arn = instanceArn ?? clusterArn;
  if (kind === undefined || arn === undefined) {
    throw new SecretValidationError(
      'The master secret holds only username and password but has no aws:rds:primarydbinstancearn or aws:rds:primarydbclusterarn tag to find its host',
      [{ path: 'host', problem: 'is missing' }],
      context,
    );
  }
  if (arn.length > MAX_RDS_ARN_LENGTH) {
    throw new SecretValidationError(`The master secret's RDS ${kind} ARN tag exceeds ${MAX_RDS_ARN_LENGTH} characters`, [], context);
  }
  const lookup = ctx.rdsLookup ?? defaultRdsLookup;
  try {
    return await lookup(kind, arn);
  } catch (err) {
    if (err instanceof ToolkitError) throw err;
    const action = kind === 'instance' ? 'rds:DescribeDBInstances' : 'rds:DescribeDBClusters';
    const { name } = summarizeCause(err);
    if (name === 'AccessDenied' || name === 'AccessDeniedException') {
      throw new AccessDeniedError(
        `The master secret is RDS-managed (username and password only), and the function may not look up its DB ${kind}'s endpoint (${action})`,
        { ...context, cause: err },
      );
    }
    const unreachable = rdsUnreachable(err, `The RDS API could not be reached to look up the master's DB ${kind}`, context);
    if (unreachable !== undefined) throw unreachable;
    throw new TransientError(`The RDS API could not describe the master's DB ${kind}`, { ...context, cause: err });
  }
}
