import { ChatError } from '../actors/errors';

/**
 * Refuses a connection URL of another scheme than the provider's with STORAGE_ERR_INVALID_ARGUMENT, when the store is
 * made. pg reads host, port and database out of any URL and ignores its scheme, so `postgress://` or `http://` connected
 * as if it were right; ioredis took such a URL for a socket path (`connect ENOENT //host:6379/`). The config refuses the
 * same for chat.storage.*.url; this is for a store an embedder makes itself. Only the scheme is quoted back: the rest of
 * the URL may hold a password.
 */
export function assertUrlScheme(url: unknown, schemes: readonly string[]): void {
  const wanted = schemes.map((s) => `${s}://`).join(' or ');
  if (typeof url !== 'string') throw new ChatError('STORAGE_ERR_INVALID_ARGUMENT', `url must be a string starting with ${wanted}`);
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1];
  if (scheme !== undefined && schemes.includes(scheme.toLowerCase())) return;
  const found = scheme === undefined ? 'it has no scheme' : `not ${scheme}://`;
  throw new ChatError('STORAGE_ERR_INVALID_ARGUMENT', `url must start with ${wanted} (${found})`);
}
