import type { ChatRuntime, ConversationOutput, ReplayFeed } from '../../actors';
import { REPLAY_PAGE_BYTES, REPLAY_PAGE_RECORDS } from '../../actors/replay-pages';
import type { MemoryStore } from '../../storage-providers';
import { recordHeapBytes } from '../../storage-providers/record-heap-size';
import { range } from '../sequence-ids';
import { runtimeWithConversation } from '../storage/journal-damage';
import { collector, settle } from './runtime-helpers';
import { WatchedJournal } from './watched-journal';

/**
 * A resume's replay read a page at a time (actors/replay-pages.ts): with `replayInPages` (the gateway) nothing is
 * read at subscribe and each next() reads one bounded page; without it (embedders) the listener gets the same
 * replay as before, read in the same bounded pages. The seam with live records stays exact while others post and
 * while the journal is being written between pages.
 */

const idsOf = (outputs: readonly ConversationOutput[]): number[] =>
  outputs.flatMap((o) => (o.type === 'message' ? [o.message.sequence_id] : []));
const syncsOf = (outputs: readonly ConversationOutput[]) => outputs.filter((o) => o.type === 'sync_complete');

/** Bob's paged subscription to c1 resuming after `after`; its listener gets the live outputs only. */
async function pagedResume(runtime: ChatRuntime, after: number) {
  const live = collector();
  const subscription = await runtime.subscribe('c1', 'bob', live.listener, { afterSequenceId: after, replayInPages: true });
  return { live, subscription, feed: subscription.replay! };
}

/** Reads every remaining page of `feed`; returns them. */
async function restOf(feed: ReplayFeed): Promise<ConversationOutput[][]> {
  const pages: ConversationOutput[][] = [];
  while (!feed.done) pages.push(await feed.next());
  return pages;
}

describe('a replay read in pages', () => {
  const runtimes: ChatRuntime[] = [];
  afterEach(async () => {
    for (const runtime of runtimes.splice(0)) await runtime.close();
  });

  async function conversation(store: MemoryStore, records: number, pageRecords?: number): Promise<ChatRuntime> {
    const runtime = await runtimeWithConversation(store, records, 5, pageRecords);
    runtimes.push(runtime);
    return runtime;
  }

  test('nothing is read at subscribe; each page is one bounded read, asked for by next()', async () => {
    const store = new WatchedJournal();
    const runtime = await conversation(store, 1500);
    store.reads.length = 0;

    const { live, subscription, feed } = await pagedResume(runtime, 0);
    expect(subscription.lastSequenceId).toBe(1500);
    expect(store.reads).toEqual([]);
    expect(live.outputs).toEqual([]);

    const pages: ConversationOutput[][] = [];
    while (!feed.done) {
      const before = store.recordsRead;
      pages.push(await feed.next());
      expect(store.recordsRead - before).toBeLessThanOrEqual(REPLAY_PAGE_RECORDS);
      // Nothing is read until the next page is asked for.
      await settle();
      expect(store.reads).toHaveLength(pages.length);
    }
    expect(pages).toHaveLength(Math.ceil(1500 / REPLAY_PAGE_RECORDS));
    for (const page of pages) expect(idsOf(page).length).toBeLessThanOrEqual(REPLAY_PAGE_RECORDS);
    const all = pages.flat();
    expect(idsOf(all)).toEqual(range(1, 1500));
    expect(syncsOf(all)).toEqual([{ type: 'sync_complete', from: 1, to: 1500, recovered: true }]);
    expect(all.at(-1)?.type).toBe('sync_complete');
    expect(await feed.next()).toEqual([]);
    expect(live.outputs).toEqual([]);
  });

  test('chat.cache.replay_page_records bounds each page instead of REPLAY_PAGE_RECORDS', async () => {
    const store = new WatchedJournal();
    const runtime = await conversation(store, 40, 7);
    store.reads.length = 0;

    const { feed } = await pagedResume(runtime, 0);
    const pages = await restOf(feed);
    expect(pages.filter((page) => idsOf(page).length > 0).length).toBeGreaterThanOrEqual(Math.ceil(40 / 7));
    for (const read of store.reads) expect(read.limit).toBeLessThanOrEqual(7);
    for (const page of pages) expect(idsOf(page).length).toBeLessThanOrEqual(7);
    expect(idsOf(pages.flat())).toEqual(range(1, 40));
  });

  test('posts between pages reach the listener live, after the range; records stored between pages come once', async () => {
    const store = new WatchedJournal();
    const runtime = await conversation(store, 400);
    // 401..700 delivered but not yet in the journal: only memory (the persistence queue) has them for now.
    store.block();
    let last: { whenPersisted: Promise<unknown> } | undefined;
    for (let i = 0; i < 300; i++) last = await runtime.post('c1', { sender_id: 'alice', message_id: `u${i}`, content: `u${i}` });
    const { live, subscription, feed } = await pagedResume(runtime, 0);
    expect(subscription.lastSequenceId).toBe(700);

    const pages = [await feed.next()];
    await runtime.post('c1', { sender_id: 'alice', message_id: 'live-1', content: 'live-1' });
    const readBefore = store.recordsRead;
    pages.push(await feed.next());
    // The second page crossed from the journal (257..400) into the unstored records (401..512).
    expect(store.recordsRead - readBefore).toBe(400 - 256);
    expect(idsOf(pages[1])).toEqual(range(257, 512));
    await runtime.post('c1', { sender_id: 'alice', message_id: 'live-2', content: 'live-2' });
    // Now the journal catches up: what the next page needs left memory meanwhile, and is read from the journal.
    store.release();
    await last!.whenPersisted;
    await settle();
    pages.push(...(await restOf(feed)));

    const replay = pages.flat();
    expect(idsOf(replay)).toEqual(range(1, 700));
    expect(syncsOf(replay)).toEqual([{ type: 'sync_complete', from: 1, to: 700, recovered: true }]);
    expect(idsOf(live.outputs)).toEqual([701, 702]);
    expect(live.messages.map((m) => m.message_id)).toEqual(['live-1', 'live-2']);
  });

  test('an embedder without replayInPages gets the replay, sync_complete, then live, as before, read in the same pages', async () => {
    const store = new WatchedJournal();
    const runtime = await conversation(store, 1000);
    store.reads.length = 0;
    const bob = collector();
    const subscription = await runtime.subscribe('c1', 'bob', bob.listener, { afterSequenceId: 10 });
    expect(subscription.replay).toBeUndefined();
    expect(idsOf(bob.outputs)).toEqual(range(11, 1000));
    expect(bob.outputs.at(-1)).toEqual({ type: 'sync_complete', from: 11, to: 1000, recovered: true });
    expect(store.reads.length).toBeGreaterThan(1);
    for (const read of store.reads) expect(read.limit).toBeLessThanOrEqual(REPLAY_PAGE_RECORDS);
    await runtime.post('c1', { sender_id: 'alice', message_id: 'after', content: 'after' });
    expect(idsOf(bob.outputs).at(-1)).toBe(1001);
  });

  test('a journal read that fails mid-replay ends it there as not recovered; live records follow after the range', async () => {
    const store = new WatchedJournal();
    const runtime = await conversation(store, 800);
    const { live, feed } = await pagedResume(runtime, 0);
    const first = await feed.next();
    expect(idsOf(first)).toEqual(range(1, REPLAY_PAGE_RECORDS));
    store.failReads = true;
    const second = await feed.next();
    expect(second).toEqual([{ type: 'sync_complete', from: 1, to: 800, recovered: false }]);
    expect(feed.done).toBe(true);
    await runtime.post('c1', { sender_id: 'alice', message_id: 'after', content: 'after' });
    expect(idsOf(live.outputs)).toEqual([801]);
  });

  test('ids a bounded journal drops while the replay is under way are named where found; the rest comes once', async () => {
    const store = new WatchedJournal({ maxRecordsPerConversation: 500 });
    const runtime = await conversation(store, 500);
    const { live, feed } = await pagedResume(runtime, 0);
    const first = await feed.next();
    expect(idsOf(first)).toEqual(range(1, REPLAY_PAGE_RECORDS));
    // 300 more: the journal keeps at most 500 of 800, so 257..300 at least, not yet replayed, are gone.
    let last: { whenPersisted: Promise<unknown> } | undefined;
    for (let i = 0; i < 300; i++) last = await runtime.post('c1', { sender_id: 'alice', message_id: `n${i}`, content: `n${i}` });
    await last!.whenPersisted;
    // The bound drops in one move (memory-store.ts): at least the 44 ids after the first page.
    const gone = await store.droppedUpTo('c1');
    expect(gone).toBeGreaterThanOrEqual(300);
    expect(gone).toBeLessThan(500);
    const rest = (await restOf(feed)).flat();
    expect(rest[0]).toEqual({ type: 'sync_complete', from: REPLAY_PAGE_RECORDS + 1, to: gone, recovered: false });
    expect(idsOf(rest)).toEqual(range(gone + 1, 500));
    expect(rest.at(-1)).toEqual({ type: 'sync_complete', from: gone + 1, to: 500, recovered: true });
    expect(idsOf(live.outputs)).toEqual(range(501, 800));
  });

  test('closing the subscription mid-replay ends it: next() reads nothing more', async () => {
    const store = new WatchedJournal();
    const runtime = await conversation(store, 800);
    const { subscription, feed } = await pagedResume(runtime, 0);
    await feed.next();
    const reads = store.reads.length;
    subscription.close();
    expect(feed.done).toBe(true);
    expect(await feed.next()).toEqual([]);
    expect(store.reads).toHaveLength(reads);
  });

  test('large records: a page stops at REPLAY_PAGE_BYTES (one record when a single one is larger); the replay is whole and in order', async () => {
    const store = new WatchedJournal();
    const runtime = await conversation(store, 1);
    // Records near the human limits (10,000 characters and ~8 KB of metadata: ≈ 18 KB each), a few far larger (an
    // agent's piece may carry up to 100,000 characters and metadata without a bound), a few small.
    const long = 'x'.repeat(10_000);
    for (let i = 0; i < 400; i++) {
      const huge = i % 97 === 50;
      const small = i % 41 === 7;
      await runtime.post('c1', {
        sender_id: 'alice',
        message_id: `big${i}`,
        content: small ? `small ${i}` : long,
        ...(small ? {} : { metadata: { blob: 'm'.repeat(huge ? 300_000 : 8_000) } }),
      });
    }
    const head = (await runtime.getConversation('c1')).last_sequence_id;
    store.reads.length = 0;

    const { feed } = await pagedResume(runtime, 0);
    const pages = await restOf(feed);
    const pageBytes = pages.map((page) => page.reduce((n, o) => n + (o.type === 'message' ? recordHeapBytes(o.message) : 0), 0));
    pages.forEach((page, i) => {
      if (idsOf(page).length > 1) expect(pageBytes[i]).toBeLessThanOrEqual(REPLAY_PAGE_BYTES);
    });
    // The pages held near the bound; the 4 huge records (i = 50, 147, 244, 341) came one to a page: no stall on one.
    expect(Math.max(...pageBytes.filter((_, i) => idsOf(pages[i]).length > 1))).toBeGreaterThan(REPLAY_PAGE_BYTES * 0.9);
    expect(pages.filter((page, i) => idsOf(page).length === 1 && pageBytes[i] > REPLAY_PAGE_BYTES)).toHaveLength(4);
    const all = pages.flat();
    expect(idsOf(all)).toEqual(range(1, head));
    expect(syncsOf(all)).toEqual([{ type: 'sync_complete', from: 1, to: head, recovered: true }]);
    // The first read asks for a full page of records (sizes unknown yet), then the reads ask for about what fits: the
    // records read again after a cut stay a small part of the range (722 read for 403; reads doubling after each
    // uncut page instead: 789).
    expect(store.recordsRead).toBeLessThan(head + REPLAY_PAGE_RECORDS + head / 4);
    await runtime.close();
  });
});
