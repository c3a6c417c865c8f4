// Reading every page of a paginated AWS call, whatever the name of its page token.

/**
 * Reads every page of a paginated call. `next` reads the next page's token from a page (undefined or
 * empty on the last page); by default the `NextToken` most AWS APIs use (EC2 Describe*, SSM, Secrets
 * Manager, ...); the readers below, or `(p) => p.nextToken` and the like, for other spellings.
 */
export async function allPages<T, R extends { NextToken?: string }>(
  call: (token: string | undefined) => Promise<R>,
  items: (page: R) => readonly T[] | undefined,
): Promise<T[]>;
export async function allPages<T, R>(
  call: (token: string | undefined) => Promise<R>,
  items: (page: R) => readonly T[] | undefined,
  next: (page: R) => string | undefined,
): Promise<T[]>;
export async function allPages<T, R>(
  call: (token: string | undefined) => Promise<R>,
  items: (page: R) => readonly T[] | undefined,
  next: (page: R) => string | undefined = (page) => (page as { NextToken?: string }).NextToken,
): Promise<T[]> {
  const out: T[] = [];
  let token: string | undefined;
  do {
    const page = await call(token);
    out.push(...(items(page) ?? []));
    token = next(page) || undefined;
  } while (token);
  return out;
}

/** The next page's token of calls that page with Marker (RDS, ElastiCache). */
export const byMarker = (page: { Marker?: string }): string | undefined => page.Marker;

/** The next page's token of calls that answer with NextMarker (ELBv2). */
export const byNextMarker = (page: { NextMarker?: string }): string | undefined => page.NextMarker;

/** The next page's token of IAM's List calls: a Marker that counts only while IsTruncated. */
export const byTruncatedMarker = (page: { IsTruncated?: boolean; Marker?: string }): string | undefined =>
  page.IsTruncated ? page.Marker : undefined;
