import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MemoryStore } from '../../storage-providers';
import { MemoryJournal } from '../../storage-providers/memory-journal';
import { meta, msg, msgs } from '../../testing/store-contract/fixtures';
import { makeRuntime, settle } from '../actors/runtime-helpers';

/** The memory store's bounds beyond the contract: trimming in bulk, the record count, and deletion freeing records. */
describe('MemoryStore bounds', () => {
  const stores: MemoryStore[] = [];
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    jest.restoreAllMocks();
  });

  async function openStore(options: ConstructorParameters<typeof MemoryStore>[0]): Promise<MemoryStore> {
    const store = new MemoryStore(options);
    stores.push(store);
    await store.open();
    return store;
  }

  test('records are dropped in bulk (once per bound/10 appends), never one per append', async () => {
    const store = await openStore({ maxRecordsPerConversation: 100 });
    await store.createConversation(meta('c1'));
    const drops = jest.spyOn(MemoryJournal.prototype, 'dropOldest');
    for (let seq = 1; seq <= 1000; seq++) {
      await store.appendMessages('c1', [msg('c1', seq)]);
      expect(store.recordCount).toBeLessThanOrEqual(100);
      if (seq > 100) expect(store.recordCount).toBeGreaterThanOrEqual(90);
    }
    // Each trim takes 101 held to 90, and 11 appends later the next one comes: 82 trims for the 900
    // appends past the bound (dropping one per append would be 900 calls).
    expect(drops).toHaveBeenCalledTimes(82);
    expect(drops.mock.calls.every(([n]) => n === 11)).toBe(true); // 101 held -> 90
  });

  test('recordCount is what all conversations hold; deleting a conversation gives its records back; close empties it', async () => {
    const store = await openStore({ maxRecordsPerConversation: 50 });
    for (const id of ['c1', 'c2']) await store.createConversation(meta(id));
    await store.appendMessages('c1', msgs('c1', 1, 30));
    await store.appendMessages('c2', msgs('c2', 1, 60));
    expect(store.recordCount).toBe(30 + 45);
    await store.deleteConversation('c2');
    expect(store.recordCount).toBe(30);
    await store.deleteConversation('c2');
    expect(store.recordCount).toBe(30);
    // A re-created id starts from 1 with nothing held from before.
    await store.createConversation(meta('c2'));
    await store.appendMessages('c2', msgs('c2', 1, 2));
    expect(store.recordCount).toBe(32);
    await store.close();
    expect(store.recordCount).toBe(0);
  });

  test('the total bound is validated like the per-conversation one', () => {
    expect(() => new MemoryStore({ maxRecordsTotal: -5 })).toThrow(expect.objectContaining({ code: 'STORAGE_ERR_INVALID_ARGUMENT' }));
    expect(() => new MemoryStore({ maxRecordsTotal: 1.5 })).toThrow(expect.objectContaining({ code: 'STORAGE_ERR_INVALID_ARGUMENT' }));
    expect(new MemoryStore({ maxRecordsTotal: 7 }).supports.maxRecordsTotal).toBe(7);
  });
});

describe('the retention sweep on the memory store', () => {
  /** V8's collector, for checking that nothing still references the records of a deleted conversation. */
  function collector(): () => void {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  }

  test('a swept conversation releases its records (count and heap)', async () => {
    const gc = collector();
    const store = new MemoryStore({ maxRecordsPerConversation: 1000 });
    const { runtime, clock } = await makeRuntime({ store, agents: [], config: { chat: { security: { retention_days: 1 } } } });
    try {
      await runtime.createConversation({ conversation_id: 'old', created_by: 'alice' });
      for (let i = 0; i < 30; i++) await runtime.post('old', { sender_id: 'alice', message_id: `m${i}`, content: `m${i}` });
      await settle();
      const held = store.recordCount;
      expect(held).toBeGreaterThanOrEqual(30);
      // Weak references only: the test itself must not keep the records alive.
      const refs = (await store.readMessages('old', 0, 100)).map((m) => new WeakRef(m));

      clock.advance(2 * 86_400_000);
      await runtime.createConversation({ conversation_id: 'new', created_by: 'alice' });
      expect(await runtime.sweepRetention()).toEqual(['old']);
      // What is left is the new conversation's.
      expect(store.recordCount).toBe((await store.readMessages('new', 0, 100)).length);
      expect(await store.readMessages('old', 0, 100)).toEqual([]);

      for (let i = 0; i < 3 && refs.some((r) => r.deref() !== undefined); i++) {
        await settle();
        gc();
      }
      expect(refs.filter((r) => r.deref() !== undefined).length).toBe(0);
    } finally {
      await runtime.close();
      await store.close();
    }
  });
});
