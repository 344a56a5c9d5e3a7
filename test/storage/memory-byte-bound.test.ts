import type { ChatMessage } from '../../actors';
import { isChatError } from '../../actors/errors';
import { validateConfig } from '../../config';
import { createStore, MemoryStore, type MemoryStoreOptions } from '../../storage-providers';
import { recordHeapBytes, RECORD_OVERHEAD_BYTES } from '../../storage-providers/record-heap-size';
import { meta, msg } from '../../testing/store-contract/fixtures';
import { collector, settle } from '../actors/runtime-helpers';
import { runtimeWithConversation } from './journal-damage';

/** A maximum-size post at the default limits: 10,000 characters of content and ~8 KB of metadata as JSON. */
function bigRecord(conversationId: string, seq: number, metadata: Record<string, unknown> = { note: 'y'.repeat(8170) }): ChatMessage {
  return { ...msg(conversationId, seq), content: 'x'.repeat(9990) + String(seq).padStart(10, '0'), metadata };
}

const seqs = (list: readonly ChatMessage[]) => list.map((m) => m.sequence_id);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** ~8 KB of JSON as 2,700 empty objects: cheap as text, ≈ 190 KB of heap (docs/storage.md). */
const manyObjects = () => ({ a: Array.from({ length: 2700 }, () => ({})) });

describe('the record size estimate behind chat.storage.memory.max_bytes_total', () => {
  test('charges text by its characters (two bytes each past Latin-1) and metadata by its structure, not its JSON length', () => {
    const small = msg('c1', 1, { metadata: {} });
    expect(recordHeapBytes(small)).toBe(RECORD_OVERHEAD_BYTES + 24 + small.content.length);
    const latin1 = { ...small, content: 'é'.repeat(1000) };
    const twoByte = { ...small, content: '€'.repeat(1000) };
    expect(recordHeapBytes(twoByte) - recordHeapBytes(latin1)).toBe(1000);

    const asString = bigRecord('c1', 1);
    const asObjects = bigRecord('c1', 1, manyObjects());
    expect(JSON.stringify(asObjects.metadata).length).toBeLessThan(JSON.stringify(asString.metadata).length);
    // The same JSON size costs V8 ~10x more as small objects: the estimate must see it, or the bound is no bound.
    expect(recordHeapBytes(asObjects)).toBeGreaterThan(10 * recordHeapBytes(asString));
  });
});

describe('MemoryStore byte bound', () => {
  const stores: MemoryStore[] = [];
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
  });

  async function openStore(options: MemoryStoreOptions): Promise<MemoryStore> {
    const store = new MemoryStore(options);
    stores.push(store);
    await store.open();
    return store;
  }

  async function heldBytes(store: MemoryStore, ids: readonly string[]): Promise<number> {
    let sum = 0;
    for (const id of ids) for (const m of await store.readMessages(id, 0, 10_000)) sum += recordHeapBytes(m);
    return sum;
  }

  test('past the byte bound the conversations appended to least recently lose their oldest records, as past the record bound', async () => {
    const bound = 400_000; // ~21 maximum-size records
    const store = await openStore({ maxBytesTotal: bound });
    for (const id of ['a', 'b', 'c']) await store.createConversation(meta(id));
    const next = { a: 1, b: 1, c: 1 };
    const append = async (id: 'a' | 'b' | 'c', count: number) => {
      for (let i = 0; i < count; i++) {
        await store.appendMessages(id, [bigRecord(id, next[id]++)]);
        expect(store.byteCount).toBeLessThanOrEqual(bound);
      }
    };
    await append('a', 8);
    await append('b', 8);
    await append('a', 1); // a is now more recent than b
    expect(store.recordCount).toBe(17); // under the bound nothing goes
    expect(await store.droppedUpTo('a')).toBe(0);
    await append('c', 8);

    // b, the quietest, lost its oldest records first; c, appended last, kept everything.
    const [a, b, c] = [await store.readMessages('a', 0, 100), await store.readMessages('b', 0, 100), await store.readMessages('c', 0, 100)];
    expect(b.length).toBeLessThan(8);
    expect(seqs(c)).toEqual(range(1, 8));
    expect(seqs(a)).toEqual(range(1, 9));
    expect(seqs(b)).toEqual(range(9 - b.length, 8));
    // Readers learn how far: the dropped ids are named, the numbering goes on.
    expect(await store.droppedUpTo('b')).toBe(8 - b.length);
    expect(await store.lastSequenceId('b')).toBe(8);
    expect(seqs(await store.readMessages('b', 0, 2))[0]).toBe(9 - b.length);
    // The count is the estimate of exactly what is held, trimmed to 90 % of the bound.
    expect(store.byteCount).toBe(await heldBytes(store, ['a', 'b', 'c']));
    expect(store.byteCount).toBeLessThanOrEqual(0.9 * bound);
  });

  test('records costly by structure count as what they cost: 8 KB of `[{},...]` metadata fills the bound ~10x sooner', async () => {
    const store = await openStore({ maxBytesTotal: 1_000_000 });
    await store.createConversation(meta('c1'));
    for (let seq = 1; seq <= 20; seq++) await store.appendMessages('c1', [bigRecord('c1', seq, manyObjects())]);
    // ~190 KB each: at most 5 fit in 1 MB; counted by JSON bytes, all 20 would have (20 x 18 KB).
    expect(store.recordCount).toBeLessThanOrEqual(5);
    expect(await store.droppedUpTo('c1')).toBe(20 - store.recordCount);
  });

  test('the count follows redaction, deletion and close; a record bound and a byte bound trim for whichever is passed', async () => {
    const store = await openStore({ maxBytesTotal: 1_000_000, maxRecordsTotal: 30 });
    for (const id of ['c1', 'c2']) await store.createConversation(meta(id));
    for (let seq = 1; seq <= 10; seq++) await store.appendMessages('c1', [bigRecord('c1', seq)]);
    await store.appendMessages('c2', [msg('c2', 1), msg('c2', 2)]);
    expect(store.byteCount).toBe(await heldBytes(store, ['c1', 'c2']));
    const before = store.byteCount;
    await store.redactMessages('c1', { messageIds: ['c1-m1', 'c1-m2'] });
    // Each loses its 10,000 characters of content and gains a `redacted` key.
    expect(store.byteCount).toBeLessThan(before - 2 * 9_000);
    expect(store.byteCount).toBe(await heldBytes(store, ['c1', 'c2']));

    // Small records pass the record bound long before the byte bound: 90 % of 30 records are kept.
    for (let seq = 3; seq <= 40; seq++) await store.appendMessages('c2', [msg('c2', seq)]);
    expect(store.recordCount).toBeLessThanOrEqual(30);
    expect(store.byteCount).toBe(await heldBytes(store, ['c1', 'c2']));

    await store.deleteConversation('c1');
    expect(store.byteCount).toBe(await heldBytes(store, ['c2']));
    await store.close();
    expect(store.byteCount).toBe(0);
  });

  test('a store without a byte bound keeps every record and measures none', async () => {
    const store = await openStore({});
    await store.createConversation(meta('c1'));
    for (let seq = 1; seq <= 50; seq++) await store.appendMessages('c1', [bigRecord('c1', seq, manyObjects())]);
    expect(store.recordCount).toBe(50);
    expect(store.byteCount).toBe(0);
    expect(store.maxBytesTotal).toBe(0);
  });

  test('the byte bound is validated like the record bounds', () => {
    for (const bad of [-1, 1.5, Number.NaN]) {
      expect(() => new MemoryStore({ maxBytesTotal: bad })).toThrow(expect.objectContaining({ code: 'STORAGE_ERR_INVALID_ARGUMENT' }));
    }
    expect(new MemoryStore({ maxBytesTotal: 7 }).maxBytesTotal).toBe(7);
  });
});

describe('a subscriber resuming across records the byte bound dropped', () => {
  test('gets sync_complete recovered: false for the dropped range, then every held record once, in order', async () => {
    const store = new MemoryStore({ maxBytesTotal: 100_000 }); // ~9 maximum-size records
    const runtime = await runtimeWithConversation(store, 0);
    try {
      let last = 0;
      for (let i = 0; i < 30; i++) {
        last = (
          await runtime.post('c1', { sender_id: 'alice', message_id: `big${i}`, content: 'x'.repeat(9990) + String(i).padStart(10, '0') })
        ).sequence_id;
      }
      while ((await store.lastSequenceId('c1')) < last) await settle();
      const oldest = (await store.readMessages('c1', 0, 1))[0].sequence_id;
      expect(oldest).toBeGreaterThan(last - 10);
      expect(await store.droppedUpTo('c1')).toBe(oldest - 1);

      const bob = collector();
      await runtime.subscribe('c1', 'bob', bob.listener, { afterSequenceId: 3 });
      await settle();
      expect(bob.outputs.filter((o) => o.type === 'sync_complete')).toEqual([
        { type: 'sync_complete', from: 4, to: oldest - 1, recovered: false },
        { type: 'sync_complete', from: oldest, to: last, recovered: true },
      ]);
      expect(seqs(bob.messages)).toEqual(range(oldest, last));
    } finally {
      await runtime.close();
      await store.close();
    }
  });
});

describe('chat.storage.memory.max_bytes_total', () => {
  const storageConfig = (storage: Record<string, unknown>) => validateConfig({ chat: { storage } }).chat.storage;

  test('createStore passes it to the memory store (default 128 MiB; 0 = no byte bound)', () => {
    expect((createStore(storageConfig({})) as MemoryStore).maxBytesTotal).toBe(134_217_728);
    expect((createStore(storageConfig({ memory: { max_bytes_total: 0 } })) as MemoryStore).maxBytesTotal).toBe(0);
    expect((createStore(storageConfig({ memory: { max_bytes_total: 5_000_000 } })) as MemoryStore).maxBytesTotal).toBe(5_000_000);
  });

  test('a negative or fractional value is refused at its path', () => {
    for (const bad of [-1, 10.5]) {
      let paths: string[] = [];
      try {
        storageConfig({ memory: { max_bytes_total: bad } });
      } catch (err) {
        if (!isChatError(err, 'CONFIG_ERR_INVALID')) throw err;
        paths = (err.details!.problems as Array<{ path: string }>).map((p) => p.path);
      }
      expect(paths).toEqual(['chat.storage.memory.max_bytes_total']);
    }
  });
});
