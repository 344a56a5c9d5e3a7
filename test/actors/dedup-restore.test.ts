import { RESTORE_RECORDS } from '../../actors/restore-conversation';
import { MemoryStore } from '../../storage-providers';
import { makeRuntime, settle } from './runtime-helpers';

/** A conversation whose message 'old' lies further back than what a restart reads; the runtime is closed. */
async function recordLongHistory(store: MemoryStore): Promise<{ sequence_id: number }> {
  const first = await makeRuntime({ store, agents: [] });
  await first.runtime.createConversation({ conversation_id: 'c', created_by: 'alice' });
  const original = await first.runtime.post('c', { sender_id: 'alice', message_id: 'old', content: 'first' });
  for (let i = 0; i < RESTORE_RECORDS + 5; i++) await first.runtime.post('c', { sender_id: 'alice', message_id: `m${i}`, content: 'x' });
  await settle();
  await first.runtime.close();
  return original;
}

describe('dedup across restarts', () => {
  it('finds a retry older than the records read on restore in the journal (same sequence id, not delivered again)', async () => {
    const store = new MemoryStore();
    const original = await recordLongHistory(store);
    const second = await makeRuntime({ store, agents: [] });
    const retry = await second.runtime.post('c', { sender_id: 'alice', message_id: 'old', content: 'first' });
    expect(retry).toMatchObject({ duplicate: true, sequence_id: original.sequence_id, persisted: true });
    const fresh = await second.runtime.post('c', { sender_id: 'alice', message_id: 'new', content: 'y' });
    expect(fresh.sequence_id).toBe(original.sequence_id + RESTORE_RECORDS + 6);
    await second.runtime.close();
  });

  it('refuses a reuse of such an id with other content (CHAT_ERR_MESSAGE_ID_REUSED, the original read from the journal)', async () => {
    const store = new MemoryStore();
    const original = await recordLongHistory(store);
    const second = await makeRuntime({ store, agents: [] });
    const reused = await second.runtime
      .post('c', { sender_id: 'alice', message_id: 'old', content: 'not the first' })
      .catch((e: unknown) => e);
    expect(reused).toMatchObject({ code: 'CHAT_ERR_MESSAGE_ID_REUSED', details: { message_id: 'old', sequence_id: original.sequence_id } });
    const fresh = await second.runtime.post('c', { sender_id: 'alice', message_id: 'new', content: 'y' });
    expect(fresh.sequence_id).toBe(original.sequence_id + RESTORE_RECORDS + 6);
    await second.runtime.close();
  });

  it('keeps the journal contiguous when a duplicate slips past every check (stored under a derived id)', async () => {
    class BlindStore extends MemoryStore {
      blind = false;
      protected override async _findSequenceByMessageId(c: string, s: string, m: string): Promise<number | undefined> {
        if (this.blind) {
          this.blind = false;
          throw new Error('lookup unavailable');
        }
        return super._findSequenceByMessageId(c, s, m);
      }
    }
    const store = new BlindStore();
    const original = await recordLongHistory(store);
    const second = await makeRuntime({ store, agents: [] });
    store.blind = true;
    const retry = await second.runtime.post('c', { sender_id: 'alice', message_id: 'old', content: 'first' });
    expect(retry.duplicate).toBe(false);
    await retry.whenPersisted;
    const after = await second.runtime.post('c', { sender_id: 'alice', message_id: 'after', content: 'z' });
    await after.whenPersisted;
    const tail = await store.readMessages('c', retry.sequence_id - 1, 10);
    expect(tail.map((m) => m.sequence_id)).toEqual([retry.sequence_id, after.sequence_id]);
    expect(tail[0]).toMatchObject({
      message_id: `old#dup-${retry.sequence_id}`,
      metadata: { duplicate_of_sequence: original.sequence_id },
    });
    await second.runtime.close();
  });
});
