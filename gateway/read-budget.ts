import type { RequestHandler } from 'express';
import type { GatewayTelemetry } from './observability-hooks';
import { spendOrRefuse, type RateLimiter } from './rate-limiter';
import { userOf } from './http-request-input';

/**
 * The per-user budget of the /chat read routes (GET, and HEAD which express answers with them):
 * `chat.limits.reads_per_second` / `reads_burst`. A history page may read storage and a conversation
 * summary may start its actor, so without a budget one user could keep the store busy for everybody
 * while posts and WebSocket syncs were limited. Mounted after authentication: the bucket is the
 * caller's, over every conversation (the list routes name none).
 */
export function createReadBudget(limiter: RateLimiter, telemetry: GatewayTelemetry): RequestHandler {
  return (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    spendRead(limiter, userOf(res).userId, telemetry);
    next();
  };
}

/**
 * Spends one of the user's reads, or throws 429 GATEWAY_ERR_RATE_LIMITED (counted in telemetry): the GET routes, and
 * a POST that reads as much (read-routes.ts), refuse alike.
 */
export function spendRead(limiter: RateLimiter, userId: string, telemetry: GatewayTelemetry): void {
  spendOrRefuse(limiter, userId, telemetry, 'too many reads; retry later (chat.limits.reads_per_second)');
}
