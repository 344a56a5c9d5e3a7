import { ChatError } from '../actors/errors';
import { urlSchemeProblem } from '../config/storage-url-checks';

/**
 * Refuses a connection URL of another scheme than the provider's with STORAGE_ERR_INVALID_ARGUMENT, when the store is
 * made: the config's rule (config/storage-url-checks.ts, which says why) for a store an embedder makes itself.
 */
export function assertUrlScheme(url: unknown, schemes: readonly string[]): void {
  if (typeof url !== 'string') {
    throw new ChatError('STORAGE_ERR_INVALID_ARGUMENT', `url must be a string starting with ${schemes.map((s) => `${s}://`).join(' or ')}`);
  }
  const problem = urlSchemeProblem(url, schemes);
  if (problem !== undefined) throw new ChatError('STORAGE_ERR_INVALID_ARGUMENT', `url ${problem}`);
}
