import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChatMessage, ChatRuntime } from '../../actors';
import { MemoryStore, SqliteStore, type ChatStore } from '../../storage-providers';
import { collector, settle } from '../actors/runtime-helpers';
import { HoledStore, TailLostStore, deleteSqliteRecords, runtimeOn, runtimeWithConversation, storeWithLostTail } from './journal-damage';

/**
 * Ids missing from a journal are a trimmed history only when the store says it dropped them (a bounded
 * memory store, `droppedUpTo`). Rows missing from a SQLite file (damage) are a hole: a resume over it
 * ends not recovered instead of skipping it like a trim, and a history page passes over it without
 * naming it as dropped, so the reader sees the gap in the ids.
 */
describe('a hole in the journal is not a trimmed history', () => {
  const closers: Array<() => Promise<unknown>> = [];
  let root: string;
  beforeAll(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), 'nlweb-chat-hole-'))));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  /** A runtime on `store` (a 5-record cache) with c1 (alice, bob) holding records 1..upTo, all stored. */
  async function conversationOn(store: ChatStore, upTo: number): Promise<ChatRuntime> {
    const runtime = await runtimeWithConversation(store, upTo);
    closers.push(() => runtime.close());
    return runtime;
  }

  /** What bob's new subscription resuming after `after` receives. */
  async function resume(runtime: ChatRuntime, after: number) {
    const bob = collector();
    await runtime.subscribe('c1', 'bob', bob.listener, { afterSequenceId: after });
    await settle();
    return { syncs: bob.outputs.filter((o) => o.type === 'sync_complete'), seqs: seqs(bob.messages) };
  }

  const seqs = (list: readonly ChatMessage[]) => list.map((m) => m.sequence_id);
  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

  describe('SQLite with rows 1..4 deleted behind its back', () => {
    async function damagedSqlite() {
      const file = path.join(root, `chat-${closers.length}-${Date.now()}.db`);
      const store = new SqliteStore({ path: file });
      const runtime = await conversationOn(store, 20);
      deleteSqliteRecords(file, 'c1', 4);
      return { runtime, store };
    }

    test('the store dropped nothing on purpose', async () => {
      const { store } = await damagedSqlite();
      expect(await store.droppedUpTo('c1')).toBe(0);
      expect(seqs(await store.readMessages('c1', 0, 3))).toEqual([5, 6, 7]);
    });

    test('a resume from before the hole ends not recovered at once, with no trim before it and no record past it', async () => {
      const { runtime } = await damagedSqlite();
      for (const after of [0, 2]) {
        expect(await resume(runtime, after)).toEqual({
          syncs: [{ type: 'sync_complete', from: after + 1, to: 20, recovered: false }],
          seqs: [],
        });
      }
    });

    test('a resume after the hole is recovered as before', async () => {
      const { runtime } = await damagedSqlite();
      expect(await resume(runtime, 4)).toEqual({
        syncs: [{ type: 'sync_complete', from: 5, to: 20, recovered: true }],
        seqs: range(5, 20),
      });
    });

    test('a history page over the hole starts at the next held record and names nothing as dropped', async () => {
      const { runtime } = await damagedSqlite();
      const page = await runtime.readHistoryPage('c1', 0, 5, 'bob');
      expect({ seqs: seqs(page.messages), droppedUpTo: page.droppedUpTo }).toEqual({ seqs: range(5, 9), droppedUpTo: 0 });
      const inside = await runtime.readHistoryPage('c1', 9, 5, 'bob');
      expect({ seqs: seqs(inside.messages), droppedUpTo: inside.droppedUpTo }).toEqual({ seqs: range(10, 14), droppedUpTo: 9 });
    });
  });

  describe('a hole at the end: ids 18..20 sequenced, the journal holds up to 17, nothing held after', () => {
    /** c1 loaded cold by a new runtime (a 5-record cache: 13..17) from a store that lost 18..20. */
    async function lostTail() {
      const store = await storeWithLostTail(20, 17);
      const runtime = await runtimeOn(store);
      closers.push(() => runtime.close());
      expect((await runtime.getConversation('c1')).last_sequence_id).toBe(20);
      return runtime;
    }

    /** Pages of `limit` from `after` on nextAfter until it reaches the conversation's end (at most 10 pages). */
    async function pageThrough(runtime: ChatRuntime, after: number, limit: number) {
      const pages: { seqs: number[]; droppedUpTo: number; nextAfter: number }[] = [];
      while (pages.length < 10) {
        const page = await runtime.readHistoryPage('c1', after, limit, 'bob');
        pages.push({ seqs: seqs(page.messages), droppedUpTo: page.droppedUpTo, nextAfter: page.nextAfter });
        if (page.nextAfter <= after || page.nextAfter >= 20) break;
        after = page.nextAfter;
      }
      return pages;
    }

    test('a history page over it moves nextAfter to its end, so paging ends; it names nothing as dropped', async () => {
      const runtime = await lostTail();
      expect(await pageThrough(runtime, 17, 5)).toEqual([{ seqs: [], droppedUpTo: 17, nextAfter: 20 }]);
      expect(await pageThrough(runtime, 19, 5)).toEqual([{ seqs: [], droppedUpTo: 19, nextAfter: 20 }]);
      // From the start: every held record once, then the page at the hole covers it.
      expect(await pageThrough(runtime, 0, 5)).toEqual([
        { seqs: range(1, 5), droppedUpTo: 0, nextAfter: 5 },
        { seqs: range(6, 10), droppedUpTo: 5, nextAfter: 10 },
        { seqs: range(11, 15), droppedUpTo: 10, nextAfter: 15 },
        { seqs: [16, 17], droppedUpTo: 15, nextAfter: 17 },
        { seqs: [], droppedUpTo: 17, nextAfter: 20 },
      ]);
    });

    test('a page that reads the journal to its end covers the hole at once; a full page stops at its last record', async () => {
      const runtime = await lostTail();
      expect(await runtime.readHistoryPage('c1', 0, 18, 'bob')).toMatchObject({
        messages: range(1, 17).map(() => expect.anything()),
        nextAfter: 20,
      });
      expect((await runtime.readHistoryPage('c1', 0, 17, 'bob')).nextAfter).toBe(17);
    });

    test('a resume over it still ends not recovered (the hole is not passed over)', async () => {
      const runtime = await lostTail();
      expect(await resume(runtime, 17)).toEqual({ syncs: [{ type: 'sync_complete', from: 18, to: 20, recovered: false }], seqs: [] });
    });

    test('after a dropped start: the page names the dropped ids, returns what is held and covers the lost end', async () => {
      const store = new TailLostStore({ maxRecordsPerConversation: 10 });
      await (await runtimeWithConversation(store, 20)).close();
      const dropped = await store.droppedUpTo('c1');
      expect(dropped).toBeGreaterThan(5);
      store.keepUpTo = 15; // held: dropped + 1..15 of 1..20
      const runtime = await runtimeOn(store);
      closers.push(() => runtime.close());
      const page = await runtime.readHistoryPage('c1', 0, 100, 'bob');
      expect({ seqs: seqs(page.messages), droppedUpTo: page.droppedUpTo, nextAfter: page.nextAfter }).toEqual({
        seqs: range(dropped + 1, 15),
        droppedUpTo: dropped,
        nextAfter: 20,
      });
    });

    test('storage that cannot be read is not a hole: the page stays where it was', async () => {
      const store = await storeWithLostTail(20, 17);
      const runtime = await runtimeOn(store);
      closers.push(() => runtime.close());
      await runtime.getConversation('c1');
      store.readMessages = () => Promise.reject(new Error('storage down'));
      expect(await runtime.readHistoryPage('c1', 2, 5, 'bob')).toEqual({ messages: [], droppedUpTo: 2, nextAfter: 2 });
      expect(await runtime.readHistoryPage('c1', 17, 5, 'bob')).toEqual({ messages: [], droppedUpTo: 17, nextAfter: 17 });
    });
  });

  describe('a bounded memory store', () => {
    async function trimmed(store: MemoryStore) {
      const runtime = await conversationOn(store, 50);
      const oldest = (await store.readMessages('c1', 0, 1))[0].sequence_id;
      expect(oldest).toBeGreaterThan(30); // the store holds at most 20 of the 50
      return { runtime, oldest };
    }

    test('says up to which id it dropped records', async () => {
      const store = new MemoryStore({ maxRecordsPerConversation: 20 });
      const { oldest } = await trimmed(store);
      expect(await store.droppedUpTo('c1')).toBe(oldest - 1);
      expect(await store.droppedUpTo('unknown')).toBe(0);
    });

    test('a hole right after the dropped range: the drop is reported as such, the hole ends the resume not recovered', async () => {
      const store = new HoledStore({ maxRecordsPerConversation: 20 });
      const { runtime, oldest } = await trimmed(store);
      store.hole = oldest; // the first record held is missing too
      expect(await resume(runtime, 3)).toEqual({
        syncs: [
          { type: 'sync_complete', from: 4, to: oldest - 1, recovered: false },
          { type: 'sync_complete', from: oldest, to: 50, recovered: false },
        ],
        seqs: [],
      });
      const page = await runtime.readHistoryPage('c1', 0, 5, 'bob');
      expect({ seqs: seqs(page.messages), droppedUpTo: page.droppedUpTo }).toEqual({
        seqs: range(oldest + 1, oldest + 5),
        droppedUpTo: oldest - 1,
      });
    });
  });
});
