import { ERROR_CODES, type ErrorCode, type ErrorSpec } from '../actors/errors';
import type { ErrorFrame } from './protocol/server-frames';

/** Builds an `error` frame for a code of actors/errors.ts. */
export function errorFrame(code: ErrorCode, message?: string, extra: { retry_after_ms?: number; message_id?: string } = {}): ErrorFrame {
  const frame: { -readonly [K in keyof ErrorFrame]: ErrorFrame[K] } = {
    type: 'error',
    error: code,
    code: ERROR_CODES[code].frame,
    message: message ?? ERROR_CODES[code].message,
  };
  if (extra.retry_after_ms !== undefined) frame.retry_after_ms = Math.max(0, Math.ceil(extra.retry_after_ms));
  if (extra.message_id !== undefined) frame.message_id = extra.message_id;
  return frame;
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
