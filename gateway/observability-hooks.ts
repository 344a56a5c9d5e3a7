/**
 * What the gateway needs from a logger and from telemetry. Both are structural so the gateway does not
 * depend on observability/ being wired: pino loggers and ChatTelemetry (observability/chat-telemetry.ts)
 * satisfy them, and the defaults below record nothing.
 */

/** A pino-like logger: (object, message) or (message). */
export interface GatewayLogger {
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
  debug(obj: unknown, msg?: string): void;
  child(bindings: Record<string, unknown>): GatewayLogger;
}

/** The subset of ChatTelemetry the gateway records into (every member optional). */
export interface GatewayTelemetry {
  /** A frame/request was refused with GATEWAY_ERR_RATE_LIMITED. */
  rateLimited?(): void;
  /** A connection arrived with a resume point (last_sequence_id or a sync frame). */
  reconnect?(): void;
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
