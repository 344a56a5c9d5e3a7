import { closeAll, invalidFrames, startHarness } from './harness';
import { SlowJournal } from './slow-journal';

afterEach(async () => {
  const invalid = invalidFrames();
  await closeAll();
  expect(invalid).toEqual([]);
});

describe('message_ack', () => {
  test('a journal that keeps up: one ack per post, persisted, after the echo; the peer gets the message', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice', ['bob']);
    const alice = await h.connect(conv, 'alice');
    const bob = await h.connect(conv, 'bob');
    for (let i = 0; i < 5; i++) alice.send({ type: 'message', message_id: `m${i}`, content: `hello ${i}` });
    await alice.until(() => alice.frames.filter((f) => f.type === 'message_ack').length === 5);
    await bob.waitFor('message', (f) => f.message.message_id === 'm4');
    const acks = alice.frames.filter((f) => f.type === 'message_ack');
    expect(acks.map((a) => [a.message_id, a.persisted, a.duplicate])).toEqual([0, 1, 2, 3, 4].map((i) => [`m${i}`, true, false]));
    for (const ack of acks) {
      const echo = alice.frames.findIndex((f) => f.type === 'message' && f.message.message_id === ack.message_id);
      expect(echo).toBeGreaterThanOrEqual(0);
      expect(echo).toBeLessThan(alice.frames.indexOf(ack));
      expect(alice.frames[echo]).toMatchObject({ message: { sequence_id: ack.sequence_id } });
    }
  });

  test('a journal slower than the turn: an ack saying persisted false, then one saying true once stored', async () => {
    const store = new SlowJournal();
    const h = await startHarness({}, { store });
    const conv = await h.createConversation('alice', ['bob']);
    const alice = await h.connect(conv, 'alice');
    store.hold();
    alice.send({ type: 'message', message_id: 'slow', content: 'waits for the journal' });
    const first = await alice.waitFor('message_ack', (a) => a.message_id === 'slow');
    expect(first.persisted).toBe(false);
    store.releaseWrites();
    const second = await alice.waitFor('message_ack', (a) => a.message_id === 'slow' && a.persisted);
    expect(second.sequence_id).toBe(first.sequence_id);
    expect(alice.frames.filter((f) => f.type === 'message_ack')).toHaveLength(2);
  });

  test('over HTTP the answer says persisted the same way: true when the journal keeps up, else false until stored', async () => {
    const store = new SlowJournal();
    const h = await startHarness({}, { store });
    const conv = await h.createConversation('alice', ['bob']);
    const post = (message_id: string) =>
      h.request('POST', `/chat/conversations/${conv}/messages`, 'alice', { message_id, content: 'over http' });
    expect((await post('fast')).body).toEqual({ message_id: 'fast', sequence_id: expect.any(Number), persisted: true, duplicate: false });
    store.hold();
    const slow = await post('slow');
    expect(slow.body).toMatchObject({ persisted: false, duplicate: false });
    const written = store.nextWrite();
    store.releaseWrites();
    await written;
    // No second answer over HTTP: a re-send of the id is how an HTTP client learns it is stored.
    expect((await post('slow')).body).toEqual({ message_id: 'slow', sequence_id: slow.body.sequence_id, persisted: true, duplicate: true });
  });
});
