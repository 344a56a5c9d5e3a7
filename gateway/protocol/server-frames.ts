/**
 * Server → client frames of the WebSocket protocol (docs/protocol.md). The gateway only builds frames
 * of these shapes; test/gateway checks every frame it receives against these schemas.
 */
import type { ChatMessage, ConversationMode, Participant } from '../../actors/message-types';
import { CLIENT_FRAME_TYPES, type ClientFrameType } from './client-frames';

type Schema = Record<string, unknown>;

export interface ConnectedFrame {
  readonly type: 'connected';
  /** The protocol version this socket speaks (gateway/protocol-version.ts; servers before versions sent none: 1). */
  readonly protocol_version: number;
  readonly conversation_id: string;
  readonly participant_id: string;
  readonly mode: ConversationMode;
  /** Milliseconds the conversation waits for more human input before agents answer (per mode). */
  readonly input_timeout: number;
  /** Highest sequence id of the conversation when the connection was made. */
  readonly last_sequence_id: number;
  readonly connection_id: string;
  /** Server time, ISO-8601. */
  readonly server_time: string;
  /** What this server accepts from a client (optional: servers before it sent none). */
  readonly limits?: ConnectionLimits;
  /**
   * What this socket may ask for with an `options` frame (optional: servers before it sent none, and an event stream
   * has none): `read_batches`, one `read_batch` frame per interval instead of a `read` frame per member.
   */
  readonly features?: readonly ConnectionFeature[];
}
/** An opt-in a socket asks for with an `options` frame (docs/protocol.md, Read positions). */
export type ConnectionFeature = 'read_batches';
/** The opt-ins this gateway's sockets offer in their `connected` frame. */
export const WS_CONNECTION_FEATURES: readonly ConnectionFeature[] = Object.freeze(['read_batches']);
/**
 * The sizes past which this server refuses a client's input, so a client can refuse an oversize message itself:
 * a frame over max_frame_bytes closes the socket with 1009, which ends a client, with its other unsent messages.
 */
export interface ConnectionLimits {
  /** server.websocket.max_frame_bytes: longest frame, in bytes of UTF-8 (longer: close 1009). */
  readonly max_frame_bytes: number;
  /** chat.limits.max_message_length: longest `content`, in UTF-16 code units (longer: GATEWAY_ERR_CONTENT_INVALID). */
  readonly max_message_length: number;
  /** chat.limits.max_metadata_bytes: longest `metadata` as JSON, in UTF-8 bytes; 0 = bounded by the frame only. */
  readonly max_metadata_bytes: number;
  /**
   * chat.limits.rate_limit_per_second and rate_limit_burst: the participant's message budget, a token bucket shared by
   * all its sockets and HTTP posts (a `sync` costs a token too), so a client can pace its sends instead of meeting
   * GATEWAY_ERR_RATE_LIMITED. Optional, as a pair: servers before them sent `limits` without.
   */
  readonly rate_limit_per_second?: number;
  readonly rate_limit_burst?: number;
}
export interface ParticipantListFrame {
  readonly type: 'participant_list';
  readonly participants: readonly Participant[];
  readonly mode: ConversationMode;
  /** Ids of the human members online (presence); `presence` frames follow each later change. */
  readonly online: readonly string[];
  /** Every human member's read position (participant id -> sequence id read up to); `read` frames follow each later raise. */
  readonly read_positions: Readonly<Record<string, number>>;
}
export interface ParticipantUpdateFrame {
  readonly type: 'participant_update';
  readonly action: 'join' | 'leave';
  readonly participant: Participant;
  readonly participant_count: number;
}
export interface MessageFrame {
  readonly type: 'message';
  readonly message: ChatMessage;
}
export interface MessageAckFrame {
  readonly type: 'message_ack';
  readonly message_id: string;
  readonly sequence_id: number;
  readonly persisted: boolean;
  readonly duplicate: boolean;
}
/**
 * The answer to a member's own `edit` or `delete` frame that the server took (docs/protocol.md, Edits and deletes):
 * also when it changed nothing (the same text again, a message deleted already), which sequences no record. Sent
 * to the requesting socket only, after the record it names. Servers before it sent none.
 */
export interface ChangeAckFrame {
  readonly type: 'change_ack';
  /** The client frame answered, as an error frame's `reply_to` names it. */
  readonly reply_to: 'edit' | 'delete';
  readonly message_id: string;
  /** Whether this frame sequenced an `edit` / `redaction` record. */
  readonly changed: boolean;
  /** When changed: that record's sequence id (absent only if the record was held while the conversation restarted). */
  readonly sequence_id?: number;
  /** Edits only: the message's edit_count now (0: never edited). */
  readonly edit_count?: number;
}
export interface ModeChangeFrame {
  readonly type: 'mode_change';
  readonly mode: ConversationMode;
  readonly sequence_id: number;
}
export interface TypingFrame {
  readonly type: 'typing';
  readonly participant_id: string;
  readonly is_typing: boolean;
}
/** A human member came online or went offline (never about the receiving participant itself). */
export interface PresenceFrame {
  readonly type: 'presence';
  readonly participant_id: string;
  readonly online: boolean;
}
/** A member's read position rose (at most once per member per chat.read_positions.announce_interval_ms). */
export interface ReadFrame {
  readonly type: 'read';
  readonly participant_id: string;
  readonly sequence_id: number;
}
/**
 * Every member's read position that rose since the last batch, once per chat.read_positions.announce_interval_ms for
 * the whole conversation: instead of `read` frames, on a socket that asked with `options {read_batches: true}`.
 */
export interface ReadBatchFrame {
  readonly type: 'read_batch';
  readonly positions: Readonly<Record<string, number>>;
}
/**
 * Every member whose presence changed since the last batch, with its state now (true: online), once per
 * chat.presence.batch_interval_ms for the whole conversation: instead of `presence` frames, on a socket that offered
 * the `nlweb-chat.presence-batches` subprotocol. The socket's own member may be named (always online).
 */
export interface PresenceBatchFrame {
  readonly type: 'presence_batch';
  readonly changes: Readonly<Record<string, boolean>>;
}
export interface SyncCompleteFrame {
  readonly type: 'sync_complete';
  readonly from: number;
  readonly to: number;
  readonly recovered: boolean;
  /** Only answering a `history` bound: ids after the resume point, before `from`, were left out (page them over HTTP). */
  readonly has_earlier?: boolean;
}
/**
 * Before a resume's replay, when the client's records diverged from the conversation's (it named its last record:
 * `last_message_id` / `last_sender_id`, and the conversation holds another one there, e.g. ids handed out again
 * after a crash during a storage outage): drop the records after `after`, up to `last_sequence_id` (the resume
 * point asked for); the replay that follows starts after `after` and brings the conversation's in their place.
 */
export interface ResetFrame {
  readonly type: 'reset';
  readonly after: number;
  readonly last_sequence_id: number;
}
export interface ErrorFrame {
  readonly type: 'error';
  /** Error code from actors/errors.ts, e.g. GATEWAY_ERR_RATE_LIMITED. */
  readonly error: string;
  /** Numeric code (mirrors HTTP where one fits). */
  readonly code: number;
  readonly message: string;
  /**
   * The `type` of the client frame this error answers (a refused `sync` and a refused `leave` share a code and carry
   * no message_id). Absent when it answers no frame, or one whose type could not be read (not JSON, unknown type).
   */
  readonly reply_to?: ClientFrameType;
  readonly retry_after_ms?: number;
  /** The client message this error answers, when it answers one (an invalid one's id as sent, cut to 256 characters). */
  readonly message_id?: string;
  /** CHAT_ERR_MESSAGE_ID_REUSED: the sequence id of the record first accepted under that message_id. */
  readonly sequence_id?: number;
}
export interface PongFrame {
  readonly type: 'pong';
  readonly server_time: string;
  readonly ts?: number;
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
  | PongFrame;
export type ServerFrameType = ServerFrame['type'];

const frame = (type: string, properties: Record<string, Schema>, required: string[]): Schema => ({
  type: 'object',
  additionalProperties: false,
  required: ['type', ...required],
  properties: { type: { const: type }, ...properties },
});
const seq: Schema = { type: 'integer', minimum: 0 };
const str: Schema = { type: 'string' };
/** Longest message_id an error frame echoes: twice the valid length, so an id a little too long comes back whole. */
export const MAX_ECHOED_MESSAGE_ID_LENGTH = 256;

const id: Schema = { type: 'string', minLength: 1 };
const mode: Schema = { enum: ['single', 'multi'] };
const time: Schema = { type: 'string', minLength: 20 };

/** A Participant record (actors/message-types.ts). */
export const PARTICIPANT_SCHEMA: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['participant_id', 'participant_type', 'display_name', 'joined_at_sequence', 'role'],
  properties: {
    participant_id: id,
    participant_type: { enum: ['human', 'ai'] },
    display_name: str,
    joined_at_sequence: seq,
    role: { enum: ['owner', 'member'] },
    agent_id: str,
  },
};

/** A sequenced ChatMessage record (actors/message-types.ts). */
export const CHAT_MESSAGE_SCHEMA: Schema = {
  type: 'object',
  additionalProperties: false,
  required: [
    'message_id',
    'conversation_id',
    'sequence_id',
    'sender_id',
    'sender_type',
    'message_type',
    'content',
    'timestamp',
    'metadata',
  ],
  properties: {
    message_id: id,
    conversation_id: id,
    sequence_id: { type: 'integer', minimum: 1 },
    sender_id: id,
    sender_type: { enum: ['human', 'ai', 'system'] },
    message_type: id,
    content: str,
    timestamp: time,
    metadata: { type: 'object' },
  },
};

/** JSON Schema per server frame type. */
export const SERVER_FRAME_SCHEMAS: Readonly<Record<ServerFrameType, Schema>> = {
  connected: frame(
    'connected',
    {
      protocol_version: { type: 'integer', minimum: 1 },
      conversation_id: id,
      participant_id: id,
      mode,
      input_timeout: { type: 'integer', minimum: 0 },
      last_sequence_id: seq,
      connection_id: id,
      server_time: time,
      limits: {
        type: 'object',
        additionalProperties: false,
        required: ['max_frame_bytes', 'max_message_length', 'max_metadata_bytes'],
        properties: {
          max_frame_bytes: { type: 'integer', minimum: 1 },
          max_message_length: { type: 'integer', minimum: 1 },
          max_metadata_bytes: { type: 'integer', minimum: 0 },
          rate_limit_per_second: { type: 'number', exclusiveMinimum: 0 },
          rate_limit_burst: { type: 'integer', minimum: 1 },
        },
        dependencies: { rate_limit_per_second: ['rate_limit_burst'], rate_limit_burst: ['rate_limit_per_second'] },
      },
      features: { type: 'array', uniqueItems: true, items: { enum: ['read_batches'] } },
    },
    ['protocol_version', 'conversation_id', 'participant_id', 'mode', 'input_timeout', 'last_sequence_id', 'connection_id', 'server_time'],
  ),
  participant_list: frame(
    'participant_list',
    {
      participants: { type: 'array', items: PARTICIPANT_SCHEMA },
      mode,
      online: { type: 'array', items: id, uniqueItems: true },
      read_positions: { type: 'object', additionalProperties: seq },
    },
    ['participants', 'mode', 'online', 'read_positions'],
  ),
  participant_update: frame(
    'participant_update',
    { action: { enum: ['join', 'leave'] }, participant: PARTICIPANT_SCHEMA, participant_count: seq },
    ['action', 'participant', 'participant_count'],
  ),
  message: frame('message', { message: CHAT_MESSAGE_SCHEMA }, ['message']),
  message_ack: frame(
    'message_ack',
    { message_id: id, sequence_id: { type: 'integer', minimum: 1 }, persisted: { type: 'boolean' }, duplicate: { type: 'boolean' } },
    ['message_id', 'sequence_id', 'persisted', 'duplicate'],
  ),
  change_ack: {
    ...frame(
      'change_ack',
      {
        reply_to: { enum: ['edit', 'delete'] },
        message_id: id,
        changed: { type: 'boolean' },
        sequence_id: { type: 'integer', minimum: 1 },
        edit_count: { type: 'integer', minimum: 0 },
      },
      ['reply_to', 'message_id', 'changed'],
    ),
    // A record's id only when one was sequenced; an edit count only (and always) answering an edit.
    allOf: [
      { if: { properties: { changed: { const: false } } }, then: { properties: { sequence_id: false } } },
      {
        if: { properties: { reply_to: { const: 'edit' } } },
        then: { properties: { edit_count: seq }, required: ['edit_count'] },
        else: { properties: { edit_count: false } },
      },
    ],
  },
  mode_change: frame('mode_change', { mode, sequence_id: seq }, ['mode', 'sequence_id']),
  typing: frame('typing', { participant_id: id, is_typing: { type: 'boolean' } }, ['participant_id', 'is_typing']),
  presence: frame('presence', { participant_id: id, online: { type: 'boolean' } }, ['participant_id', 'online']),
  presence_batch: frame(
    'presence_batch',
    { changes: { type: 'object', minProperties: 1, propertyNames: { minLength: 1 }, additionalProperties: { type: 'boolean' } } },
    ['changes'],
  ),
  read: frame('read', { participant_id: id, sequence_id: seq }, ['participant_id', 'sequence_id']),
  read_batch: frame(
    'read_batch',
    { positions: { type: 'object', minProperties: 1, propertyNames: { minLength: 1 }, additionalProperties: seq } },
    ['positions'],
  ),
  sync_complete: frame('sync_complete', { from: seq, to: seq, recovered: { type: 'boolean' }, has_earlier: { type: 'boolean' } }, [
    'from',
    'to',
    'recovered',
  ]),
  reset: frame('reset', { after: seq, last_sequence_id: seq }, ['after', 'last_sequence_id']),
  error: frame(
    'error',
    {
      error: { type: 'string', pattern: '^[A-Z]+_ERR_[A-Z_]+$' },
      code: { type: 'integer', minimum: 100, maximum: 999 },
      message: str,
      reply_to: { enum: CLIENT_FRAME_TYPES },
      retry_after_ms: { type: 'integer', minimum: 0 },
      // Any string: an invalid frame's message_id is echoed as sent (even empty), cut to its first characters.
      message_id: { type: 'string', maxLength: MAX_ECHOED_MESSAGE_ID_LENGTH },
      sequence_id: { type: 'integer', minimum: 1 },
    },
    ['error', 'code', 'message'],
  ),
  pong: frame('pong', { server_time: time, ts: { type: 'number' } }, ['server_time']),
};

export const SERVER_FRAME_TYPES = Object.keys(SERVER_FRAME_SCHEMAS) as ServerFrameType[];
