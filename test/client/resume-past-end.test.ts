/**
 * A client remembering records the server no longer has (a memory journal lost in a restart) resumes past the
 * conversation's end: the server resumes it from its real end, the client moves its cursor back to it, and every
 * record after that end must reach the application. The gateway used to subscribe twice for such a resume (once to
 * learn the end, once from it): a record posted between the two was replayed by the second subscription after a
 * `connected` naming it as already there, and the client, moving its cursor to that id, dropped it as a duplicate.
 * Real server on port 0, the reference client over real ws.
 */
import { createManualClock } from '../../actors/clock';
import type { ConversationOutput, Subscription, SubscribeOptions } from '../../actors/runtime-types';
import { collectMessages, nextEvent } from './client-events';
import { startRealStack, type RealStack } from './real-server';
import { testClients } from './test-clients';

let stack: RealStack;
const clients = testClients();

beforeEach(async () => {
  stack = await startRealStack();
  await stack.createConversation('conv', ['alice', 'bob']);
});

afterEach(async () => {
  clients.closeAll();
  await stack.close();
});

test('a resume point past the end: a record posted while the server subscribes the socket is delivered, not taken for a duplicate', async () => {
  for (let i = 0; i < 3; i++) await stack.runtime.post('conv', { sender_id: 'bob', message_id: `old${i}`, content: `old${i}` });
  const head = (await stack.runtime.getConversation('conv')).last_sequence_id;

  // Bob posts right after the gateway's first subscription for alice is made, before it answers her.
  const runtime = stack.runtime;
  const subscribe = runtime.subscribe.bind(runtime);
  let posted: Promise<unknown> | undefined;
  runtime.subscribe = async (
    conversationId: string,
    participantId: string,
    listener: (output: ConversationOutput) => void,
    options?: SubscribeOptions,
  ) => {
    const subscription: Subscription = await subscribe(conversationId, participantId, listener, options);
    if (participantId === 'alice' && posted === undefined) {
      posted = runtime.post('conv', { sender_id: 'bob', message_id: 'in-between', content: 'in-between' });
      await posted;
    }
    return subscription;
  };

  const alice = clients.open(stack.wsUrl, {
    conversationId: 'conv',
    userId: 'alice',
    clock: createManualClock(),
    // She remembers 100 records; the server has `head`.
    lastSequenceId: 100,
  });
  const got = collectMessages(alice);
  const reset = nextEvent(alice, 'error', (e) => e.code === 'CLIENT_CURSOR_RESET');
  await alice.connect();
  expect((await reset).message).toContain(`server's last sequence id ${head} is below ours (100)`);

  expect(await got.waitForContent('in-between')).toBe(head + 1);
  await stack.runtime.post('conv', { sender_id: 'bob', message_id: 'after', content: 'after' });
  await got.waitForContent('after');
  expect(got.seqs).toEqual([head + 1, head + 2]);
});
