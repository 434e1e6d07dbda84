/**
 * The benchmark's side of the endpoint process (endpoint-process.ts): starts it, registers rotation
 * functions that run here, and reads the requests it counted.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import type { RotationFunction } from '../emulator';
import { ToolkitError, summarizeCause } from '../shared/errors';
import type { ChildMessage, ParentMessage, RequestTally, StepRequests } from './endpoint-protocol';

export type { RequestTally, StepRequests } from './endpoint-protocol';

export interface EndpointProcess {
  /** `http://127.0.0.1:<port>` of the endpoint in the child. */
  readonly endpoint: string;
  readonly region: string;
  readonly accountId: string;
  /** Makes `arn` invocable by RotateSecret; each step's event is run by `fn` in this process. */
  register(arn: string, fn: RotationFunction): Promise<void>;
  /** The requests of each step run since the last call, in order. */
  takeSteps(): Promise<readonly StepRequests[]>;
  /** Every request the endpoint answered since it started, by operation. */
  totals(): Promise<Readonly<Record<string, RequestTally>>>;
  close(): Promise<void>;
}

export interface EndpointProcessOptions {
  /** Injected per-request latency (the endpoint's `requestLatencyMs`). @default 0 */
  readonly latencyMs?: number;
}

const CHILD = path.join(__dirname, 'endpoint-process.ts');

/** What may cross back to the endpoint about a failed step: the class, and a toolkit error's message (never a value). */
function safeError(err: unknown): { name: string; message: string } {
  const { name, code } = summarizeCause(err);
  return { name, message: err instanceof ToolkitError ? err.message : `${name}${code !== undefined ? ` (${code})` : ''}` };
}

export async function startEndpointProcess(options: EndpointProcessOptions = {}): Promise<EndpointProcess> {
  // The benchmark runs under tsx: the child inherits its loader through execArgv.
  const child: ChildProcess = fork(CHILD, [], {
    execArgv: process.execArgv,
    env: { ...process.env, BENCH_ENDPOINT_LATENCY_MS: String(options.latencyMs ?? 0) },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const functions = new Map<string, RotationFunction>();
  const waiting = new Map<number, { resolve: (reply: Extract<ChildMessage, { type: 'reply' }>) => void; reject: (err: Error) => void }>();
  // A child that dies must fail what waits on it, so the benchmark's cleanup (dropping users) still runs.
  child.once('exit', (code) => {
    for (const w of waiting.values()) w.reject(new Error(`bench endpoint process exited with ${code}`));
    waiting.clear();
  });
  let nextId = 0;

  const ready = new Promise<Extract<ChildMessage, { type: 'ready' }>>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bench endpoint process exited with ${code}`)));
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'ready') resolve(message);
      else if (message.type === 'reply') {
        waiting.get(message.id)?.resolve(message);
        waiting.delete(message.id);
      } else if (message.type === 'invoke') {
        const fn = functions.get(message.arn);
        const answer = (error?: { name: string; message: string }): void => {
          const out: ParentMessage = { type: 'invoke-result', callId: message.callId, ...(error ? { error } : {}) };
          child.send(out);
        };
        if (fn === undefined) answer({ name: 'ConfigError', message: `no function registered for ${message.arn}` });
        else
          fn(message.event).then(
            () => answer(),
            (err: unknown) => answer(safeError(err)),
          );
      }
    });
  });
  const started = await ready;

  type Request = { type: 'register'; arn: string } | { type: 'take-steps' } | { type: 'totals' } | { type: 'close' };
  const ask = <T extends Extract<ChildMessage, { type: 'reply' }>>(message: Request): Promise<T> => {
    const id = nextId++;
    if (child.exitCode !== null) return Promise.reject(new Error(`bench endpoint process exited with ${child.exitCode}`));
    return new Promise<T>((resolve, reject) => {
      waiting.set(id, { resolve: resolve as (reply: Extract<ChildMessage, { type: 'reply' }>) => void, reject });
      child.send({ ...message, id } as ParentMessage);
    });
  };

  return {
    endpoint: started.endpoint,
    region: started.region,
    accountId: started.accountId,
    async register(arn, fn) {
      functions.set(arn, fn);
      await ask({ type: 'register', arn });
    },
    async takeSteps() {
      return (await ask({ type: 'take-steps' })).steps ?? [];
    },
    async totals() {
      return (await ask({ type: 'totals' })).totals ?? {};
    },
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      await ask({ type: 'close' });
      await exited;
    },
  };
}
