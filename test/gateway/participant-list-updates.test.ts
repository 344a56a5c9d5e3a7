import type { ServerFrame } from '../../gateway/protocol/server-frames';
import { closeAll, invalidFrames, startHarness } from './harness';
import type { TestClient } from './ws-test-client';

afterEach(async () => {
  const invalid = invalidFrames();
  await closeAll();
  expect(invalid).toEqual([]);
});

const ids = (f: { participants: ReadonlyArray<{ participant_id: string }> }): string[] =>
  f.participants.map((p) => p.participant_id).sort();

const shape = (f: ServerFrame): string => (f.type === 'message' ? `message:${f.message.message_type}` : f.type);

/** `client` posts and gets its own record back: every frame the server sent it before that post has arrived. */
async function barrier(client: TestClient, id: string): Promise<void> {
  client.send({ type: 'message', message_id: id, content: id });
  await client.waitFor('message_ack', (f) => f.message_id === id);
}

// docs/protocol.md: the full list once per subscription; an open socket follows joins and leaves from
// participant_update and the mode from mode_change. Re-sending the list after every join to every socket made
// a mass join cost O(members) bytes per socket per join (test/gateway/mass-join.test.ts).
test('after a live join or leave an open socket gets participant_update and mode_change, not another participant_list', async () => {
  const h = await startHarness();
  const conv = await h.createConversation('alice');
  const alice = await h.connect(conv, 'alice');
  expect(ids(await alice.next('participant_list'))).toEqual(['alice']);

  expect((await h.request('POST', `/chat/conversations/${conv}/join`, 'bob')).status).toBe(200);
  expect(await alice.next('participant_update')).toMatchObject({
    action: 'join',
    participant: { participant_id: 'bob' },
    participant_count: 2,
  });
  expect((await alice.next('mode_change')).mode).toBe('multi');
  expect((await h.request('POST', `/chat/conversations/${conv}/leave`, 'bob')).status).toBe(200);
  expect(await alice.next('participant_update')).toMatchObject({
    action: 'leave',
    participant: { participant_id: 'bob' },
    participant_count: 1,
  });
  expect((await alice.next('mode_change')).mode).toBe('single');
  await barrier(alice, 'after');

  expect(alice.frames.map(shape)).toEqual([
    'connected',
    'participant_list',
    'message:join',
    'participant_update',
    'message:mode_change',
    'mode_change',
    'message:leave',
    'participant_update',
    'message:mode_change',
    'mode_change',
    'message:text',
    'message_ack',
  ]);
});

// The replay a sync asks for carries no update frames, and a join made while the old subscription was already
// detached reached the socket in no other way: the answer to a sync starts with the list, as a welcome does.
test('a sync and a reconnect each bring the full list again, naming the members as of the end of their replay', async () => {
  const h = await startHarness();
  const conv = await h.createConversation('alice');
  const alice = await h.connect(conv, 'alice');
  await alice.next('participant_list');
  expect((await h.request('POST', `/chat/conversations/${conv}/join`, 'bob')).status).toBe(200);
  await alice.next('mode_change');
  await barrier(alice, 'before-sync');
  const head = alice.lastSequenceId();
  const before = alice.frames.length;

  alice.send({ type: 'sync', last_sequence_id: 0 });
  const done = await alice.next('sync_complete');
  expect(done).toMatchObject({ from: 1, to: head, recovered: true });
  const answer = alice.frames.slice(before);
  expect(answer.map((f) => f.type)).toEqual(['participant_list', ...Array.from({ length: head }, () => 'message'), 'sync_complete']);
  const list = answer[0];
  if (list.type !== 'participant_list') throw new Error(`the answer to the sync began with ${list.type}`);
  expect(list.mode).toBe('multi');
  expect(ids(list)).toEqual(['alice', 'bob']);

  const again = await h.connect(conv, 'alice', { last_sequence_id: '0' });
  expect(ids(await again.next('participant_list'))).toEqual(['alice', 'bob']);
});
