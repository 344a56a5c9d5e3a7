/**
 * The client's view of the WebSocket protocol (docs/protocol.md is the authority).
 * Declared here rather than imported from the server so the client compiles and ships alone
 * (browsers included); the shapes mirror actors/message-types.ts.
 */

/** One sequenced, immutable record of a conversation. */
export interface ChatMessage {
  readonly message_id: string;
  readonly conversation_id: string;
  readonly sequence_id: number;
  readonly sender_id: string;
  readonly sender_type: 'human' | 'ai' | 'system';
  readonly message_type: string;
  readonly content: string;
  readonly timestamp: string;
  readonly metadata: Readonly<Record<string, unknown>>;
}

export interface Participant {
  readonly participant_id: string;
  readonly participant_type: 'human' | 'ai';
  readonly display_name: string;
  readonly joined_at_sequence: number;
  readonly role: 'owner' | 'member';
  readonly agent_id?: string;
}

export type ConversationMode = 'single' | 'multi';

// ---- client -> server -------------------------------------------------------------------------
export type ClientFrame =
  | { type: 'message'; message_id: string; content: string; metadata?: Record<string, unknown> }
  | { type: 'sync'; last_sequence_id: number; last_message_id?: string; last_sender_id?: string }
  | { type: 'ack'; sequence_id: number }
  | { type: 'typing'; is_typing: boolean }
  | { type: 'ping' }
  | { type: 'leave' }
  | { type: 'read'; sequence_id: number }
  | { type: 'options'; read_batches: true }
  | { type: 'edit'; message_id: string; content: string }
  | { type: 'delete'; message_id: string };

// ---- server -> client -------------------------------------------------------------------------
export interface ConnectedFrame {
  type: 'connected';
  /** The protocol version this socket speaks (docs/protocol.md); absent from servers older than the field, which spoke 1. */
  protocol_version?: number;
  conversation_id: string;
  participant_id: string;
  mode: ConversationMode;
  input_timeout?: number;
  last_sequence_id: number;
  /** What the server accepts (absent from servers older than the field): client/message-limits.ts. */
  limits?: {
    max_frame_bytes?: number;
    max_message_length?: number;
    max_metadata_bytes?: number;
    /** The participant's message budget (servers before it send none). */
    rate_limit_per_second?: number;
    rate_limit_burst?: number;
  };
  /** What the socket may opt into with an `options` frame (absent from servers older than the field, and then none). */
  features?: string[];
}
export interface ParticipantListFrame {
  type: 'participant_list';
  participants: Participant[];
  mode?: ConversationMode;
  /** Human members online (servers without presence send none). */
  online?: string[];
  /** Participant id -> the sequence id it has read up to (servers without read positions send none). */
  read_positions?: Record<string, number>;
}
export interface ParticipantUpdateFrame {
  type: 'participant_update';
  action: 'join' | 'leave';
  participant: Participant;
  participant_count: number;
}
export interface MessageFrame {
  type: 'message';
  message: ChatMessage;
}
export interface MessageAckFrame {
  type: 'message_ack';
  message_id: string;
  sequence_id: number;
  persisted: boolean;
  duplicate?: boolean;
}
/**
 * The answer to this socket's own `edit` or `delete` that the server took, also when it changed nothing (docs/protocol.md,
 * Edits and deletes). Servers before it send none: their answer is the record alone.
 */
export interface ChangeAckFrame {
  type: 'change_ack';
  reply_to: 'edit' | 'delete';
  message_id: string;
  changed: boolean;
  /** When changed: the `edit` / `redaction` record's sequence id (delivered on this socket before the ack). */
  sequence_id?: number;
  /** Edits: the message's edit count now. */
  edit_count?: number;
}
export interface ModeChangeFrame {
  type: 'mode_change';
  mode: ConversationMode;
}
export interface TypingFrame {
  type: 'typing';
  participant_id: string;
  is_typing: boolean;
}
/** A human member came online or went offline (never about this participant itself). */
export interface PresenceFrame {
  type: 'presence';
  participant_id: string;
  online: boolean;
}
/** A member's read position rose (docs/protocol.md, Read positions). */
export interface ReadFrame {
  type: 'read';
  participant_id: string;
  sequence_id: number;
}
/** The read positions raised since the last batch, on a socket that asked for batches (docs/protocol.md, Read positions). */
export interface ReadBatchFrame {
  type: 'read_batch';
  positions: Record<string, number>;
}
/** Presence changes since the last batch, each member with its state now, on a socket that offered presence batches. */
export interface PresenceBatchFrame {
  type: 'presence_batch';
  changes: Record<string, boolean>;
}
export interface SyncCompleteFrame {
  type: 'sync_complete';
  from: number;
  to: number;
  recovered: boolean;
  /** Only answering a `history` bound: ids after the resume point, before `from`, were not sent (docs/protocol.md). */
  has_earlier?: boolean;
}
/** Before a resume's replay: our records after `after` (up to `last_sequence_id`) are not the server's; drop them. */
export interface ResetFrame {
  type: 'reset';
  after: number;
  last_sequence_id: number;
}
export interface ErrorFrame {
  type: 'error';
  /** Stable error code string, e.g. CHAT_ERR_QUEUE_FULL. */
  error: string;
  /** Numeric code (mirrors HTTP where one fits: 429, 400, ...). */
  code: number;
  message: string;
  /**
   * The `type` of the client frame this error answers (a refused `sync` and a refused `leave` share a code and carry
   * no message_id); absent when it answers none, and from servers older than the field: answeredFrameType().
   */
  reply_to?: ClientFrame['type'];
  retry_after_ms?: number;
  /** The client message this error is about, when it is about one. */
  message_id?: string;
  /** CHAT_ERR_MESSAGE_ID_REUSED: the sequence id of the record first accepted under message_id. */
  sequence_id?: number;
}
export interface PongFrame {
  type: 'pong';
}
/** Sent by servers that report durability separately from message_ack. */
export interface PersistedFrame {
  type: 'persisted';
  up_to_sequence_id: number;
}

export type ServerFrame =
  | ConnectedFrame
  | ParticipantListFrame
  | ParticipantUpdateFrame
  | MessageFrame
  | MessageAckFrame
  | ChangeAckFrame
  | ModeChangeFrame
  | TypingFrame
  | PresenceFrame
  | ReadFrame
  | ReadBatchFrame
  | PresenceBatchFrame
  | SyncCompleteFrame
  | ResetFrame
  | ErrorFrame
  | PongFrame
  | PersistedFrame;

/**
 * Most records a `history` bound may ask to replay: the server's MAX_REPLAY_HISTORY (gateway/protocol/client-frames.ts),
 * mirrored here as the client is built without the server's code (test/client/resume-options.test.ts pins the two).
 */
export const MAX_REPLAY_HISTORY = 1000;

/**
 * Close codes and what the client does with them. Retriable codes reconnect (with backoff) and
 * resume from the last sequence id; fatal codes end the client ('closed' event).
 */
export const CLOSE_CODES = {
  NORMAL: 1000,
  SHUTDOWN: 1001,
  /** No close frame at all: network drop, process killed. */
  ABNORMAL: 1006,
  MALFORMED: 1007,
  POLICY: 1008,
  TOO_LARGE: 1009,
  INTERNAL: 1011,
  RESTART: 1012,
  TRY_AGAIN_LATER: 1013,
  HEARTBEAT_TIMEOUT: 4000,
  UNAUTHENTICATED: 4001,
  NOT_PARTICIPANT: 4003,
  NOT_FOUND: 4004,
  SLOW_CONSUMER: 4008,
  PARTICIPANT_LIMIT: 4009,
  TLS_REQUIRED: 4026,
  CONVERSATION_FAILED: 4503,
  /** Live on another server sharing the store (retried: the next attempt may be routed there, or the claim expire). */
  OWNED_ELSEWHERE: 4421,
} as const;

/**
 * The subprotocol the client offers on every connect: the server then refuses an upgrade with a close
 * frame carrying the close code (4001, 4003 ...) instead of an HTTP status, which browsers hide (they
 * report 1006 for any refused upgrade). The server selects it on accepted connections too.
 */
export const REFUSAL_SUBPROTOCOL = 'nlweb-chat.refusals';

/**
 * Offered beside REFUSAL_SUBPROTOCOL (never selected then), it asks for the room's presence changes as one
 * `presence_batch` frame per interval instead of a `presence` frame per member; a server before it ignores the offer.
 */
export const PRESENCE_BATCHES_SUBPROTOCOL = 'nlweb-chat.presence-batches';

/**
 * Fatal: reconnecting cannot help (auth, membership, missing conversation, limits) or would
 * repeat the same protocol violation (1007 malformed, 1008 policy, 1009 too large).
 */
export const FATAL_CLOSE_CODES: ReadonlySet<number> = new Set([
  // The server closes with 1000 only after this participant's own `leave`.
  CLOSE_CODES.NORMAL,
  CLOSE_CODES.MALFORMED,
  CLOSE_CODES.POLICY,
  CLOSE_CODES.TOO_LARGE,
  CLOSE_CODES.UNAUTHENTICATED,
  CLOSE_CODES.NOT_PARTICIPANT,
  CLOSE_CODES.NOT_FOUND,
  CLOSE_CODES.PARTICIPANT_LIMIT,
  CLOSE_CODES.TLS_REQUIRED,
  CLOSE_CODES.CONVERSATION_FAILED,
]);

/**
 * The reason of close 4001 when the socket's token expired (closed by the server at the token's `exp`, or refused at
 * the upgrade as expired): docs/protocol.md, Close codes. Another token may pass where this one no longer does.
 */
export const TOKEN_EXPIRED_CLOSE_REASON = 'GATEWAY_ERR_UNAUTHENTICATED token expired';

/** Whether a close says the token expired (4001 with TOKEN_EXPIRED_CLOSE_REASON), rather than that it is wrong. */
export function isTokenExpiredClose(code: number, reason: string): boolean {
  return code === CLOSE_CODES.UNAUTHENTICATED && reason === TOKEN_EXPIRED_CLOSE_REASON;
}

/** Whether a close code should lead to a reconnect (everything not fatal). */
export function isRetriableClose(code: number): boolean {
  return !FATAL_CLOSE_CODES.has(code);
}

/**
 * Which of our frames an `error` frame answers: its `reply_to`, or, from a server older than that field, `message` when
 * it names a message_id (such servers named only messages); undefined when it answers none we can tell.
 */
export function answeredFrameType(frame: ErrorFrame): ClientFrame['type'] | undefined {
  if (typeof frame.reply_to === 'string') return frame.reply_to;
  return typeof frame.message_id === 'string' ? 'message' : undefined;
}

/** Error codes that mean "slow down", like a 429: what they answer is asked again after retry_after_ms. */
const SLOW_DOWN_ERRORS = new Set(['CHAT_ERR_QUEUE_FULL', 'GATEWAY_ERR_RATE_LIMITED', 'GATEWAY_ERR_HELD_FOR_ORDER']);

/** Whether an `error` frame says "slow down" (code 429, or one of its codes): nothing wrong with what it answers. */
export function isSlowDown(frame: ErrorFrame): boolean {
  return frame.code === 429 || SLOW_DOWN_ERRORS.has(frame.error);
}

/** Parses a text frame; returns undefined for anything that is not an object with a string `type`. */
export function parseServerFrame(data: unknown): ServerFrame | undefined {
  if (typeof data !== 'string') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || typeof (value as { type?: unknown }).type !== 'string') return undefined;
  return value as ServerFrame;
}
