import { closeAll, invalidFrames, startHarness } from './harness';
import { NextTurnReads } from './next-turn-reads';

afterEach(async () => {
  const invalid = invalidFrames();
  await closeAll();
  expect(invalid).toEqual([]);
});

// The catch-up `read_batch` a socket gets when it asks for batches after passing one over used to be written at
// once, ahead of a `sync` replay still under way: read positions for records the socket had not been sent yet.
test("a late opt-in's catch-up read_batch comes after the replay of a sync read before it", async () => {
  const h = await startHarness({ chat: { cache: { recent_messages: 1 } } }, { store: new NextTurnReads() });
  const conv = await h.createConversation('u0', ['u1']);
  let last = 0;
  for (let i = 0; i < 200; i++) {
    last = (await h.runtime.post(conv, { sender_id: 'u1', message_id: `p${i}`, content: `post ${i} ${'x'.repeat(300)}` })).sequence_id;
  }
  const reader = await h.connect(conv, 'u1');
  const legacy = await h.connect(conv, 'u0');
  await legacy.waitFor('participant_list');
  // u1's read reaches u0 as a `read` frame; the batch that went with it was passed over (u0 had not asked).
  reader.send({ type: 'read', sequence_id: last });
  await legacy.waitFor('read', (f) => f.participant_id === 'u1');

  legacy.send({ type: 'sync', last_sequence_id: 0 });
  legacy.send({ type: 'options', read_batches: true });
  const batch = await legacy.waitFor('read_batch');
  expect(batch.positions.u1).toBe(last);
  const at = (predicate: (f: (typeof legacy.frames)[number]) => boolean) => legacy.frames.findIndex(predicate);
  const syncComplete = at((f) => f.type === 'sync_complete');
  expect(syncComplete).toBeGreaterThan(0);
  expect(at((f) => f.type === 'read_batch')).toBeGreaterThan(syncComplete);
  expect(legacy.frames.filter((f) => f.type === 'message' && f.message.sequence_id <= last)).toHaveLength(last);
});

// Found by review: the catch-up waited for the sync under way when `options` came, not the latest one. With `sync`,
// `options`, `sync` (the second naming its last record, so its subscribe reads the journal first), the first,
// superseded one settled first and the read_batch went out ahead of the second one's participant_list and replay.
test("a late opt-in between two syncs: the catch-up read_batch comes after the last sync's replay", async () => {
  const h = await startHarness({ chat: { cache: { recent_messages: 1 } } }, { store: new NextTurnReads() });
  const conv = await h.createConversation('u0', ['u1']);
  const posted: number[] = [];
  for (let i = 0; i < 200; i++) {
    posted.push(
      (await h.runtime.post(conv, { sender_id: 'u1', message_id: `p${i}`, content: `post ${i} ${'x'.repeat(300)}` })).sequence_id,
    );
  }
  const last = posted.at(-1)!;
  const reader = await h.connect(conv, 'u1');
  const legacy = await h.connect(conv, 'u0');
  await legacy.waitFor('participant_list');
  reader.send({ type: 'read', sequence_id: last });
  await legacy.waitFor('read', (f) => f.participant_id === 'u1');
  const before = legacy.frames.length;

  legacy.send({ type: 'sync', last_sequence_id: 0 });
  legacy.send({ type: 'options', read_batches: true });
  legacy.send({ type: 'sync', last_sequence_id: posted[0]!, last_message_id: 'p0', last_sender_id: 'u1' });
  await Promise.all([legacy.waitFor('read_batch'), legacy.waitFor('sync_complete')]);
  const after = legacy.frames.slice(before);
  const at = (type: string): number => after.findIndex((f) => f.type === type);
  expect(at('participant_list')).toBeGreaterThanOrEqual(0);
  expect(at('read_batch')).toBeGreaterThan(at('sync_complete'));
  expect(at('read_batch')).toBeGreaterThan(at('message'));
});
