import express, { type Request } from 'express';
import { ChatError } from '../actors/errors';

/** The methods of the /chat route table (chat-routes.ts). */
export type RouteMethod = 'get' | 'post' | 'delete';

/** What the guard needs of one route: its method and its express path. */
export interface RouteShape {
  readonly method: RouteMethod;
  readonly path: string;
}

/**
 * Refuses a known path asked with a method none of its routes takes: 405 GATEWAY_ERR_METHOD_NOT_ALLOWED, with
 * `details.allow` for the `Allow` header (http-error-handler.ts). Built from the route table itself, so the two
 * cannot disagree. Express matches the paths, exactly as for the routes (case, trailing slash, %-decoding), and
 * every pattern a path matches counts (`/conversations/join` is `/conversations/:id` and the alias `/:id/join`).
 * Mounted before the body parser and as a router of its own: a wrong method is refused whatever its body, and
 * the chat router's `:id` param handler (which loads the conversation) does not run for it. Unknown paths and
 * OPTIONS (express answers it with the same Allow list) pass on untouched.
 */
export function createMethodGuard(routes: readonly RouteShape[]): express.Router {
  const methodsByPath = new Map<string, Set<string>>();
  for (const { method, path } of routes) {
    const methods = methodsByPath.get(path) ?? new Set<string>();
    methods.add(method.toUpperCase());
    // express answers HEAD with the GET route.
    if (method === 'get') methods.add('HEAD');
    methodsByPath.set(path, methods);
  }
  // Per request: the methods of the known paths it matched without a method they take.
  const allowedFor = new WeakMap<Request, Set<string>>();
  const guard = express.Router();
  for (const [path, methods] of methodsByPath) {
    guard.all(path, (req, _res, next) => {
      if (req.method === 'OPTIONS' || methods.has(req.method)) return next('router');
      const allowed = allowedFor.get(req) ?? new Set<string>();
      for (const m of methods) allowed.add(m);
      allowedFor.set(req, allowed);
      next();
    });
  }
  guard.use((req, _res, next) => {
    const allowed = allowedFor.get(req);
    if (allowed === undefined) return next();
    const allow = [...allowed].sort().join(', ');
    // The path is not echoed (as for a bad %-escape): the method and the list say enough.
    next(new ChatError('GATEWAY_ERR_METHOD_NOT_ALLOWED', `${req.method} is not allowed here; allowed: ${allow}`, { details: { allow } }));
  });
  return guard;
}
