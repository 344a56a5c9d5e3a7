/**
 * The `conversationId` option, checked when the client is made: an empty one addresses `/chat/ws/`, which the server
 * answers as an unknown path (GATEWAY_ERR_NOT_FOUND), so connect() ended with "not found" and nothing naming the
 * option. A JavaScript caller's missing or non-string id is named too (it became "undefined" in the path). RangeError.
 */
export function checkConversationId(conversationId: unknown): void {
  if (typeof conversationId !== 'string' || conversationId.length === 0) {
    const got = typeof conversationId === 'string' ? '""' : String(conversationId);
    throw new RangeError(`conversationId: ${got} is not a non-empty string`);
  }
}
