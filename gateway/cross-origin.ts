import type { RequestHandler } from 'express';
import { ChatError } from '../actors/errors';
import type { OriginPolicy } from './origin-policy';

/** What a page of an allowed origin may send: the API's methods and the two headers it reads. */
const ALLOW_METHODS = 'GET, POST, DELETE';
const ALLOW_HEADERS = 'Authorization, Content-Type';
/** What such a page may read of an answer beyond the simple headers (a new conversation's URL, when to retry). */
const EXPOSE_HEADERS = 'Location, Retry-After';
/** How long a browser may keep a preflight answer, s. */
const PREFLIGHT_MAX_AGE_S = '600';

/**
 * The HTTP API's side of the origin policy (origin-policy.ts), mounted on /chat ahead of every route: a request
 * from a page of a refused origin is answered 403 GATEWAY_ERR_ORIGIN_NOT_ALLOWED before anything runs (so a
 * cookie-trusting authenticator never sees another site's form post), one from an allowed origin gets CORS
 * headers, and its preflight (OPTIONS with Access-Control-Request-Method) a 204. Same-origin and non-browser
 * requests pass untouched. Paths outside /chat belong to the embedding app and are left alone.
 */
export function createCrossOriginGuard(policy: OriginPolicy): RequestHandler {
  return (req, res, next) => {
    const verdict = policy.judge(req);
    if (verdict === 'none' || verdict === 'same') return next();
    res.append('Vary', 'Origin');
    if (verdict === 'refused') {
      return next(new ChatError('GATEWAY_ERR_ORIGIN_NOT_ALLOWED', `origin ${req.headers.origin} is not in server.allowed_origins`));
    }
    res.setHeader('Access-Control-Allow-Origin', req.headers.origin!);
    res.setHeader('Access-Control-Expose-Headers', EXPOSE_HEADERS);
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
      res.setHeader('Access-Control-Allow-Methods', ALLOW_METHODS);
      res.setHeader('Access-Control-Allow-Headers', ALLOW_HEADERS);
      res.setHeader('Access-Control-Max-Age', PREFLIGHT_MAX_AGE_S);
      res.status(204).end();
      return;
    }
    next();
  };
}
