/**
 * A storage URL as messages and log lines may show it: any password replaced by "***", the user part's and every
 * query parameter named like one (pg's `password`, ioredis's `password` and `sentinelPassword`). A URL that does not
 * parse is not shown at all: it might hold one. One function, so a new way of passing a password is hidden everywhere.
 */
export function urlWithoutPasswords(url: string, kind: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    for (const name of [...parsed.searchParams.keys()]) if (/password/i.test(name)) parsed.searchParams.set(name, '***');
    return parsed.toString();
  } catch {
    return `(${kind} URL not shown: it does not parse)`;
  }
}
