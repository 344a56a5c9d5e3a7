/**
 * Whether the chat page offers "send again" for a message the server refused with `code`. Refusals of the message
 * itself (too long, empty, malformed, an id already used for other content) and of this user here (not a member,
 * not allowed, no such conversation) would be refused the same way again: the page offers only to take the text
 * back into the input or to discard it. Anything else (the server busy, restarting, storage down, the connection
 * gone, a code this page does not know) may well succeed a moment later.
 */
const NEVER_AGAIN = new Set([
  'GATEWAY_ERR_CONTENT_INVALID',
  'GATEWAY_ERR_FRAME_TOO_LARGE',
  'CLIENT_MESSAGE_TOO_LARGE',
  'GATEWAY_ERR_INVALID_FRAME',
  'GATEWAY_ERR_MALFORMED_JSON',
  'CHAT_ERR_INVALID_MESSAGE',
  'CHAT_ERR_MESSAGE_ID_REUSED',
  'CHAT_ERR_NOT_PARTICIPANT',
  'CHAT_ERR_NOT_FOUND',
  'CHAT_ERR_FORBIDDEN',
]);

export function canSendAgain(code: string): boolean {
  return !NEVER_AGAIN.has(code);
}
