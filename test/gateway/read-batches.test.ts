import { closeAll, invalidFrames } from './harness';
import { memberId, openTypingRoom } from './typing-room';
import type { TestClient } from './ws-test-client';

afterEach(async () => {
  const invalid = invalidFrames();
  await closeAll();
  expect(invalid).toEqual([]);
});

const ROOM = 20;
const MARKS = 5;

/** The read positions a socket was told, frame by frame: `read` as one entry, `read_batch` as many. */
function positionsTold(client: TestClient): Map<string, number> {
  const told = new Map<string, number>();
  for (const f of client.frames) {
    if (f.type === 'read') told.set(f.participant_id, Math.max(f.sequence_id, told.get(f.participant_id) ?? 0));
    if (f.type === 'read_batch') for (const [id, at] of Object.entries(f.positions)) told.set(id, Math.max(at, told.get(id) ?? 0));
  }
  return told;
}
const count = (client: TestClient, type: 'read' | 'read_batch'): number => client.frames.filter((f) => f.type === type).length;

/** A room where every member but the last asks for batches; each posts one line so that there is something to read. */
async function readingRoom() {
  const room = await openTypingRoom(ROOM);
  const { members } = room;
  for (const m of members) expect((await m.waitFor('connected')).features).toEqual(['read_batches']);
  const legacy = members[ROOM - 1]!;
  for (const m of members) if (m !== legacy) m.send({ type: 'options', read_batches: true });
  for (let i = 0; i < MARKS; i++) members[i]!.send({ type: 'message', message_id: `line-${i}`, content: `line ${i}` });
  const lines = await Promise.all(members.slice(0, MARKS).map((m, i) => m.waitFor('message', (f) => f.message.message_id === `line-${i}`)));
  const ids = lines.map((f) => f.message.sequence_id).sort((a, b) => a - b);
  await room.barrier();
  return { ...room, legacy, ids };
}

// Measured with perf/large-room-storms.ts: 100 members each marking 50 records as they scrolled made every socket
// get 400 `read` frames (one per reader per second: 40,000 for the room); batched, 4 per socket.
test('a socket that asked for batches gets one read_batch per interval for the whole room, not a read frame per reader', async () => {
  const { clock, members, legacy, ids, barrier } = await readingRoom();
  // Every member marks each line as it shows it, all within one interval.
  for (const id of ids) for (const m of members) m.send({ type: 'read', sequence_id: id });
  await barrier();
  // The first raise went out at once; everything after it waits for the interval's end.
  clock.advance(1000);
  await Promise.all(members.map((m) => m.until(() => positionsTold(m).size === ROOM)));
  await barrier();

  const last = ids[ids.length - 1]!;
  const everyoneAtLast = new Map(members.map((_m, i) => [memberId(i), last]));
  for (const m of members) expect(positionsTold(m)).toEqual(everyoneAtLast);
  for (const m of members.filter((x) => x !== legacy)) {
    expect(count(m, 'read')).toBe(0);
    // The first raise at once, then one batch with the other 19 members' latest: 2 frames, whatever the room's size.
    expect(count(m, 'read_batch')).toBe(2);
  }
  // A socket that did not ask keeps the per-member frames: the first raise of each member, then its latest.
  expect(count(legacy, 'read_batch')).toBe(0);
  expect(count(legacy, 'read')).toBe(2 * ROOM);
});

test('a socket that asks after a batch went past it gets the positions as they are, once', async () => {
  const { clock, members, legacy, ids, barrier } = await readingRoom();
  const reader = members[0]!;
  reader.send({ type: 'read', sequence_id: ids[0]! });
  await barrier();
  // The legacy socket got the raise as a `read` frame and passed over its batch; asking now brings every position.
  expect(count(legacy, 'read')).toBe(1);
  legacy.send({ type: 'options', read_batches: true });
  const snapshot = await legacy.waitFor('read_batch');
  expect(snapshot.positions[memberId(0)]).toBe(ids[0]);
  expect(Object.keys(snapshot.positions)).toHaveLength(ROOM);
  // From then on it is a batch socket: the next raise comes batched, and asking again changes nothing.
  legacy.send({ type: 'options', read_batches: true });
  clock.advance(1000);
  reader.send({ type: 'read', sequence_id: ids[1]! });
  await legacy.waitFor('read_batch', (f) => f.positions[memberId(0)] === ids[1]);
  await barrier();
  expect(count(legacy, 'read')).toBe(1);
  expect(count(legacy, 'read_batch')).toBe(2);
});
