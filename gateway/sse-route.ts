import type { Request, Response } from 'express';
import { ChatError, isChatError } from '../actors/errors';
import type { ConnectionContext, GatewayConnection } from './connection-context';
import type { ConnectionQuota } from './connection-quota';
import { assertHumanCaller } from './human-caller';
import { idParam, userOf } from './http-request-input';
import { keepFromForwarding } from './owner-http-forwarding';
import { subscribeAsHuman, type ReplayRequest } from './output-route';
import { MAX_REPLAY_HISTORY } from './protocol/client-frames';
import { SseConnection } from './sse-connection';
import { plainIntegerIn } from './query-integers';
import { resumeIdentityOf } from './resume-identity';
import type { RouteHandler } from './chat-routes';

/** The query parameters of GET /chat/conversations/{id}/events besides authentication's. */
export const EVENT_STREAM_QUERY = ['last_sequence_id', 'last_message_id', 'last_sender_id', 'history'] as const;

/**
 * EventSource's reconnect delay hint (`retry:`), spread per stream over [RETRY_MIN_MS, RETRY_MIN_MS + RETRY_SPREAD_MS):
 * after a shutdown every stream of the server reconnects, and one fixed delay would bring them all back at once.
 */
export const RETRY_MIN_MS = 2000;
export const RETRY_SPREAD_MS = 3000;

const STREAM_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  // no-transform: a compressing proxy or middleware would hold events back to fill its blocks.
  'cache-control': 'no-cache, no-transform',
  // nginx buffers proxied responses unless told not to.
  'x-accel-buffering': 'no',
  connection: 'keep-alive',
} as const;

/** What the event stream route needs from its gateway. */
export interface EventStreamDeps {
  readonly ctx: ConnectionContext;
  /** The per-user connection bound shared with the WebSockets (server.websocket.max_connections_per_user). */
  readonly quota: ConnectionQuota;
  /** The gateway's live connections (heartbeat, /health/chat, shutdown). */
  readonly connections: Set<GatewayConnection>;
  isClosing(): boolean;
  /** A number in [0, 1) for the retry spread (Math.random unless a test fixes it). */
  random?(): number;
}

/**
 * GET /chat/conversations/{id}/events: the Server-Sent Events fallback (docs/protocol.md). Every refusal (bad
 * parameters, the connection bound, not found, not a member, an AI's id) is a coded JSON error before the stream's
 * headers go out; after them, the stream ends only with a `closed` event or, for a slow consumer, a reset.
 */
export function createEventStreamHandler(deps: EventStreamDeps): RouteHandler {
  const { ctx, quota } = deps;
  const random = deps.random ?? Math.random;
  return async (req: Request, res: Response): Promise<void> => {
    if (deps.isClosing()) throw new ChatError('GATEWAY_ERR_SHUTTING_DOWN');
    keepFromForwarding(res);
    const user = userOf(res);
    const conversationId = idParam(req);
    const start = replayRequestOf(req);
    if (!quota.take(user.userId)) {
      ctx.audit.rateLimited?.(user.userId, conversationId, 'sse connect');
      throw new ChatError(
        'GATEWAY_ERR_TOO_MANY_CONNECTIONS',
        `${user.userId} has ${quota.perUser} connections open, the most one user may (server.websocket.max_connections_per_user)`,
      );
    }
    if (req.method === 'HEAD') {
      // Express answers HEAD with the GET route: the same checks and headers, and no stream. Checked on the
      // conversation's members, not by subscribing: a subscription announces its reader online to the room (presence)
      // and offline again a grace later, for an answer that opens nothing.
      quota.give(user.userId);
      await auditedRefusals(ctx, user.userId, conversationId, () => assertReader(ctx, conversationId, user.userId));
      res.writeHead(200, STREAM_HEADERS).end();
      return;
    }
    if (start.afterSequenceId !== undefined) ctx.telemetry.reconnect?.();
    let subscribed: Awaited<ReturnType<typeof subscribeAsHuman>>;
    try {
      subscribed = await auditedRefusals(ctx, user.userId, conversationId, () =>
        subscribeAsHuman(ctx.runtime, conversationId, user, start, false),
      );
    } catch (err) {
      quota.give(user.userId);
      throw err;
    }
    const { subscription, route } = subscribed;
    if (deps.isClosing() || req.socket.destroyed) {
      quota.give(user.userId);
      route.detach();
      subscription.close();
      if (!req.socket.destroyed) throw new ChatError('GATEWAY_ERR_SHUTTING_DOWN');
      return;
    }
    // The stream's liveness is the heartbeat's and the backpressure guard's, not server.idle_timeout_s.
    req.socket.setTimeout(0);
    res.writeHead(200, STREAM_HEADERS);
    res.flushHeaders();
    const connection = new SseConnection(res, req.socket, ctx, user, subscription, route);
    deps.connections.add(connection);
    connection.start(RETRY_MIN_MS + Math.floor(random() * RETRY_SPREAD_MS));
  };
}

/** Runs a check or subscription, auditing its refusals as the WebSocket upgrade does. */
async function auditedRefusals<T>(ctx: ConnectionContext, userId: string, conversationId: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (isChatError(err, 'CHAT_ERR_NOT_PARTICIPANT') || isChatError(err, 'CHAT_ERR_FORBIDDEN'))
      ctx.audit.forbidden?.(userId, conversationId, 'sse connect');
    if (isChatError(err, 'CHAT_ERR_NOT_FOUND')) ctx.audit.notFound?.(userId, conversationId, 'sse connect');
    throw err;
  }
}

/** What subscribing would refuse, without subscribing: not found, not a member, an AI participant's id. */
async function assertReader(ctx: ConnectionContext, conversationId: string, userId: string): Promise<void> {
  const { participants } = await ctx.runtime.getConversation(conversationId);
  if (!participants.some((p) => p.participant_id === userId)) throw new ChatError('CHAT_ERR_NOT_PARTICIPANT');
  assertHumanCaller(participants, userId);
}

/**
 * Where the stream starts. `Last-Event-ID` (EventSource's automatic reconnect sends the last `id:` it saw) wins over
 * the URL's `last_sequence_id` (the same URL is asked again, with its first resume point), and then `history` is not
 * applied: it would start the replay at most N records back, skipping what came while the reader was away. Nor is
 * the URL's record identity (`last_message_id` + `last_sender_id`): it names the record at the URL's resume point,
 * not at Last-Event-ID's, and checked against another record it would reset a reader whose history is fine.
 */
function replayRequestOf(req: Request): ReplayRequest {
  const header = req.headers['last-event-id'];
  const lastEventId = typeof header === 'string' && header.trim() !== '' ? header.trim() : undefined;
  if (lastEventId !== undefined) return { afterSequenceId: sequenceIdOf(lastEventId, 'Last-Event-ID') };
  const resume = singleQuery(req, 'last_sequence_id');
  const lastRecord = resumeIdentityOf(singleQuery(req, 'last_message_id'), singleQuery(req, 'last_sender_id'), resume !== undefined);
  if (lastRecord instanceof ChatError) throw lastRecord;
  const history = singleQuery(req, 'history');
  const historyCount = history === undefined ? undefined : plainIntegerIn(history, 1, MAX_REPLAY_HISTORY);
  if (history !== undefined && historyCount === undefined) {
    throw new ChatError('GATEWAY_ERR_BAD_REQUEST', `history must be an integer from 1 to ${MAX_REPLAY_HISTORY}`);
  }
  return {
    ...(resume === undefined ? {} : { afterSequenceId: sequenceIdOf(resume, 'last_sequence_id') }),
    ...(historyCount === undefined ? {} : { history: historyCount }),
    ...(lastRecord === undefined ? {} : { lastRecord }),
  };
}

/** A resume point, written as query-integers.ts says (up to Number.MAX_SAFE_INTEGER, as a `sync` frame's). */
function sequenceIdOf(value: string, name: string): number {
  const n = plainIntegerIn(value, 0, Number.MAX_SAFE_INTEGER);
  if (n === undefined) throw new ChatError('GATEWAY_ERR_BAD_REQUEST', `${name} must be a non-negative integer`);
  return n;
}

function singleQuery(req: Request, name: string): string | undefined {
  const value = req.query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new ChatError('GATEWAY_ERR_BAD_REQUEST', `${name} must be given once`);
  return value;
}
