/**
 * An edit whose frame is over the server's max_frame_bytes (as its `connected` frame announces it) is refused by the
 * client itself, as an oversize send() is: an `error` event CLIENT_MESSAGE_TOO_LARGE with replyTo 'edit' and the
 * messageId, nothing sent, the connection kept. Sent, the server would close the socket with 1009, which ends the
 * client with every unacknowledged send and every other kept edit or delete. Content over max_message_length whose
 * frame fits is still the server's to refuse (GATEWAY_ERR_CONTENT_INVALID). Real server (port 0), real `ws` sockets.
 */
import { createManualClock } from '../../actors/clock';
import type { ChatClientError } from '../../client/chat-client';
import { nextEvent } from './client-events';
import { startRealStack, type RealStack } from './real-server';
import { testClients } from './test-clients';

let stack: RealStack;
const clients = testClients();

beforeEach(async () => {
  stack = await startRealStack({ config: { server: { websocket: { max_frame_bytes: 4096 } } } });
  await stack.createConversation('conv', ['alice']);
});

afterEach(async () => {
  clients.closeAll();
  await stack.close();
});

test('an edit over max_frame_bytes is refused by the client (CLIENT_MESSAGE_TOO_LARGE, replyTo edit), not sent: the connection stays and a later edit lands', async () => {
  let n = 0;
  const client = clients.open(stack.wsUrl, {
    conversationId: 'conv',
    userId: 'alice',
    clock: createManualClock(),
    generateId: () => `a-${++n}`,
  });
  const errors: ChatClientError[] = [];
  client.on('error', (e) => errors.push(e));
  const disconnected: unknown[] = [];
  client.on('disconnected', (d) => disconnected.push(d));
  await client.connect();
  const one = await client.send('one');

  // 5000 bytes of content: over the 4096-byte frame (under max_message_length, so only the frame limit is passed).
  expect(client.edit(one.message_id, 'x'.repeat(5000))).toBe(true);
  expect(errors.map((e) => [e.code, e.replyTo, e.messageId])).toEqual([['CLIENT_MESSAGE_TOO_LARGE', 'edit', one.message_id]]);
  expect(errors[0].message).toBe("edit of a-1 not sent: the edit frame is 5047 bytes, over the server's max_frame_bytes (4096)");

  const edited = nextEvent(client, 'edited');
  expect(client.edit(one.message_id, 'one, edited')).toBe(true);
  expect(await edited).toMatchObject({ messageId: one.message_id, content: 'one, edited' });
  expect(client.state).toBe('open');
  expect(disconnected).toEqual([]);
  expect(errors).toHaveLength(1);
  const stored = await stack.runtime.readMessages('conv', 0, 100);
  expect(stored.find((m) => m.message_id === one.message_id)?.content).toBe('one, edited');
});
