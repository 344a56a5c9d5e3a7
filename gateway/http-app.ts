import express from 'express';
import { ChatError } from '../actors/errors';
import { createChatRoutes, type ChatRouteDeps } from './chat-routes';
import { createHealthRoutes } from './health-routes';
import { createErrorHandler } from './http-error-handler';
import { createBodyValidators } from './http-request-input';
import { isSecureRequest } from './net-utils';
import { countOwnershipRefusals, createOwnerHttpForwarding } from './owner-http-forwarding';
import { createCrossOriginGuard } from './cross-origin';
import type { OriginPolicy } from './origin-policy';

/** How long a conversation's server may take to answer a forwarded request (`chat.ownership.forward`). */
const FORWARD_TIMEOUT_MS = 30_000;

/** What the HTTP API needs from its gateway. */
export interface HttpAppDeps extends Omit<ChatRouteDeps, 'bodies'> {
  readonly trustForwardedProto: boolean;
  /** Which browser pages may call /chat (server.allowed_origins; cross-origin.ts). */
  readonly originPolicy: OriginPolicy;
  /** Whether forwarded requests tell the holder the client's address (owner-http-forwarding.ts; not in dev mode). */
  readonly forwardClientAddress: boolean;
  /** Open WebSocket connections of this gateway (for /health/chat). */
  connectionCount(): number;
  /** WebSocket connections this gateway pipes to their conversations' holders (for /health/chat). */
  forwardedConnectionCount(): number;
  isClosing(): boolean;
  /** The gateway's clock (ms). */
  now(): number;
}

/**
 * The HTTP API (docs/http-api.md): /chat/* (authenticated, chat-routes.ts), the NLWeb aliases,
 * /health/chat, /livez, /readyz (health-routes.ts). Pages of other sites reach /chat only from an allowed origin,
 * with CORS (cross-origin.ts). Every error is `{error, code, message}` with the
 * status of its code in actors/errors.ts (http-error-handler.ts). A known /chat path with a method it does not
 * take gets a JSON 405 with Allow (method-guard.ts), unknown routes under /chat a JSON 404; other paths fall
 * through to the embedding app.
 */
export function createHttpApp(deps: HttpAppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');

  if (deps.config.server.tls.require_tls) {
    app.use((req, _res, next) => {
      next(isSecureRequest(req, deps.trustForwardedProto) ? undefined : new ChatError('GATEWAY_ERR_TLS_REQUIRED'));
    });
  }

  app.use(createHealthRoutes(deps));
  app.use('/chat', createCrossOriginGuard(deps.originPolicy));
  app.use('/chat', createChatRoutes({ ...deps, bodies: createBodyValidators() }));
  app.use('/chat', (_req, _res, next) => next(new ChatError('GATEWAY_ERR_NOT_FOUND')));
  const ownership = deps.config.chat.ownership;
  if (ownership.forward) {
    // A conversation held by another server: its answer instead of our 421 (owner-http-forwarding.ts).
    app.use(
      createOwnerHttpForwarding({
        selfName: ownership.address || 'unnamed',
        timeoutMs: FORWARD_TIMEOUT_MS,
        forwardClientAddress: deps.forwardClientAddress,
        logger: deps.logger,
        telemetry: deps.telemetry,
        now: deps.now,
      }),
    );
  }
  app.use(countOwnershipRefusals(deps.telemetry));
  app.use(createErrorHandler(deps.logger));
  return app;
}
