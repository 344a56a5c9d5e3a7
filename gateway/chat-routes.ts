import express, { type Request, type Response } from 'express';
import { ChatError } from '../actors/errors';
import type { ChatRuntime } from '../actors/runtime-types';
import type { NlwebChatConfig } from '../config/config-types';
import type { AuthenticatedUser, Authenticator } from './authenticators';
import { createConversationHandlers } from './conversation-routes';
import { refuseAiCallers } from './human-caller';
import type { BodyValidators } from './http-request-input';
import { refuseNonJsonBodies } from './json-body-guard';
import { createMembershipHandlers } from './membership-routes';
import { createMessageHandlers } from './message-routes';
import type { GatewayLogger, GatewayTelemetry } from './observability-hooks';
import type { RateLimiter } from './rate-limiter';

/** An async express handler; express 5 forwards its rejections to the error handler. */
export type RouteHandler = (req: Request, res: Response) => Promise<void>;

/** What the /chat handlers share. */
export interface ChatRouteDeps {
  readonly runtime: ChatRuntime;
  readonly config: NlwebChatConfig;
  readonly authenticate: Authenticator;
  readonly rateLimiter: RateLimiter;
  /** Per-user budget for creating conversations (chat.limits.conversations_per_minute). */
  readonly creationLimiter: RateLimiter;
  readonly logger: GatewayLogger;
  readonly telemetry: GatewayTelemetry;
  readonly bodies: BodyValidators;
}

/**
 * The authenticated /chat router: authentication, JSON body parsing, then the route table
 * (docs/http-api.md), including NLWeb's own paths for the same handlers.
 */
export function createChatRoutes(deps: ChatRouteDeps): express.Router {
  const bodyLimit = Math.max(16 * 1024, deps.config.server.websocket.max_frame_bytes);
  const chat = express.Router();
  // Authenticate before reading any body: unauthenticated callers never cost a JSON parse.
  chat.use(async (req, res, next) => {
    let user: AuthenticatedUser | undefined;
    try {
      user = await deps.authenticate(req);
    } catch (err) {
      deps.logger.warn({ err: (err as Error).message }, 'authenticator failed');
    }
    if (!user) throw new ChatError('GATEWAY_ERR_UNAUTHENTICATED');
    res.locals.user = user;
    next();
  });
  chat.use(express.json({ limit: bodyLimit }));
  chat.use(refuseNonJsonBodies);

  const conversations = createConversationHandlers(deps);
  const messages = createMessageHandlers(deps);
  const membership = createMembershipHandlers(deps);
  // Before every route naming a conversation: the caller may not act as one of its AI participants.
  chat.param('id', refuseAiCallers(deps.runtime));

  chat.post('/conversations', conversations.create);
  chat.get('/conversations', conversations.list);
  chat.get('/conversations/:id', conversations.get);
  chat.get('/conversations/:id/messages', messages.history);
  chat.post('/conversations/:id/messages', messages.post);
  chat.post('/conversations/:id/join', membership.join);
  chat.post('/conversations/:id/leave', membership.leave);
  chat.delete('/conversations/:id/participants/me', membership.leave);
  chat.post('/conversations/:id/redact', messages.redact);
  // NLWeb's own paths, same handlers.
  chat.post('/create', conversations.create);
  chat.get('/my-conversations', conversations.list);
  chat.post('/:id/join', membership.join);
  chat.delete('/:id/leave', membership.leave);
  return chat;
}
