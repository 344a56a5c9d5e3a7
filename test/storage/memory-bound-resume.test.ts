import type { ChatMessage, ChatRuntime } from '../../actors';
import { MemoryStore } from '../../storage-providers';
import { collector, settle } from '../actors/runtime-helpers';
import { emptyC1ByTotalBound, runtimeOn, runtimeWithConversation, storeWithEmptiedC1 } from './journal-damage';

/**
 * A bounded memory journal seen through the runtime: readers of the dropped range learn it is gone
 * (`sync_complete.recovered: false`) and still get every record held after it, once, in order.
 */
describe('resume and history across records the memory bound dropped', () => {
  const closers: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  /** A runtime on `store` with conversation c1 (alice, bob) holding `upTo` records, all stored. */
  async function conversationOn(store: MemoryStore, upTo: number, cache = 5) {
    const runtime = await runtimeWithConversation(store, upTo, cache);
    closers.push(() => runtime.close());
    return runtime;
  }

  /** 50 stored records in c1 (alice's posts after the create), a 20-record bound and a 5-record cache. */
  async function trimmedConversation(options: { cache?: number } = {}) {
    const store = new MemoryStore({ maxRecordsPerConversation: 20 });
    const runtime = await conversationOn(store, 50, options.cache);
    expect(await store.lastSequenceId('c1')).toBe(50);
    const oldest = (await store.readMessages('c1', 0, 1))[0].sequence_id;
    expect(oldest).toBeGreaterThan(30); // the store holds at most 20 of the 50
    return { runtime, store, oldest };
  }

  /** What bob's new subscription resuming after `after` receives: its sync_complete outputs and records. */
  async function resume(runtime: ChatRuntime, after: number) {
    const bob = collector();
    await runtime.subscribe('c1', 'bob', bob.listener, { afterSequenceId: after });
    await settle();
    return { bob, syncs: bob.outputs.filter((o) => o.type === 'sync_complete'), seqs: () => seqs(bob.messages) };
  }

  const seqs = (list: readonly ChatMessage[]) => list.map((m) => m.sequence_id);
  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

  test('a subscriber resuming from before the dropped range: sync_complete recovered: false for it, every held record once, then live ones', async () => {
    const { runtime, oldest } = await trimmedConversation();
    const { bob, syncs } = await resume(runtime, 3);
    // First the range that is gone, then the held records (journal, then cache), then the rest's sync_complete.
    expect(syncs).toEqual([
      { type: 'sync_complete', from: 4, to: oldest - 1, recovered: false },
      { type: 'sync_complete', from: oldest, to: 50, recovered: true },
    ]);
    expect(bob.outputs[0]).toBe(syncs[0]);
    expect(bob.outputs.indexOf(syncs[1])).toBe(50 - oldest + 2);
    expect(seqs(bob.messages)).toEqual(range(oldest, 50));

    await runtime.post('c1', { sender_id: 'alice', message_id: 'live', content: 'live' });
    await settle();
    expect(seqs(bob.messages)).toEqual(range(oldest, 51));
  });

  test('a cache reaching further back than the bound: what the cache holds is replayed, only the rest is reported gone', async () => {
    const { runtime, oldest } = await trimmedConversation({ cache: 40 });
    expect(oldest).toBeGreaterThan(11);
    const got = await resume(runtime, 3);
    expect(got.syncs).toEqual([
      { type: 'sync_complete', from: 4, to: 10, recovered: false },
      { type: 'sync_complete', from: 11, to: 50, recovered: true },
    ]);
    expect(got.seqs()).toEqual(range(11, 50));
  });

  test('a subscriber resuming inside the held range is recovered as before', async () => {
    const { runtime, oldest } = await trimmedConversation();
    const got = await resume(runtime, oldest + 1);
    expect(got.syncs).toEqual([{ type: 'sync_complete', from: oldest + 2, to: 50, recovered: true }]);
    expect(got.seqs()).toEqual(range(oldest + 2, 50));
  });

  test('a conversation whose journal the total bound emptied: the records the cache holds are replayed, the rest reported gone', async () => {
    const store = new MemoryStore({ maxRecordsTotal: 20 });
    const runtime = await conversationOn(store, 10);
    await emptyC1ByTotalBound(runtime);
    expect(await store.readMessages('c1', 0, 100)).toEqual([]); // c1 was appended to least recently
    expect(await store.lastSequenceId('c1')).toBe(10);

    const got = await resume(runtime, 3);
    expect(got.syncs).toEqual([
      { type: 'sync_complete', from: 4, to: 5, recovered: false },
      { type: 'sync_complete', from: 6, to: 10, recovered: true },
    ]);
    expect(got.seqs()).toEqual(range(6, 10));
  });

  test('a conversation loaded after the total bound emptied its journal: history and resume name every id as dropped', async () => {
    const store = await storeWithEmptiedC1();
    expect(await store.readMessages('c1', 0, 100)).toEqual([]);
    // A new runtime on the same store loads c1 cold: nothing in its cache, nothing in the journal.
    const runtime = await runtimeOn(store);
    closers.push(() => runtime.close());

    const page = await runtime.readHistoryPage('c1', 0, 8, 'bob');
    expect({ seqs: seqs(page.messages), droppedUpTo: page.droppedUpTo }).toEqual({ seqs: [], droppedUpTo: 10 });
    const got = await resume(runtime, 3);
    expect(got.syncs).toEqual([
      { type: 'sync_complete', from: 4, to: 10, recovered: false },
      { type: 'sync_complete', from: 11, to: 10, recovered: true },
    ]);
    expect(got.seqs()).toEqual([]);
  });

  test('history pages over the dropped range start at the oldest held record and page on to the end', async () => {
    const { runtime, oldest } = await trimmedConversation();
    const pages: number[][] = [];
    let after = 0;
    for (let i = 0; i < 20; i++) {
      const page = await runtime.readMessages('c1', after, 8, 'bob');
      if (page.length === 0) break;
      pages.push(seqs(page));
      after = page[page.length - 1].sequence_id;
    }
    expect(pages[0]).toEqual(range(oldest, oldest + 7));
    expect(pages.flat()).toEqual(range(oldest, 50));
  });

  test('a history page over the dropped range names it (droppedUpTo); pages inside the held range drop nothing', async () => {
    const { runtime, oldest } = await trimmedConversation();
    const first = await runtime.readHistoryPage('c1', 0, 8, 'bob');
    expect({ seqs: seqs(first.messages), droppedUpTo: first.droppedUpTo }).toEqual({
      seqs: range(oldest, oldest + 7),
      droppedUpTo: oldest - 1,
    });
    const next = await runtime.readHistoryPage('c1', oldest + 7, 8, 'bob');
    expect({ seqs: seqs(next.messages), droppedUpTo: next.droppedUpTo }).toEqual({
      seqs: range(oldest + 8, oldest + 15),
      droppedUpTo: oldest + 7,
    });
  });
});
