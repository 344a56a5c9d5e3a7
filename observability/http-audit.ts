import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { AuditLog } from './logger';

export interface HttpAuditOptions {
  /** chat.limits.max_participants, recorded with participant-limit refusals. */
  readonly maxParticipants: number;
}

/** Conversation id from /chat/conversations/{id}/... or NLWeb's /chat/{id}/join|leave aliases. */
const CONVERSATION_PATH = /^\/chat\/(?:conversations\/)?([^/]+)(?:\/|$)/;
const NOT_IDS: ReadonlySet<string> = new Set(['conversations', 'create', 'my-conversations', 'ws']);

/**
 * Express middleware (mount before the gateway) that turns the outcome of every HTTP API request into
 * audit events: 401 → auth.failure, CHAT_ERR_NOT_PARTICIPANT/CHAT_ERR_FORBIDDEN → access.forbidden,
 * CHAT_ERR_NOT_FOUND (no such conversation) / GATEWAY_ERR_NOT_FOUND (no such route under /chat) → access.not_found,
 * CHAT_ERR_PARTICIPANT_LIMIT → participant_limit.refused, GATEWAY_ERR_RATE_LIMITED → rate_limit.hit,
 * POST .../redact → message.redact (success or denied). It reads the gateway's JSON error body
 * (`{error: CODE}`) and the authenticated user (`res.locals.user.userId`), so the gateway needs no change.
 * The target is the path only (query strings can carry tokens).
 */
export function createHttpAuditMiddleware(audit: AuditLog, options: HttpAuditOptions): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    // The path relative to where this is mounted, read now: the /chat router rewrites req.url before the answer,
    // and originalUrl keeps an embedder's prefix (/support/chat/...) where the gateway's routes start at /chat/.
    const path = req.url.split('?')[0];
    let errorCode: string | undefined;
    let redactedCount: number | undefined;
    const json = res.json.bind(res);
    res.json = (body?: unknown): Response => {
      if (typeof body === 'object' && body !== null) {
        const b = body as { error?: unknown; redacted_sequence_ids?: unknown };
        if (typeof b.error === 'string') errorCode = b.error;
        if (Array.isArray(b.redacted_sequence_ids)) redactedCount = b.redacted_sequence_ids.length;
      }
      return json(body);
    };
    res.once('finish', () => {
      if (!path.startsWith('/chat/')) return;
      const user = (res.locals as { user?: { userId?: unknown } }).user;
      const actor = typeof user?.userId === 'string' ? user.userId : 'anonymous';
      const match = CONVERSATION_PATH.exec(path);
      const conversationId = match && !NOT_IDS.has(match[1]) ? decodeSafe(match[1]) : undefined;
      const target = conversationId ?? path;
      const action = `${req.method} ${path.replace(conversationId ? match![1] : '\u0000', '{id}')}`;
      if (res.statusCode === 401) {
        audit.authFailure(actor, path, errorCode ?? 'unauthenticated');
      } else if (errorCode === 'CHAT_ERR_NOT_PARTICIPANT' || errorCode === 'CHAT_ERR_FORBIDDEN') {
        audit.forbidden(actor, target, action);
      } else if (errorCode === 'CHAT_ERR_NOT_FOUND') {
        audit.notFound(actor, target, action);
      } else if (errorCode === 'GATEWAY_ERR_NOT_FOUND') {
        // The action may not name the path: a tail varied per request would make every line a new key.
        audit.notFound(actor, path, `${req.method} unknown route`);
      } else if (errorCode === 'CHAT_ERR_PARTICIPANT_LIMIT') {
        audit.participantLimit(actor, target, options.maxParticipants);
      } else if (errorCode === 'GATEWAY_ERR_RATE_LIMITED') {
        audit.rateLimited(actor, target);
      }
      if (req.method === 'POST' && path.endsWith('/redact')) {
        const ok = res.statusCode >= 200 && res.statusCode < 300;
        audit.redaction(actor, target, ok ? 'success' : res.statusCode < 500 ? 'denied' : 'failure', redactedCount ?? 0);
      }
    });
    next();
  };
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
