/**
 * A member's delete stored while its conversation restarts after a crash (docs/conversations.md, Edits and deletes):
 * the `redaction` record is held for the rebuilt machine, as an edit's is, not dropped. The memory store, whose
 * first read of the restart is held until the delete is stored; the runtime's clock a manual one.
 */
import { restartingAfterBobPosted } from './held-restart';
import { settle } from './runtime-helpers';

test("bob's delete during a restart is stored and its redaction record is sequenced once the machine runs again", async () => {
  const { store, runtime, b1 } = await restartingAfterBobPosted();
  try {
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
