/**
 * A `read` frame the runtime refuses is answered like any refused frame: an `error` frame with the runtime's code and
 * `reply_to: "read"` (docs/protocol.md, Client → server), not dropped silently, so a client knows its mark was not
 * taken. Real server on port 0; the conversation's machine is crashed through its delivery metric (the runtime's
 * telemetry), and the restart's journal read is held so the conversation stays restarting while the frame arrives.
 */
import { crashingTelemetry } from './crashing-telemetry';
import { closeAll, invalidFrames, startHarness } from './harness';

afterEach(async () => {
  const invalid = invalidFrames();
  await closeAll();
  expect(invalid).toEqual([]);
});

test('a read frame while the conversation restarts after a crash gets CHAT_ERR_RESTARTING with reply_to read; the socket stays and a re-send is taken', async () => {
  const { telemetry, crashNext } = crashingTelemetry();
  const h = await startHarness({ chat: { supervision: { max_restarts: 3 } } }, { runtimeTelemetry: telemetry });
  const conv = await h.createConversation('alice', ['bob']);
  const alice = await h.connect(conv, 'alice');
  const bob = await h.connect(conv, 'bob');
  await alice.waitFor('participant_list');
  await bob.waitFor('participant_list');

  // The restart reads the conversation back from the store: held until the test lets it go.
  const getConversation = h.store.getConversation.bind(h.store);
  let letGo!: () => void;
  const held = new Promise<void>((resolve) => (letGo = resolve));
  const restarting = new Promise<void>((resolve) => {
    const spy = jest.spyOn(h.store, 'getConversation').mockImplementationOnce(async (id) => {
      spy.mockRestore();
      resolve();
      await held;
      return getConversation(id);
    });
  });
  crashNext();
  alice.send({ type: 'message', message_id: 'a1', content: 'boom' });
  const posted = (await bob.waitFor('message', (f) => f.message.message_id === 'a1')).message.sequence_id;
  await restarting;

  bob.send({ type: 'read', sequence_id: posted });
  expect(await bob.waitFor('error')).toEqual({
    type: 'error',
    error: 'CHAT_ERR_RESTARTING',
    code: 503,
    message: 'conversation is restarting after a failure; retry shortly',
    reply_to: 'read',
    retry_after_ms: 100,
  });

  letGo();
  // Sent again once the conversation runs: taken, the others hear it; the socket was never closed.
  alice.send({ type: 'message', message_id: 'a2', content: 'after the restart' });
  await bob.waitFor('message', (f) => f.message.message_id === 'a2');
  bob.send({ type: 'read', sequence_id: posted });
  await alice.waitFor('read', (f) => f.participant_id === 'bob' && f.sequence_id === posted);
  expect(bob.frames.filter((f) => f.type === 'error')).toHaveLength(1);
  expect((await h.request('GET', `/chat/conversations/${conv}`, 'bob')).body).toMatchObject({ read_up_to: posted, unread_count: 1 });
});
