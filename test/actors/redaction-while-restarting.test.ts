/**
 * A member's delete stored while its conversation restarts after a crash (docs/conversations.md, Edits and deletes):
 * the `redaction` record is held for the rebuilt machine, as an edit's is, not dropped. The memory store, whose
 * first read of the restart is held until the delete is stored; the runtime's clock a manual one.
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

test("bob's delete during a restart is stored and its redaction record is sequenced once the machine runs again", async () => {
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

    expect((await runtime.redact('c', { messageIds: ['b1'] }, 'bob')).redacted).toEqual([b1.sequence_id]);
    store.release();
    await settle();

    const records = await store.readMessages('c', 0, 100);
    expect(records.find((m) => m.message_id === 'b1')).toMatchObject({ content: '[redacted]' });
    const redactions = records.filter((m) => m.message_type === 'redaction');
    expect(redactions.map((m) => m.metadata)).toEqual([{ redacted_sequence_ids: [b1.sequence_id], requested_by: 'bob' }]);
    // The rebuilt cache has the marker too: a live read shows no trace of the text.
    expect(JSON.stringify(await runtime.readMessages('c', 0, 100, 'alice'))).not.toContain('oops');
  } finally {
    await runtime.close();
  }
});
