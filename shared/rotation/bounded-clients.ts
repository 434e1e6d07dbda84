/**
 * A rotation invocation's AWS calls, bounded by the Lambda's remaining time. Each Secrets Manager
 * request, SDK retries and their back-off included, is aborted at the invocation's `Deadline`, and the
 * call rejects at that moment even if the SDK does not notice the abort (a body that trickles in, a
 * handler that ignores the signal). The rejection is an `AbortError` with code `LAMBDA_DEADLINE`,
 * which the call sites' `fromSecretsManagerError` turns into a TimeoutError naming the call and the
 * network path to check. The steps keep calling `ctx.client` as before.
 *
 * Why a view rather than the SDK's own timeouts: those are per attempt and fixed at construction, one
 * client serves every invocation of a container, and what bounds a rotation step is the time this
 * invocation has left.
 */
import { LAMBDA_DEADLINE_CODE, RDS_NETWORK_HINT, TimeoutError, type ErrorContext } from '../errors';
import type { Deadline, DeadlineErrorFactory } from './deadline';
import type { CallOptions, SecretsApi } from '../secrets-api/secrets-api';
import type { RdsEndpointLookup, RdsResourceKind } from './rds-endpoint';
import type { RdsTopology } from './rds-replica';

/** The error a Secrets Manager call is cut off with at the deadline; mapped by `fromSecretsManagerError`. */
function deadlineAbort(): Error {
  return Object.assign(new Error('The Lambda time left ran out before Secrets Manager answered'), {
    name: 'AbortError',
    code: LAMBDA_DEADLINE_CODE,
  });
}

/**
 * `api` with each call bounded by `deadline` (see the module comment). Build one per invocation; the
 * underlying client, its connections and credentials stay shared across invocations. A caller's own
 * `abortSignal` is kept: the request is aborted by whichever fires first.
 */
export function boundedSecretsApi(api: SecretsApi, deadline: Deadline): SecretsApi {
  const bound =
    <I, O>(call: (input: I, options?: CallOptions) => Promise<O>) =>
    (input: I, options?: CallOptions): Promise<O> =>
      boundCall(deadline, options?.abortSignal, (signal) => call(input, signal), deadlineAbort);
  return {
    describeSecret: bound((input, options) => api.describeSecret(input, options)),
    getSecretValue: bound((input, options) => api.getSecretValue(input, options)),
    putSecretValue: bound((input, options) => api.putSecretValue(input, options)),
    updateSecretVersionStage: bound((input, options) => api.updateSecretVersionStage(input, options)),
  };
}

/**
 * The RDS endpoint lookup of an RDS-managed master secret, bounded by `deadline` like the Secrets
 * Manager calls: past it, a TimeoutError naming the RDS call and the network path to check.
 */
export function boundedRdsLookup(lookup: RdsEndpointLookup, deadline: Deadline, context: ErrorContext): RdsEndpointLookup {
  return (kind: RdsResourceKind, arn: string, options = {}) =>
    boundCall(deadline, options.abortSignal, (signal) => lookup(kind, arn, signal), rdsDeadlineError(kind, '', context));
}

/**
 * The replica check's RDS calls (a child secret on another host than its master's), bounded by
 * `deadline` like the lookup above: an RDS API the function cannot reach would otherwise hold the step
 * until Lambda kills it, with nothing logged.
 */
export function boundedRdsTopology(topology: RdsTopology, deadline: Deadline, context: ErrorContext): RdsTopology {
  const purpose = ", while checking whether the secret's host is a reader of the master's";
  return {
    instance: (id, options = {}) =>
      boundCall(deadline, options.abortSignal, (signal) => topology.instance(id, signal), rdsDeadlineError('instance', purpose, context)),
    cluster: (id, options = {}) =>
      boundCall(deadline, options.abortSignal, (signal) => topology.cluster(id, signal), rdsDeadlineError('cluster', purpose, context)),
  };
}

/** `call` under `deadline`, given the signal that fires at the deadline or at the caller's own (`own`), whichever comes first. */
function boundCall<T>(
  deadline: Deadline,
  own: AbortSignal | undefined,
  call: (options: { abortSignal?: AbortSignal }) => Promise<T>,
  onExpiry: DeadlineErrorFactory,
): Promise<T> {
  return deadline.bound((signal) => {
    const abortSignal = either(own, signal);
    return call(abortSignal !== undefined ? { abortSignal } : {});
  }, onExpiry);
}

/** The TimeoutError of an RDS call cut off at the deadline; `purpose` says what the call was for (", while …"). */
function rdsDeadlineError(kind: RdsResourceKind, purpose: string, context: ErrorContext): DeadlineErrorFactory {
  return () =>
    new TimeoutError(
      `RDS ${rdsCallName(kind)}: no answer from the RDS API within the Lambda time left${purpose}; ${RDS_NETWORK_HINT}, or raise the function's timeout`,
      context,
    );
}

function rdsCallName(kind: RdsResourceKind): string {
  return kind === 'instance' ? 'DescribeDBInstances' : 'DescribeDBClusters';
}

/** The signal that fires when either does. */
function either(a: AbortSignal | undefined, b: AbortSignal | undefined): AbortSignal | undefined {
  if (a === undefined) return b;
  return b === undefined ? a : AbortSignal.any([a, b]);
}
