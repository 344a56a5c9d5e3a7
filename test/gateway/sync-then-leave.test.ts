import type { ConversationOutput } from '../../actors';
import { closeAll, invalidFrames, startHarness } from './harness';
import { NextTurnReads } from './next-turn-reads';
import type { TestClient } from './ws-test-client';

/**
 * A socket that sends `sync` and then `leave` (its own post sequenced in between) gets the sync's replay, its
 * sync_complete, and only then its leave record and close 1000. Found by the random-sessions property test (seed
 * 382594909): the leave ended the subscription the sync had just made, which cut its replay, and the socket got its
 * leave record (6) without the post before it (5), and no sync_complete.
 */

afterEach(async () => {
  const invalid = invalidFrames();
  await closeAll();
  expect(invalid).toEqual([]);
});

/** The message frames and sync_completes a socket got after its `index`th frame, as short strings. */
function streamAfter(client: TestClient, index: number): string[] {
  return client.frames
    .slice(index)
    .filter((f) => f.type === 'message' || f.type === 'sync_complete')
    .map((f) => (f.type === 'message' ? `${f.message.message_type}:${f.message.sequence_id}` : `sync_complete:${f.from}-${f.to}`));
}

describe('a sync followed by a leave over the same socket', () => {
  it('its own post (sent before the sync), sync_complete, its leave record, then close 1000', async () => {
    const h = await startHarness({ chat: { cache: { recent_messages: 2 } } });
    const conv = await h.createConversation('u0', ['u1', 'u2']);
    const c = await h.connect(conv, 'u0');
    const last = (await c.waitFor('connected')).last_sequence_id;
    await c.waitFor('participant_list');
    const before = c.frames.length;
    c.send({ type: 'message', message_id: 'm1', content: 'hi' });
    c.send({ type: 'sync', last_sequence_id: last });
    c.send({ type: 'leave' });
    expect((await c.closed).code).toBe(1000);

    expect(streamAfter(c, before)).toEqual([`text:${last + 1}`, `sync_complete:${last + 1}-${last + 1}`, `leave:${last + 2}`]);
    const ack = c.frames.find((f) => f.type === 'message_ack');
    expect(ack).toMatchObject({ message_id: 'm1', sequence_id: last + 1 });
    // The leave record is the last record; its participant_update follows it.
    expect(c.frames.at(-1)).toMatchObject({ type: 'participant_update', action: 'leave' });
  });

  it('a replay of many pages read from a slow journal is written whole before the leave record', async () => {
    const h = await startHarness({ chat: { cache: { recent_messages: 1 } } }, { store: new NextTurnReads() });
    const conv = await h.createConversation('u0', ['u1']);
    const posted: number[] = [];
    for (let i = 0; i < 300; i++) {
      const ack = await h.runtime.post(conv, { sender_id: 'u1', message_id: `p${i}`, content: `post ${i} ${'x'.repeat(400)}` });
      posted.push(ack.sequence_id);
    }
    const c = await h.connect(conv, 'u0');
    const last = (await c.waitFor('connected')).last_sequence_id;
    await c.waitFor('participant_list');
    const before = c.frames.length;
    c.send({ type: 'sync', last_sequence_id: 0 });
    c.send({ type: 'leave' });
    expect((await c.closed).code).toBe(1000);

    const ids = c.frames.slice(before).flatMap((f) => (f.type === 'message' ? [f.message.sequence_id] : []));
    expect(ids).toEqual(Array.from({ length: last + 1 }, (_, i) => i + 1));
    expect(streamAfter(c, before).slice(-2)).toEqual([`sync_complete:1-${last}`, `leave:${last + 1}`]);
    expect(posted.at(-1)).toBe(last);
  });
});

describe("runtime: a member's own leave does not cut the paged replay its subscription began with", () => {
  it('the replay reads on to its end after the leave; the subscriber closing it ends it', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice', ['bob']);
    for (let i = 0; i < 3; i++) await h.runtime.post(conv, { sender_id: 'alice', message_id: `a${i}`, content: `a${i}` });
    const live: ConversationOutput[] = [];
    const sub = await h.runtime.subscribe(conv, 'bob', (o) => live.push(o), { afterSequenceId: 0, replayInPages: true });
    await h.runtime.leave(conv, 'bob');
    expect(live.map((o) => o.type)).toContain('closed');

    const replayed: string[] = [];
    while (!sub.replay!.done) {
      for (const o of await sub.replay!.next()) replayed.push(o.type === 'message' ? `${o.message.sequence_id}` : o.type);
    }
    expect(replayed).toEqual([...Array.from({ length: sub.lastSequenceId }, (_, i) => `${i + 1}`), 'sync_complete']);

    const again = await h.runtime.subscribe(conv, 'alice', () => undefined, { afterSequenceId: 0, replayInPages: true });
    again.close();
    expect(again.replay!.done).toBe(true);
    expect(await again.replay!.next()).toEqual([]);
  });
});
