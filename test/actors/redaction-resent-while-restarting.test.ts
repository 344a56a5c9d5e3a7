/**
 * A member's delete sent twice while its conversation restarts after a crash (a client's re-send): the first
 * redaction's record is held for the rebuilt machine, so the second finds the message redacted and no record naming
 * it in the store. It must not hold a second record: both would be `redaction-of-<id>`, and the journal refuses a
 * second (system, message_id) (STORAGE_ERR_DUPLICATE_MESSAGE), so nothing after them would be stored.
 */
import { restartingAfterBobPosted } from './held-restart';
import { settle } from './runtime-helpers';

test('a delete sent again while the conversation restarts holds no second redaction record', async () => {
  const { store, runtime, b1 } = await restartingAfterBobPosted();
  try {
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
