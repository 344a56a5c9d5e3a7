/**
 * unannouncedRedactions: of records redacted already, those no stored `redaction` record names (docs/conversations.md,
 * Edits and deletes, Order). A real MemoryStore holding a journal as servers leave it: a record named after its lowest
 * id, a `lost` record where a redaction record was sequenced and never stored, and an older journal's
 * `redaction-<own seq>` record.
 */
import type { ChatMessage } from '../../actors/message-types';
import { unannouncedRedactions } from '../../actors/unannounced-redactions';
import { MemoryStore } from '../../storage-providers/memory-store';
import { meta, msg, msgs } from '../../testing/store-contract/fixtures';

function system(seq: number, messageId: string, messageType: string, metadata: Record<string, unknown>): ChatMessage {
  return msg('c', seq, { message_id: messageId, sender_id: 'system', sender_type: 'system', message_type: messageType, metadata });
}

/** Records 1-4 redacted; 5 names 1 and 2 (this build's id); 6 is lost (it named 3); 7 names 4 (an older journal's id). */
async function journal(): Promise<{ store: MemoryStore; reads: () => unknown[][] }> {
  const store = new MemoryStore();
  await store.open();
  await store.createConversation(meta('c'));
  await store.appendMessages('c', [
    ...msgs('c', 1, 4),
    system(5, 'redaction-of-1', 'redaction', { redacted_sequence_ids: [1, 2], requested_by: 'alice' }),
    system(6, 'lost-6', 'lost', { reason: 'crash' }),
    system(7, 'redaction-7', 'redaction', { redacted_sequence_ids: [4], requested_by: 'alice' }),
    msg('c', 8),
  ]);
  expect((await store.redactMessages('c', { messageIds: ['c-m1', 'c-m2', 'c-m3', 'c-m4'] })).redacted).toEqual([1, 2, 3, 4]);
  const read = jest.spyOn(store, 'readMessages');
  return { store, reads: () => read.mock.calls };
}

test('a re-send naming what its record names finds it by one lookup, without reading the journal on', async () => {
  const { store, reads } = await journal();
  expect(await unannouncedRedactions(store, 'c', [1, 2])).toEqual([]);
  // The record the lookup found, read alone: no page of the journal.
  expect(reads()).toEqual([['c', 4, 1]]);
  await store.close();
});

test('a record redacted together with a lower id, or named by an older journal, counts as announced', async () => {
  const { store } = await journal();
  expect(await unannouncedRedactions(store, 'c', [2])).toEqual([]);
  expect(await unannouncedRedactions(store, 'c', [4])).toEqual([]);
  expect(await unannouncedRedactions(store, 'c', [2, 4])).toEqual([]);
  await store.close();
});

test('a record whose redaction record was lost (a lost record stands there) is unannounced, alone among the others', async () => {
  const { store } = await journal();
  expect(await unannouncedRedactions(store, 'c', [3])).toEqual([3]);
  expect(await unannouncedRedactions(store, 'c', [1, 2, 3, 4])).toEqual([3]);
  await store.close();
});
