import express from 'express';
import { ChatError } from '../actors/errors';
import { createChatRoutes, type ChatRouteDeps } from './chat-routes';
import { createHealthRoutes } from './health-routes';
import { createErrorHandler } from './http-error-handler';
import { createBodyValidators } from './http-request-input';
import { isSecureRequest } from './net-utils';

/** What the HTTP API needs from its gateway. */
export interface HttpAppDeps extends Omit<ChatRouteDeps, 'bodies'> {
  readonly trustForwardedProto: boolean;
  /** Open WebSocket connections of this gateway (for /health/chat). */
  connectionCount(): number;
  isClosing(): boolean;
}

/**
 * The HTTP API (docs/http-api.md): /chat/* (authenticated, chat-routes.ts), the NLWeb aliases,
 * /health/chat, /livez, /readyz (health-routes.ts). Every error is `{error, code, message}` with the
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
  app.use('/chat', createChatRoutes({ ...deps, bodies: createBodyValidators() }));
  app.use('/chat', (_req, _res, next) => next(new ChatError('GATEWAY_ERR_NOT_FOUND')));
  app.use(createErrorHandler(deps.logger));
  return app;
}
