import Database from 'better-sqlite3';
import { createChatRuntime, createCounterIds, createManualClock, type ChatMessage, type ChatRuntime } from '../../actors';
import { MemoryStore, type ChatStore } from '../../storage-providers';
import { settle } from '../actors/runtime-helpers';

/**
 * Journals with records missing for other reasons than a store's bound: what readers must report as
 * holes, not as trimmed history (test/storage/journal-hole.test.ts, the HTTP history and replay CLI tests).
 */

/** Deletes records 1..upTo of a conversation from a SQLite file behind its store's back (damage). */
export function deleteSqliteRecords(file: string, conversationId: string, upTo: number): void {
  const db = new Database(file);
  try {
    db.prepare('DELETE FROM messages WHERE conversation_id = ? AND sequence_id <= ?').run(conversationId, upTo);
  } finally {
    db.close();
  }
}

/**
 * A memory store that loses one held record on reads (still answering up to `limit` records): a hole
 * in the journal, not a drop of the bound, so `droppedUpTo` does not cover it.
 */
export class HoledStore extends MemoryStore {
  hole = -1;
  protected override async _readMessages(id: string, after: number, limit: number): Promise<ChatMessage[]> {
    return (await super._readMessages(id, after, limit + 1)).filter((m) => m.sequence_id !== this.hole).slice(0, limit);
  }
}

/**
 * A memory store that lost the end of a conversation's journal: records above `keepUpTo` are never read back,
 * yet `lastSequenceId` still says how far the journal went. Ids sequenced but not held, with nothing held after
 * them: a hole at the end of the journal (what a reader must not page over for ever, nor take for the end).
 */
export class TailLostStore extends MemoryStore {
  keepUpTo = Infinity;
  protected override async _readMessages(id: string, after: number, limit: number): Promise<ChatMessage[]> {
    return (await super._readMessages(id, after, limit)).filter((m) => m.sequence_id <= this.keepUpTo);
  }
  protected override async _readLatestMessages(id: string, limit: number): Promise<ChatMessage[]> {
    return (await super._readLatestMessages(id, limit)).filter((m) => m.sequence_id <= this.keepUpTo);
  }
}

/**
 * A TailLostStore whose c1 (alice, bob) went to #`upTo` but holds only up to #`keepUpTo`, no runtime on it:
 * a server loads c1 cold, so nothing in its memory covers the lost end either.
 */
export async function storeWithLostTail(upTo: number, keepUpTo: number): Promise<TailLostStore> {
  const store = new TailLostStore();
  const runtime = await runtimeWithConversation(store, upTo);
  await runtime.close();
  store.keepUpTo = keepUpTo;
  return store;
}

/**
 * A runtime on `store` (no agents, a `cache`-record cache) with conversation c1 (alice, bob) holding
 * records 1..upTo, all stored. The caller closes the runtime.
 */
export async function runtimeWithConversation(store: ChatStore, upTo: number, cache = 5, pageRecords?: number): Promise<ChatRuntime> {
  const runtime = await runtimeOn(store, cache, pageRecords);
  await runtime.createConversation({
    conversation_id: 'c1',
    created_by: 'alice',
    participants: [{ participant_id: 'bob', participant_type: 'human', display_name: 'bob' }],
  });
  let last = (await runtime.getConversation('c1')).last_sequence_id;
  while (last < upTo) last = (await runtime.post('c1', { sender_id: 'alice', message_id: `m${last}`, content: `m${last}` })).sequence_id;
  while ((await store.lastSequenceId('c1')) < upTo) await settle();
  return runtime;
}

/** A runtime on `store` (no agents, a `cache`-record cache, replay pages of `pageRecords`, a manual clock). The caller closes it. */
export async function runtimeOn(store: ChatStore, cache = 5, pageRecords?: number): Promise<ChatRuntime> {
  return createChatRuntime({
    config: {
      observability: { log_level: 'silent' },
      chat: { cache: { recent_messages: cache, ...(pageRecords === undefined ? {} : { replay_page_records: pageRecords }) } },
    },
    storage: store,
    agents: [],
    clock: createManualClock(),
    ids: createCounterIds('c'),
  });
}

/**
 * Posts 25 records to a new conversation c2, so that a store with `maxRecordsTotal: 20` empties the
 * journal of c1 (appended to least recently); c1's last sequence id stays what it was.
 */
export async function emptyC1ByTotalBound(runtime: ChatRuntime): Promise<void> {
  await runtime.createConversation({ conversation_id: 'c2', created_by: 'alice' });
  for (let i = 0; i < 25; i++) await runtime.post('c2', { sender_id: 'alice', message_id: `n${i}`, content: `n${i}` });
  await settle();
}

/** A `maxRecordsTotal: 20` memory store whose c1 (alice, bob; 10 records) holds no record any more, no runtime on it. */
export async function storeWithEmptiedC1(): Promise<MemoryStore> {
  const store = new MemoryStore({ maxRecordsTotal: 20 });
  const runtime = await runtimeWithConversation(store, 10);
  await emptyC1ByTotalBound(runtime);
  await runtime.close();
  return store;
}
