/** What every operation works against. */
import type { JsonObject } from './input';
import type { SecretStore } from './store';

export interface EndpointContext {
  readonly store: SecretStore;
  readonly now: () => Date;
}

/** One Secrets Manager action: the parsed JSON input in, the JSON output (or a thrown WireError) out. */
export type Operation = (input: JsonObject) => JsonObject | Promise<JsonObject>;

export type OperationTable = Readonly<Record<string, Operation>>;
