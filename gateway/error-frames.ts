import { ERROR_CODES, type ChatError, type ErrorCode, type ErrorSpec } from '../actors/errors';
import type { ClientFrameType } from './protocol/client-frames';
import type { ErrorFrame } from './protocol/server-frames';

/**
 * Optional fields of an `error` frame: the type of the client frame it answers, when to retry, the client message it
 * answers, a reused id's original.
 */
export interface ErrorFrameExtra {
  /** Set on every error answering a client frame whose type the server could read (docs/protocol.md, `reply_to`). */
  readonly reply_to?: ClientFrameType;
  readonly retry_after_ms?: number;
  readonly message_id?: string;
  readonly sequence_id?: number;
}

/** Which client frame an error answers: its type, and for a `message` its id. */
export interface AnsweredFrame {
  readonly reply_to: ClientFrameType;
  readonly message_id?: string;
}

/** Builds an `error` frame for a code of actors/errors.ts. */
export function errorFrame(code: ErrorCode, message?: string, extra: ErrorFrameExtra = {}): ErrorFrame {
  const frame: { -readonly [K in keyof ErrorFrame]: ErrorFrame[K] } = {
    type: 'error',
    error: code,
    code: ERROR_CODES[code].frame,
    message: message ?? ERROR_CODES[code].message,
  };
  if (extra.reply_to !== undefined) frame.reply_to = extra.reply_to;
  if (extra.retry_after_ms !== undefined) frame.retry_after_ms = Math.max(0, Math.ceil(extra.retry_after_ms));
  if (extra.message_id !== undefined) frame.message_id = extra.message_id;
  if (extra.sequence_id !== undefined) frame.sequence_id = extra.sequence_id;
  return frame;
}

/**
 * The sequence id of the accepted original a CHAT_ERR_MESSAGE_ID_REUSED names (actors/message-id-reuse.ts), for
 * the `error` frame and the HTTP body; undefined for every other error.
 */
export function reusedOriginalOf(err: ChatError): number | undefined {
  const original = err.code === 'CHAT_ERR_MESSAGE_ID_REUSED' ? err.details?.sequence_id : undefined;
  return typeof original === 'number' ? original : undefined;
}

/** Close code for a code of actors/errors.ts that ends a connection (1011 when it names none). */
export function closeCodeOf(code: ErrorCode): number {
  const spec: ErrorSpec = ERROR_CODES[code];
  return spec.close ?? 1011;
}

/**
 * Whether a runtime error answering a client frame also ends the connection, and how. Losing membership,
 * the conversation or its actor makes every later frame fail too, so the socket is closed with that code;
 * a closed runtime is a shutdown (1001, the client reconnects). Anything else leaves the socket open.
 */
export function closeAfterRuntimeError(code: ErrorCode): ErrorCode | number | undefined {
  if (code === 'CHAT_ERR_NOT_PARTICIPANT' || code === 'CHAT_ERR_NOT_FOUND' || code === 'CHAT_ERR_CONVERSATION_FAILED') return code;
  if (code === 'CHAT_ERR_CLOSED') return 1001;
  return undefined;
}
