import pino from 'pino';
import { createLogThrottle, type LogThrottle } from './log-throttle';

/** The structured JSON logger every layer receives (pino). */
export type Logger = pino.Logger;

/**
 * What the runtime writes its log through: a line of fields and a message at info, warn or error. A pino logger
 * fits, and so does an embedder's own (winston, bunyan, an adapter): nothing else of pino is used.
 */
export interface RuntimeLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface CreateLoggerOptions {
  readonly level: LogLevel;
  /** Where JSON lines go (default: stdout). Tests pass a stream they read back. */
  readonly destination?: pino.DestinationStream;
  /**
   * Write stdout synchronously (default false = pino's buffered async writer). The entry point uses sync
   * writes: lines stay in order across a shutdown and none are lost at process.exit; the runtime logs
   * nothing per message at info, so the cost is a few syscalls per event.
   */
  readonly sync?: boolean;
  /** Fields on every line (default: { service: 'nlweb-chat' }). */
  readonly base?: Record<string, unknown>;
}

/**
 * Message text must never reach the logs (at any level): these paths are censored wherever a caller
 * passes a message, a frame or a post input as a log field.
 */
export const REDACTED_LOG_PATHS: readonly string[] = [
  'content',
  'message.content',
  'frame.content',
  'input.content',
  'metadata',
  'message.metadata',
  'token',
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
];

/** JSON logger with ISO timestamps and content/credential redaction. */
export function createLogger(options: CreateLoggerOptions): Logger {
  const pinoOptions: pino.LoggerOptions = {
    level: options.level,
    base: options.base ?? { service: 'nlweb-chat' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: [...REDACTED_LOG_PATHS], censor: '[redacted]' },
    formatters: { level: (label) => ({ level: label }) },
  };
  if (options.destination) return pino(pinoOptions, options.destination);
  return options.sync ? pino(pinoOptions, pino.destination({ dest: 1, sync: true })) : pino(pinoOptions);
}

/** Security-relevant events written to the audit stream (docs/security.md, docs/observability.md). */
export type AuditEvent =
  | 'auth.failure'
  | 'access.forbidden'
  | 'access.not_found'
  | 'participant_limit.refused'
  | 'message.redact'
  | 'message.edit'
  | 'rate_limit.hit'
  | 'admin.action';

export type AuditOutcome = 'success' | 'denied' | 'failure';

export interface AuditRecord {
  readonly event: AuditEvent;
  /** Who: the authenticated user id, or 'anonymous' when authentication failed. */
  readonly actor: string;
  /** What it was aimed at: a conversation id, a route, a participant id. */
  readonly target: string;
  readonly outcome: AuditOutcome;
  /** Bounded extra facts (error code, reason, counts). Never message content. */
  readonly details?: Record<string, string | number | boolean>;
}

/** What an audit line says of an edit: which message, where, and its how-manieth edit. */
export interface AuditedEdit {
  readonly messageId: string;
  readonly sequenceId: number;
  readonly editCount: number;
}

export interface AuditLog {
  record(entry: AuditRecord): void;
  authFailure(actor: string, target: string, reason: string): void;
  forbidden(actor: string, conversationId: string, action: string): void;
  /** A conversation that does not exist, or a path under /chat that names no route: what probing ids looks like. */
  notFound(actor: string, target: string, action: string): void;
  participantLimit(actor: string, conversationId: string, limit: number): void;
  redaction(actor: string, conversationId: string, outcome: AuditOutcome, redacted: number): void;
  /** A member's edit of its own message that changed it (never its content: the ids and the edit's number only). */
  messageEdit(actor: string, conversationId: string, edit: AuditedEdit): void;
  /**
   * A refusal over a budget. With `action` (the route, `ws connect`) the line is throttled per (actor, action), as
   * access.forbidden is, and names it: what a caller refused by a per-user budget may send with any conversation id.
   * Without, per (actor, conversation): an open socket's frames.
   */
  rateLimited(actor: string, conversationId: string, action?: string): void;
  adminAction(actor: string, target: string, action: string, outcome: AuditOutcome): void;
}

/**
 * Audit stream: one JSON line per security event, `{audit: true, event, actor, target, outcome, at}`,
 * written through the logger at `info` (warn for denials) so it survives the default level and can be
 * split out by the log shipper on `audit == true`.
 */
export function createAuditLog(logger: Logger, now: () => number = Date.now, rateLimitIntervalMs = 10_000): AuditLog {
  const audit = logger.child({ audit: true });
  // A flooding client hits the rate limit on every frame: log the first hit per (actor, target) per
  // interval and count the rest into the next line, so the audit stream cannot be flooded itself. Refusals of a
  // request or an upgrade, which may name any conversation id (per-user budgets refuse before looking it up), are
  // keyed by their action instead: a key per guessed id would log every refusal.
  const throttled = (): LogThrottle => createLogThrottle({ now, intervalMs: rateLimitIntervalMs });
  const rateLimitSeen = throttled();
  // The same for authentication failures, per (actor, reason): anyone who reaches the port can cause one per
  // request (1,550 a second from one client wrote 450 KB/s of audit lines), and varying the path or conversation
  // id would defeat a key naming the target. The line kept names the first target of its interval.
  const authFailureSeen = throttled();
  // And for forbidden access, per (actor, action): a member probing ids causes one per request (a 403 says the
  // conversation exists), and the action names the route with `{id}` for the id, so varying the conversation does
  // not defeat it. The line kept names the first conversation of its interval.
  const forbiddenSeen = throttled();
  // And for not-found, per (actor, action) too: someone guessing conversation ids gets a 404 for each wrong guess, a
  // 403 only for a right one, so the 404s are the trace of the guessing, and as many as the guesses.
  const notFoundSeen = throttled();
  const record = (entry: AuditRecord): void => {
    const line = {
      event: entry.event,
      actor: entry.actor,
      target: entry.target,
      outcome: entry.outcome,
      at: new Date(now()).toISOString(),
      ...(entry.details ? { details: entry.details } : {}),
    };
    if (entry.outcome === 'success') audit.info(line, `audit ${entry.event}`);
    else audit.warn(line, `audit ${entry.event}`);
  };
  return {
    record,
    authFailure: (actor, target, reason) => {
      const suppressed = authFailureSeen.admit(`${actor}\u0000${reason}`);
      if (suppressed === undefined) return;
      record({ event: 'auth.failure', actor, target, outcome: 'denied', details: { reason, suppressed } });
    },
    forbidden: (actor, conversationId, action) => {
      const suppressed = forbiddenSeen.admit(`${actor}\u0000${action}`);
      if (suppressed === undefined) return;
      record({ event: 'access.forbidden', actor, target: conversationId, outcome: 'denied', details: { action, suppressed } });
    },
    notFound: (actor, target, action) => {
      const suppressed = notFoundSeen.admit(`${actor}\u0000${action}`);
      if (suppressed === undefined) return;
      record({ event: 'access.not_found', actor, target, outcome: 'denied', details: { action, suppressed } });
    },
    participantLimit: (actor, conversationId, limit) =>
      record({ event: 'participant_limit.refused', actor, target: conversationId, outcome: 'denied', details: { limit } }),
    redaction: (actor, conversationId, outcome, redacted) =>
      record({ event: 'message.redact', actor, target: conversationId, outcome, details: { redacted } }),
    messageEdit: (actor, conversationId, edit) =>
      record({
        event: 'message.edit',
        actor,
        target: conversationId,
        outcome: 'success',
        details: { message_id: edit.messageId, sequence_id: edit.sequenceId, edit_count: edit.editCount },
      }),
    rateLimited: (actor, conversationId, action) => {
      const suppressed = rateLimitSeen.admit(`${actor}\u0000${action === undefined ? `c\u0000${conversationId}` : `a\u0000${action}`}`);
      if (suppressed === undefined) return;
      const details: Record<string, string | number> = action === undefined ? { suppressed } : { action, suppressed };
      record({ event: 'rate_limit.hit', actor, target: conversationId, outcome: 'denied', details });
    },
    adminAction: (actor, target, action, outcome) => record({ event: 'admin.action', actor, target, outcome, details: { action } }),
  };
}
