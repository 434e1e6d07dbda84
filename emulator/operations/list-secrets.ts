/** ListSecrets: filtering, ordering and pagination over the secrets of this endpoint. */
import type { EndpointContext, OperationTable } from '../context';
import { optBoolean, optInteger, optString, type JsonObject } from '../input';
import { page } from '../pagination';
import type { SecretRecord } from '../store';
import { compact, secretListEntryShape } from '../wire-shapes';
import { validation } from '../wire-errors';
import { matchesFilters, readFilters } from './secret-filters';

const SORT_KEYS = ['created-date', 'last-accessed-date', 'last-changed-date', 'name'] as const;
type SortKey = (typeof SORT_KEYS)[number];

function sortValue(secret: SecretRecord, key: SortKey): number | string {
  switch (key) {
    case 'created-date':
      return secret.createdDate.getTime();
    case 'last-accessed-date':
      return secret.lastAccessedDate?.getTime() ?? 0;
    case 'last-changed-date':
      return secret.lastChangedDate.getTime();
    case 'name':
      return secret.name;
  }
}

function listSecrets(ctx: EndpointContext, input: JsonObject): JsonObject {
  const includeDeleted = optBoolean(input, 'IncludePlannedDeletion') ?? false;
  const maxResults = optInteger(input, 'MaxResults', { min: 1, max: 100 }) ?? 100;
  const nextToken = optString(input, 'NextToken', { min: 1, max: 4096 });
  const sortOrder = optString(input, 'SortOrder') ?? 'asc';
  const sortBy = optString(input, 'SortBy') ?? 'created-date';
  if (sortOrder !== 'asc' && sortOrder !== 'desc') {
    throw validation('sortOrder', 'Member must satisfy enum value set: [asc, desc]');
  }
  if (!(SORT_KEYS as readonly string[]).includes(sortBy)) {
    throw validation('sortBy', `Member must satisfy enum value set: [${SORT_KEYS.join(', ')}]`);
  }
  const filters = readFilters(input);
  const key = sortBy as SortKey;
  const direction = sortOrder === 'asc' ? 1 : -1;
  const secrets = ctx.store
    .all()
    .filter((secret) => (includeDeleted || secret.deletedDate === undefined) && matchesFilters(secret, filters))
    .sort((a, b) => {
      const x = sortValue(a, key);
      const y = sortValue(b, key);
      return (x < y ? -1 : x > y ? 1 : a.arn < b.arn ? -1 : 1) * direction;
    });
  const slice = page(secrets, maxResults, nextToken, `ListSecrets:${JSON.stringify([filters, key, sortOrder, includeDeleted])}`);
  return compact({ SecretList: slice.items.map(secretListEntryShape), NextToken: slice.nextToken });
}

export function listSecretsOperations(ctx: EndpointContext): OperationTable {
  return { ListSecrets: (input) => listSecrets(ctx, input) };
}
