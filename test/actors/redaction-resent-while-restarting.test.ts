/**
 * A member's delete sent twice while its conversation restarts after a crash (a client's re-send): the first
 * redaction's record is held for the rebuilt machine, so the second finds the message redacted and no record naming
 * it in the store. It must not hold a second record: both would be `redaction-of-<id>`, and the journal refuses a
 * second (system, message_id) (STORAGE_ERR_DUPLICATE_MESSAGE), so nothing after them would be stored.
 */
import { MemoryStore } from '../../storage-providers';
import { makeCrashingRuntime } from './crash-helpers';
import { settle } from './runtime-helpers';

/** A store whose conversation lookup (the first read of a restart) can be held. */
class SlowRestoreStore extends MemoryStore {
  private gate: Promise<void> | undefined;
  private open_: (() => void) | undefined;
  hold(): void {
    this.gate = new Promise((resolve) => (this.open_ = resolve));
  }
  release(): void {
    this.open_?.();
    this.gate = undefined;
  }
  protected override async _getConversation(id: string) {
    if (this.gate) await this.gate;
    return super._getConversation(id);
  }
}

test('a delete sent again while the conversation restarts holds no second redaction record', async () => {
  const store = new SlowRestoreStore();
  const { runtime, restarts, failNextDelivery } = await makeCrashingRuntime({ store });
  try {
    await runtime.createConversation({
      conversation_id: 'c',
      created_by: 'alice',
      participants: [{ participant_id: 'bob', participant_type: 'human' }],
      autoJoinAgents: false,
    });
    const b1 = await runtime.post('c', { sender_id: 'bob', message_id: 'b1', content: 'oops' });
    await b1.whenPersisted;

    store.hold();
    failNextDelivery();
    await (
      await runtime.post('c', { sender_id: 'alice', message_id: 'a1', content: 'crashes' })
    ).whenPersisted;
    await settle();
    expect(restarts.count).toBe(1);

    await runtime.redact('c', { messageIds: ['b1'] }, 'bob');
    await runtime.redact('c', { messageIds: ['b1'] }, 'bob');
    store.release();
    await settle();

    // Stored after the redaction: the journal still takes records.
    const a2 = await runtime.post('c', { sender_id: 'alice', message_id: 'a2', content: 'after' });
    await a2.whenPersisted;
    const records = await store.readMessages('c', 0, 100);
    const redactions = records.filter((m) => m.message_type === 'redaction');
    expect(redactions.map((m) => [m.message_id, m.metadata.redacted_sequence_ids])).toEqual([
      [`redaction-of-${b1.sequence_id}`, [b1.sequence_id]],
    ]);
    expect(records.map((m) => m.message_id)).toContain('a2');
  } finally {
    await runtime.close();
  }
});
