import express, { type Request, type Response } from 'express';
import { ChatError } from '../actors/errors';
import type { ChatRuntime } from '../actors/runtime-types';
import { createAgentsHandler } from './agent-routes';
import type { NlwebChatConfig } from '../config/config-types';
import { authenticateCaller, type Authenticator } from './authenticators';
import { createConversationHandlers } from './conversation-routes';
import { refuseAiCallers } from './human-caller';
import type { BodyValidators } from './http-request-input';
import { refuseNonJsonBodies } from './json-body-guard';
import { createMembershipHandlers } from './membership-routes';
import { createMessageHandlers } from './message-routes';
import { createMethodGuard, type RouteMethod, type RouteShape } from './method-guard';
import type { GatewayLogger, GatewayTelemetry } from './observability-hooks';
import { QueryNames } from './query-names';
import { createReadBudget } from './read-budget';
import { createReadHandler } from './read-routes';
import type { RateLimiter } from './rate-limiter';
import { EVENT_STREAM_QUERY } from './sse-route';

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
  /** Per-user budget for the GET routes (chat.limits.reads_per_second; read-budget.ts). */
  readonly readLimiter: RateLimiter;
  /** Per-user budget for joining and leaving (chat.limits.membership_changes_per_second; membership-routes.ts). */
  readonly membershipLimiter: RateLimiter;
  readonly logger: GatewayLogger;
  readonly telemetry: GatewayTelemetry;
  readonly bodies: BodyValidators;
  /** GET /conversations/{id}/events, the Server-Sent Events fallback (sse-route.ts); the gateway supplies it. */
  readonly eventStream?: RouteHandler;
}

/**
 * The authenticated /chat router: authentication, JSON body parsing, then the route table
 * (docs/http-api.md), including NLWeb's own paths for the same handlers.
 */
export function createChatRoutes(deps: ChatRouteDeps): express.Router {
  const bodyLimit = Math.max(16 * 1024, deps.config.server.websocket.max_frame_bytes);
  const chat = express.Router();
  const queryNames = new QueryNames(deps.config.server.auth.query_parameters);
  // Authenticate before reading any body: unauthenticated callers never cost a JSON parse.
  chat.use(async (req, res, next) => {
    // Before authentication reads it: a repeated token or user_id would otherwise act as the first one.
    const repeated = queryNames.repeatedAuthName(req.originalUrl);
    if (repeated !== undefined) throw new ChatError('GATEWAY_ERR_BAD_REQUEST', repeated);
    const user = await authenticateCaller(deps.authenticate, req, deps.logger);
    if (user instanceof ChatError) throw user;
    res.locals.user = user;
    next();
  });
  chat.use(createReadBudget(deps.readLimiter, deps.telemetry));
  const routes = routeTable(deps);
  // A known path with a wrong method: 405 with Allow, before its body is read.
  chat.use(createMethodGuard(routes));
  chat.use(express.json({ limit: bodyLimit }));
  chat.use(refuseNonJsonBodies);

  // Before every route naming a conversation: the caller may not act as one of its AI participants.
  chat.param('id', refuseAiCallers(deps.runtime));
  for (const { method, path, handler, query } of routes) {
    if (query === undefined) chat[method](path, handler);
    else chat[method](path, queryNames.guard(query), handler);
  }
  return chat;
}

/** One route of the /chat table. */
interface ChatRoute extends RouteShape {
  readonly handler: RouteHandler;
  /**
   * The query parameters the route reads; any other (besides authentication's) is refused (query-names.ts).
   * Undefined for NLWeb's own paths: NLWeb's clients may send parameters of their own, and its server ignores them.
   */
  readonly query?: readonly string[];
}

/** The /chat route table (docs/http-api.md), in matching order: the routes and the method guard both read it. */
function routeTable(deps: ChatRouteDeps): ChatRoute[] {
  const conversations = createConversationHandlers(deps);
  const messages = createMessageHandlers(deps);
  const membership = createMembershipHandlers(deps);
  const route = (method: RouteMethod, path: string, handler: RouteHandler, query: readonly string[] = []): ChatRoute => ({
    method,
    path,
    handler,
    query,
  });
  const alias = (method: RouteMethod, path: string, handler: RouteHandler): ChatRoute => ({ method, path, handler });
  return [
    route('post', '/conversations', conversations.create),
    route('get', '/conversations', conversations.list, ['limit', 'cursor']),
    route('get', '/conversations/:id', conversations.get),
    route('get', '/conversations/:id/messages', messages.history, ['after', 'before', 'limit']),
    ...(deps.eventStream ? [route('get', '/conversations/:id/events', deps.eventStream, EVENT_STREAM_QUERY)] : []),
    route('post', '/conversations/:id/messages', messages.post),
    route('post', '/conversations/:id/join', membership.join),
    route('post', '/conversations/:id/leave', membership.leave),
    route('delete', '/conversations/:id/participants/me', membership.leave),
    route('post', '/conversations/:id/participants', membership.add),
    route('delete', '/conversations/:id/participants/:participant_id', membership.remove),
    route('post', '/conversations/:id/redact', messages.redact),
    route('post', '/conversations/:id/edit', messages.edit),
    route('post', '/conversations/:id/read', createReadHandler(deps)),
    // Not NLWeb's: its paths under /chat are /create, /my-conversations, /{id}/join, /{id}/leave and /ws/{id}.
    route('get', '/agents', createAgentsHandler(deps)),
    // NLWeb's own paths, same handlers.
    alias('post', '/create', conversations.create),
    alias('get', '/my-conversations', conversations.list),
    alias('post', '/:id/join', membership.join),
    alias('delete', '/:id/leave', membership.leave),
    // The WebSocket endpoint asked without an upgrade (a fetch, a browser tab): say what it takes, not "no such route".
    alias('get', '/ws/:id', websocketOnly),
  ];
}

/** GET /chat/ws/{id} as a plain request: the path exists, for WebSocket upgrades only (docs/protocol.md). */
async function websocketOnly(): Promise<void> {
  throw new ChatError(
    'GATEWAY_ERR_BAD_REQUEST',
    'this path takes WebSocket connections only: GET with Connection: Upgrade and Upgrade: websocket (docs/protocol.md)',
  );
}
