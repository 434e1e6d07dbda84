/**
 * ListSecrets/BatchGetSecretValue filters as the API reference defines them: name, tag-key, tag-value,
 * primary-region and owning-service are case-sensitive prefix matches; description and all match words,
 * not case-sensitive; a value starting with `!` negates. Values of one filter are ORed, filters ANDed.
 */
import { optObjectList, optStringList, reqString, type JsonObject } from '../input';
import type { SecretRecord } from '../store';
import { validation } from '../wire-errors';

export type FilterKey = 'description' | 'name' | 'tag-key' | 'tag-value' | 'primary-region' | 'owning-service' | 'all';

export interface SecretFilter {
  readonly key: FilterKey;
  readonly values: readonly string[];
}

const KEYS: readonly FilterKey[] = ['description', 'name', 'tag-key', 'tag-value', 'primary-region', 'owning-service', 'all'];

export function readFilters(input: JsonObject): SecretFilter[] {
  const raw = optObjectList(input, 'Filters', { max: 10 }) ?? [];
  return raw.map((filter) => {
    const key = reqString(filter, 'Key');
    if (!(KEYS as readonly string[]).includes(key)) {
      throw validation('filters.key', `Member must satisfy enum value set: [${KEYS.join(', ')}]`);
    }
    const values = optStringList(filter, 'Values', { min: 1, max: 10 }, { max: 512 }) ?? [];
    return { key: key as FilterKey, values };
  });
}

/** Words as the search splits them: runs of letters or digits, broken at case and letter/digit changes. */
function words(text: string): string[] {
  return (text.match(/[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+/g) ?? []).map((w) => w.toLowerCase());
}

function anyWordStartsWith(attributes: readonly string[], query: string): boolean {
  const wanted = words(query);
  if (wanted.length === 0) return false;
  const have = attributes.flatMap(words);
  return wanted.some((w) => have.some((h) => h.startsWith(w)));
}

function matchesValue(secret: SecretRecord, key: FilterKey, value: string): boolean {
  const tagKeys = [...secret.tags.keys()];
  const tagValues = [...secret.tags.values()];
  switch (key) {
    case 'name':
      return secret.name.startsWith(value);
    case 'tag-key':
      return tagKeys.some((k) => k.startsWith(value));
    case 'tag-value':
      return tagValues.some((v) => v.startsWith(value));
    case 'description':
      return anyWordStartsWith([secret.description ?? ''], value);
    case 'all':
      return anyWordStartsWith([secret.name, secret.description ?? '', ...tagKeys, ...tagValues], value);
    case 'primary-region':
    case 'owning-service':
      return false;
  }
}

function matchesFilter(secret: SecretRecord, filter: SecretFilter): boolean {
  const positive = filter.values.filter((v) => !v.startsWith('!'));
  const negative = filter.values.filter((v) => v.startsWith('!')).map((v) => v.slice(1));
  if (negative.some((v) => matchesValue(secret, filter.key, v))) return false;
  return positive.length === 0 || positive.some((v) => matchesValue(secret, filter.key, v));
}

export function matchesFilters(secret: SecretRecord, filters: readonly SecretFilter[]): boolean {
  return filters.every((filter) => matchesFilter(secret, filter));
}
