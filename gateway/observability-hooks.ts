/**
 * What the gateway needs from a logger and from telemetry. Both are structural so the gateway does not
 * depend on observability/ being wired: pino loggers and ChatTelemetry (observability/chat-telemetry.ts)
 * satisfy them, and the defaults below record nothing.
 */

/**
 * A pino-like logger: (object, message) or (message). More than the runtime's RuntimeLogger (info, warn, error):
 * the gateway also calls `debug` (socket-level errors, routine for clients that vanish) and `child` (docs/http-api.md).
 */
export interface GatewayLogger {
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
  debug(obj: unknown, msg?: string): void;
  /**
   * Called once per WebSocket connection with `{conversation_id, participant_id, connection_id}`: the connection's
   * lines carry them without every call site repeating them. The result must log with those fields.
   */
  child(bindings: Record<string, unknown>): GatewayLogger;
}

/** The subset of ChatTelemetry the gateway records into (every member optional). */
export interface GatewayTelemetry {
  /** A frame/request was refused with GATEWAY_ERR_RATE_LIMITED. */
  rateLimited?(): void;
  /** A connection arrived with a resume point (last_sequence_id or a sync frame). */
  reconnect?(): void;
  /** A WebSocket is now piped to its conversation's holder (owner-forwarding.ts). */
  forwardedConnectionOpened?(): void;
  /** Pair of forwardedConnectionOpened. */
  forwardedConnectionClosed?(): void;
  /** A request or upgrade for a conversation another server holds was forwarded there (ok) or could not be. */
  ownershipForward?(transport: 'http' | 'websocket', ok: boolean): void;
  /** A request or upgrade was answered 421 / refused CHAT_ERR_OWNED_ELSEWHERE. */
  ownershipRefused?(transport: 'http' | 'websocket'): void;
}

/**
 * Security events of the WebSocket path (the subset of observability's AuditLog the gateway calls).
 * HTTP requests are audited by observability's http-audit middleware, so the gateway reports only what
 * never passes through express: upgrade refusals, rate-limit hits on sockets, and edits and deletes by frame.
 */
export interface GatewayAudit {
  authFailure?(actor: string, target: string, reason: string): void;
  forbidden?(actor: string, conversationId: string, action: string): void;
  /** An upgrade for a conversation that does not exist (access.not_found). */
  notFound?(actor: string, conversationId: string, action: string): void;
  participantLimit?(actor: string, conversationId: string, limit: number): void;
  /** With `action` (an upgrade's refusal, `ws connect`), throttled per (actor, action) rather than per conversation. */
  rateLimited?(actor: string, conversationId: string, action?: string): void;
  /** A member's `delete` frame that deleted something (message.redact, as the HTTP redact is). */
  redaction?(actor: string, conversationId: string, outcome: 'success', redacted: number): void;
  /** A member's `edit` frame that changed its message (message.edit). */
  messageEdit?(actor: string, conversationId: string, edit: { messageId: string; sequenceId: number; editCount: number }): void;
}

/** A logger that drops everything. */
export function createNoopLogger(): GatewayLogger {
  const logger: GatewayLogger = {
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
    debug: () => undefined,
    child: () => logger,
  };
  return logger;
}
