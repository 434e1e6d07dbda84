/**
 * The command-line tools' Secrets Manager client (`rotation:status`, `rotation:repair`, `rotate:local`),
 * each call bounded in time. The SDK sets no request timeout of its own (`SDK_CONNECTION_TIMEOUT_MS`
 * bounds only the connect), and these commands have no caller's deadline above them as the readers
 * (fetch timeout) and the rotation (the Lambda's time left) do: an endpoint that accepts the connection
 * and never answers (a stuck proxy, a firewall that drops the replies, a hung emulator) held the command
 * for ever, printing nothing. Bounded, the call fails with a TimeoutError naming the call and the secret,
 * which the commands print with the endpoint it went to.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SECRETS_MANAGER_NETWORK_HINT, TimeoutError } from '../shared/errors';
import { withinTimeLimit } from '../shared/time-limit';

/** How long one Secrets Manager call of a command may take, SDK retries included: 30 s. */
export const CLI_CALL_TIMEOUT_MS = 30_000;

/**
 * RotateSecret's bound: 15 min. The embedded endpoint and LocalStack run all four steps before they
 * answer (LocalStack first starts the function's container), each step up to the function's timeout
 * (60 s by default), so the common bound would cut a rotation that is merely running.
 */
export const CLI_ROTATE_TIMEOUT_MS = 15 * 60_000;

/** How long each call may take. */
export interface CallTimeouts {
  /** @default CLI_CALL_TIMEOUT_MS */
  readonly callMs?: number;
  /** @default CLI_ROTATE_TIMEOUT_MS, and never less than `callMs` */
  readonly rotateMs?: number;
}

type Send = SecretsManagerClient['send'];

/**
 * `client` with every `send` bounded (see the module comment); everything else is the client itself.
 * A caller's own `abortSignal` is kept: the request is aborted by whichever fires first. The client is
 * not changed, so a shared one (`getSecretsClient`) stays unbounded for its other users.
 *
 * @throws (from `send`) TimeoutError, code TIMEOUT, when no answer came in time; otherwise what the SDK throws.
 */
export function withCallTimeouts(client: SecretsManagerClient, timeouts: CallTimeouts = {}): SecretsManagerClient {
  const callMs = timeouts.callMs ?? CLI_CALL_TIMEOUT_MS;
  const rotateMs = Math.max(timeouts.rotateMs ?? CLI_ROTATE_TIMEOUT_MS, callMs);
  const send = ((command: { readonly input?: unknown; readonly constructor: { readonly name: string } }, options?: unknown) => {
    const action = command.constructor.name.replace(/Command$/, '');
    const limitMs = action === 'RotateSecret' ? rotateMs : callMs;
    const own = (options as { abortSignal?: AbortSignal } | undefined)?.abortSignal;
    const secretId = (command.input as { SecretId?: unknown } | undefined)?.SecretId;
    const expired = () =>
      new TimeoutError(
        `${action}: no answer from Secrets Manager within ${formatLimit(limitMs)}; ${SECRETS_MANAGER_NETWORK_HINT}`,
        typeof secretId === 'string' ? { secretId } : {},
      );
    return withinTimeLimit(
      limitMs,
      (signal) => {
        const abortSignal = own === undefined ? signal : AbortSignal.any([own, signal]);
        return (client.send as (c: unknown, o: unknown) => Promise<unknown>).call(client, command, { ...(options ?? {}), abortSignal });
      },
      expired,
      { unref: true },
    );
  }) as unknown as Send;
  return new Proxy(client, {
    get(target, property) {
      if (property === 'send') return send;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

function formatLimit(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000} min` : ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
