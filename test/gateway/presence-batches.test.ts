import { createManualClock } from '../../actors/clock';
import { PRESENCE_BATCHES_SUBPROTOCOL, REFUSAL_SUBPROTOCOL } from '../../gateway';
import { closeAll, invalidFrames, startHarness, track } from './harness';
import { memberId } from './typing-room';
import { TestClient } from './ws-test-client';

afterEach(async () => {
  const invalid = invalidFrames();
  await closeAll();
  expect(invalid).toEqual([]);
});

const ROOM = 20;
const INTERVAL_MS = 500;
const GRACE_MS = 5000;

/** Who a socket holds online: its participant_list's `online`, then every `presence` and `presence_batch` in order. */
function onlineSeenBy(client: TestClient): Set<string> {
  const online = new Set<string>();
  for (const f of client.frames) {
    if (f.type === 'participant_list') for (const id of f.online) online.add(id);
    const changes = f.type === 'presence' ? { [f.participant_id]: f.online } : f.type === 'presence_batch' ? f.changes : {};
    for (const [id, isOnline] of Object.entries(changes)) {
      if (isOnline) online.add(id);
      else online.delete(id);
    }
  }
  return online;
}
const count = (client: TestClient, type: 'presence' | 'presence_batch'): number => client.frames.filter((f) => f.type === type).length;

/** A room of ROOM members connecting one after another; the even ones offer presence batches. */
async function connectStorm() {
  const clock = createManualClock();
  const h = await startHarness({ chat: { presence: { batch_interval_ms: INTERVAL_MS } } }, { clock, runtimeClock: clock });
  const ids = Array.from({ length: ROOM }, (_v, i) => memberId(i));
  const conversationId = await h.createConversation(ids[0]!, ids.slice(1));
  const members: TestClient[] = [];
  for (const [i, id] of ids.entries()) {
    const protocols = i % 2 === 0 ? [REFUSAL_SUBPROTOCOL, PRESENCE_BATCHES_SUBPROTOCOL] : [];
    const client = track(new TestClient(h.wsUrl(conversationId, id), {}, protocols));
    await client.waitFor('participant_list');
    members.push(client);
  }
  const barrier = async (): Promise<void> => {
    // Twice: every frame sent before was handled, then what it caused has arrived (one socket keeps its order).
    for (let round = 0; round < 2; round++)
      await Promise.all(members.filter((m) => m.ws.readyState === m.ws.OPEN).map((m) => (m.send({ type: 'ping' }), m.next('pong'))));
  };
  await barrier();
  const batched = members.filter((_m, i) => i % 2 === 0);
  const legacy = members.filter((_m, i) => i % 2 === 1);
  return { clock, h, ids, conversationId, members, batched, legacy, barrier };
}

// Measured with perf/large-room-storms.ts: 100 members connecting made 4,950 `presence` frames, ~50 per socket.
test('a connect storm: sockets that offered presence batches get two presence_batch frames, the others a frame per member', async () => {
  const { clock, ids, members, batched, legacy, barrier } = await connectStorm();
  // The first change went at once; the rest of the storm waits for the interval's end, then goes as one batch.
  clock.advance(INTERVAL_MS);
  await Promise.all(batched.map((m) => m.until(() => onlineSeenBy(m).size === ROOM)));
  await barrier();

  for (const m of members) expect([...onlineSeenBy(m)].sort()).toEqual([...ids].sort());
  for (const m of batched) {
    expect(count(m, 'presence')).toBe(0);
    expect(count(m, 'presence_batch')).toBeLessThanOrEqual(2);
  }
  // The selected subprotocol is the refusal one: the presence one is an offer the server reads, not a choice.
  expect(batched.map((m) => m.ws.protocol)).toEqual(batched.map(() => REFUSAL_SUBPROTOCOL));
  // Member 2k+1 hears of each member connecting after it: ROOM - 2k - 2 frames.
  expect(legacy.map((m) => count(m, 'presence'))).toEqual(legacy.map((_m, k) => ROOM - 2 * k - 2));
  expect(legacy.map((m) => count(m, 'presence_batch'))).toEqual(legacy.map(() => 0));
});

test('a member gone offline comes in the next batch; one that left within the interval is never shown online', async () => {
  const { clock, h, ids, conversationId, batched, legacy, barrier } = await connectStorm();
  clock.advance(INTERVAL_MS);
  await barrier();

  // m1 closes its only socket: offline after the grace, in a batch of its own (the interval has passed: at once).
  await legacy[0]!.close();
  clock.advance(GRACE_MS);
  await Promise.all(batched.map((m) => m.until(() => !onlineSeenBy(m).has(ids[1]!))));

  // A newcomer connects and leaves again before the interval ends: the batch that follows does not name it.
  const newcomer = 'late';
  await h.runtime.join(conversationId, { participant_id: newcomer, participant_type: 'human' });
  const late = await h.connect(conversationId, newcomer);
  await late.waitFor('participant_list');
  late.send({ type: 'leave' });
  expect((await late.closed).code).toBe(1000);
  clock.advance(INTERVAL_MS);
  await barrier();
  for (const m of batched) {
    const named = m.frames.flatMap((f) => (f.type === 'presence_batch' ? Object.keys(f.changes) : []));
    expect(named).not.toContain(newcomer);
    expect(onlineSeenBy(m).has(newcomer)).toBe(false);
    expect(onlineSeenBy(m).has(ids[1]!)).toBe(false);
  }
});
