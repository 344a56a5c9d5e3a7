import type { ConversationOutput } from '../../actors';
import { AFTER_LEAVE } from '../../gateway/client-frame-dispatch';
import { closeAll, invalidFrames, startHarness } from './harness';

afterEach(async () => {
  const invalid = invalidFrames();
  await closeAll();
  expect(invalid).toEqual([]);
});

// docs/replay.md (--as) and docs/protocol.md: a leaver's own leave record is the last record it gets, even when
// the leave switches the mode in the same step; the others get the mode_change record after it.
describe('what a participant whose leave changes the mode receives', () => {
  it('runtime.subscribe: its leave record, the participant list (with the new mode), closed', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice', ['bob']);
    const bobSaw: ConversationOutput[] = [];
    const aliceSaw: ConversationOutput[] = [];
    await h.runtime.subscribe(conv, 'bob', (o) => bobSaw.push(o));
    await h.runtime.subscribe(conv, 'alice', (o) => aliceSaw.push(o));
    await h.runtime.leave(conv, 'bob');

    const shape = (o: ConversationOutput) =>
      o.type === 'message'
        ? `${o.message.message_type}:${o.message.sender_id}`
        : o.type === 'participants'
          ? `participants:${o.participants.map((p) => p.participant_id).join(',')}:${o.mode}`
          : o.type === 'closed'
            ? `closed:${o.reason}`
            : o.type === 'presence'
              ? `presence:${o.participant_id}:${o.online}`
              : o.type;
    // Alice subscribed after bob: bob was told she came online (presence is not about the leave).
    expect(bobSaw.filter((o) => o.type !== 'persisted').map(shape)).toEqual([
      'presence:alice:true',
      'leave:bob',
      'participants:alice:single',
      'closed:removed',
    ]);
    expect(aliceSaw.filter((o) => o.type !== 'persisted').map(shape)).toEqual([
      'leave:bob',
      'mode_change:system',
      'participants:alice:single',
    ]);
  });

  it('WebSocket: message (its leave), participant_update, close 1000; never the mode change nor another list', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice', ['bob']);
    const alice = await h.connect(conv, 'alice');
    const bob = await h.connect(conv, 'bob');
    await bob.waitFor('participant_list');
    const before = bob.frames.length;
    bob.send({ type: 'leave' });
    expect((await bob.closed).code).toBe(1000);
    const after = bob.frames.slice(before);
    expect(after.map((f) => (f.type === 'message' ? `message:${f.message.message_type}` : f.type))).toEqual([
      'message:leave',
      'participant_update',
    ]);
    expect(after[1]).toMatchObject({ action: 'leave', participant: { participant_id: 'bob' }, participant_count: 1 });
    // The one who stays gets the mode change: the record and its mode_change frame.
    const record = await alice.waitFor('message', (f) => f.message.message_type === 'mode_change');
    expect(await alice.waitFor('mode_change')).toMatchObject({ mode: 'single', sequence_id: record.message.sequence_id });
  });
});

describe('frames after leave on the same socket', () => {
  test('a message or edit sent right behind leave is refused with an error frame before the close, typing is dropped, ping answered', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice', ['bob']);
    const alice = await h.connect(conv, 'alice');
    const bob = await h.connect(conv, 'bob');
    await bob.waitFor('participant_list');
    bob.send({ type: 'message', message_id: 'before', content: 'last words' });
    await bob.waitFor('message_ack', (a) => a.message_id === 'before');
    // One TCP write: the server reads the leave and everything behind it in the same turn.
    const socket = (bob.ws as unknown as { _socket: { cork(): void; uncork(): void } })._socket;
    socket.cork();
    bob.send({ type: 'leave' });
    bob.send({ type: 'message', message_id: 'after', content: 'one more thing' });
    bob.send({ type: 'edit', message_id: 'before', content: 'changed my mind' });
    bob.send({ type: 'typing', is_typing: true });
    bob.send({ type: 'ping' });
    socket.uncork();
    expect((await bob.closed).code).toBe(1000);

    const refused = bob.frames.filter((f) => f.type === 'error');
    expect(refused).toEqual([
      { type: 'error', error: 'CHAT_ERR_NOT_PARTICIPANT', code: 403, message: AFTER_LEAVE, reply_to: 'message', message_id: 'after' },
      { type: 'error', error: 'CHAT_ERR_NOT_PARTICIPANT', code: 403, message: AFTER_LEAVE, reply_to: 'edit', message_id: 'before' },
    ]);
    expect(bob.frames.some((f) => f.type === 'pong')).toBe(true);
    expect(bob.frames.some((f) => f.type === 'message_ack' && f.message_id === 'after')).toBe(false);

    await alice.waitFor('participant_update', (u) => u.action === 'leave');
    const page = await h.request('GET', `/chat/conversations/${conv}/messages?after=0&limit=100`, 'alice');
    const records = page.body.messages as Array<{ message_id: string; message_type: string; content: string }>;
    expect(records.filter((m) => m.message_id === 'after')).toEqual([]);
    expect(records.find((m) => m.message_id === 'before')?.content).toBe('last words');
    expect(alice.frames.some((f) => f.type === 'typing')).toBe(false);
  });

  test('a message read just before the leave still gets its ack, and the one after its refusal, before the close', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice', ['bob']);
    const bob = await h.connect(conv, 'bob');
    await bob.waitFor('participant_list');
    const socket = (bob.ws as unknown as { _socket: { cork(): void; uncork(): void } })._socket;
    socket.cork();
    bob.send({ type: 'message', message_id: 'm1', content: 'in flight' });
    bob.send({ type: 'leave' });
    bob.send({ type: 'message', message_id: 'm2', content: 'too late' });
    socket.uncork();
    expect((await bob.closed).code).toBe(1000);
    const answers = bob.frames.filter((f) => f.type === 'message_ack' || f.type === 'error');
    expect(answers).toEqual([
      expect.objectContaining({ type: 'message_ack', message_id: 'm1', duplicate: false }),
      expect.objectContaining({ type: 'error', error: 'CHAT_ERR_NOT_PARTICIPANT', message_id: 'm2', reply_to: 'message' }),
    ]);
    const page = await h.request('GET', `/chat/conversations/${conv}/messages?after=0&limit=100`, 'alice');
    const ids = (page.body.messages as Array<{ message_id: string }>).map((m) => m.message_id);
    expect(ids).toContain('m1');
    expect(ids).not.toContain('m2');
  });
});
