import type { RequestHandler } from 'express';
import { ChatError } from '../actors/errors';
import { cutText } from './text-cut';

/** Query parameters the built-in authenticators read on any /chat URL (authenticators.ts). */
const BUILT_IN_AUTH_NAMES = ['token', 'user_id', 'display_name'];

/**
 * Which query parameter names a /chat URL may carry: its own, the built-in authenticators' and the ones an
 * embedder's authenticate function reads (`server.auth.query_parameters`). Anything else is refused with
 * GATEWAY_ERR_BAD_REQUEST naming it: a misspelt `?afer=5` used to return the first page and a misspelt resume
 * point on the socket URL opened a connection without its history, both silently.
 */
export class QueryNames {
  private readonly authNames: ReadonlySet<string>;

  constructor(embedderAuthNames: readonly string[]) {
    this.authNames = new Set([...BUILT_IN_AUTH_NAMES, ...embedderAuthNames]);
  }

  /**
   * The refusal for the first unknown name in `url`'s query, or for one of the path's own names given twice
   * (`history=5&history=9999` took the first silently: which one the caller meant is unknowable); undefined
   * when every name is known and the path's own appear once.
   */
  problem(url: string, own: readonly string[]): string | undefined {
    const q = url.indexOf('?');
    if (q < 0) return undefined;
    const seen = new Set<string>();
    for (const name of new URLSearchParams(url.slice(q + 1)).keys()) {
      if (own.includes(name)) {
        if (seen.has(name)) return `${name} is given more than once`;
        seen.add(name);
        continue;
      }
      if (this.authNames.has(name)) continue;
      const takes = own.length > 0 ? `this path takes ${own.join(', ')}` : 'this path takes none';
      // Cut: a huge name is not reflected back in full.
      return `unknown query parameter "${cutText(name, 64)}" (${takes})`;
    }
    return undefined;
  }

  /**
   * The refusal for a built-in authentication name (`token`, `user_id`, `display_name`) given more than once in
   * `url`'s query, on every /chat URL and the socket URL, NLWeb's paths included. The authenticators read the first
   * (URLSearchParams.get), so `?user_id=alice&user_id=bob` acted as alice silently: which identity was meant is
   * unknowable. Checked before authentication reads the value. Names only an embedder declares
   * (`server.auth.query_parameters`) are its authenticator's to judge.
   */
  repeatedAuthName(url: string): string | undefined {
    const q = url.indexOf('?');
    if (q < 0) return undefined;
    const seen = new Set<string>();
    for (const name of new URLSearchParams(url.slice(q + 1)).keys()) {
      if (!BUILT_IN_AUTH_NAMES.includes(name)) continue;
      if (seen.has(name)) return `${name} is given more than once`;
      seen.add(name);
    }
    return undefined;
  }

  /** An express handler refusing unknown names before the route's own handler runs. */
  guard(own: readonly string[]): RequestHandler {
    return (req, _res, next) => {
      const problem = this.problem(req.originalUrl, own);
      next(problem === undefined ? undefined : new ChatError('GATEWAY_ERR_BAD_REQUEST', problem));
    };
  }
}
