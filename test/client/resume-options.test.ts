import { createChatClient, type ChatClientOptions } from '../../client/chat-client';
import { MAX_REPLAY_HISTORY as CLIENT_MAX_REPLAY_HISTORY } from '../../client/protocol-frames';
import { MAX_REPLAY_HISTORY } from '../../gateway/protocol/client-frames';

/**
 * lastSequenceId and history out of range are refused when the client is made. Before, the server refused the upgrade
 * (400, close 1008) and connect() rejected with only "fatal close 1008: GATEWAY_ERR_BAD_REQUEST": the server's reason
 * ("history must be an integer from 1 to 1000") never reached the application.
 */
const make = (extra: Partial<ChatClientOptions>) => () =>
  createChatClient({ url: 'ws://127.0.0.1:8000', conversationId: 'c', userId: 'alice', ...extra }).close();

describe('createChatClient checks lastSequenceId and history', () => {
  test("its history bound is the server's", () => {
    expect(CLIENT_MAX_REPLAY_HISTORY).toBe(MAX_REPLAY_HISTORY);
  });

  test.each([
    [{ history: 0 }, 'history: 0 is not an integer from 1 to 1000'],
    [{ history: 1001 }, 'history: 1001 is not an integer from 1 to 1000'],
    [{ history: 2.5 }, 'history: 2.5 is not an integer from 1 to 1000'],
    [{ lastSequenceId: -1 }, "lastSequenceId: -1 is not an integer >= 0 or 'live'"],
    [{ lastSequenceId: 1.5 }, "lastSequenceId: 1.5 is not an integer >= 0 or 'live'"],
    [{ lastSequenceId: 'newest' as unknown as number }, "lastSequenceId: newest is not an integer >= 0 or 'live'"],
  ])('%j: RangeError', (extra, message) => {
    expect(make(extra)).toThrow(new RangeError(message));
  });

  test('the values the server takes are accepted', () => {
    for (const extra of [
      {},
      { history: 1 },
      { history: 1000 },
      { lastSequenceId: 0 },
      { lastSequenceId: 'live' as const },
      { lastSequenceId: 42, history: 5 },
    ]) {
      expect(make(extra)).not.toThrow();
    }
  });
});
