import WebSocket from 'ws';
import { REPLAY_PAGE_RECORDS } from '../../actors/replay-pages';
import type { ConfigInput } from '../../config/config-types';
import { range } from '../sequence-ids';
import { WatchedJournal } from '../actors/watched-journal';
import { closeAll, invalidFrames, startHarness, type Harness } from './harness';
import {
  BULK_HISTORY_LIMITS,
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

/**
 * A resume's replay is read from the journal a page at a time, as its socket takes it (actors/replay-pages.ts,
 * gateway/paced-outputs.ts): real server on port 0, real ws clients, a memory journal that counts its reads and
 * can hold its writes back. On the gateway that read the whole range before the upgrade ended, a reader that takes
 * nothing had all 8,000 records read for it.
 */
afterEach(async () => {
  const invalid = invalidFrames();
  await closeAll();
  expect(invalid).toEqual([]);
});

const RECORDS = 8000;
const STALL_MS = 5000;

const LIMITS: ConfigInput = { ...BULK_HISTORY_LIMITS, server: { websocket: { replay_stall_ms: STALL_MS } } };

async function storedUpTo(h: Harness, conv: string, last: number): Promise<void> {
  while ((await h.store.lastSequenceId(conv)) < last) await new Promise((resolve) => setImmediate(resolve));
}

describe('a resume replay read in pages', () => {
  test('a reader that takes nothing has about one page read for it beyond what its socket took; reading on, it gets the whole range once', async () => {
    const store = new WatchedJournal();
    const warned = warnings();
    const watch = stallWatch(STALL_MS);
    const h = await startHarness(LIMITS, { store, clock: watch.clock, logger: warned.logger });
    const conv = await h.createConversation('alice', ['bob']);
    await fillHistory(h, conv, RECORDS);
    const last = (await h.runtime.getConversation(conv)).last_sequence_id;
    await storedUpTo(h, conv, last);
    const readBefore = store.recordsRead;

    const serverSide = nextServerSocket(h);
    const bob = resumeFromStart(h, conv, (ws) => rawSocket(ws).pause());
    // The record frames the server writes to bob.
    const written = writtenCount(await serverSide, '"type":"message"');
    await bob.opened;
    // The socket buffers are full and the replay waits for them to drain.
    await replayWaiting(watch, warned);
    expect(written()).toBeGreaterThan(0);
    expect(written()).toBeLessThan(last);
    expect(store.recordsRead - readBefore).toBeLessThanOrEqual(written() + REPLAY_PAGE_RECORDS);
    expect(store.largestRead).toBeLessThanOrEqual(REPLAY_PAGE_RECORDS);

    rawSocket(bob.ws).resume();
    const sync = await bob.waitFor('sync_complete');
    expect(sync).toEqual({ type: 'sync_complete', from: 1, to: last, recovered: true });
    expect(bob.sequenceIds()).toEqual(range(1, last));
    expect(store.largestRead).toBeLessThanOrEqual(REPLAY_PAGE_RECORDS);
    expect(warned.lines).toEqual([]);
  });

  test('posts between pages and a journal that catches up mid-replay: the replay, sync_complete, then the posts, each id once', async () => {
    const store = new WatchedJournal();
    const warned = warnings();
    const h = await startHarness(
      { ...LIMITS, chat: { ...LIMITS.chat, cache: { recent_messages: 20 } }, server: { websocket: { high_water_bytes: 256 * 1024 } } },
      { store, logger: warned.logger },
    );
    const conv = await h.createConversation('alice', ['bob']);
    await fillHistory(h, conv, 6000);
    await storedUpTo(h, conv, (await h.runtime.getConversation(conv)).last_sequence_id);
    // The last 500 of the range are delivered but not written when bob resumes: only memory has them at first.
    store.block();
    await Promise.all(range(1, 500).map((i) => h.runtime.post(conv, { sender_id: 'alice', message_id: `u${i}`, content: RECORD_CONTENT })));
    const upTo = (await h.runtime.getConversation(conv)).last_sequence_id;
    expect(await h.store.lastSequenceId(conv)).toBeLessThan(upTo - 400);
    const alice = await h.connect(conv, 'alice');

    const bob = resumeFromStart(h, conv, readSlowly);
    await bob.waitFor('message');
    const posts = range(0, 9).map((i) => `during-${i}`);
    for (const [i, id] of posts.entries()) {
      alice.send({ type: 'message', message_id: id, content: id });
      // The journal catches up half way through the posts, while the replay is still going.
      if (i === 4) store.release();
      await alice.waitFor('message_ack', (a) => a.message_id === id);
    }
    expect(bob.frames.some((f) => f.type === 'sync_complete')).toBe(false);

    await bob.waitFor('message', (f) => f.message.message_id === posts[posts.length - 1]);
    const syncAt = bob.frames.findIndex((f) => f.type === 'sync_complete');
    expect(bob.frames[syncAt]).toEqual({ type: 'sync_complete', from: 1, to: upTo, recovered: true });
    const ids = bob.sequenceIds();
    expect(ids).toEqual(range(1, upTo + posts.length));
    const live = bob.frames.slice(syncAt + 1).flatMap((f) => (f.type === 'message' ? [f.message.message_id] : []));
    expect(live).toEqual(posts);
    expect(store.largestRead).toBeLessThanOrEqual(REPLAY_PAGE_RECORDS);
    expect(bob.ws.readyState).toBe(WebSocket.OPEN);
    expect(warned.lines).toEqual([]);
  });
});
