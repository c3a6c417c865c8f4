// Reading every page of a paginated AWS call that answers with a NextToken.

/** Reads every page of a paginated call (EC2 Describe*, SSM, Secrets Manager, ...). */
export async function allPages<T, R extends { NextToken?: string }>(
  call: (token: string | undefined) => Promise<R>,
  items: (page: R) => T[] | undefined,
): Promise<T[]> {
  const out: T[] = [];
  let token: string | undefined;
  do {
    const page = await call(token);
    out.push(...(items(page) ?? []));
    token = page.NextToken;
  } while (token);
  return out;
}
