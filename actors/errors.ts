/**
 * One coded error model for the whole runtime. Callers branch on `code`, never on message text.
 * Every code maps to the HTTP status and the WebSocket error-frame code (or close code) the gateway
 * uses for it. docs/errors.md lists every code; test/unit/errors.test.ts keeps both in step.
 */

export interface ErrorSpec {
  /** HTTP status for the REST API. */
  readonly http: number;
  /** Code of the WebSocket `error` frame (numbers mirror HTTP where one fits). */
  readonly frame: number;
  /** WebSocket close code, when the error ends the connection. */
  readonly close?: number;
  readonly message: string;
}

export const ERROR_CODES = {
  // Conversation / actor
  CHAT_ERR_QUEUE_FULL: { http: 429, frame: 429, message: 'conversation mailbox is full; retry later' },
  CHAT_ERR_PARTICIPANT_LIMIT: { http: 409, frame: 409, close: 4009, message: 'conversation has reached its participant limit' },
  CHAT_ERR_PARTICIPANT_ID_CONFLICT: { http: 400, frame: 400, message: 'one id is named as a human and as an AI participant' },
  CHAT_ERR_NOT_FOUND: { http: 404, frame: 404, close: 4004, message: 'conversation not found' },
  CHAT_ERR_NOT_PARTICIPANT: { http: 403, frame: 403, close: 4003, message: 'not a participant of this conversation' },
  CHAT_ERR_PARTICIPANT_NOT_FOUND: { http: 404, frame: 404, message: 'no such participant in this conversation' },
  CHAT_ERR_INVITE_ONLY: {
    http: 403,
    frame: 403,
    close: 4003,
    message: 'this conversation is invite-only: a member must add you (POST /chat/conversations/{id}/participants)',
  },
  CHAT_ERR_ALREADY_EXISTS: { http: 409, frame: 409, message: 'conversation already exists' },
  CHAT_ERR_CONVERSATION_FAILED: { http: 503, frame: 503, close: 4503, message: 'conversation failed (restart limit exceeded)' },
  CHAT_ERR_RESTARTING: { http: 503, frame: 503, message: 'conversation is restarting after a failure; retry shortly' },
  CHAT_ERR_CLOSED: { http: 503, frame: 503, close: 1001, message: 'runtime is shutting down' },
  CHAT_ERR_INVALID_MESSAGE: { http: 400, frame: 400, message: 'message is invalid' },
  CHAT_ERR_INVALID_ARGUMENT: { http: 400, frame: 400, message: 'an id, member, title or settings the journal cannot hold' },
  CHAT_ERR_FORBIDDEN: { http: 403, frame: 403, message: 'not allowed for this participant' },
  CHAT_ERR_UNKNOWN_AGENT: { http: 400, frame: 400, message: 'an AI participant names no registered agent' },
  CHAT_ERR_MESSAGE_ID_REUSED: { http: 409, frame: 409, message: 'message_id was already accepted with other content' },
  CHAT_ERR_OWNED_ELSEWHERE: {
    http: 421,
    frame: 421,
    close: 4421,
    message: 'conversation is live on another server; connect to that server or retry later',
  },
  // Agents
  AGENT_ERR_TIMEOUT: { http: 504, frame: 504, message: 'agent did not answer in time' },
  AGENT_ERR_HTTP: { http: 502, frame: 502, message: 'agent endpoint answered with an HTTP error' },
  AGENT_ERR_CONNECTION: { http: 502, frame: 502, message: 'agent endpoint could not be reached' },
  AGENT_ERR_MALFORMED_STREAM: { http: 502, frame: 502, message: 'agent endpoint sent a malformed stream' },
  AGENT_ERR_FAILED: { http: 500, frame: 500, message: 'agent failed' },
  AGENT_ERR_INVALID_OUTPUT: { http: 502, frame: 502, message: 'agent yielded a piece the runtime refuses' },
  AGENT_ERR_CANCELLED: { http: 499, frame: 499, message: 'agent job was cancelled' },
  // Storage
  STORAGE_ERR_NOT_OPEN: { http: 503, frame: 503, message: 'storage is not open' },
  STORAGE_ERR_DUPLICATE_SEQUENCE: { http: 500, frame: 500, message: 'sequence id already stored' },
  STORAGE_ERR_SEQUENCE_GAP: { http: 500, frame: 500, message: 'sequence id is not the next one' },
  STORAGE_ERR_DUPLICATE_MESSAGE: { http: 500, frame: 500, message: 'message id already stored for this sender' },
  STORAGE_ERR_UNAVAILABLE: { http: 503, frame: 503, message: 'storage is unavailable' },
  STORAGE_ERR_INVALID_ARGUMENT: { http: 400, frame: 400, message: 'invalid storage argument' },
  STORAGE_ERR_FENCED: { http: 503, frame: 503, message: 'write refused: another runtime claimed the conversation since' },
  STORAGE_ERR_SCHEMA_VERSION: { http: 503, frame: 503, message: "the database's schema is at another version than this build's" },
  STORAGE_ERR_UNSUPPORTED: {
    http: 501,
    frame: 501,
    message: 'the store cannot change a stored record (edits and deletes of own messages)',
  },
  // Config
  CONFIG_ERR_INVALID: { http: 500, frame: 500, message: 'configuration is invalid' },
  CONFIG_ERR_READ: { http: 500, frame: 500, message: 'configuration file could not be read' },
  // Gateway
  GATEWAY_ERR_UNAUTHENTICATED: { http: 401, frame: 401, close: 4001, message: 'authentication required' },
  GATEWAY_ERR_INVALID_FRAME: { http: 400, frame: 400, message: 'frame does not match the protocol schema' },
  GATEWAY_ERR_MALFORMED_JSON: { http: 400, frame: 400, close: 1007, message: 'frame is not valid JSON' },
  GATEWAY_ERR_FRAME_TOO_LARGE: { http: 413, frame: 413, close: 1009, message: 'frame exceeds the size limit' },
  GATEWAY_ERR_CONTENT_INVALID: { http: 400, frame: 400, message: 'content is empty, too long or has control characters' },
  GATEWAY_ERR_RATE_LIMITED: { http: 429, frame: 429, message: 'too many messages; slow down' },
  GATEWAY_ERR_HELD_FOR_ORDER: {
    http: 429,
    frame: 429,
    message: 'an earlier message of this connection was refused with a 429: re-send it first',
  },
  GATEWAY_ERR_TOO_MANY_CONNECTIONS: {
    http: 429,
    frame: 429,
    message: 'this user has as many WebSockets open as one user may (server.websocket.max_connections_per_user)',
  },
  GATEWAY_ERR_SLOW_CONSUMER: { http: 503, frame: 503, close: 4008, message: 'connection could not keep up; resume from last sequence id' },
  GATEWAY_ERR_HEARTBEAT_TIMEOUT: { http: 408, frame: 408, close: 4000, message: 'no pong within the heartbeat dead time' },
  GATEWAY_ERR_ORIGIN_NOT_ALLOWED: {
    http: 403,
    frame: 403,
    close: 4003,
    message: "the page's origin may not call this server (server.allowed_origins)",
  },
  GATEWAY_ERR_TLS_REQUIRED: { http: 426, frame: 426, close: 4026, message: 'TLS is required' },
  GATEWAY_ERR_NOT_FOUND: { http: 404, frame: 404, message: 'no such route' },
  GATEWAY_ERR_METHOD_NOT_ALLOWED: { http: 405, frame: 405, message: 'the path does not take this method' },
  GATEWAY_ERR_BAD_REQUEST: { http: 400, frame: 400, message: 'request is invalid' },
  GATEWAY_ERR_UNSUPPORTED_PROTOCOL_VERSION: {
    http: 400,
    frame: 400,
    message: 'the socket URL asks for a protocol_version this server does not speak',
  },
  GATEWAY_ERR_UNSUPPORTED_MEDIA_TYPE: { http: 415, frame: 415, message: 'request body is not application/json' },
  GATEWAY_ERR_SHUTTING_DOWN: { http: 503, frame: 503, close: 1001, message: 'server is shutting down' },
  GATEWAY_ERR_INTERNAL: { http: 500, frame: 500, close: 1011, message: 'internal error' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * The `details` of the codes callers branch on, by code: `isChatError(err, code)` narrows `err.details` to them,
 * so `err.details.owner_address` needs no cast. Each is thrown in one place, which `satisfies` its entry here.
 */
export interface ChatErrorDetails {
  /** Which conversation, who holds it, and where it is served when that runtime published an address. */
  readonly CHAT_ERR_OWNED_ELSEWHERE: { readonly conversation_id: string; readonly owner_id: string; readonly owner_address?: string };
  /** Every agent id named by an AI participant that no registered agent has. */
  readonly CHAT_ERR_UNKNOWN_AGENT: { readonly agent_ids: readonly string[] };
  /** The reused message_id and the sequence id of the record first accepted under it. */
  readonly CHAT_ERR_MESSAGE_ID_REUSED: { readonly message_id: string; readonly sequence_id: number };
  /** The id named both as a human and as an AI participant. */
  readonly CHAT_ERR_PARTICIPANT_ID_CONFLICT: { readonly participant_id: string };
  /** The schema version the database holds (0: no nlweb-chat tables) and the one this build reads and writes. */
  readonly STORAGE_ERR_SCHEMA_VERSION: { readonly found_version: number; readonly expected_version: number };
  /** The WebSocket protocol versions this server speaks (gateway/protocol-version.ts). */
  readonly GATEWAY_ERR_UNSUPPORTED_PROTOCOL_VERSION: { readonly supported_protocol_versions: readonly number[] };
}

/** A ChatError with code `C`; for a code of ChatErrorDetails, with those details (always present). */
export type ChatErrorOf<C extends ErrorCode> = ChatError & { readonly code: C } & ([C] extends [keyof ChatErrorDetails]
    ? { readonly details: ChatErrorDetails[C] }
    : unknown);

/** The base error of the runtime: a stable code, an optional cause and optional details. */
export class ChatError extends Error {
  readonly code: ErrorCode;
  /** For CHAT_ERR_QUEUE_FULL / GATEWAY_ERR_RATE_LIMITED: when a retry is likely to succeed. */
  readonly retryAfterMs?: number;
  readonly details?: Readonly<Record<string, unknown>>;

  constructor(
    code: ErrorCode,
    message?: string,
    options: { cause?: unknown; retryAfterMs?: number; details?: Record<string, unknown> } = {},
  ) {
    super(message ?? ERROR_CODES[code].message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ChatError';
    this.code = code;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
    if (options.details !== undefined) this.details = Object.freeze({ ...options.details });
  }

  get spec(): ErrorSpec {
    return ERROR_CODES[this.code];
  }
}

/** A ChatError (of `code`, when given; its details then typed as ChatErrorDetails says). */
export function isChatError(err: unknown): err is ChatError;
export function isChatError<C extends ErrorCode>(err: unknown, code: C): err is ChatErrorOf<C>;
export function isChatError(err: unknown, code?: ErrorCode): err is ChatError {
  return err instanceof ChatError && (code === undefined || err.code === code);
}
