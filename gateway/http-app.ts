import express, { type NextFunction, type Request, type Response } from 'express';
import Ajv, { type ValidateFunction } from 'ajv';
import { ChatError, ERROR_CODES, isChatError } from '../actors/errors';
import type { ChatRuntime, ConversationSummary, ParticipantInput } from '../actors/runtime-types';
import type { NlwebChatConfig } from '../config/config-types';
import type { AuthenticatedUser, Authenticator } from './authenticators';
import { contentProblem } from './content-validation';
import {
  CREATE_CONVERSATION_SCHEMA,
  POST_MESSAGE_SCHEMA,
  REDACT_SCHEMA,
  type CreateConversationBody,
  type PostMessageBody,
  type RedactBody,
} from './http-schemas';
import { isSecureRequest } from './net-utils';
import type { GatewayLogger, GatewayTelemetry } from './observability-hooks';
import { rateKeyOf, type RateLimiter } from './rate-limiter';

/** Largest page of GET .../messages. */
export const MAX_PAGE = 500;
const DEFAULT_PAGE = 100;

export interface HttpAppDeps {
  readonly runtime: ChatRuntime;
  readonly config: NlwebChatConfig;
  readonly authenticate: Authenticator;
  readonly rateLimiter: RateLimiter;
  readonly logger: GatewayLogger;
  readonly telemetry: GatewayTelemetry;
  readonly trustForwardedProto: boolean;
  /** Open WebSocket connections of this gateway (for /health/chat). */
  connectionCount(): number;
  isClosing(): boolean;
}

/**
 * The HTTP API (docs/http-api.md): /chat/* (authenticated), the NLWeb aliases, /health/chat, /livez,
 * /readyz. Every error is `{error, code, message}` with the status of its code in actors/errors.ts.
 * Unknown routes under /chat get a JSON 404; other paths fall through to the embedding app.
 */
export function createHttpApp(deps: HttpAppDeps): express.Express {
  const { runtime, config } = deps;
  // strictRequired off: anyOf/oneOf branches name properties declared by the parent schema.
  const ajv = new Ajv({ allErrors: false, strict: true, strictRequired: false });
  const validateCreate = ajv.compile<CreateConversationBody>(CREATE_CONVERSATION_SCHEMA);
  const validatePost = ajv.compile<PostMessageBody>(POST_MESSAGE_SCHEMA);
  const validateRedact = ajv.compile<RedactBody>(REDACT_SCHEMA);
  const bodyLimit = Math.max(16 * 1024, config.server.websocket.max_frame_bytes);

  const app = express();
  app.disable('x-powered-by');

  if (config.server.tls.require_tls) {
    app.use((req, _res, next) => {
      next(isSecureRequest(req, deps.trustForwardedProto) ? undefined : new ChatError('GATEWAY_ERR_TLS_REQUIRED'));
    });
  }

  app.get('/livez', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/readyz', async (_req, res) => {
    // Readiness asks the store now rather than trusting the last periodic probe.
    await runtime.checkStorage();
    const h = runtime.health();
    const ready = h.storage === 'connected' && !h.shutting_down && !deps.isClosing();
    res
      .status(ready ? 200 : 503)
      .json({ status: ready ? 'ready' : 'not_ready', storage: h.storage, shutting_down: h.shutting_down || deps.isClosing() });
  });

  app.get('/health/chat', (_req, res) => {
    const h = runtime.health();
    res.status(h.status === 'unhealthy' ? 503 : 200).json({
      status: h.status,
      reasons: h.reasons,
      connections: deps.connectionCount(),
      conversations: h.conversations,
      participants_by_conversation: h.participants_by_conversation,
      queue_depths: h.queue_depths,
      storage: h.storage,
      persistence_lag: h.persistence_lag,
      failed_conversations: h.failed_conversations,
      shutting_down: h.shutting_down,
    });
  });

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

  const create = async (req: Request, res: Response): Promise<void> => {
    const user = userOf(res);
    const body = validated(validateCreate, req.body ?? {});
    const participants: ParticipantInput[] = [
      { participant_id: user.userId, participant_type: 'human', display_name: user.displayName ?? user.userId, role: 'owner' },
    ];
    const seen = new Set([user.userId]);
    for (const p of body.participants ?? []) {
      const id = p.participant_id ?? p.user_id ?? '';
      if (seen.has(id)) continue;
      seen.add(id);
      const type = p.participant_type ?? 'human';
      const input: { -readonly [K in keyof ParticipantInput]: ParticipantInput[K] } = {
        participant_id: id,
        participant_type: type,
        role: 'member',
      };
      const name = p.display_name ?? p.name;
      if (name !== undefined) input.display_name = name;
      if (type === 'ai') input.agent_id = p.agent_id ?? id;
      participants.push(input);
    }
    for (const agentId of body.agents ?? []) {
      if (seen.has(agentId)) continue;
      seen.add(agentId);
      participants.push({ participant_id: agentId, participant_type: 'ai', agent_id: agentId, role: 'member' });
    }
    if (participants.length > config.chat.limits.max_participants) throw new ChatError('CHAT_ERR_PARTICIPANT_LIMIT');
    const autoJoin = body.auto_join_agents ?? body.enable_ai;
    const summary = await runtime.createConversation({
      created_by: user.userId,
      participants,
      ...(body.conversation_id === undefined ? {} : { conversation_id: body.conversation_id }),
      ...(body.title === undefined ? {} : { title: body.title }),
      ...(body.settings === undefined ? {} : { settings: body.settings }),
      ...(autoJoin === undefined ? {} : { autoJoinAgents: autoJoin }),
    });
    res
      .status(201)
      .location(`/chat/conversations/${encodeURIComponent(summary.conversation_id)}`)
      .json(summary);
  };

  const list = async (_req: Request, res: Response): Promise<void> => {
    res.json({ conversations: await runtime.listConversations(userOf(res).userId) });
  };

  const get = async (req: Request, res: Response): Promise<void> => {
    res.json(await memberView(runtime, idParam(req), userOf(res).userId));
  };

  const messages = async (req: Request, res: Response): Promise<void> => {
    const id = idParam(req);
    const after = intQuery(req, 'after', 0, 0, Number.MAX_SAFE_INTEGER);
    const limit = intQuery(req, 'limit', DEFAULT_PAGE, 1, MAX_PAGE);
    const page = await runtime.readMessages(id, after, limit, userOf(res).userId);
    const last = (await runtime.getConversation(id)).last_sequence_id;
    const nextAfter = page.length > 0 ? page[page.length - 1].sequence_id : after;
    res.json({ conversation_id: id, messages: page, next_after: nextAfter, has_more: nextAfter < last, last_sequence_id: last });
  };

  const post = async (req: Request, res: Response): Promise<void> => {
    const user = userOf(res);
    const id = idParam(req);
    const body = validated(validatePost, req.body ?? {});
    const problem = contentProblem(body.content, config.chat.limits.max_message_length);
    if (problem) throw new ChatError('GATEWAY_ERR_CONTENT_INVALID', problem);
    const decision = deps.rateLimiter.take(rateKeyOf(id, user.userId));
    if (!decision.ok) {
      deps.telemetry.rateLimited?.();
      throw new ChatError('GATEWAY_ERR_RATE_LIMITED', undefined, { retryAfterMs: decision.retryAfterMs });
    }
    const result = await runtime.post(id, {
      sender_id: user.userId,
      message_id: body.message_id,
      content: body.content,
      ...(body.metadata === undefined ? {} : { metadata: body.metadata }),
    });
    res
      .status(201)
      .json({ message_id: result.message_id, sequence_id: result.sequence_id, persisted: result.persisted, duplicate: result.duplicate });
  };

  const join = async (req: Request, res: Response): Promise<void> => {
    const user = userOf(res);
    const id = idParam(req);
    const participant = await runtime.join(id, {
      participant_id: user.userId,
      participant_type: 'human',
      display_name: user.displayName ?? user.userId,
    });
    res.json({ conversation_id: id, participant });
  };

  const leave = async (req: Request, res: Response): Promise<void> => {
    const user = userOf(res);
    const id = idParam(req);
    await runtime.leave(id, user.userId);
    res.json({ conversation_id: id, participant_id: user.userId, left: true });
  };

  const redact = async (req: Request, res: Response): Promise<void> => {
    const body = validated(validateRedact, req.body ?? {});
    const target = body.message_ids !== undefined ? { messageIds: body.message_ids } : { senderId: body.sender_id ?? '' };
    const redacted = await runtime.redact(idParam(req), target, userOf(res).userId);
    res.json({ conversation_id: idParam(req), redacted_sequence_ids: redacted });
  };

  chat.post('/conversations', create);
  chat.get('/conversations', list);
  chat.get('/conversations/:id', get);
  chat.get('/conversations/:id/messages', messages);
  chat.post('/conversations/:id/messages', post);
  chat.post('/conversations/:id/join', join);
  chat.post('/conversations/:id/leave', leave);
  chat.delete('/conversations/:id/participants/me', leave);
  chat.post('/conversations/:id/redact', redact);
  // NLWeb's own paths, same handlers.
  chat.post('/create', create);
  chat.get('/my-conversations', list);
  chat.post('/:id/join', join);
  chat.delete('/:id/leave', leave);

  app.use('/chat', chat);
  app.use('/chat', (_req, _res, next) => next(new ChatError('GATEWAY_ERR_NOT_FOUND')));
  app.use(createErrorHandler(deps.logger));
  return app;
}

/**
 * The one error mapping: ChatError → its spec's HTTP status; body-parser errors → 400/413; anything
 * else → 500 without internals. Retry-After (whole seconds, rounded up) accompanies retry_after_ms.
 */
export function createErrorHandler(logger: GatewayLogger) {
  return (err: unknown, _req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const chatErr = toChatError(err);
    if (chatErr.code === 'GATEWAY_ERR_INTERNAL') logger.error({ err: err instanceof Error ? err.stack : String(err) }, 'request failed');
    const status = chatErr.spec.http;
    const body: Record<string, unknown> = { error: chatErr.code, code: status, message: chatErr.message };
    if (chatErr.retryAfterMs !== undefined) {
      const ms = Math.max(0, Math.ceil(chatErr.retryAfterMs));
      body.retry_after_ms = ms;
      res.set('Retry-After', String(Math.max(1, Math.ceil(ms / 1000))));
    }
    if (chatErr.code === 'GATEWAY_ERR_UNAUTHENTICATED') res.set('WWW-Authenticate', 'Bearer');
    res.status(status).json(body);
  };
}

function toChatError(err: unknown): ChatError {
  if (isChatError(err)) return err;
  const type = (err as { type?: unknown } | null)?.type;
  if (type === 'entity.too.large') return new ChatError('GATEWAY_ERR_FRAME_TOO_LARGE', 'request body is too large');
  if (type === 'entity.parse.failed') return new ChatError('GATEWAY_ERR_MALFORMED_JSON', 'request body is not valid JSON');
  if ((typeof type === 'string' && type.startsWith('entity.')) || type === 'charset.unsupported' || type === 'encoding.unsupported') {
    return new ChatError('GATEWAY_ERR_BAD_REQUEST', 'request body could not be read');
  }
  return new ChatError('GATEWAY_ERR_INTERNAL', ERROR_CODES.GATEWAY_ERR_INTERNAL.message);
}

/** A conversation summary, only for its current participants. */
async function memberView(runtime: ChatRuntime, conversationId: string, userId: string): Promise<ConversationSummary> {
  const summary = await runtime.getConversation(conversationId);
  if (!summary.participants.some((p) => p.participant_id === userId)) throw new ChatError('CHAT_ERR_NOT_PARTICIPANT');
  return summary;
}

function validated<T>(validate: ValidateFunction<T>, body: unknown): T {
  if (validate(body)) return body;
  const e = validate.errors?.[0];
  const at = e?.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : 'body';
  const detail =
    e?.keyword === 'additionalProperties'
      ? `unknown field "${String((e.params as { additionalProperty: string }).additionalProperty)}"`
      : e?.keyword === 'required'
        ? `missing field "${String((e.params as { missingProperty: string }).missingProperty)}"`
        : `${at} ${e?.message ?? 'is invalid'}`;
  throw new ChatError('GATEWAY_ERR_BAD_REQUEST', detail);
}

function userOf(res: Response): AuthenticatedUser {
  return res.locals.user as AuthenticatedUser;
}

function idParam(req: Request): string {
  const id = req.params.id;
  if (typeof id !== 'string' || id.length === 0 || id.length > 128)
    throw new ChatError('GATEWAY_ERR_BAD_REQUEST', 'invalid conversation id');
  return id;
}

function intQuery(req: Request, name: string, def: number, min: number, max: number): number {
  const raw = (req.query as Record<string, unknown>)[name];
  if (raw === undefined || raw === '') return def;
  if (typeof raw !== 'string' || !/^\d+$/.test(raw))
    throw new ChatError('GATEWAY_ERR_BAD_REQUEST', `${name} must be a non-negative integer`);
  const n = Number(raw);
  if (n < min || n > max) throw new ChatError('GATEWAY_ERR_BAD_REQUEST', `${name} must be between ${min} and ${max}`);
  return n;
}
