/**
 * Addressing of the chat socket: the URL a connection opens, and how an HTTP refusal of the
 * upgrade maps onto the close code the server would have sent on an open socket (so the reconnect
 * policy, which only knows close codes, treats both alike).
 */
import { CLOSE_CODES } from './protocol-frames';

/** Builds `<base>/chat/ws/<id>?...` from the options, the resume point and a `history` bound (first connection only). */
export function buildChatSocketUrl(
  base: string,
  conversationId: string,
  params: {
    token?: string;
    userId?: string;
    lastSequenceId?: number;
    /** The record at lastSequenceId (its message_id and sender_id): the server checks it is still the conversation's. */
    lastRecord?: { readonly message_id: string; readonly sender_id: string };
    history?: number;
  },
): string {
  const root = base.replace(/^http/, 'ws').replace(/\/+$/, '');
  const q: string[] = [];
  if (params.token !== undefined) q.push(`token=${encodeURIComponent(params.token)}`);
  if (params.userId !== undefined) q.push(`user_id=${encodeURIComponent(params.userId)}`);
  if (params.lastSequenceId !== undefined) q.push(`last_sequence_id=${params.lastSequenceId}`);
  if (params.lastSequenceId !== undefined && params.lastRecord !== undefined) {
    q.push(`last_message_id=${encodeURIComponent(params.lastRecord.message_id)}`);
    q.push(`last_sender_id=${encodeURIComponent(params.lastRecord.sender_id)}`);
  }
  if (params.history !== undefined) q.push(`history=${params.history}`);
  return `${root}/chat/ws/${encodeURIComponent(conversationId)}${q.length ? `?${q.join('&')}` : ''}`;
}

/** The close code equivalent to an HTTP status that refused the upgrade. */
export function httpStatusToClose(status: number): number {
  switch (status) {
    case 400:
      // A malformed request (e.g. a bad last_sequence_id) would be refused again.
      return CLOSE_CODES.POLICY;
    case 401:
      return CLOSE_CODES.UNAUTHENTICATED;
    case 403:
      return CLOSE_CODES.NOT_PARTICIPANT;
    case 404:
      return CLOSE_CODES.NOT_FOUND;
    case 409:
      return CLOSE_CODES.PARTICIPANT_LIMIT;
    case 426:
      return CLOSE_CODES.TLS_REQUIRED;
    default:
      return CLOSE_CODES.TRY_AGAIN_LATER;
  }
}
