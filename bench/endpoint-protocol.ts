/** The IPC messages between the benchmark and its endpoint process (endpoint-process.ts). */
import type { RotationEvent } from '../emulator';

/** Requests of one operation: how many, and their time in the endpoint (injected latency included). */
export interface RequestTally {
  readonly count: number;
  readonly ms: number;
}

/** The requests that arrived while one rotation step ran, by operation. */
export interface StepRequests {
  readonly step: string;
  readonly requests: Readonly<Record<string, RequestTally>>;
}

export type ParentMessage =
  | { readonly type: 'register'; readonly id: number; readonly arn: string }
  | { readonly type: 'invoke-result'; readonly callId: number; readonly error?: { readonly name: string; readonly message: string } }
  | { readonly type: 'take-steps'; readonly id: number }
  | { readonly type: 'totals'; readonly id: number }
  | { readonly type: 'close'; readonly id: number };

export type ChildMessage =
  | { readonly type: 'ready'; readonly endpoint: string; readonly region: string; readonly accountId: string }
  | { readonly type: 'invoke'; readonly callId: number; readonly arn: string; readonly event: RotationEvent }
  | {
      readonly type: 'reply';
      readonly id: number;
      readonly steps?: readonly StepRequests[];
      readonly totals?: Readonly<Record<string, RequestTally>>;
    };
