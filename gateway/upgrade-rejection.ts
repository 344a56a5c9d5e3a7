import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { ChatError, type ErrorCode } from '../actors/errors';

/** Refuses an upgrade with a plain HTTP answer carrying the JSON error body, then drops the socket. */
export function rejectUpgrade(socket: Duplex, code: ErrorCode, message?: string): void {
  if (socket.destroyed) return;
  const err = new ChatError(code, message);
  const status = err.spec.http;
  const body = JSON.stringify({ error: code, code: status, message: err.message });
  const headers = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'Connection: close',
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
  ];
  if (code === 'GATEWAY_ERR_UNAUTHENTICATED') headers.push('WWW-Authenticate: Bearer');
  socket.once('finish', () => socket.destroy());
  socket.end(`${headers.join('\r\n')}\r\n\r\n${body}`);
}
