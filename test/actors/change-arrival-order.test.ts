/**
 * An edit or delete is judged against the conversation as it was when the change was received (message-edits.ts,
 * ConversationActor.sequencedSoFar): a message posted right after it, before anything was awaited, is unknown to it
 * (CHAT_ERR_FORBIDDEN, the answer for an id the member never sent), and one posted right before it counts. Found by
 * the random gateway sessions: a `delete` frame sent before the `message` frame of the same id, in one chunk,
 * deleted the post, because the delete looked the id up only after the post was sequenced.
 */
import { isChatError } from '../../actors/errors';
import { RESTORE_RECORDS } from '../../actors/restore-conversation';
import { MemoryStore } from '../../storage-providers/memory-store';
import { collector, GatedStore, liveTwoMemberConversation, makeRuntime } from './runtime-helpers';

type Runtime = Awaited<ReturnType<typeof makeRuntime>>['runtime'];

function deleteOwn(runtime: Runtime, messageId: string) {
  return runtime.redact('c', { messageIds: [messageId] }, 'bob', { ownMessagesOnly: true });
}

/** What a call came to: 'taken' with its value, or its refusal's code. Never rejects (nothing is left unhandled). */
function outcomeOf<T>(call: Promise<T>): Promise<{ taken: T } | { code: string }> {
  return call.then(
    (taken) => ({ taken }),
    (err: unknown) => ({ code: isChatError(err) ? err.code : String(err) }),
  );
}

/** Both orders on a live conversation: the change before its post is refused, the change after it is taken. */
async function expectArrivalOrder(runtime: Runtime): Promise<void> {
  // Nothing awaited in between: each call reaches the conversation in this order, as a socket's frames do.
  const calls = [
    outcomeOf(deleteOwn(runtime, 'early-delete')),
    outcomeOf(runtime.post('c', { sender_id: 'bob', message_id: 'early-delete', content: 'posted after the delete' })),
    outcomeOf(runtime.edit('c', 'bob', 'early-edit', 'edited before it was posted')),
    outcomeOf(runtime.post('c', { sender_id: 'bob', message_id: 'early-edit', content: 'posted after the edit' })),
    outcomeOf(runtime.post('c', { sender_id: 'bob', message_id: 'late', content: 'posted before its changes' })),
    outcomeOf(runtime.edit('c', 'bob', 'late', 'edited after it was posted')),
    outcomeOf(deleteOwn(runtime, 'late')),
  ];
  const [deleted, posted, edited, posted2, late, lateEdit, lateDelete] = await Promise.all(calls);
  expect([deleted, edited]).toEqual([{ code: 'CHAT_ERR_FORBIDDEN' }, { code: 'CHAT_ERR_FORBIDDEN' }]);
  expect(lateEdit).toMatchObject({ taken: { changed: true } });
  const seqOf = (o: typeof posted) => ('taken' in o ? (o.taken as { sequence_id: number }).sequence_id : o.code);
  // The edit record that carried its earlier text goes with it.
  expect(lateDelete).toMatchObject({ taken: { redacted: expect.arrayContaining([seqOf(late)]), changed: true } });

  // From the first of these posts on (a journal of a thousand records before them is read in pages).
  const page = await runtime.readMessages('c', Number(seqOf(posted)) - 1, 100);
  const byId = (id: string) => page.find((m) => m.message_id === id);
  expect(byId('early-delete')).toMatchObject({ sequence_id: seqOf(posted), content: 'posted after the delete' });
  expect(byId('early-edit')).toMatchObject({ sequence_id: seqOf(posted2), content: 'posted after the edit' });
  expect(byId('early-edit')?.metadata.edited).toBeUndefined();
  expect(byId('late')).toMatchObject({ content: '[redacted]', metadata: { redacted: true } });
  expect(page.filter((m) => m.message_type === 'edit').map((m) => m.metadata.edited_message_id)).toEqual(['late']);
}

test('a change of a message posted right after it is refused; one posted right before it is taken', async () => {
  const { runtime } = await makeRuntime({ agents: [] });
  try {
    await liveTwoMemberConversation(runtime);
    await expectArrivalOrder(runtime);
  } finally {
    await runtime.close({ deadlineMs: 1000 });
  }
});

test('the same on a conversation loaded from a journal longer than a load reads, where new posts wait for a journal lookup', async () => {
  const store = new MemoryStore();
  const first = await makeRuntime({ store, agents: [] });
  await liveTwoMemberConversation(first.runtime);
  // More records than a load reads back: the dedup index misses the oldest ids, so each new id is looked up in the
  // journal first (post-retries.ts), and a post made before a change is sequenced after the change was received.
  for (let i = 0; i < RESTORE_RECORDS; i += 50) {
    const batch = Array.from({ length: 50 }, (_, j) =>
      first.runtime.post('c', { sender_id: 'bob', message_id: `old-${i + j}`, content: 'x' }),
    );
    await Promise.all((await Promise.all(batch)).map((receipt) => receipt.whenPersisted));
  }
  await first.runtime.close({ deadlineMs: 1000 });

  const { runtime } = await makeRuntime({ store, agents: [] });
  try {
    await runtime.subscribe('c', 'bob', collector().listener);
    await expectArrivalOrder(runtime);
  } finally {
    await runtime.close({ deadlineMs: 1000 });
  }
});

/** Advances the manual clock by `ms` in steps of a second, letting what each step wakes run. */
async function passTime(clock: { advance(ms: number): void }, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 1000) {
    clock.advance(1000);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** A GatedStore whose sequence reservation waits too while blocked: storage that hangs, every write of it. */
class HungStore extends GatedStore {
  protected override async _setSequenceReservation(...args: Parameters<MemoryStore['_setSequenceReservation']>): Promise<void> {
    if (this.gate) await this.gate;
    return super._setSequenceReservation(...args);
  }
}

test('a change waiting for its place behind posts the lease cannot sequence yet (storage hung) is refused as the journal being behind', async () => {
  const store = new HungStore();
  const { runtime, clock } = await makeRuntime({ store, agents: [] });
  try {
    await liveTwoMemberConversation(runtime);
    await (
      await runtime.post('c', { sender_id: 'bob', message_id: 'before', content: 'stored' })
    ).whenPersisted;
    store.block();
    // More posts than the reservation has room for: the rest wait for it to grow, which it cannot while the store hangs.
    const waiting = Array.from({ length: 40 }, (_, i) =>
      outcomeOf(runtime.post('c', { sender_id: 'bob', message_id: `p${i}`, content: 'x' })),
    );
    const edit = outcomeOf(runtime.edit('c', 'bob', 'before', 'changed'));
    // Past the change's deadline (observability.shutdown_deadline_s): its place is waited for within it, not for good.
    await passTime(clock, 60_000);
    expect(await edit).toEqual({ code: 'STORAGE_ERR_UNAVAILABLE' });
    store.release();
    await passTime(clock, 10_000);
    expect((await Promise.all(waiting)).filter((o) => 'code' in o)).toEqual([]);
  } finally {
    const closed = runtime.close({ deadlineMs: 1000 });
    await passTime(clock, 2000);
    await closed;
  }
});
