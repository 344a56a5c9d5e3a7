/**
 * Client → server frames of the WebSocket protocol (docs/protocol.md). One JSON Schema per frame type,
 * every object closed (`additionalProperties: false`); the TypeScript types mirror the schemas.
 */

type Schema = Record<string, unknown>;

/** Longest client-chosen message id. */
export const MAX_MESSAGE_ID_LENGTH = 128;
/**
 * Most records a `history` bound (the socket URL's `history=`, a `sync` frame's `history`) may ask to replay: twice
 * the largest HTTP history page, a screenful many times over. Further back is for HTTP pages (`before=`).
 */
export const MAX_REPLAY_HISTORY = 1000;

export interface ClientMessageFrame {
  readonly type: 'message';
  /** Client-chosen id; re-sending the same id is deduplicated by the runtime. */
  readonly message_id: string;
  readonly content: string;
  readonly metadata?: Record<string, unknown>;
}
export interface ClientSyncFrame {
  readonly type: 'sync';
  readonly last_sequence_id: number;
  /** Replay at most the last `history` records after last_sequence_id (docs/protocol.md, Connecting). */
  readonly history?: number;
  /**
   * The client's record at last_sequence_id (both or neither): checked against the conversation's, and a client
   * whose records diverged is reset (a `reset` frame) and replayed from before the divergence (docs/protocol.md).
   */
  readonly last_message_id?: string;
  readonly last_sender_id?: string;
}
export interface ClientAckFrame {
  readonly type: 'ack';
  readonly sequence_id: number;
}
export interface ClientTypingFrame {
  readonly type: 'typing';
  readonly is_typing: boolean;
}
export interface ClientPingFrame {
  readonly type: 'ping';
  /** Echoed in the pong (e.g. the client's send time, for round-trip measurement). */
  readonly ts?: number;
}
export interface ClientLeaveFrame {
  readonly type: 'leave';
}
/** This participant has read everything up to `sequence_id` (one position per participant, docs/protocol.md, Read positions). */
export interface ClientReadFrame {
  readonly type: 'read';
  readonly sequence_id: number;
}

/**
 * What this socket asks for of the opt-ins its `connected` frame offered (`features`): `read_batches`, the room's read
 * positions as one `read_batch` frame per interval instead of a `read` frame per member (docs/protocol.md, Read positions).
 */
export interface ClientOptionsFrame {
  readonly type: 'options';
  /** Only true: a socket that took batches keeps them (switching back could lose a raise in the switch). */
  readonly read_batches: true;
}

/**
 * Replace the content of the sender's own `text` message `message_id` (docs/protocol.md, Edits and deletes): content
 * is checked as a post's; an `edit` record tells every member. No answer when it is taken, an error frame otherwise.
 */
export interface ClientEditFrame {
  readonly type: 'edit';
  readonly message_id: string;
  readonly content: string;
}
/** Delete (redact) the sender's own message `message_id`: a `redaction` record tells every member. */
export interface ClientDeleteFrame {
  readonly type: 'delete';
  readonly message_id: string;
}

export type ClientFrame =
  | ClientMessageFrame
  | ClientSyncFrame
  | ClientAckFrame
  | ClientTypingFrame
  | ClientPingFrame
  | ClientLeaveFrame
  | ClientReadFrame
  | ClientOptionsFrame
  | ClientEditFrame
  | ClientDeleteFrame;
export type ClientFrameType = ClientFrame['type'];

const frame = (type: string, properties: Record<string, Schema>, required: string[] = []): Schema => ({
  type: 'object',
  additionalProperties: false,
  required: ['type', ...required],
  properties: { type: { const: type }, ...properties },
});
const seq: Schema = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER };
const messageId: Schema = { type: 'string', minLength: 1, maxLength: MAX_MESSAGE_ID_LENGTH };
/** Longest last_message_id / last_sender_id a resume may name (records the runtime makes have longer ids than a client's). */
export const MAX_RECORD_ID_LENGTH = 1024;
const recordField: Schema = { type: 'string', minLength: 1, maxLength: MAX_RECORD_ID_LENGTH };

/** JSON Schema per client frame type. */
export const CLIENT_FRAME_SCHEMAS: Readonly<Record<ClientFrameType, Schema>> = {
  message: frame(
    'message',
    {
      message_id: messageId,
      content: { type: 'string' },
      metadata: { type: 'object' },
    },
    ['message_id', 'content'],
  ),
  sync: {
    ...frame(
      'sync',
      {
        last_sequence_id: seq,
        history: { type: 'integer', minimum: 1, maximum: MAX_REPLAY_HISTORY },
        last_message_id: recordField,
        last_sender_id: recordField,
      },
      ['last_sequence_id'],
    ),
    dependencies: { last_message_id: ['last_sender_id'], last_sender_id: ['last_message_id'] },
  },
  ack: frame('ack', { sequence_id: seq }, ['sequence_id']),
  typing: frame('typing', { is_typing: { type: 'boolean' } }, ['is_typing']),
  ping: frame('ping', { ts: { type: 'number' } }),
  leave: frame('leave', {}),
  read: frame('read', { sequence_id: seq }, ['sequence_id']),
  options: frame('options', { read_batches: { const: true } }, ['read_batches']),
  edit: frame('edit', { message_id: messageId, content: { type: 'string' } }, ['message_id', 'content']),
  delete: frame('delete', { message_id: messageId }, ['message_id']),
};

export const CLIENT_FRAME_TYPES = Object.keys(CLIENT_FRAME_SCHEMAS) as ClientFrameType[];
