import { createManualClock } from '../../actors';
import { MemoryStore } from '../../storage-providers';
import { runtimeWithConversation } from '../storage/journal-damage';
import { closeAll, invalidFrames, startHarness } from './harness';
import type { TestClient } from './ws-test-client';

afterEach(async () => {
  const invalid = invalidFrames();
  await closeAll();
  expect(invalid).toEqual([]);
});

/** The `read` frames a client received, as [participant_id, sequence_id]. */
const readsOf = (c: TestClient): Array<[string, number]> =>
  c.frames.flatMap((f) => (f.type === 'read' ? [[f.participant_id, f.sequence_id] as [string, number]] : []));

/** Every frame the server sent `c` before it answered this ping has been processed and received. */
async function pinged(c: TestClient, ts: number): Promise<void> {
  c.send({ type: 'ping', ts });
  await c.waitFor('pong', (f) => f.ts === ts);
}

describe('read positions over WebSockets and HTTP', () => {
  it("the welcome carries everyone's position; rapid read frames reach the others once, then the latest per interval", async () => {
    const clock = createManualClock();
    const h = await startHarness({ chat: { read_positions: { announce_interval_ms: 1000 } } }, { runtimeClock: clock });
    const conv = await h.createConversation('alice', ['bob']);
    const alice = await h.connect(conv, 'alice');
    const joined = await alice.waitFor('participant_list');
    const bobJoinedAt = joined.participants.find((p) => p.participant_id === 'bob')!.joined_at_sequence;
    expect(joined.read_positions).toEqual({ alice: 1, bob: bobJoinedAt });
    for (let i = 1; i <= 4; i++) alice.send({ type: 'message', message_id: `a${i}`, content: `line ${i}` });
    const last = (await alice.waitFor('message', (f) => f.message.message_id === 'a4')).message.sequence_id;
    const bob = await h.connect(conv, 'bob');
    const bobTab2 = await h.connect(conv, 'bob');
    expect((await bob.waitFor('participant_list')).read_positions).toEqual({ alice: 1, bob: bobJoinedAt });

    // Bob's client marks each record as it shows it: the first raise goes out at once...
    bob.send({ type: 'read', sequence_id: last - 3 });
    await alice.waitFor('read');
    // ...the next three within the interval wait for its end, and go out as one frame with the latest.
    for (const id of [last - 2, last - 1, last]) bob.send({ type: 'read', sequence_id: id });
    await pinged(bob, 1);
    await pinged(alice, 2);
    expect(readsOf(alice)).toEqual([['bob', last - 3]]);
    clock.advance(1000);
    await alice.waitFor('read', (f) => f.sequence_id === last);
    expect(readsOf(alice)).toEqual([
      ['bob', last - 3],
      ['bob', last],
    ]);
    // Bob's tabs share the one position, and hear its raises too (the other tab clears its unread mark).
    await bobTab2.waitFor('read', (f) => f.sequence_id === last);
    expect(readsOf(bobTab2)).toEqual(readsOf(alice));

    // Lower is ignored, past the head is taken as the head: nothing to announce for either.
    clock.advance(1000);
    bob.send({ type: 'read', sequence_id: 2 });
    bob.send({ type: 'read', sequence_id: last + 50 });
    await pinged(bob, 3);
    clock.advance(1000);
    await pinged(alice, 4);
    expect(readsOf(alice)).toHaveLength(2);
    const view = await h.request('GET', `/chat/conversations/${conv}`, 'bob');
    expect(view.body).toMatchObject({ read_up_to: last, unread_count: 0 });
    // A new connection draws the positions as they are now.
    const aliceTab2 = await h.connect(conv, 'alice');
    expect((await aliceTab2.waitFor('participant_list')).read_positions).toEqual({ alice: 1, bob: last });
    // A mark over HTTP is the same position: the sockets hear it as a read frame.
    clock.advance(1000);
    expect((await h.request('POST', `/chat/conversations/${conv}/read`, 'alice', { sequence_id: last })).status).toBe(200);
    await bob.waitFor('read', (f) => f.participant_id === 'alice' && f.sequence_id === last);
  });

  it("a stored position past the journal's end (its end lost) is taken down to the end: list, summary, welcome, unread counts", async () => {
    // c1 (alice, bob) went to #10, all stored; the journal was then restored from an older copy than the read
    // positions: bob's says he read up to #30, ids the conversation will give to new records.
    const store = new MemoryStore();
    await (await runtimeWithConversation(store, 10)).close();
    await store.saveReadPositions('c1', new Map([['bob', 30]]));
    const h = await startHarness({}, { store });

    // Not live: the list answers from the store.
    const listed = await h.request('GET', '/chat/conversations', 'bob');
    expect(listed.body.conversations.map((c: Record<string, unknown>) => [c.conversation_id, c.read_up_to, c.unread_count])).toEqual([
      ['c1', 10, 0],
    ]);
    // Loaded: the actor's position, and what a connection is told.
    expect((await h.request('GET', '/chat/conversations/c1', 'bob')).body).toMatchObject({ read_up_to: 10, unread_count: 0 });
    const alice = await h.connect('c1', 'alice');
    expect((await alice.waitFor('participant_list')).read_positions).toEqual({ alice: 1, bob: 10 });

    // Records after the loss are unread to bob, though their ids are below the position the store kept.
    for (let i = 1; i <= 3; i++) alice.send({ type: 'message', message_id: `new${i}`, content: `new ${i}` });
    const newest = (await alice.waitFor('message', (f) => f.message.message_id === 'new3')).message.sequence_id;
    expect(newest).toBe(13);
    expect((await h.request('GET', '/chat/conversations/c1', 'bob')).body).toMatchObject({ read_up_to: 10, unread_count: 3 });
    const bobTab = await h.connect('c1', 'bob');
    expect((await bobTab.waitFor('participant_list')).read_positions).toEqual({ alice: 1, bob: 10 });
    // A mark raises it from there, and the others hear it.
    expect((await h.request('POST', '/chat/conversations/c1/read', 'bob', { sequence_id: 12 })).body).toMatchObject({
      read_up_to: 12,
      unread_count: 1,
    });
    await alice.waitFor('read', (f) => f.participant_id === 'bob' && f.sequence_id === 12);
  });
});
