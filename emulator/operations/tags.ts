/** Tag input as TagResource and CreateSecret take it. */
import { optObjectList, reqString, optString, type JsonObject } from '../input';
import type { SecretRecord } from '../store';
import { invalidParameter } from '../wire-errors';

/** Secrets Manager's limit on tags per secret. */
export const MAX_TAGS = 50;

export function readTags(input: JsonObject, key = 'Tags'): Array<[string, string]> | undefined {
  const list = optObjectList(input, key);
  if (list === undefined) return undefined;
  return list.map((tag): [string, string] => [reqString(tag, 'Key', { min: 1, max: 128 }), optString(tag, 'Value', { max: 256 }) ?? '']);
}

export function applyTags(secret: SecretRecord, tags: ReadonlyArray<readonly [string, string]>): void {
  const merged = new Map(secret.tags);
  for (const [key, value] of tags) merged.set(key, value);
  if (merged.size > MAX_TAGS) throw invalidParameter(`A secret can have at most ${MAX_TAGS} tags.`);
  secret.tags.clear();
  for (const [key, value] of merged) secret.tags.set(key, value);
}
