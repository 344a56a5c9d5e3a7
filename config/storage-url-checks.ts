import type { ConfigProblem } from './load-config';

/** The schemes each URL setting's client reads as what it is; keyed by backend. */
export const ACCEPTED_SCHEMES = {
  postgres: ['postgres', 'postgresql'],
  redis: ['redis', 'rediss'],
} as const;

/**
 * Why `url` is not a URL of one of `schemes` (`must start with postgres:// or postgresql:// (not postgress://)`), or
 * undefined when it is one. The one rule for the config (storageUrlSchemeProblems) and for a store an embedder makes
 * itself (storage-providers/url-scheme.ts). Only the scheme is quoted back: the rest of the URL may hold a password.
 */
export function urlSchemeProblem(url: string, schemes: readonly string[]): string | undefined {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1];
  if (scheme !== undefined && schemes.includes(scheme.toLowerCase())) return undefined;
  const found = scheme === undefined ? 'it has no scheme' : `not ${scheme}://`;
  return `must start with ${schemes.map((s) => `${s}://`).join(' or ')} (${found})`;
}

/**
 * The selected backend's URL must name its own scheme. pg reads host, port and database out of any URL and ignores the
 * scheme, so `postgress://…` or `http://…` connected as if it were right, and ioredis takes a URL of another scheme
 * for a socket path (`connect ENOENT //host:6379/`): a misspelt setting either went unnoticed or failed far from it.
 */
export function storageUrlSchemeProblems(storage: Record<string, unknown> | undefined, invalidPaths: ReadonlySet<string>): ConfigProblem[] {
  const backend = storage?.backend;
  if (backend !== 'postgres' && backend !== 'redis') return [];
  const path = `chat.storage.${backend}.url`;
  const section = storage?.[backend];
  const url = typeof section === 'object' && section !== null ? (section as Record<string, unknown>).url : undefined;
  if (typeof url !== 'string' || invalidPaths.has(path)) return [];
  const message = urlSchemeProblem(url, ACCEPTED_SCHEMES[backend]);
  return message === undefined ? [] : [{ path, message }];
}
