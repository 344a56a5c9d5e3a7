import type express from 'express';
import { ChatError } from '../actors/errors';

/**
 * Refuses a request that carries a body which is not JSON. express.json() leaves such a body unread, so
 * without this a handler would see no body and answer about a missing field instead of the real mistake.
 * Bodiless requests (no Content-Length, or 0, and no Transfer-Encoding) pass whatever their headers say.
 */
export function refuseNonJsonBodies(req: express.Request, _res: express.Response, next: express.NextFunction): void {
  const length = req.headers['content-length'];
  const hasBody = req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
  if (!hasBody || req.is('application/json')) return next();
  const type = req.headers['content-type'];
  next(
    new ChatError(
      'GATEWAY_ERR_UNSUPPORTED_MEDIA_TYPE',
      `request body must be application/json, got ${type === undefined ? 'no Content-Type' : type.split(';')[0].trim()}`,
    ),
  );
}
