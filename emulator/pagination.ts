/** Opaque NextToken pagination over an ordered list, as the List* operations page. */
import { WireError } from './wire-errors';

interface PageToken {
  readonly offset: number;
  readonly scope: string;
}

function encode(token: PageToken): string {
  return Buffer.from(JSON.stringify(token), 'utf8').toString('base64url');
}

function decode(raw: string, scope: string): number {
  try {
    const token = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Partial<PageToken>;
    if (token.scope === scope && Number.isInteger(token.offset) && (token.offset as number) >= 0) {
      return token.offset as number;
    }
  } catch {
    // falls through to the error below
  }
  throw new WireError('InvalidNextTokenException', 'The NextToken value is not valid.');
}

/** One page of `items`; `scope` ties a token to the listing that issued it. */
export function page<T>(
  items: readonly T[],
  maxResults: number,
  nextToken: string | undefined,
  scope: string,
): { items: T[]; nextToken?: string } {
  const offset = nextToken === undefined ? 0 : decode(nextToken, scope);
  const slice = items.slice(offset, offset + maxResults);
  const end = offset + slice.length;
  return end < items.length ? { items: slice, nextToken: encode({ offset: end, scope }) } : { items: slice };
}
