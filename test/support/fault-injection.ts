/**
 * Fault injection for rotation tests: one counter over every external call a rotation makes (Secrets
 * Manager requests, database logins, statements), so "the k-th call fails" means the same thing for both
 * engines and both strategies. A fault fires either before the call reaches its target (a lost request)
 * or after it took effect (a lost answer: the nastier case, since the work is done but the caller sees a
 * failure). The injected errors are the typed errors the real clients raise, so the rotation code under
 * test cannot tell them from real ones.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { NetworkError, TimeoutError, type ToolkitError } from '../../shared/errors';
import type { ConnectRequest, Connector, Row, SqlSession } from '../../shared/rotation/database-engine';

export type ExternalCallKind = 'secrets-manager' | 'connect' | 'query';

export interface ExternalCall {
  /** 1-based position among all external calls since the injector was last reset. */
  readonly index: number;
  readonly kind: ExternalCallKind;
  /** The Secrets Manager command, the login role, or the statement's first word: never a value. */
  readonly name: string;
}

/**
 * `before`: the call never reaches its target. `after`: it takes effect, then its answer is lost.
 * `crash`: it takes effect, then the process dies: every later call fails before reaching its target
 * (no put-back, no cleanup reaches the server) until the injector is reset, as for a Lambda killed there.
 */
export type FaultTiming = 'before' | 'after' | 'crash';

export type SdkFaultName = 'ServiceUnavailable' | 'ThrottlingException' | 'TimeoutError' | 'InternalServiceError';

export interface FaultPlan {
  /** The call number that fails (counting only the calls `when` accepts, when given). */
  readonly at: number;
  /** Restricts which calls count towards `at`, e.g. only the statements that change an account. */
  readonly when?: (call: ExternalCall) => boolean;
  readonly timing: FaultTiming;
  /** Which SDK error a failing Secrets Manager call raises. @default by call number */
  readonly sdkError?: SdkFaultName;
  /**
   * With `crash`: the sandbox is frozen rather than gone (a Lambda killed at its timeout): its open
   * sessions stay open on the server, a transaction and its locks included, until `thaw()`.
   */
  readonly frozen?: boolean;
}

/** Called before every external call (and with `fault` when one fires), for invariant checks. */
export type CallObserver = (call: ExternalCall, fault: boolean) => Promise<void>;

const SDK_FAULTS: readonly SdkFaultName[] = ['ServiceUnavailable', 'ThrottlingException', 'TimeoutError', 'InternalServiceError'];

const SDK_STATUS: Readonly<Record<SdkFaultName, number | undefined>> = {
  ServiceUnavailable: 503,
  ThrottlingException: 400,
  TimeoutError: undefined,
  InternalServiceError: 500,
};

export class FaultInjector {
  private count = 0;
  private matched = 0;
  private plan: FaultPlan | undefined;
  private firedCall: ExternalCall | undefined;
  private dead = false;
  /** Sessions a frozen crash left open on the server. */
  private readonly orphans: SqlSession[] = [];
  private readonly log: ExternalCall[] = [];

  constructor(private observer?: CallObserver) {}

  /** Arms one fault and restarts the count. */
  arm(plan: FaultPlan): void {
    this.reset();
    this.plan = plan;
  }

  /** Counts from zero again with no fault armed. */
  reset(): void {
    this.count = 0;
    this.matched = 0;
    this.plan = undefined;
    this.firedCall = undefined;
    this.dead = false;
    this.log.length = 0;
  }

  setObserver(observer: CallObserver | undefined): void {
    this.observer = observer;
  }

  /** Closes the sessions a frozen crash left open (as the server's keepalive would, in time). */
  async thaw(): Promise<void> {
    for (const s of this.orphans.splice(0)) await s.close().catch(() => undefined);
  }

  /** The call the armed fault hit, once it has fired. */
  get fired(): ExternalCall | undefined {
    return this.firedCall;
  }

  get calls(): readonly ExternalCall[] {
    return [...this.log];
  }

  /**
   * The client with a middleware in front of the SDK's retry step, so an injected error is not retried
   * away (a real Lambda's SDK retries would only delay the same failure).
   */
  wrapClient(client: SecretsManagerClient): SecretsManagerClient {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const command = typeof context.commandName === 'string' ? context.commandName.replace(/Command$/, '') : 'Unknown';
        const call = await this.enter('secrets-manager', command);
        if (call.dead || (call.fails && this.plan?.timing === 'before')) throw this.sdkError(call.call);
        const out = await next(args);
        if (call.fails) throw this.sdkError(call.call);
        return out;
      },
      { step: 'initialize', name: 'faultInjection', override: true },
    );
    return client;
  }

  wrapConnector(connector: Connector): Connector {
    return async (request: ConnectRequest): Promise<SqlSession> => {
      const call = await this.enter('connect', request.role);
      if (call.dead || (call.fails && this.plan?.timing === 'before')) throw connectFault(call.call, request);
      const session = await connector(request);
      if (call.fails) {
        await session.close();
        throw connectFault(call.call, request);
      }
      return this.wrapSession(session, request);
    };
  }

  private wrapSession(session: SqlSession, request: ConnectRequest): SqlSession {
    let dropped = false;
    const lost = (call: ExternalCall): ToolkitError => {
      dropped = true;
      return queryFault(call, request);
    };
    return {
      ...(session.login !== undefined ? { login: session.login } : {}),
      query: async (sql: string, params?: readonly unknown[]): Promise<readonly Row[]> => {
        if (dropped) throw new NetworkError('The connection was lost earlier (injected)', { cause: { name: 'Error', code: 'ECONNRESET' } });
        const call = await this.enter('query', firstWord(sql));
        if (call.dead || (call.fails && this.plan?.timing === 'before')) {
          // A dropped connection: the server sees the client go and rolls back an open transaction.
          await this.closeUnlessFrozen(session);
          throw lost(call.call);
        }
        const rows = await session.query(sql, params);
        if (call.fails) {
          await this.closeUnlessFrozen(session);
          throw lost(call.call);
        }
        return rows;
      },
      close: () => this.closeUnlessFrozen(session),
    };
  }

  /** A frozen sandbox closes nothing: the session stays open on the server until `thaw()`. */
  private async closeUnlessFrozen(session: SqlSession): Promise<void> {
    if (this.dead && this.plan?.frozen === true) {
      if (!this.orphans.includes(session)) this.orphans.push(session);
      return;
    }
    await session.close();
  }

  private async enter(kind: ExternalCallKind, name: string): Promise<{ call: ExternalCall; fails: boolean; dead: boolean }> {
    this.count += 1;
    const call: ExternalCall = { index: this.count, kind, name };
    this.log.push(call);
    // After a crash nothing reaches a server, and nothing is observed: the process is gone.
    if (this.dead) return { call, fails: false, dead: true };
    const counts = this.plan !== undefined && (this.plan.when === undefined || this.plan.when(call));
    if (counts) this.matched += 1;
    const fails = counts && this.firedCall === undefined && this.plan?.at === this.matched;
    if (fails) this.firedCall = call;
    // Observed before the call: the state every other client sees between two calls of the rotation.
    if (this.observer !== undefined) await this.observer(call, fails);
    // A crash takes effect after this call: the caller runs it, then raises the fault.
    if (fails && this.plan?.timing === 'crash') this.dead = true;
    return { call, fails, dead: false };
  }

  private sdkError(call: ExternalCall): Error {
    const name = this.plan?.sdkError ?? SDK_FAULTS[call.index % SDK_FAULTS.length]!;
    const status = SDK_STATUS[name];
    return Object.assign(new Error(`Injected ${name} on call ${call.index} (${call.name})`), {
      name,
      $fault: status !== undefined && status >= 500 ? 'server' : 'client',
      $metadata: status !== undefined ? { httpStatusCode: status } : {},
    });
  }
}

function connectFault(call: ExternalCall, request: ConnectRequest): ToolkitError {
  const context = { secretId: request.secretId, step: request.step };
  // Alternate between the two ways a login fails to happen: no answer, and no server.
  return call.index % 2 === 0
    ? new TimeoutError(`Login with the ${request.role} secret timed out (injected at call ${call.index})`, {
        ...context,
        cause: { name: 'Error', code: 'ETIMEDOUT' },
      })
    : new NetworkError(`Login with the ${request.role} secret could not reach the server (injected at call ${call.index})`, {
        ...context,
        cause: { name: 'Error', code: 'ECONNREFUSED' },
      });
}

function queryFault(call: ExternalCall, request: ConnectRequest): ToolkitError {
  const context = { secretId: request.secretId, step: request.step };
  return call.index % 2 === 0
    ? new TimeoutError(`A statement as the ${request.role} user timed out (injected at call ${call.index})`, {
        ...context,
        cause: { name: 'Error', code: 'ETIMEDOUT' },
      })
    : new NetworkError(`The connection of the ${request.role} user was lost (injected at call ${call.index})`, {
        ...context,
        cause: { name: 'Error', code: 'ECONNRESET' },
      });
}

/** The statement's verb, enough to tell calls apart in a report without quoting the statement. */
function firstWord(sql: string): string {
  return /^\s*([A-Za-z]+)/.exec(sql)?.[1]?.toUpperCase() ?? 'STATEMENT';
}

/**
 * Jest's time for each test of a fault sweep file, in ms: a hang guard, not a timing assertion. A sweep runs a
 * rotation, a fault and a recovery at every call of the path (dozens of rotations with the master's
 * diagnosis and put-backs), and took up to 54 s on two cores shared with other test files, against
 * Jest's 60 s default.
 */
export const SWEEP_TEST_TIMEOUT_MS = 240_000;
