/**
 * A rotation invocation's AWS calls, bounded by the Lambda's remaining time. Each Secrets Manager
 * request, SDK retries and their back-off included, is aborted at the invocation's `Deadline`, and the
 * call rejects at that moment even if the SDK does not notice the abort (a body that trickles in, a
 * handler that ignores the signal). The rejection is an `AbortError` with code `LAMBDA_DEADLINE`,
 * which the call sites' `fromSecretsManagerError` turns into a TimeoutError naming the call and the
 * network path to check. The steps keep calling `ctx.client.send(...)` as before.
 *
 * Why a view rather than the SDK's own timeouts: those are per attempt and fixed at construction, one
 * client serves every invocation of a container, and what bounds a rotation step is the time this
 * invocation has left.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { LAMBDA_DEADLINE_CODE, TimeoutError, type ErrorContext } from '../errors';
import type { Deadline } from './deadline';
import type { RdsEndpointLookup, RdsResourceKind } from './master-secret';

/** The options argument of the SDK's `send`, as far as this view reads it. */
interface SendOptions {
  readonly abortSignal?: AbortSignal;
  readonly [key: string]: unknown;
}

type SendCallback = (err: unknown, data?: unknown) => void;
type PromiseSend = (command: unknown, options?: SendOptions) => Promise<unknown>;

/**
 * Where to look when the RDS API does not answer: like Secrets Manager, it needs an interface VPC
 * endpoint or a NAT gateway from a function in a VPC.
 */
const RDS_NETWORK_HINT =
  'check the network path from the function to the RDS API (in a VPC: an interface VPC endpoint for rds or a NAT gateway, and security groups and network ACLs allowing HTTPS on 443)';

/** The error a Secrets Manager call is cut off with at the deadline; mapped by `fromSecretsManagerError`. */
function deadlineAbort(): Error {
  return Object.assign(new Error('The Lambda time left ran out before Secrets Manager answered'), {
    name: 'AbortError',
    code: LAMBDA_DEADLINE_CODE,
  });
}

/**
 * A view of `client` whose `send` is bounded by `deadline` (see the module comment). Everything else
 * (`config`, `middlewareStack`, `destroy`) is the client's own: the view inherits from it, so it is
 * still a `SecretsManagerClient` to the steps and to `instanceof`. Build one per invocation; the
 * underlying client, its connections and credentials stay shared across invocations.
 *
 * A caller's own `abortSignal` is kept: the request is aborted by whichever fires first. The callback
 * forms of `send` are bounded the same way.
 */
export function boundedSecretsClient(client: SecretsManagerClient, deadline: Deadline): SecretsManagerClient {
  const sendPromise = (command: unknown, options: SendOptions | undefined): Promise<unknown> =>
    deadline.bound((signal) => {
      const send = client.send.bind(client) as unknown as PromiseSend;
      if (signal === undefined) return send(command, options);
      const abortSignal = options?.abortSignal !== undefined ? AbortSignal.any([options.abortSignal, signal]) : signal;
      return send(command, { ...options, abortSignal });
    }, deadlineAbort);

  function send(command: unknown, optionsOrCallback?: SendOptions | SendCallback, callback?: SendCallback): Promise<unknown> | void {
    const options = typeof optionsOrCallback === 'function' ? undefined : optionsOrCallback;
    const cb = typeof optionsOrCallback === 'function' ? optionsOrCallback : callback;
    const result = sendPromise(command, options);
    if (cb === undefined) return result;
    result.then(
      (data) => cb(null, data),
      (err: unknown) => cb(err),
    );
  }

  const view = Object.create(client) as SecretsManagerClient;
  Object.defineProperty(view, 'send', { value: send, enumerable: false, writable: false, configurable: true });
  return view;
}

/**
 * The RDS endpoint lookup of an RDS-managed master secret, bounded by `deadline` like the Secrets
 * Manager calls: past it, a TimeoutError naming the RDS call and the network path to check.
 */
export function boundedRdsLookup(lookup: RdsEndpointLookup, deadline: Deadline, context: ErrorContext): RdsEndpointLookup {
  return (kind: RdsResourceKind, arn: string, options = {}) =>
    deadline.bound(
      (signal) => {
        const abortSignal =
          signal === undefined
            ? options.abortSignal
            : options.abortSignal !== undefined
              ? AbortSignal.any([options.abortSignal, signal])
              : signal;
        return lookup(kind, arn, abortSignal !== undefined ? { abortSignal } : {});
      },
      () =>
        new TimeoutError(
          `RDS ${rdsCallName(kind)}: no answer from the RDS API within the Lambda time left; ${RDS_NETWORK_HINT}, or raise the function's timeout`,
          context,
        ),
    );
}

function rdsCallName(kind: RdsResourceKind): string {
  return kind === 'instance' ? 'DescribeDBInstances' : 'DescribeDBClusters';
}
