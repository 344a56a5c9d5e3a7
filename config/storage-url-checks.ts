import type { ConfigProblem } from './load-config';

/** The schemes each URL setting's client reads as what it is; keyed by backend. */
const ACCEPTED_SCHEMES = {
  postgres: ['postgres', 'postgresql'],
  redis: ['redis', 'rediss'],
} as const;

/**
 * The selected backend's URL must name its own scheme. pg reads host, port and database out of any URL and ignores the
 * scheme, so `postgress://…` or `http://…` connected as if it were right, and ioredis takes a URL of another scheme
 * for a socket path (`connect ENOENT //host:6379/`): a misspelt setting either went unnoticed or failed far from it.
 * Only the scheme is quoted back: the rest of the URL may hold a password.
 */
export function storageUrlSchemeProblems(storage: Record<string, unknown> | undefined, invalidPaths: ReadonlySet<string>): ConfigProblem[] {
  const backend = storage?.backend;
  if (backend !== 'postgres' && backend !== 'redis') return [];
  const path = `chat.storage.${backend}.url`;
  const section = storage?.[backend];
  const url = typeof section === 'object' && section !== null ? (section as Record<string, unknown>).url : undefined;
  if (typeof url !== 'string' || invalidPaths.has(path)) return [];
  const accepted = ACCEPTED_SCHEMES[backend];
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1];
  if (scheme !== undefined && (accepted as readonly string[]).includes(scheme.toLowerCase())) return [];
  const found = scheme === undefined ? 'it has no scheme' : `not ${scheme}://`;
  return [{ path, message: `must start with ${accepted.map((s) => `${s}://`).join(' or ')} (${found})` }];
}
