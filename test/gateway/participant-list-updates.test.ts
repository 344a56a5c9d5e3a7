import { closeAll, invalidFrames, startHarness } from './harness';

afterEach(async () => {
  const invalid = invalidFrames();
  await closeAll();
  expect(invalid).toEqual([]);
});

const ids = (f: { participants: ReadonlyArray<{ participant_id: string }> }): string[] =>
  f.participants.map((p) => p.participant_id).sort();

// Found by random-sessions.property.test.ts: the list sent after a live join or leave named the members
// (and mode) from before it, so a client replacing its roster from the list lost the joiner and kept the leaver.
test('the participant_list after a live join or leave names the members and mode after it', async () => {
  const h = await startHarness();
  const conv = await h.createConversation('alice');
  const alice = await h.connect(conv, 'alice');
  expect(ids(await alice.next('participant_list'))).toEqual(['alice']);

  expect((await h.request('POST', `/chat/conversations/${conv}/join`, 'bob')).status).toBe(200);
  await alice.next('participant_update', (f) => f.action === 'join');
  const afterJoin = await alice.next('participant_list');
  expect(ids(afterJoin)).toEqual(['alice', 'bob']);
  expect(afterJoin.mode).toBe('multi');

  expect((await h.request('POST', `/chat/conversations/${conv}/leave`, 'bob')).status).toBe(200);
  await alice.next('participant_update', (f) => f.action === 'leave');
  const afterLeave = await alice.next('participant_list');
  expect(ids(afterLeave)).toEqual(['alice']);
  expect(afterLeave.mode).toBe('single');
});
