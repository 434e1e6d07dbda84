/**
 * The embedded Secrets Manager endpoint in a process of its own, for the benchmarks: the handlers run in
 * the benchmark process and reach it over loopback with their default (signed) client, so the CPU the
 * benchmark reads around a handler invocation is the handler's and its drivers', not the endpoint's.
 *
 * Requests are counted on the endpoint side (its `onRequest` hook), per operation. A rotation function
 * registered here forwards each step's event to the parent over IPC and waits for its answer; the
 * requests that arrive while a step runs are recorded as that step's (exact for sequential rotations;
 * concurrent ones read only the totals).
 *
 * Run by `startEndpointProcess` (endpoint-client.ts); this file is the child's entry.
 */
import { startLocalSecretsManager, type EndpointRequestRecord, type RotationEvent } from '../emulator';
import { summarizeCause } from '../shared/errors';
import type { ChildMessage, ParentMessage, RequestTally, StepRequests } from './endpoint-protocol';

function send(message: ChildMessage): void {
  process.send!(message);
}

async function main(): Promise<void> {
  const latencyMs = Number(process.env.BENCH_ENDPOINT_LATENCY_MS ?? '0');
  const totals = new Map<string, RequestTally>();
  const record = (r: EndpointRequestRecord): void => {
    const t = totals.get(r.action) ?? { count: 0, ms: 0 };
    totals.set(r.action, { count: t.count + 1, ms: t.ms + r.durationMs });
  };
  const local = await startLocalSecretsManager({
    port: 0,
    surfaceRotationErrors: true,
    log: () => undefined,
    requestLatencyMs: latencyMs,
    onRequest: record,
  });
  const pending = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  let steps: StepRequests[] = [];
  let nextCall = 0;

  const snapshot = (): Map<string, RequestTally> => new Map([...totals].map(([k, v]) => [k, { ...v }]));
  const since = (before: ReadonlyMap<string, RequestTally>): Record<string, RequestTally> => {
    const out: Record<string, RequestTally> = {};
    for (const [action, t] of totals) {
      const b = before.get(action) ?? { count: 0, ms: 0 };
      if (t.count > b.count) out[action] = { count: t.count - b.count, ms: t.ms - b.ms };
    }
    return out;
  };

  const forwarder =
    (arn: string) =>
    async (event: RotationEvent): Promise<undefined> => {
      const callId = nextCall++;
      const before = snapshot();
      try {
        await new Promise<void>((resolve, reject) => {
          pending.set(callId, { resolve, reject });
          send({ type: 'invoke', callId, arn, event });
        });
      } finally {
        steps.push({ step: event.Step, requests: since(before) });
      }
      return undefined;
    };

  process.on('message', (message: ParentMessage) => {
    switch (message.type) {
      case 'register':
        local.registerRotationFunction(message.arn, forwarder(message.arn));
        send({ type: 'reply', id: message.id });
        break;
      case 'invoke-result': {
        const waiter = pending.get(message.callId);
        pending.delete(message.callId);
        if (message.error === undefined) waiter?.resolve();
        else waiter?.reject(Object.assign(new Error(message.error.message), { name: message.error.name }));
        break;
      }
      case 'take-steps':
        send({ type: 'reply', id: message.id, steps });
        steps = [];
        break;
      case 'totals':
        send({ type: 'reply', id: message.id, totals: Object.fromEntries(totals) });
        break;
      case 'close':
        void local.close().finally(() => {
          send({ type: 'reply', id: message.id });
          process.disconnect();
        });
        break;
    }
  });
  send({ type: 'ready', endpoint: local.endpoint, region: local.region, accountId: local.accountId });
}

main().catch((err: unknown) => {
  const { name, code } = summarizeCause(err);
  process.stderr.write(`[bench endpoint] failed to start: ${name}${code !== undefined ? ` (${code})` : ''}\n`);
  process.exit(1);
});
