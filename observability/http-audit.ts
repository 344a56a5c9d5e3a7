import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { AuditedEdit, AuditLog } from './logger';

export interface HttpAuditOptions {
  /** chat.limits.max_participants, recorded with participant-limit refusals. */
  readonly maxParticipants: number;
}

/**
 * Conversation id from /chat/conversations/{id}/... or NLWeb's /chat/{id}/join|leave aliases: the part before it, the
 * id, the rest. Case-insensitive, as Express matches routes: /chat/Conversations/{id} reaches the same handler.
 */
const CONVERSATION_PATH = /^(\/chat\/(?:conversations\/)?)([^/]+)(\/.*)?$/i;
const NOT_IDS: ReadonlySet<string> = new Set(['conversations', 'create', 'my-conversations', 'ws']);

/**
 * Express middleware (mount before the gateway) that turns the outcome of every HTTP API request into
 * audit events: 401 → auth.failure, CHAT_ERR_NOT_PARTICIPANT/CHAT_ERR_FORBIDDEN/CHAT_ERR_INVITE_ONLY → access.forbidden,
 * CHAT_ERR_NOT_FOUND (no such conversation) / GATEWAY_ERR_NOT_FOUND (no such route under /chat) → access.not_found,
 * CHAT_ERR_PARTICIPANT_LIMIT → participant_limit.refused, GATEWAY_ERR_RATE_LIMITED → rate_limit.hit,
 * POST .../redact → message.redact (success or denied), POST .../edit that changed the message → message.edit. It reads the gateway's JSON error body
 * (`{error: CODE}`) and the authenticated user (`res.locals.user.userId`), so the gateway needs no change.
 * The target is the path only (query strings can carry tokens).
 */
const CHAT_PREFIX = /^\/chat\//i;

export function createHttpAuditMiddleware(audit: AuditLog, options: HttpAuditOptions): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    // The path relative to where this is mounted, read now: the /chat router rewrites req.url before the answer,
    // and originalUrl keeps an embedder's prefix (/support/chat/...) where the gateway's routes start at /chat/.
    const path = req.url.split('?')[0];
    let errorCode: string | undefined;
    let redactedCount: number | undefined;
    let edit: AuditedEdit | undefined;
    const json = res.json.bind(res);
    res.json = (body?: unknown): Response => {
      if (typeof body === 'object' && body !== null) {
        const b = body as {
          error?: unknown;
          redacted_sequence_ids?: unknown;
          already_redacted_sequence_ids?: unknown;
          changed?: unknown;
          message?: unknown;
        };
        if (typeof b.error === 'string') errorCode = b.error;
        // The records this request redacted: those redacted already were counted when they were.
        const already = Array.isArray(b.already_redacted_sequence_ids) ? b.already_redacted_sequence_ids.length : 0;
        if (Array.isArray(b.redacted_sequence_ids)) redactedCount = b.redacted_sequence_ids.length - already;
        if (b.changed === true) edit = editOf(b.message);
      }
      return json(body);
    };
    res.once('finish', () => {
      // Case-insensitive like the routes: /CHAT/conversations/{id} reaches the same handlers.
      if (!CHAT_PREFIX.test(path)) return;
      const user = (res.locals as { user?: { userId?: unknown } }).user;
      const actor = typeof user?.userId === 'string' ? user.userId : 'anonymous';
      const match = CONVERSATION_PATH.exec(path);
      const idAt = match && !NOT_IDS.has(match[2].toLowerCase()) ? match : undefined;
      const conversationId = idAt ? decodeSafe(idAt[2]) : undefined;
      const target = conversationId ?? path;
      // The route as Express matched it: `{id}` for the id, in lower case and without a trailing slash (Express
      // matches /Redact and /redact/ too). It is the throttle key of the denials below (logger.ts), so neither a
      // guessed id nor the spelling of the path makes each request a key of its own.
      // A removed member's id (DELETE …/participants/{participant_id}) is a variable part too: an owner removing
      // one member after another would otherwise make every refusal a key of its own.
      const route = (idAt ? `${idAt[1]}{id}${participantRoute(idAt[3] ?? '')}` : path).toLowerCase().replace(/(.)\/$/, '$1');
      const action = `${req.method} ${route}`;
      if (res.statusCode === 401) {
        audit.authFailure(actor, path, errorCode ?? 'unauthenticated');
      } else if (errorCode === 'CHAT_ERR_NOT_PARTICIPANT' || errorCode === 'CHAT_ERR_FORBIDDEN' || errorCode === 'CHAT_ERR_INVITE_ONLY') {
        audit.forbidden(actor, target, action);
      } else if (errorCode === 'CHAT_ERR_NOT_FOUND') {
        audit.notFound(actor, target, action);
      } else if (errorCode === 'GATEWAY_ERR_NOT_FOUND') {
        // The action may not name the path: a tail varied per request would make every line a new key.
        audit.notFound(actor, path, `${req.method} unknown route`);
      } else if (errorCode === 'CHAT_ERR_PARTICIPANT_LIMIT') {
        audit.participantLimit(actor, target, options.maxParticipants);
      } else if (errorCode === 'GATEWAY_ERR_RATE_LIMITED') {
        audit.rateLimited(actor, target, action);
      }
      if (req.method === 'POST' && route.endsWith('/redact')) {
        const ok = res.statusCode >= 200 && res.statusCode < 300;
        audit.redaction(actor, target, ok ? 'success' : res.statusCode < 500 ? 'denied' : 'failure', redactedCount ?? 0);
      }
      // Only an edit that changed the message: a refusal is audited above by its code, the same content again not at all.
      if (req.method === 'POST' && route.endsWith('/edit') && edit && res.statusCode >= 200 && res.statusCode < 300) {
        audit.messageEdit(actor, target, edit);
      }
    });
    next();
  };
}

/** The ids and edit number of the edited message in an edit's answer; its content is left where it is. */
function editOf(message: unknown): AuditedEdit | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const m = message as { message_id?: unknown; sequence_id?: unknown; metadata?: { edit_count?: unknown } };
  if (typeof m.message_id !== 'string' || typeof m.sequence_id !== 'number') return undefined;
  const editCount = m.metadata?.edit_count;
  return { messageId: m.message_id, sequenceId: m.sequence_id, editCount: typeof editCount === 'number' ? editCount : 0 };
}

/** The part after the conversation id, with a participant id other than `me` (its own route) as `{participant_id}`. */
function participantRoute(rest: string): string {
  return rest.replace(/^(\/participants\/)(?!me\/?$)[^/]+/i, '$1{participant_id}');
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
