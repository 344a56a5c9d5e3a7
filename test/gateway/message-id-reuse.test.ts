/**
 * A message_id already accepted, sent again with other content: over WebSocket an `error` frame
 * CHAT_ERR_MESSAGE_ID_REUSED (409) echoing the message_id and naming the original sequence_id, over HTTP a 409
 * with the same fields. Nobody receives a second record; a true re-send is still a duplicate ack.
 */
import { closeAll, invalidFrames, startHarness } from './harness';

afterEach(async () => {
  const invalid = invalidFrames();
  await closeAll();
  expect(invalid).toEqual([]);
});

describe('a message_id reused with different content', () => {
  test('WebSocket: an error frame naming the original sequence_id; the socket stays open, the peer gets nothing new', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice', ['bob']);
    const alice = await h.connect(conv, 'alice');
    const bob = await h.connect(conv, 'bob');
    alice.send({ type: 'message', message_id: 'm1', content: 'hello', metadata: { k: 1 } });
    const ack = await alice.waitFor('message_ack', (a) => a.message_id === 'm1');
    await bob.waitFor('message', (f) => f.message.message_id === 'm1');

    alice.send({ type: 'message', message_id: 'm1', content: 'hello, edited', metadata: { k: 1 } });
    const refused = await alice.waitFor('error', (e) => e.message_id === 'm1');
    expect(refused).toEqual({
      type: 'error',
      error: 'CHAT_ERR_MESSAGE_ID_REUSED',
      code: 409,
      message: expect.stringContaining(`sequence ${ack.sequence_id}`),
      reply_to: 'message',
      message_id: 'm1',
      sequence_id: ack.sequence_id,
    });

    // The same content again is a re-send: the duplicate ack of today, on the same open socket.
    alice.send({ type: 'message', message_id: 'm1', content: 'hello', metadata: { k: 1 } });
    const again = await alice.waitFor('message_ack', (a) => a.message_id === 'm1' && a.duplicate);
    expect(again).toMatchObject({ sequence_id: ack.sequence_id, persisted: true });
    alice.send({ type: 'message', message_id: 'm2', content: 'next' });
    const next = await bob.waitFor('message', (f) => f.message.message_id === 'm2');
    expect(next.message.sequence_id).toBe(ack.sequence_id + 1);
    expect(bob.frames.filter((f) => f.type === 'message' && f.message.message_id === 'm1')).toHaveLength(1);
  });

  test('HTTP: 409 with message_id and the original sequence_id; a true re-send is 201 duplicate', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice', ['bob']);
    const post = (body: Record<string, unknown>) => h.request('POST', `/chat/conversations/${conv}/messages`, 'alice', body);
    const first = await post({ message_id: 'm1', content: 'hello', metadata: { k: 1 } });
    expect(first.status).toBe(201);

    for (const changed of [
      { content: 'hello, edited', metadata: { k: 1 } },
      { content: 'hello', metadata: { k: 2 } },
      { content: 'hello' },
    ]) {
      const refused = await post({ message_id: 'm1', ...changed });
      expect(refused.status).toBe(409);
      expect(refused.body).toEqual({
        error: 'CHAT_ERR_MESSAGE_ID_REUSED',
        code: 409,
        message: expect.stringContaining(`sequence ${first.body.sequence_id}`),
        message_id: 'm1',
        sequence_id: first.body.sequence_id,
      });
    }

    const again = await post({ message_id: 'm1', content: 'hello', metadata: { k: 1 } });
    expect(again.status).toBe(201);
    expect(again.body).toEqual({ message_id: 'm1', sequence_id: first.body.sequence_id, persisted: true, duplicate: true });
    const history = await h.request('GET', `/chat/conversations/${conv}/messages`, 'bob');
    const m1 = (history.body.messages as Array<{ message_id: string; content: string }>).filter((m) => m.message_id === 'm1');
    expect(m1.map((m) => m.content)).toEqual(['hello']);
  });
});
