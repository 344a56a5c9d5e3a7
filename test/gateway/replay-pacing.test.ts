import WebSocket from 'ws';
import { range } from '../sequence-ids';
import { closeAll, invalidFrames, startHarness } from './harness';
import {
  BULK_HISTORY_LIMITS as LIMITS,
  fillHistory,
  nextServerSocket,
  rawSocket,
  readSlowly,
  RECORD_CONTENT,
  replayWaiting,
  resumeFromStart,
  stallWatch,
  warnings,
  writtenCount,
} from './slow-readers';
import type { TestClient } from './ws-test-client';

/**
 * A resume's replay goes out in bounded steps at its reader's pace (gateway/paced-outputs.ts, docs/protocol.md
 * Backpressure): real server on port 0, real ws clients, a slow link simulated by pausing the client's socket.
 * Every test fails on the gateway that wrote a replay in one go (4008 part way, or the replay's end written before
 * anything else could run).
 */
afterEach(async () => {
  const invalid = invalidFrames();
  await closeAll();
  expect(invalid).toEqual([]);
});

/** Several times what the loopback socket buffers hold for a reader that waits (1 KB each). */
const RECORDS = 8000;
const STALL_MS = 5000;

/** The ids of the `message` frames between two indexes of `client.frames`. */
function idsBetween(client: TestClient, from: number, to: number): number[] {
  return client.frames.slice(from, to).flatMap((f) => (f.type === 'message' ? [f.message.sequence_id] : []));
}

describe('a resume replay paced to its reader', () => {
  test('8,000 records (8 MB) to a client reading slowly arrive on one connection, exactly once, then the posts made meanwhile, in order', async () => {
    const warned = warnings();
    const h = await startHarness({ ...LIMITS, server: { websocket: { high_water_bytes: 256 * 1024 } } }, { logger: warned.logger });
    const conv = await h.createConversation('alice', ['bob']);
    await fillHistory(h, conv, RECORDS);
    // Connected after the fill: a live socket reading 8 MB from a busy loop would be a slow consumer itself.
    const alice = await h.connect(conv, 'alice');

    const bob = resumeFromStart(h, conv, readSlowly);
    await bob.waitFor('message');
    const posts = range(0, 19).map((i) => `during-${i}`);
    for (const id of posts) alice.send({ type: 'message', message_id: id, content: id });
    await alice.waitFor('message_ack', (a) => a.message_id === posts[posts.length - 1]);
    // Every post was made, and answered, while bob's replay was still coming.
    expect(bob.frames.some((f) => f.type === 'sync_complete')).toBe(false);

    const last = await bob.waitFor('message', (f) => f.message.message_id === posts[posts.length - 1]);
    const syncAt = bob.frames.findIndex((f) => f.type === 'sync_complete');
    const sync = bob.frames[syncAt];
    expect(sync).toMatchObject({ type: 'sync_complete', from: 1, recovered: true });
    const to = (sync as { to: number }).to;
    expect(bob.frames.slice(0, 2).map((f) => f.type)).toEqual(['connected', 'participant_list']);
    expect(idsBetween(bob, 2, syncAt)).toEqual(range(1, to));
    expect(idsBetween(bob, syncAt + 1, bob.frames.length)).toEqual(range(to + 1, last.message.sequence_id));
    const live = bob.frames.slice(syncAt + 1).flatMap((f) => (f.type === 'message' ? [f.message.message_id] : []));
    expect(live).toEqual(posts);
    expect(to).toBeGreaterThanOrEqual(RECORDS);

    expect(bob.ws.readyState).toBe(WebSocket.OPEN);
    expect(warned.lines).toEqual([]);
  });

  test("the replay does not hold the event loop: another socket's post goes out, and the reader's ping is answered, before its replay's end is written", async () => {
    const { clock } = stallWatch(STALL_MS);
    const h = await startHarness({ ...LIMITS, server: { websocket: { replay_stall_ms: STALL_MS } } }, { clock });
    const conv = await h.createConversation('alice', ['bob', 'carol']);
    await fillHistory(h, conv, RECORDS);
    const alice = await h.connect(conv, 'alice');
    const carol = await h.connect(conv, 'carol');

    const serverSide = nextServerSocket(h);
    // Bob reads the handshake, then nothing: the replay can only go as far as the socket buffers take it.
    const bob = resumeFromStart(h, conv, (ws) => {
      rawSocket(ws).pause();
      ws.send(JSON.stringify({ type: 'ping', ts: 7 }));
    });
    const bobEnds = writtenCount(await serverSide, '"type":"sync_complete"');
    await bob.opened;

    alice.send({ type: 'message', message_id: 'during', content: 'said while bob replays' });
    await carol.waitFor('message', (f) => f.message.message_id === 'during');
    expect(bobEnds()).toBe(0);

    rawSocket(bob.ws).resume();
    await bob.waitFor('message', (f) => f.message.message_id === 'during');
    const order = bob.frames.flatMap((f) => (f.type === 'pong' || f.type === 'sync_complete' ? [f.type] : []));
    expect(order).toEqual(['pong', 'sync_complete']);
    const syncAt = bob.frames.findIndex((f) => f.type === 'sync_complete');
    const to = (bob.frames[syncAt] as { to: number }).to;
    expect(idsBetween(bob, 0, syncAt)).toEqual(range(1, to));
    expect(idsBetween(bob, syncAt, bob.frames.length)).toEqual([to + 1]);
  });

  test('a reader that takes nothing is closed with 4008 after server.websocket.replay_stall_ms, and resumes from where it got', async () => {
    const warned = warnings();
    const watch = stallWatch(STALL_MS);
    const { clock } = watch;
    const h = await startHarness({ ...LIMITS, server: { websocket: { replay_stall_ms: STALL_MS } } }, { clock, logger: warned.logger });
    const conv = await h.createConversation('alice', ['bob']);
    await fillHistory(h, conv, RECORDS);
    const bob = resumeFromStart(h, conv, (ws) => rawSocket(ws).pause());
    await bob.opened;

    // The replay waits for the socket, it is not cut for what it wrote itself; time passes only from here.
    await replayWaiting(watch, warned);
    clock.advance(STALL_MS - 1);
    expect(warned.lines).toEqual([]);
    clock.advance(1);
    expect(warned.lines).toEqual([
      {
        msg: 'slow consumer disconnected',
        obj: expect.objectContaining({ replay_stalled_ms: STALL_MS, held_outputs: expect.any(Number) }),
      },
    ]);

    rawSocket(bob.ws).resume();
    expect(await bob.closed).toEqual({ code: 4008, reason: 'GATEWAY_ERR_SLOW_CONSUMER' });
    const got = bob.sequenceIds();
    expect(got).toEqual(range(1, got.length));
    expect(bob.frames.some((f) => f.type === 'sync_complete')).toBe(false);

    const again = await h.connect(conv, 'bob', { last_sequence_id: String(got.length) });
    const sync = await again.waitFor('sync_complete');
    expect([...got, ...again.sequenceIds()]).toEqual(range(1, sync.to));
  });

  test('a sync during a paced replay replaces it: the rest of the old one never comes, the new one follows in order', async () => {
    const warned = warnings();
    const watch = stallWatch(STALL_MS);
    const h = await startHarness(
      { ...LIMITS, server: { websocket: { replay_stall_ms: STALL_MS } } },
      { clock: watch.clock, logger: warned.logger },
    );
    const conv = await h.createConversation('alice', ['bob']);
    await fillHistory(h, conv, RECORDS);
    const bob = resumeFromStart(h, conv, (ws) => rawSocket(ws).pause());
    await bob.opened;
    await replayWaiting(watch, warned);

    const from = RECORDS - 10;
    bob.send({ type: 'sync', last_sequence_id: from });
    rawSocket(bob.ws).resume();
    const sync = await bob.waitFor('sync_complete');
    expect(sync).toMatchObject({ from: from + 1, recovered: true });
    const listAt = bob.frames.findIndex((f, i) => i > 1 && f.type === 'participant_list');
    const before = idsBetween(bob, 0, listAt);
    expect(before).toEqual(range(1, before.length));
    expect(before.length).toBeLessThan(from);
    expect(idsBetween(bob, listAt, bob.frames.length)).toEqual(range(from + 1, sync.to));
    expect(bob.frames.filter((f) => f.type === 'sync_complete')).toHaveLength(1);
    expect(warned.lines).toEqual([]);
  });

  test('live outputs held behind a stalled replay are bounded: past high_water_bytes the reader is closed with 4008', async () => {
    const warned = warnings();
    const watch = stallWatch(STALL_MS);
    const { clock } = watch;
    const highWater = 64 * 1024;
    const h = await startHarness(
      { ...LIMITS, server: { websocket: { replay_stall_ms: STALL_MS, high_water_bytes: highWater } } },
      { clock, logger: warned.logger },
    );
    const conv = await h.createConversation('alice', ['bob']);
    await fillHistory(h, conv, RECORDS);
    // Connected after the fill: a live socket reading 8 MB from a busy loop would be a slow consumer itself.
    const alice = await h.connect(conv, 'alice');
    const bob = resumeFromStart(h, conv, (ws) => rawSocket(ws).pause());
    await bob.opened;
    await replayWaiting(watch, warned);

    // Live posts of ~1.3 KB frames: about the 50th passes 64 KiB held, with no time passing.
    let n = 0;
    while (warned.lines.length === 0) {
      alice.send({ type: 'message', message_id: `live-${n}`, content: RECORD_CONTENT });
      await alice.waitFor('message_ack', (a) => a.message_id === `live-${n}`);
      n++;
      expect(n).toBeLessThan(200);
    }
    expect(n).toBeGreaterThan(40);
    expect(warned.lines).toEqual([
      { msg: 'slow consumer disconnected', obj: expect.objectContaining({ held_live_bytes: expect.any(Number) }) },
    ]);
    expect(warned.lines[0]!.obj.held_live_bytes as number).toBeGreaterThan(highWater);
    rawSocket(bob.ws).resume();
    expect(await bob.closed).toEqual({ code: 4008, reason: 'GATEWAY_ERR_SLOW_CONSUMER' });
  });
});
