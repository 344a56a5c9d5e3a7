import fc from 'fast-check';
import type { ChatMessage } from '../../actors/message-types';
import { MemoryStore } from '../../storage-providers';
import { copyJsonObject, isSealedRecord } from '../../storage-providers/records';
import { isDeepFrozen } from '../../testing/store-contract/fixtures';

describe('copyJsonObject', () => {
  test('has exactly JSON round-trip semantics and returns a deeply frozen plain copy', () => {
    const value = fc.anything({
      withDate: true,
      withMap: true,
      withSet: true,
      withBoxedValues: true,
      withNullPrototype: true,
      withSparseArray: true,
      withTypedArray: true,
      maxDepth: 4,
    });
    fc.assert(
      fc.property(fc.dictionary(fc.string(), value), (input) => {
        const copy = copyJsonObject(input, 'metadata');
        expect(copy).toStrictEqual(JSON.parse(JSON.stringify(input)));
        expect(isDeepFrozen(copy)).toBe(true);
        if (Object.keys(copy).length > 0) expect(copy).not.toBe(input);
      }),
      { numRuns: 300 },
    );
  });

  test('keeps a "__proto__" key as an own property and rejects what JSON cannot carry', () => {
    const input = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>;
    const copy = copyJsonObject(input, 'metadata');
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.keys(copy)).toEqual(['__proto__', 'a']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(() => copyJsonObject({ n: BigInt(1) }, 'metadata')).toThrow(expect.objectContaining({ code: 'STORAGE_ERR_INVALID_ARGUMENT' }));
    const deep: Record<string, unknown> = {};
    let cursor = deep;
    for (let i = 0; i < 100; i++) cursor = (cursor.next = {}) as Record<string, unknown>;
    expect(copyJsonObject(deep, 'metadata')).toEqual(JSON.parse(JSON.stringify(deep)));
  });
});

describe('isSealedRecord (records a store may keep without copying)', () => {
  const fields = {
    message_id: 'm1',
    conversation_id: 'c',
    sequence_id: 1,
    sender_id: 'alice',
    sender_type: 'human',
    message_type: 'text',
    content: 'hi',
    timestamp: new Date(0).toISOString(),
  } as const;

  test('only a frozen record with exactly the record fields and frozen empty metadata', () => {
    expect(isSealedRecord(Object.freeze({ ...fields, metadata: Object.freeze({}) }) as ChatMessage)).toBe(true);
    expect(isSealedRecord({ ...fields, metadata: Object.freeze({}) } as ChatMessage)).toBe(false);
    expect(isSealedRecord(Object.freeze({ ...fields, metadata: {} }) as ChatMessage)).toBe(false);
    expect(isSealedRecord(Object.freeze({ ...fields, metadata: Object.freeze({ a: 1 }) }) as ChatMessage)).toBe(false);
    expect(isSealedRecord(Object.freeze({ ...fields, extra: true, metadata: Object.freeze({}) }) as unknown as ChatMessage)).toBe(false);
  });

  test('a memory store keeps a sealed record as it is and copies anything else', async () => {
    const store = new MemoryStore();
    await store.open();
    await store.createConversation(
      { conversation_id: 'c', title: 'c', created_at: fields.timestamp, created_by: 'alice', settings: {}, status: 'active' },
      [],
    );
    const sealed = Object.freeze({ ...fields, metadata: Object.freeze({}) }) as ChatMessage;
    const open = { ...fields, message_id: 'm2', sequence_id: 2, metadata: { nested: { n: 1 } } } as ChatMessage;
    await store.appendMessages('c', [sealed, open]);
    (open.metadata as { nested: { n: number } }).nested.n = 2;
    const [first, second] = await store.readMessages('c', 0, 10);
    expect(first).toBe(sealed);
    expect(second).not.toBe(open);
    expect(second!.metadata).toEqual({ nested: { n: 1 } });
    await store.close();
  });
});
