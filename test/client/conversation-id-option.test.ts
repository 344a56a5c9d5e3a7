import { createChatClient } from '../../client/chat-client';

/**
 * An empty conversationId is refused when the client is made. Before, the client opened `/chat/ws/`, which the
 * server answers as an unknown path: connect() failed with GATEWAY_ERR_NOT_FOUND, naming no option.
 */
const make = (conversationId: unknown) => () =>
  createChatClient({ url: 'ws://127.0.0.1:8000', conversationId: conversationId as string, userId: 'alice' }).close();

describe('createChatClient checks conversationId', () => {
  test.each([
    ['', 'conversationId: "" is not a non-empty string'],
    [undefined, 'conversationId: undefined is not a non-empty string'],
    [42, 'conversationId: 42 is not a non-empty string'],
  ])('%j: RangeError', (conversationId, message) => {
    expect(make(conversationId)).toThrow(new RangeError(message));
  });

  test('a non-empty id is accepted, whatever its characters (they are escaped in the path)', () => {
    for (const id of ['c', ' ', 'a/b?c#d']) expect(make(id)).not.toThrow();
  });
});
