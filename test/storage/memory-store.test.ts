import { MemoryStore } from '../../storage-providers';
import type { ChatMessage } from '../../actors/message-types';

const msg = (seq: number): ChatMessage => ({
  message_id: `m${seq}`, conversation_id: 'c1', sequence_id: seq, sender_id: 'u1', sender_type: 'human',
  message_type: 'text', content: `hello ${seq}`, timestamp: new Date(seq).toISOString(), metadata: { n: seq },
});

test('memory store appends and reads', async () => {
  const store = new MemoryStore();
  await store.open();
  await store.createConversation({ conversation_id: 'c1', title: 't', created_at: '2026-01-01T00:00:00.000Z', created_by: 'u1', settings: {}, status: 'active' });
  await store.appendMessages('c1', [msg(1), msg(2), msg(3)]);
  expect(await store.readMessages('c1', 1, 10)).toEqual([msg(2), msg(3)]);
  await expect(store.appendMessages('c1', [msg(3)])).rejects.toMatchObject({ code: 'STORAGE_ERR_DUPLICATE_SEQUENCE' });
  await store.close();
});
